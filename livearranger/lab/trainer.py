"""The one trainer: a part model, per-ensemble or ensemble, taught on pieces with their
ensembles.

Every training item is a piece with the ensemble that plays it (a ``Preset``): the Bach
chorales with the satb preset, the madrigals and trecento pieces with an ensemble made
from their own parts (``livearranger.lab.datasets.piece_preset``), a player's folder
with the preset they chose; a per-ensemble model's items all have its one preset.  Each
epoch draws a fresh augmentation of every piece: its parts' ranges widened by
0-``widen_most`` semitones at either end (so the ensemble model reads ranges rather
than learning one preset's; none for a per-ensemble model), a transposition that keeps
every part inside its range, a tempo change, the score or a humanised performance, the
beat known (as a DAW's clock gives it) for a share of the pieces, and decided key by
key or chord by chord.  Teacher forcing on the true history (``livearranger.lab.training``
replays each piece through the performer), a corrupted history for half the pieces and
DAgger roll-outs (``livearranger.lab.rollout``); with ``onsets`` (a model that
``branches``) each chord key's first decision too, on the history it had then.

Validation plays the validation pieces online (the model's own choices, the ensemble's
constraints) in both conditions, key by key and chord by chord; the best epoch is kept
(a per-ensemble model as a ``.pt`` checkpoint, the ensemble model as weights
``NAME.npz`` and step graph ``NAME.onnx``), training stops early or at the time limit,
and an interrupted run resumes from ``NAME.state.pt``.  Command lines over it:
``python -m models.train`` (per-ensemble), ``python -m livearranger.lab.ensemble_train``
and ``livearranger train`` (``livearranger.lab.finetune``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from livearranger.constraints import Constraints
from livearranger.ensemble import MAX_ENSEMBLE, part_descriptors
from livearranger.features import FEATURE_VERSION, N_GLOBAL, N_PER_PART
from livearranger.graph import META_FEATURE_VERSION
from livearranger.lab.datasets import Piece
from livearranger.lab.evaluate import performance
from livearranger.lab.export import export_step
from livearranger.lab.model import (
    EnsembleTransformer,
    Inputs,
    PartModel,
    PartTransformer,
    load_model,
    save_checkpoint,
    save_weights,
    with_hint_input,
)
from livearranger.lab.rollout import rollout
from livearranger.lab.training import (
    CHORD_GROUP,
    Record,
    accuracy,
    augment,
    chunks,
    nll_sum,
    segments,
    simulate_hints,
    teacher,
)
from livearranger.presets import Preset

Log = Callable[[str], None]


@dataclass
class Item:
    """One training or validation piece with the ensemble that plays it."""

    piece: Piece
    preset: Preset
    source: str = ""          # dataset or folder, for the report


def dataset_items(dataset: str, split: str, preset: Preset | None = None,
                  data: Path | None = None, limit: int | None = None,
                  sources: Sequence[str] | None = None) -> list[Item]:
    """The pieces of ``split`` of ``dataset``, each with the ensemble that plays it.

    A music21 corpus (``bach``, ``madrigal``, ...): ``preset``, else each piece's own
    (``piece_preset``).  A collection read from the folder ``data`` (``nes``,
    ``pop909``, ``quartets``, ``choral``; ``sources``: only those top-level folders of
    it): ``preset``, else the collection's; its pieces with another number of parts are
    left out (a five-voice work for a four-part choir), and a file that cannot be read
    is said on stderr and left out, so that one file does not end a run."""
    from livearranger.lab.datasets import load_pieces, piece_preset
    from livearranger.lab.evaluate import COLLECTION_PRESET, collection_pieces
    from livearranger.presets import load_preset

    if dataset not in COLLECTION_PRESET:
        return [Item(p, preset or piece_preset(dataset, p), dataset)
                for p in load_pieces(dataset, split, limit)]
    own = preset or load_preset(str(COLLECTION_PRESET[dataset]))
    names = tuple(own.part_names)
    unreadable: list[str] = []
    out = [Item(dataclasses.replace(p, part_names=names), own, dataset)
           for p in collection_pieces(dataset, None if data is None else str(data), split,
                                      limit, sources, unreadable)
           if p.n_parts == len(names)]
    for why in unreadable:
        print(f"left out: {why}", file=sys.stderr)
    return out


def spread(items: Sequence[Item], n: int) -> list[Item]:
    """``n`` of ``items`` evenly spaced through them (not the first ``n``: a collection's
    files are sorted by name, so its first ones are often one composer's or one game's)."""
    if n >= len(items):
        return list(items)
    return [items[round(k * len(items) / n)] for k in range(n)]


def first_segments(items: Sequence[Item], n: int) -> list[Item]:
    """``n`` of ``items`` spread through them (``spread``), each cut to its first segment:
    validation pieces as long as a corpus's piece, so that long songs do not take the
    validation's time."""
    return [Item(segments(it.piece)[0], it.preset, it.source) for it in spread(items, n)]


