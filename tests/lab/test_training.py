"""The training replay: what a model is taught is the history it will have at run time."""

from __future__ import annotations

import numpy as np
import pytest

from livearranger.arrangers.learned import LearnedArranger
from livearranger.constraints import Constraints
from livearranger.lab.datasets import load_pieces
from livearranger.lab.evaluate import performance, replay
from livearranger.lab.trainer import examples
from livearranger.lab.training import CHORD_GROUP, teacher
from livearranger.presets import load_preset

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
    (ex,) = examples([played], [SATB], 10**6, onsets=True)
    assert ex.first == 0 and len(ex.mask) == played.n
    _check_sequence(played, ex.tokens, ex.mask)
    assert np.array_equal(ex.features, played.features[played.history()])


def test_ensemble_examples_are_in_decision_order(played):
    (ex,) = examples([played], [SATB], 10**6)
    _check_sequence(played, ex.tokens, ex.mask)
    assert np.array_equal(ex.beats, played.beats[played.history()])


class _Teacher(LearnedArranger):
    """Gives every key its true part and keeps what the model would have seen."""

    name = "teacher"

    def __init__(self, preset, perf) -> None:
        super().__init__(preset)
        self.index = {(int(p), round(float(t), 9)): j
                      for j, (p, t) in enumerate(zip(perf.pitch, perf.onset, strict=True))}
        self.truth = perf.part
        self.seen: list[tuple[bool, int, np.ndarray]] = []

    def choose(self, note, state):
        j = self.index[(note.pitch, round(note.time, 9))]
        self.seen.append((self.settling, j, self.inputs.features[0].copy()))
        return int(self.truth[j])


@pytest.fixture(scope="module")
def sounded():
    piece = performance(load_pieces("bach", "valid", 1)[0], "as-played")
    return teacher(piece, SATB, Constraints(SATB), np.random.default_rng(0),
                   group=CHORD_GROUP, sound=True)


def test_first_decisions_leave_the_settled_history_as_it_was(played, sounded):
    """Keeping each chord key's decision on arrival changes nothing the settled
    decisions saw (state and rule rewound)."""
    assert sounded.onsets.count > played.n // 3
    assert np.array_equal(sounded.history(), played.history())
    assert np.array_equal(sounded.features, played.features)
    assert np.array_equal(sounded.tokens, played.tokens)


def test_the_record_is_what_the_engine_asks_the_model(sounded):
    """The engine, fed the same performance and given the same (true) parts, asks the
    model for exactly these decisions, on exactly these inputs: a chord's settle gives
    each key its final row; a key's decision on arrival is a row of ``onsets`` when its
    chord settled, and its final row when it stayed alone."""
    perf = sounded.perf
    arr = _Teacher(SATB, perf)
    replay(perf, arr, horizon=CHORD_GROUP)
    settled = {j for chord, j, _f in arr.seen if chord}
    on = sounded.onsets
    rows = iter(range(on.count))
    finals = set()
    for chord, j, f in arr.seen:
        if chord or j not in settled:
            np.testing.assert_array_equal(f, sounded.features[j])
            finals.add(j)
        else:
            row = next(rows)
            assert on.note[row] == j
            np.testing.assert_array_equal(f, on.features[row])
    assert next(rows, None) is None                     # every onset row was asked
    assert finals == set(range(sounded.n)) == set(sounded.history().tolist())
    assert settled and len(finals - settled) > 0        # some keys stayed alone
    # each chord settles after its first decisions, at the place its keys take in order
    assert (on.start[:on.count] >= 0).all()
    assert (np.diff(on.start[:on.count]) >= 0).all()
