"""Part ranges and busy monophonic parts, as every arranger sees them."""

from __future__ import annotations

from livearranger.constraints import CHORD_WINDOW, Constraints
from livearranger.state import PerformanceState


def test_only_parts_whose_range_holds_the_pitch(satb):
    c, state = Constraints(satb), PerformanceState(4)
    assert c.candidates(84, state) == [0]                 # soprano alone reaches 84
    assert c.candidates(60, state) == [0, 1, 2, 3]
    assert c.candidates(31, state) == [3]
    assert c.candidates(100, state) == [0, 1, 2, 3]       # none does: every part
    assert c.mask(45, state) == [False, False, True, True]


def test_a_sounding_monophonic_part_is_passed_over_unless_it_is_the_only_one(satb):
    c, state = Constraints(satb), PerformanceState(4)
    state.note_on(62, 0.0, 1)                             # the alto holds a key
    assert c.candidates(60, state) == [0, 2, 3]
    state.note_on(84, 0.0, 0)                             # the soprano too
    assert c.candidates(84, state) == [0]                 # busy, but the only one


def test_with_a_time_only_a_key_of_the_same_chord_makes_a_part_busy(satb):
    c, state = Constraints(satb), PerformanceState(4)
    state.note_on(62, 1.0, 1)
    assert c.candidates(60, state, 1.0 + CHORD_WINDOW / 2) == [0, 2, 3]
    assert c.candidates(60, state, 1.0 + 2 * CHORD_WINDOW) == [0, 1, 2, 3]   # legato


def test_polyphonic_parts_are_never_busy(quartet):
    c, state = Constraints(quartet), PerformanceState(len(quartet.parts))
    for part in range(len(quartet.parts)):
        state.note_on(60 + part, 0.0, part)
    assert c.candidates(60, state) == [p for p in range(len(quartet.parts))
                                       if quartet.parts[p].low <= 60 <= quartet.parts[p].high]