def epoch_draw(items: Sequence[Item], n: int, rng: np.random.Generator) -> list[int]:
    """``n`` of ``items``' indices, sorted: uniformly from one source; from several, each
    source weighted as the others (a draw of 4,500 game-music files and 300 chorales
    would otherwise be nearly all game music)."""
    sources = [it.source for it in items]
    count = Counter(sources)
    if len(count) == 1:
        return sorted(int(i) for i in rng.permutation(len(items))[:n])
    w = np.array([1.0 / count[s] for s in sources])
    return sorted(int(i) for i in rng.choice(len(items), size=n, replace=False, p=w / w.sum()))


def widen(preset: Preset, rng: np.random.Generator, most: int = 4) -> Preset:
    """The preset with each part's range widened by 0..``most`` semitones at each end."""
    parts = tuple(dataclasses.replace(
        p, low=max(0, p.low - int(rng.integers(most + 1))),
        high=min(127, p.high + int(rng.integers(most + 1)))) for p in preset.parts)
    return dataclasses.replace(preset, parts=parts)


# ------------------------------------------------------------------ examples
@dataclass
class Example:
    features: np.ndarray      # [T, 14 + 12n]
    tokens: np.ndarray        # [T, 2]
    beats: np.ndarray         # [T, 5]
    mask: np.ndarray          # [T] part bit masks
    first: int                # first position with a loss
    parts: np.ndarray         # [n, 5]
    hints: np.ndarray         # [T] the part a hint forced each note to, or -1
    # per note its position, the last position of the settled line it sees and its
    # chord (-1 on the line): the onsets after the line (``visibility``)
    where: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def examples(reps: Sequence[Record], presets: Sequence[Preset], window: int,
             onsets: bool = False) -> list[Example]:
    """Chunks of 4W notes of each replay's history with the loss on the last 3W (each
    note once; none on a hinted note, whose part is forced).  With ``onsets`` each chunk
    also holds, after them, the first decisions of the chords settled in its loss span
    (``Record.onsets``), each at the position it had then and seeing what it saw
    (``visibility``)."""
    out = []
    for r, preset in zip(reps, presets, strict=True):
        desc = part_descriptors(preset.parts)
        order = r.history()          # the model's history: notes as they were decided
        labels = np.where(r.hints >= 0, 0, r.perf.mask.astype(np.int64))
        mask = labels[order]
        feats, toks, beats, hints = (r.features[order], r.tokens[order], r.beats[order],
                                     r.hints[order])
        on = r.onsets
        start, k = on.start[:on.count], on.k[:on.count]
        for s, e, first in chunks(len(order), 4 * window, 3 * window):
            if not onsets:
                out.append(Example(feats[s:e], toks[s:e], beats[s:e], mask[s:e],
                                   first - s, desc, hints[s:e]))
                continue
            sel = np.flatnonzero((start >= first) & (start < e))
            line = np.arange(e - s)
            where = (np.concatenate([line, start[sel] - s + k[sel]]),           # position
                     np.concatenate([line, start[sel] - s - 1]),                # last seen
                     np.concatenate([np.full(e - s, -1), on.group[sel]]))       # chord
            notes = on.note[sel]
            out.append(Example(
                np.concatenate([feats[s:e], on.features[sel]]),
                np.concatenate([toks[s:e], on.tokens[sel]]),
                np.concatenate([beats[s:e], np.zeros((len(sel), beats.shape[1]),
                                                     dtype=beats.dtype)]),
                np.concatenate([mask[s:e], labels[notes]]), first - s, desc,
                np.concatenate([hints[s:e], r.hints[notes]]), where))
    return out


