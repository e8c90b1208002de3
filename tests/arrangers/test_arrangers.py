"""Heuristic arrangers and the constraints every arranger honours."""

from __future__ import annotations

import pytest

from livearranger.arrangers import ArrangerError, make_arranger
from livearranger.arrangers.heuristics import ZoneArranger
from livearranger.constraints import Constraints
from livearranger.events import Kind, NoteEvent
from livearranger.presets import load_preset
from livearranger.state import PerformanceState


def play(arranger, state, pitch, t=0.0):
    part = arranger.assign(NoteEvent(Kind.NOTE_ON, t, pitch, 80), state)
    state.note_on(pitch, t, part)
    return part


def test_constraints_keep_ranges_and_avoid_busy_mono_parts():
    preset = load_preset("satb")
    c = Constraints(preset)
    state = PerformanceState(4)
    assert c.candidates(84, state) == [0]                 # only the soprano reaches C6
    assert c.candidates(20, state) == [0, 1, 2, 3]        # nobody does: all may
    state.note_on(60, 0.0, 1)                             # alto sounding (mono)
    assert 1 not in c.candidates(60, state)
    state.note_on(84, 0.0, 0)                             # soprano busy, but only one in range
    assert c.candidates(84, state) == [0]


def test_zone_splits_by_boundaries():
    preset = load_preset("satb")
    zone = ZoneArranger(preset, boundaries=[67, 60, 52])
    state = PerformanceState(4)
    assert [zone.zone(p) for p in (70, 62, 55, 40)] == [0, 1, 2, 3]
    assert play(zone, state, 70) == 0
    assert play(zone, state, 69) == 1     # soprano is busy and mono: the nearest free zone
    with pytest.raises(ValueError):
        ZoneArranger(preset, boundaries=[60])


def test_closest_pitch_follows_voices():
    preset = load_preset("satb")
    arr = make_arranger("closest-pitch", preset)
    state = PerformanceState(4)
    first = [play(arr, state, p) for p in (72, 64, 55, 48)]
    assert first == [0, 1, 2, 3]
    for p in (72, 64, 55, 48):
        state.note_off(p)
    assert [play(arr, state, p) for p in (74, 65, 57, 43)] == [0, 1, 2, 3]


def test_top_bottom_gives_extremes_to_outer_parts():
    preset = load_preset("chiptune")
    arr = make_arranger("top-bottom", preset)
    state = PerformanceState(3)
    assert play(arr, state, 48) == 2                      # alone and low: bass
    assert play(arr, state, 72) == 0                      # above what is held: top
    assert play(arr, state, 60) == 1                      # in between: inner part
    for p in (48, 72, 60):
        state.note_off(p)
    assert play(arr, state, 76) == 0                      # alone and high: top


def test_every_heuristic_honours_ranges():
    preset = load_preset("satb")
    for name in ("zone", "closest-pitch", "top-bottom", "most-common"):
        arr = make_arranger(name, preset)
        state = PerformanceState(4)
        for i, p in enumerate((84, 40, 83, 41, 80)):
            part = play(arr, state, p, i * 1.0)
            assert preset.parts[part].in_range(p), (name, p, part)
            state.note_off(p)


def test_unknown_arranger_is_a_clear_error():
    with pytest.raises(ArrangerError, match="unknown arranger 'magic'"):
        make_arranger("magic", load_preset("satb"))


def test_a_learned_arranger_sees_the_rules_proposal_and_the_rule_follows_it():
    """The model's inputs carry voice-leading's proposal; what the model really chose,
    not the proposal, is what the rule remembers."""
    from livearranger.arrangers.learned import LearnedArranger
    from livearranger.features import N_GLOBAL, N_PER_PART

    class Contrary(LearnedArranger):
        name = "contrary"
        proposals: list[int] = []

        def choose(self, note, state):
            row = self.inputs.features[0]
            flags = [row[N_GLOBAL + i * N_PER_PART + 11] for i in range(4)]
            proposal = flags.index(1.0)
            self.proposals.append(proposal)
            return 3 - proposal          # always not what the rule proposes

    preset = load_preset("satb")
    arr = Contrary(preset)
    state = PerformanceState(4)
    parts = []
    for k, p in enumerate((72, 64, 55)):
        note = NoteEvent(Kind.NOTE_ON, 0.004 * k, p, 80)
        part = arr.assign(note, state)
        state.note_on(p, note.time, part)
        parts.append(part)
    assert parts == [3 - q for q in Contrary.proposals]
    assert arr.inputs.rule._chord_part == parts        # the rule follows the choices
    arr.reset()
    assert arr.inputs.rule._chord_part == []
