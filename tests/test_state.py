"""What a performance state knows when a key goes down: held keys, parts, mark/rewind."""

from __future__ import annotations

import math

from livearranger.state import PerformanceState


def test_a_new_state_knows_nothing() -> None:
    st = PerformanceState(3)
    assert st.held == {} and st.part_held == [0, 0, 0]
    assert st.last_pitch == [-1, -1, -1] and st.last_onset == [-math.inf] * 3
    assert (st.prev_onset, st.prev_pitch, st.prev_part, st.n_notes) == (-math.inf, -1, -1, 0)
    assert not any(st.sounding(p) for p in range(3))


def test_note_on_and_off_track_keys_and_parts() -> None:
    st = PerformanceState(2)
    st.note_on(60, 0.0, 0)
    st.note_on(64, 0.1, 0)
    st.note_on(48, 0.2, 1)
    assert sorted(st.held_pitches(0)) == [60, 64] and st.held_pitches(1) == [48]
    assert st.part_held == [2, 1] and st.part_counts == [2, 1] and st.n_notes == 3
    assert st.last_pitch == [64, 48] and st.last_onset == [0.1, 0.2]
    assert (st.prev_onset, st.prev_pitch, st.prev_part) == (0.2, 48, 1)
    assert st.note_off(64) == 0
    assert st.note_off(64) is None                 # released twice: nothing changes
    assert st.note_off(99) is None                 # never pressed
    assert st.part_held == [1, 1] and st.held_pitches(0) == [60]
    assert st.note_off(60) == 0 and not st.sounding(0) and st.sounding(1)
    assert st.last_pitch == [64, 48]               # releases do not forget the last pitch
    assert st.part_counts == [2, 1]


def test_a_re_struck_key_belongs_to_its_new_part_only() -> None:
    st = PerformanceState(2)
    st.note_on(60, 0.0, 0)
    st.note_on(60, 0.5, 1)                         # struck again before its release
    assert st.held == {60: 1} and st.part_held == [0, 1]
    assert st.held_pitches(0) == [] and st.held_pitches(1) == [60]
    assert st.n_notes == 2 and st.part_counts == [1, 1]
    assert st.note_off(60) == 1
    assert st.part_held == [0, 0] and st.held == {}


def test_rewind_takes_back_the_group_since_mark() -> None:
    st = PerformanceState(3)
    st.note_on(48, 0.0, 2)
    st.note_on(72, 0.0, 0)
    st.mark()
    before = (list(st.last_pitch), list(st.last_onset), list(st.part_counts),
              st.prev_onset, st.prev_pitch, st.prev_part, st.n_notes)
    st.note_on(64, 1.0, 1)
    st.note_on(67, 1.0, 0)
    st.note_off(48)                                # released meanwhile: that stays
    st.rewind([64, 67])
    after = (list(st.last_pitch), list(st.last_onset), list(st.part_counts),
             st.prev_onset, st.prev_pitch, st.prev_part, st.n_notes)
    assert after == before
    assert st.held == {72: 0} and st.part_held == [1, 0, 0]
    st.note_on(64, 1.0, 2)                         # decided again, differently
    assert st.held == {72: 0, 64: 2} and st.part_counts == [1, 0, 2]


def test_mark_copies_so_later_notes_do_not_leak_into_it() -> None:
    st = PerformanceState(1)
    st.mark()
    for i in range(5):
        st.note_on(60 + i, float(i), 0)
    st.rewind(list(range(60, 65)))
    assert st.last_pitch == [-1] and st.part_counts == [0] and st.n_notes == 0
    assert st.held == {} and st.part_held == [0]


def test_reset_forgets_everything() -> None:
    st = PerformanceState(2)
    st.note_on(60, 1.0, 1)
    st.pending.append(62)
    st.beat = 3.0
    st.reset()
    assert st.held == {} and st.part_held == [0, 0] and st.pending == [] and st.beat is None
    assert st.n_notes == 0 and st.last_pitch == [-1, -1]


def test_regive_moves_a_held_key_to_another_part():
    st = PerformanceState(4)
    st.note_on(67, 0.0, 0)
    counts = list(st.part_counts)
    st.regive(67, 0.0, 1)
    assert st.held == {67: 1} and list(st.part_held) == [0, 1, 0, 0]
    assert st.last_pitch[1] == 67 and list(st.part_counts) == counts
    st.regive(50, 0.0, 3)                                       # not down: nothing
    assert st.held == {67: 1}
    assert st.note_off(67) == 1 and list(st.part_held) == [0, 0, 0, 0]