def visibility(pos: np.ndarray, last: np.ndarray, group: np.ndarray, window: int
               ) -> np.ndarray:
    """[B,T,T] which notes each note sees: within the window behind it, the settled
    history up to its ``last`` position, and the earlier first decisions of its own
    chord (``group`` >= 0; -1 on the settled line).  Every note sees itself."""
    dist = pos[:, :, None] - pos[:, None, :]
    near = (dist >= 0) & (dist < window)
    line = (group[:, None, :] < 0) & (pos[:, None, :] <= last[:, :, None])
    same = (group[:, None, :] >= 0) & (group[:, None, :] == group[:, :, None])
    eye = np.eye(pos.shape[1], dtype=bool)[None]
    return (near & (line | same)) | eye


def collate(batch: Sequence[Example], window: int = 0) -> tuple[Inputs, torch.Tensor]:
    """Pad time and parts: the model's inputs and the targets [B,T,P]; with a
    ``window`` (a model that ``branches``) also each note's position and what it sees
    (its chunk's ``where``, else the line of history)."""
    t = max(len(b.mask) for b in batch)
    p = max(len(b.parts) for b in batch)
    bsz = len(batch)
    f = np.zeros((bsz, t, N_GLOBAL + p * N_PER_PART), dtype=np.float32)
    tok = np.zeros((bsz, t, 2), dtype=np.int64)
    beat = np.zeros((bsz, t, batch[0].beats.shape[1]), dtype=np.float32)
    parts = np.zeros((bsz, p, batch[0].parts.shape[1]), dtype=np.float32)
    pmask = np.zeros((bsz, p), dtype=bool)
    target = np.zeros((bsz, t, p), dtype=bool)
    hint = np.zeros((bsz, t, p), dtype=np.float32)
    pos = np.full((bsz, t), -(1 << 20), dtype=np.int64)      # padding: seen by none
    last = np.full((bsz, t), -(1 << 21), dtype=np.int64)
    group = np.full((bsz, t), -2, dtype=np.int64)
    bits = np.arange(p)
    for i, b in enumerate(batch):
        n, k = len(b.mask), len(b.parts)
        f[i, :n, :b.features.shape[1]] = b.features
        tok[i, :n] = b.tokens
        tok[i, n:, 1] = k                                     # padding: no previous part
        beat[i, :n] = b.beats
        parts[i, :k] = b.parts
        pmask[i, :k] = True
        target[i, b.first:n] = ((b.mask[b.first:n, None] >> bits) & 1).astype(bool)
        at = np.flatnonzero(b.hints >= 0)
        hint[i, at, b.hints[at]] = 1.0
        if b.where is not None:
            pos[i, :n], last[i, :n], group[i, :n] = b.where
        else:
            pos[i, :n] = last[i, :n] = np.arange(n)
            group[i, :n] = -1
    x = Inputs(*(torch.from_numpy(a) for a in (f, tok, beat, parts, pmask, hint)))
    if window:
        x.pos = torch.from_numpy(pos)
        x.visible = torch.from_numpy(visibility(pos, last, group, window))
    return x, torch.from_numpy(target)


# ------------------------------------------------------------------ validation
def accuracy_by_source(reps: Sequence[Record], items: Sequence[Item]) -> dict[str, float]:
    """Percent of notes given one of their true parts, per source."""
    by: dict[str, list[Record]] = {}
    for r, it in zip(reps, items, strict=True):
        by.setdefault(it.source, []).append(r)
    return {k: accuracy(by[k]) for k in sorted(by)}


