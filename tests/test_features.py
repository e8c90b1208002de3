"""The feature function sees only the past: later notes and the current note's duration
change neither the features nor the model's prediction."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from livearranger.arrangers import make_arranger
from livearranger.chords import event_order
from livearranger.events import Kind, NoteEvent
from livearranger.features import FEATURE_VERSION, feature_dim, model_tokens, note_features
from livearranger.lab.datasets import Piece
from livearranger.lab.model import PartTransformer
from livearranger.lab.training import Replayer
from livearranger.performer import Observer, Performer
from livearranger.presets import Preset
from livearranger.router import Router
from livearranger.state import PerformanceState


def _piece(rng: np.random.Generator, n: int = 40) -> Piece:
    onset = np.sort(np.round(rng.uniform(0, 10, n), 2))
    pitch = rng.integers(40, 80, n).astype(np.int16)
    dur = rng.uniform(0.1, 1.0, n)
    return Piece("t", ("a", "b", "c", "d"), onset, onset * 2, pitch,
                 rng.integers(30, 120, n).astype(np.int16), onset + dur,
                 rng.integers(0, 4, n).astype(np.int8), np.zeros(n, np.uint8))


class _When(Observer):
    """When each key was finally decided: on arrival, or when its chord settled."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}

    def sounded(self, note, part):
        self.at[id(note)] = note.time

    def settled(self, notes, at):
        for note in notes:
            self.at[id(note)] = at


def _decided(piece: Piece, preset: Preset, group: float) -> dict[int, float]:
    """Note index -> when the performer finally decided it, with ``group`` as horizon."""
    performer = Performer(preset, make_arranger("closest-pitch", preset),
                          Router(preset, []), group)
    when = _When()
    performer.observers.append(when)
    notes: dict[int, NoteEvent] = {}          # kept alive: ids stay theirs
    for t, kind, j in zip(*event_order(piece.onset, piece.offset), strict=True):
        if kind:
            note = NoteEvent(Kind.NOTE_ON, t, int(piece.pitch[j]), 80)
            notes[j] = note
            performer.process(note)
        else:
            performer.process(NoteEvent(Kind.NOTE_OFF, t, int(piece.pitch[j]), 0))
    performer.settle()
    return {j: when.at[id(note)] for j, note in notes.items()}


def _replay(piece: Piece, preset: Preset) -> Replayer:
    r = Replayer(piece, preset)
    while r.next_note():
        r.commit(int(piece.part[r.j]))
    return r


def _logits(r: Replayer, model: PartTransformer) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.from_numpy(r.features)[None], torch.from_numpy(r.tokens)[None])[0]


def test_dimension_tokens_and_in_place():
    state = PerformanceState(4)
    assert feature_dim(4) == note_features(60, 80, 0.0, state).shape[0]
    assert isinstance(FEATURE_VERSION, int)
    assert model_tokens(61, state) == (61, 4)
    state.note_on(61, 0.0, 2)
    assert model_tokens(64, state) == (64, 2)
    out = np.full(feature_dim(4), 7.0, dtype=np.float32)
    got = note_features(64, 80, 0.01, state, out=out)
    assert got is out and got.dtype == np.float32
    fresh = note_features(64, 80, 0.01, state)
    assert np.array_equal(out, fresh)
    # the held key of part 2 (pitch 61, below 64) and the same-chord flag show
    assert fresh[3] == 1.0
    assert fresh[6] > 0


def test_no_leak_of_the_future(satb):
    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    model = PartTransformer(feature_dim(4), 4, window=8).eval()
    piece = _piece(rng)
    base = _replay(piece, satb)
    base_logits = _logits(base, model)
    j = 20
    # change every later note (pitch, onset spacing kept after j, velocity, part)
    later = replace(piece, pitch=piece.pitch.copy(), velocity=piece.velocity.copy(),
                    part=piece.part.copy())
    later.pitch[j + 1:] = rng.integers(40, 80, len(piece) - j - 1)
    later.velocity[j + 1:] = 1
    later.part[j + 1:] = (later.part[j + 1:] + 1) % 4
    # and the current note's duration
    later.offset = piece.offset.copy()
    later.offset[j] = piece.onset[j] + 5.0
    changed = _replay(later, satb)
    assert np.array_equal(base.features[: j + 1], changed.features[: j + 1])
    assert np.array_equal(base.tokens[: j + 1], changed.tokens[: j + 1])
    assert torch.allclose(base_logits[: j + 1], _logits(changed, model)[: j + 1])
    # the change is visible afterwards, so the test could fail
    assert not np.array_equal(base.features[j + 1:], changed.features[j + 1:])


def test_keys_still_to_settle_are_seen_above_and_below():
    state = PerformanceState(4)
    state.pending[:] = [72, 64, 55]
    f = note_features(60, 80, 0.0, state)
    assert f[10] == 2 / 4 and f[11] == 1 / 4
    assert f[12] == np.float32(4 / 12) and f[13] == np.float32(-5 / 12)
    state.pending.clear()
    assert not note_features(60, 80, 0.0, state)[10:14].any()


def test_settling_chords_leaks_nothing_after_the_decision(satb):
    rng = np.random.default_rng(5)
    piece = _piece(rng)
    piece = replace(piece, onset=np.sort(rng.uniform(0, 2, len(piece))))
    piece = replace(piece, offset=piece.onset + 0.3)
    group = 0.015
    decided = _decided(piece, satb, group)
    def run(p: Piece) -> Replayer:
        r = Replayer(p, satb, group)
        while r.next_note():
            r.commit(int(p.part[r.j]))
        return r

    base = run(piece)
    cut = decided[20]
    after = piece.onset > cut + 1e-9          # arrives after note 20 was decided
    later = replace(piece, pitch=piece.pitch.copy(), velocity=piece.velocity.copy())
    later.pitch[after] = rng.integers(40, 80, int(after.sum()))
    later.velocity[after] = 1
    later.offset = piece.offset.copy()
    later.offset[20] = piece.onset[20] + 5.0  # and note 20's own duration
    changed = run(later)
    known = np.array([decided[j] <= cut for j in range(len(piece))])
    assert known.sum() > 10 and (~known).sum() > 5
    assert np.array_equal(base.features[known], changed.features[known])
    assert np.array_equal(base.tokens[known], changed.tokens[known])
    assert not np.array_equal(base.features[~known], changed.features[~known])
