"""The training replay: what a model is taught is the history it will have at run time."""

from __future__ import annotations

import numpy as np
import pytest

from livearranger.arrangers.learned import LearnedArranger
from livearranger.constraints import Constraints
from livearranger.lab.datasets import load_pieces
from livearranger.lab.ensemble_train import examples
from livearranger.lab.evaluate import performance, replay
from livearranger.lab.training import CHORD_GROUP, teacher
from livearranger.presets import load_preset
from models.train import make_examples

SATB = load_preset("satb")


@pytest.fixture(scope="module")
def played():
    """A chorale as played, replayed with its true parts, chords decided again."""
    piece = performance(load_pieces("bach", "valid", 1)[0], "as-played")
    return teacher(piece, SATB, Constraints(SATB), np.random.default_rng(0),
                   group=CHORD_GROUP)


def test_chords_decided_again_go_lowest_first_whatever_the_arrival(played):
    order = played.history()
    assert sorted(order.tolist()) == list(range(played.n))      # every note once
    assert not np.array_equal(order, np.arange(played.n))        # not the arrival order
    onset = played.perf.onset
    lower_later = (np.diff(onset[order]) < 0)                    # a key that came earlier
    assert lower_later.any()                                     # was decided later


def _check_sequence(r, tokens, mask) -> None:
    order = r.history()
    # each note's "previous part" token is the part of the note decided just before it,
    # never a part decided after it (the label of a later step)
    assert np.array_equal(tokens[1:, 1], r.chosen[order][:-1])
    assert np.array_equal(tokens[:, 0], r.perf.pitch[order])
    assert np.array_equal(mask, r.perf.mask.astype(np.int64)[order])


def test_part_model_examples_are_in_decision_order(played):
    ((feats, tokens, mask, first, _where),) = make_examples([played], 10**6, 10**6, "model")
    assert first == 0 and len(mask) == played.n
    _check_sequence(played, tokens, mask)
    assert np.array_equal(feats, played.features[played.history()])


def test_ensemble_examples_are_in_decision_order(played):
    (ex,) = examples([played], [SATB], 10**6)
    _check_sequence(played, ex.tokens, ex.mask)
    assert np.array_equal(ex.beats, played.beats[played.history()])


class _Teacher(LearnedArranger):
    """Gives every key its true part and keeps what the model would have seen."""

    name = "teacher"

    def __init__(self, preset, perf) -> None:
        super().__init__(preset)
        self.truth = {(int(p), round(float(t), 9)): int(q)
                      for p, t, q in zip(perf.pitch, perf.onset, perf.part, strict=True)}
        self.seen: list[tuple[bool, int, np.ndarray]] = []

    def choose(self, note, state):
        self.seen.append((self._chord, note.pitch, self.inputs.features[0].copy()))
        return self.truth[(note.pitch, round(note.time, 9))]


@pytest.fixture(scope="module")
def sounded():
    piece = performance(load_pieces("bach", "valid", 1)[0], "as-played")
    return teacher(piece, SATB, Constraints(SATB), np.random.default_rng(0),
                   group=CHORD_GROUP, sound=True)


def test_first_decisions_leave_the_settled_history_as_it_was(played, sounded):
    """Deciding each chord key on arrival and taking it back at the settle changes
    nothing the settled decisions saw (state and rule rewound)."""
    assert sounded.onsets.count > played.n // 3
    assert np.array_equal(sounded.history(), played.history())
    assert np.array_equal(sounded.features, played.features)
    assert np.array_equal(sounded.tokens, played.tokens)


def test_first_decisions_see_what_the_engine_sees(sounded):
    """The engine, fed the same performance and given the same (true) parts, asks the
    model for exactly these first decisions, on exactly these inputs."""
    perf = sounded.perf
    arr = _Teacher(SATB, perf)
    replay(perf, arr, horizon=CHORD_GROUP)
    first = [(p, f) for chord, p, f in arr.seen if not chord]
    on = sounded.onsets
    assert len(first) == on.count
    for row, (p, f) in enumerate(first):
        assert p == perf.pitch[on.note[row]]
        np.testing.assert_array_equal(f, on.features[row])
    # each chord settles after its first decisions, at the place its keys take in order
    assert (on.start[:on.count] >= 0).all()
    assert (np.diff(on.start[:on.count]) >= 0).all()
