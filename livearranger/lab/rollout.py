"""The one roll-out: a part model plays performances itself, as the runtime decides.

Training-time only.  Each performance is played through the ``Performer`` by a
``Replayer`` (``livearranger.lab.training``) with its own ensemble (a preset per stream),
correction horizon, known beat and hints; every decision the performer asks for (a key
on arrival, a chord again when it settles) is made as the runtime makes it (the model's
logits, the preset's constraints, argmax; a hinted note its hint), and the model's
history follows the chord's mark and rewind as the runtime's ring does.  All streams
step together through the model's stepper (``PartModel.stepper``: a ring per stream),
one decision of each per step, so validation and DAgger play whole sets of pieces at
once.  Tests check that the roll-out decides exactly what the engine decides with the
same model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from livearranger.constraints import Constraints
from livearranger.ensemble import N_DESC, part_descriptors
from livearranger.features import N_GLOBAL, N_PER_PART
from livearranger.lab.datasets import Piece
from livearranger.lab.model import EnsembleTransformer, Inputs, PartTransformer
from livearranger.lab.training import Replayer
from livearranger.presets import Preset


@torch.no_grad()
def rollout(model: PartTransformer | EnsembleTransformer, perfs: Sequence[Piece],
            presets: Sequence[Preset], groups: Sequence[float | None] | None = None,
            beats: Sequence[bool] | None = None,
            hints: Sequence[np.ndarray | None] | None = None) -> list[Replayer]:
    """Let ``model`` play every performance itself, ``perfs[i]`` by the ensemble
    ``presets[i]`` with the correction horizon ``groups[i]`` (None: key by key), its beat
    known when ``beats[i]``, the hints ``hints[i]``; returns the replays."""
    model.eval()
    n = len(perfs)
    groups = [None] * n if groups is None else groups
    beats = beats or [False] * n
    hints = hints or [None] * n
    reps = [Replayer(p, s, g, b, h) for p, s, g, b, h in zip(perfs, presets, groups, beats,
                                                             hints, strict=True)]
    made: dict[int, Constraints] = {}
    cons = [made.setdefault(id(s), Constraints(s)) for s in presets]
    active = [i for i, r in enumerate(reps) if r.next_note()]
    if not active:
        return reps
    p_max = max(len(s.parts) for s in presets)
    descs = np.zeros((n, p_max, N_DESC), dtype=np.float32)
    pmask = np.zeros((n, p_max), dtype=bool)
    for i, s in enumerate(presets):
        descs[i, :len(s.parts)] = part_descriptors(s.parts)
        pmask[i, :len(s.parts)] = True
    stepper = model.stepper(len(active))
    width = N_GLOBAL + p_max * N_PER_PART
    while active:
        f = np.zeros((len(active), width), dtype=np.float32)
        hint = np.zeros((len(active), p_max), dtype=np.float32)
        tokens = np.zeros((len(active), 2), dtype=np.int64)
        bt = np.zeros((len(active), reps[active[0]].beats.shape[1]), dtype=np.float32)
        for row, i in enumerate(active):
            r = reps[i]
            for change in r.changes:         # the chord's mark or rewind, for its ring
                if change == "mark":
                    stepper.mark(row)
                else:
                    stepper.rewind(row)
            features, tokens[row], bt[row] = r.row
            f[row, :len(features)] = features
            if r.hinted >= 0:
                hint[row, r.hinted] = 1.0
        lg = stepper.step(Inputs(torch.from_numpy(f), torch.from_numpy(tokens),
                                 torch.from_numpy(bt), torch.from_numpy(descs[active]),
                                 torch.from_numpy(pmask[active]),
                                 torch.from_numpy(hint))).numpy()
        keep = []
        for row, i in enumerate(active):
            r = reps[i]
            allowed = cons[i].mask(int(r.perf.pitch[r.j]), r.state, r.time)
            r.commit(int(np.where(allowed, lg[row, :len(allowed)], -np.inf).argmax()))
            if r.next_note():
                keep.append(row)
        if len(keep) < len(active):
            stepper.keep(keep)
            active = [active[row] for row in keep]
    return reps