def validate(model: PartTransformer | EnsembleTransformer, valid: Sequence[Item]
             ) -> dict[str, float]:
    """Online accuracy on the validation items: both conditions, key by key and chord by
    chord; per source and their mean (``score``)."""
    out: dict[str, float] = {}
    means = []
    for cond in ("score", "as-played"):
        perfs = [performance(it.piece, cond, i) for i, it in enumerate(valid)]
        for group in (None, CHORD_GROUP):
            reps = rollout(model, perfs, [it.preset for it in valid], [group] * len(valid))
            acc = accuracy_by_source(reps, valid)
            tag = cond + ("+chords" if group else "")
            for src, a in acc.items():
                out[f"{src} {tag}"] = a
            means.append(sum(acc.values()) / max(len(acc), 1))
    out["score"] = sum(means) / len(means)
    return out


# ------------------------------------------------------------------ training
@dataclass
class Progress:
    """What ``train`` reports after every batch (for a progress bar)."""

    epoch: int
    done: float               # share of the time budget used, 0..1
    loss: float
    best: float               # best validation score so far (-1 before the first)


def world() -> tuple[int, int]:
    """(rank, number of processes) of a ``torchrun`` group, (0, 1) when alone."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _reduce(value: float, op: str = "sum") -> float:
    """``value`` summed (or its max) over the processes; itself when alone."""
    if world()[1] == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist = torch.distributed
    dist.all_reduce(t, op=dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX)
    return float(t.item())


def shard_step(model: nn.Module, opt: torch.optim.Optimizer, local: Sequence[Example]
               ) -> float:
    """One optimiser step on a batch shared out over the processes (``local``: this
    process's share).  The loss is normalised by the positions of the whole batch, so
    the averaged gradients equal one process's on the whole batch (up to summation
    order).  Returns the batch's mean loss."""
    inner = getattr(model, "module", model)                  # DDP wraps it
    assert isinstance(inner, PartModel)
    x, target = collate(local, inner.window if inner.branches else 0)
    total, has = nll_sum(model(*inner.forward_args(x)), target)
    count = _reduce(float(has))
    loss = total * (world()[1] / max(count, 1.0))        # DDP averages over processes
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return _reduce(float(total.detach())) / max(count, 1.0)


_PICK, _ORDER, _SUBSET = 1 << 40, 1 << 41, 1 << 42   # streams: DAgger pick, batch order,
#                                                     the epoch's segments


def _draw(seed: int, epoch: int, i: int) -> np.random.Generator:
    """The random stream of piece ``i`` in ``epoch``: the same in every process."""
    return np.random.default_rng([seed, epoch, i])


