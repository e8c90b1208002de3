"""The online voice-leading rule: chords in pitch order, no crossing, nearest voice."""

from __future__ import annotations

import random

from livearranger.arrangers import make_arranger
from livearranger.arrangers.voice_leading import VoiceLeadingArranger
from livearranger.events import Kind, NoteEvent
from livearranger.presets import load_preset
from livearranger.state import PerformanceState


def _play(arr, state, chord, t, releases=()):
    for p in releases:
        state.note_off(p)
    out = {}
    for k, p in enumerate(chord):
        part = arr.assign(NoteEvent(Kind.NOTE_ON, t + 0.004 * k, p, 80), state)
        state.note_on(p, t + 0.004 * k, part)
        out[p] = part
    return out


def test_registry_and_first_chord_in_pitch_order():
    preset = load_preset("satb")
    arr = make_arranger("voice-leading", preset)
    assert isinstance(arr, VoiceLeadingArranger)
    state = PerformanceState(4)
    got = _play(arr, state, [48, 55, 64, 72], 0.0)
    assert got == {72: 0, 64: 1, 55: 2, 48: 3}


def test_shuffled_chords_keep_voices():
    preset = load_preset("satb")
    arr = VoiceLeadingArranger(preset)
    state = PerformanceState(4)
    rng = random.Random(0)
    chords = [[48, 55, 64, 72], [47, 55, 62, 74], [45, 57, 64, 72], [43, 59, 62, 71],
              [48, 55, 64, 72]]
    prev: list[int] = []
    for i, chord in enumerate(chords):
        order = chord[:]
        rng.shuffle(order)
        if i == 0:
            order = sorted(chord)
        got = _play(arr, state, order, float(i), releases=prev)
        assert [got[p] for p in sorted(chord, reverse=True)] == [0, 1, 2, 3], (i, order, got)
        prev = chord


def test_one_note_per_monophonic_part_in_a_chord_and_reset():
    preset = load_preset("satb")
    arr = VoiceLeadingArranger(preset)
    state = PerformanceState(4)
    got = _play(arr, state, [60, 62, 64, 65], 0.0)
    assert sorted(got.values()) == [0, 1, 2, 3]
    arr.reset()
    assert arr._chord_pitch == [] and all(u == 0 for u in arr._used)


def test_a_moving_inner_voice_while_others_hold():
    preset = load_preset("satb")
    arr = VoiceLeadingArranger(preset)
    state = PerformanceState(4)
    _play(arr, state, [48, 55, 64, 72], 0.0)
    state.note_off(64)                        # the alto moves, the others hold
    part = arr.assign(NoteEvent(Kind.NOTE_ON, 0.5, 65, 80), state)
    assert part == 1


def test_a_gathered_chord_is_placed_whole_whatever_its_arrival_order():
    """Settling a chord, the rule sees all of it: a chord struck top note first
    still goes soprano-to-bass, and a part sustaining an older key is left alone."""
    preset = load_preset("satb")
    arr = VoiceLeadingArranger(preset, chord_hold_cost=100.0)
    state = PerformanceState(4)
    got: dict[int, int] = {}

    def commit(note, part):
        got[note.pitch] = part
        state.note_on(note.pitch, note.time, part)

    chord = [NoteEvent(Kind.NOTE_ON, 0.0, p, 80) for p in (48, 55, 64, 72)]
    arr.assign_chord(chord, state, commit)
    assert got == {72: 0, 64: 1, 55: 2, 48: 3}
    for p in (72, 55, 48):
        state.note_off(p)
    got.clear()
    # the alto holds 64; soprano, tenor and bass move: 43 57 74 (sorted, lowest first)
    arr.assign_chord([NoteEvent(Kind.NOTE_ON, 1.0, p, 80) for p in (43, 57, 74)], state,
                     commit)
    assert got == {74: 0, 57: 2, 43: 3}


def test_polyphonic_parts_take_a_gathered_chord_in_arrival_order():
    """Strings may double-stop, so there is no one-key-per-part plan: the keys are
    decided in the order they came, exactly as without a window."""
    preset = load_preset("string-quartet")
    gated, plain = VoiceLeadingArranger(preset), VoiceLeadingArranger(preset)
    chord = [NoteEvent(Kind.NOTE_ON, t, p, 80) for t, p in
             ((0.009, 48), (0.000, 76), (0.004, 62))]           # lowest first, as gathered
    state, order = PerformanceState(4), []

    def commit(note, part):
        order.append((note.pitch, part))
        state.note_on(note.pitch, note.time, part)

    gated.assign_chord(chord, state, commit)
    assert [p for p, _ in order] == [76, 62, 48]
    other = PerformanceState(4)
    expected = []
    for note in sorted(chord, key=lambda n: n.time):
        part = plain.assign(note, other)
        other.note_on(note.pitch, note.time, part)
        expected.append((note.pitch, part))
    assert order == expected