def train(items: Sequence[Item], valid: Sequence[Item], out: Path, minutes: float = 30.0,
          seed: int = 0, init: Path | None = None, lr: float = 2e-3, batch: int = 32,
          patience: int = 6, noise: float = 0.05, chord_share: float = 0.6,
          beat_share: float = 0.5, dagger_from: int = 3, dagger_every: int = 2,
          dagger_pieces: int = 48, threads: int = 1, resume: bool = True,
          warmup: int = 100, meta: dict[str, Any] | None = None, log: Log = print,
          progress: Callable[[Progress], None] | None = None,
          hint_input: bool = False,
          model: PartTransformer | EnsembleTransformer | None = None, onsets: bool = False,
          widen_most: int = 4, epochs: int | None = None,
          epoch_items: int | None = None) -> dict[str, Any]:
    """Train ``model`` (default: a fresh ensemble model, or the one in ``init``, a file
    ``load_model`` reads) and keep the best epoch: a per-ensemble model as the
    checkpoint ``out``, an ensemble model as ``out``.npz and ``out``.onnx; returns a
    summary.  ``widen_most``: the most semitones a part's range is widened at each end
    (0: the presets as they are); ``beat_share``: the pieces whose beat is known;
    ``onsets``: teach each chord key's first decision too (a model that ``branches``);
    ``epochs``: stop after that many; ``epoch_items``: the training segments each epoch
    replays, a fresh seeded draw every epoch (a large collection, of which an epoch of
    every piece would leave no time to validate; default all).  ``out``.state.pt holds the run's
    state after every epoch (written before the epoch's line is logged, and replaced
    whole, so an interrupt never leaves half of one): a run started again with the same
    ``out`` resumes there.  ``warmup``: batches over which the learning rate rises to
    ``lr`` (fewer for a fine-tuning on little data, whose epochs are a batch or two).
    ``hint_input``: the model reads hints (``with_hint_input``; a model that does is
    trained with simulated ones, ``simulate_hints``).

    Under ``torchrun`` (a gloo or NCCL group already set up) every process replays and
    trains on its share of the pieces, gradients are averaged (DDP), each batch of
    ``batch`` chunks is spread over the processes, and only rank 0 writes files."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    rank, size = world()
    out = Path(out)
    weights, graph, state_path = (out.with_suffix(".npz"), out.with_suffix(".onnx"),
                                  out.with_suffix(".state.pt"))
    for it in (*items, *valid):
        if len(it.preset.parts) > MAX_ENSEMBLE:
            raise ValueError(f"{it.piece.name}: {len(it.preset.parts)} parts "
                             f"(at most {MAX_ENSEMBLE})")
    train_items = [Item(s, it.preset, it.source) for it in items for s in segments(it.piece)]
    if model is None:
        loaded = load_model(init)[0] if init else EnsembleTransformer(hints=hint_input)
        if not isinstance(loaded, (PartTransformer, EnsembleTransformer)):
            raise ValueError(f"{init}: not a part model")
        model = loaded
    elif init:
        raise ValueError("give a model or init, not both")
    if hint_input:
        if not isinstance(model, EnsembleTransformer):
            raise ValueError("only the ensemble model reads hints")
        model = with_hint_input(model)
    if onsets and not model.branches:
        raise ValueError(f"{type(model).__name__} cannot be taught first decisions")
    start_epoch, used, best, best_epoch, step = 0, 0.0, -1.0, -1, 0
    history: list[dict[str, Any]] = []
    st = None
    if resume and state_path.exists():
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        model = type(model)(**st["config"])
        model.load_state_dict(st["model"])
        start_epoch, used, best, best_epoch, step = (st["epoch"] + 1, st["used"], st["best"],
                                                     st["best_epoch"], st["step"])
        log(f"resuming after epoch {st['epoch']} ({used / 60:.1f} of {minutes} min used)")
    net: nn.Module = model
    if size > 1:
        net = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    if st is not None:
        opt.load_state_dict(st["opt"])
    budget = minutes * 60.0
    window = model.window
    everyone = range(len(train_items))
    log(f"{type(model).__name__}: {len(train_items)} training segments, {len(valid)} valid, "
        f"{sum(p.numel() for p in model.parameters())} parameters, limit {minutes} min"
        + (f", process {rank} of {size}" if size > 1 else ""))
    dagger: list[Example] = []
    epoch = start_epoch
    last_loss = 0.0
    while True:
        t0 = time.monotonic()
        presets, reps = [], []
        drawn = (everyone if epoch_items is None or epoch_items >= len(train_items) else
                 epoch_draw(train_items, epoch_items, _draw(seed, epoch, _SUBSET)))
        for i in (int(i) for i in drawn if i % size == rank):
            it, r = train_items[i], _draw(seed, epoch, i)
            s = widen(it.preset, r, widen_most) if widen_most else it.preset
            presets.append(s)
            perf = augment(it.piece, s, r)
            reps.append(teacher(perf, s, Constraints(s), r, noise if i % 2 else 0.0,
                                CHORD_GROUP if r.random() < chord_share else None,
                                bool(r.random() < beat_share),
                                simulate_hints(perf, r) if model.hints else None, onsets))
        ex = examples(reps, presets, window, onsets)
        if epoch >= dagger_from and (epoch - dagger_from) % dagger_every == 0:
            pick = [int(i) for i in _draw(seed, epoch, _PICK).permutation(
                len(train_items))[:dagger_pieces] if i % size == rank]
            draws = [_draw(seed, epoch, len(train_items) + i) for i in pick]
            ps = [widen(train_items[i].preset, r, widen_most) if widen_most
                  else train_items[i].preset for i, r in zip(pick, draws, strict=True)]
            fresh = [augment(train_items[i].piece, s, r)
                     for i, s, r in zip(pick, ps, draws, strict=True)]
            groups = [CHORD_GROUP if r.random() < chord_share else None for r in draws]
            bts = [bool(r.random() < beat_share) for r in draws]
            hs = [simulate_hints(p, r) if model.hints else None
                  for p, r in zip(fresh, draws, strict=True)]
            dagger = examples(rollout(model, fresh, ps, groups, bts, hs), ps, window, onsets)
        ex = ex + dagger
        net.train()
        order = _draw(seed, epoch, _ORDER + rank).permutation(len(ex))
        share = max(1, batch // size)
        steps = int(-_reduce(-float(math.ceil(len(ex) / share)), "max"))  # the fewest
        loss_sum = 0.0
        for k in range(steps):
            frac = min(1.0, (used + time.monotonic() - t0) / budget)
            for g in opt.param_groups:
                g["lr"] = lr * min(1.0, (step + 1) / max(warmup, 1)) * (
                    0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
            loss_sum += shard_step(net, opt, [ex[i] for i in order[k * share:(k + 1) * share]])
            step += 1
            last_loss = loss_sum / (k + 1)
            if progress is not None and rank == 0:
                progress(Progress(epoch, frac, last_loss, best))
            if _reduce(used + time.monotonic() - t0, "max") > budget:
                break
        acc = validate(model, valid)
        used = _reduce(used + time.monotonic() - t0, "max")
        history.append({"epoch": epoch, "loss": last_loss, **acc})
        mark = ""
        if acc["score"] > best:
            best, best_epoch, mark = acc["score"], epoch, " *"
            info = {**(meta or {}), META_FEATURE_VERSION: FEATURE_VERSION, "epoch": epoch,
                    "seed": seed, "processes": size, "valid_accuracy": acc}
            if rank == 0 and isinstance(model, PartTransformer):
                save_checkpoint(out, model, info)
            elif rank == 0 and isinstance(model, EnsembleTransformer):
                save_weights(weights, model, info)
                export_step(model, graph, info)
        if rank == 0:
            tmp = state_path.with_name(state_path.name + ".part")
            torch.save({"config": model.config, "model": model.state_dict(),
                        "opt": opt.state_dict(), "epoch": epoch, "used": used, "best": best,
                        "best_epoch": best_epoch, "step": step}, tmp)
            tmp.replace(state_path)
            log(f"epoch {epoch:3d}  loss {last_loss:.4f}  valid "
                + "  ".join(f"{k} {v:.2f}" for k, v in acc.items())
                + f"  ({time.monotonic() - t0:.0f}s){mark}")
            if progress is not None:
                progress(Progress(epoch, min(1.0, used / budget), last_loss, best))
        if epoch - best_epoch >= patience:
            log(f"early stop: no improvement for {patience} epochs")
            break
        if used >= budget:
            log("time limit reached")
            break
        if epochs is not None and epoch + 1 >= epochs:
            break
        epoch += 1
    if rank == 0:
        state_path.unlink(missing_ok=True)
    if isinstance(model, PartTransformer):
        weights = graph = out
    return {"path": str(weights), "weights": str(weights), "graph": str(graph),
            "best_epoch": best_epoch,
            "best_valid": best, "history": history}


def leave_torchrun() -> None:
    """End a torchrun process at once, its work done and its group destroyed: gloo's
    threads can still abort the interpreter's own exit now and then ("terminate called
    without an active exception", exit -6, seen in 1 of about 20 test runs), and torchrun
    then kills the other processes and fails the run."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
