"""The arranger interface's defaults: a hint beats ``assign`` (which still hears the
key), a chord is decided lowest first seeing the keys still to come, no unisons."""

from __future__ import annotations

from livearranger.arrangers.base import Arranger
from livearranger.events import Kind, NoteEvent
from livearranger.state import PerformanceState


class Recording(Arranger):
    """Answers part 1 for every key and records what it was asked and saw pending."""

    name = "recording"

    def __init__(self, preset) -> None:
        super().__init__(preset)
        self.asked: list[tuple[int, list[int]]] = []

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        self.asked.append((note.pitch, list(state.pending)))
        return 1


def _on(pitch: int, hint: int = -1) -> NoteEvent:
    return NoteEvent(Kind.NOTE_ON, time=0.0, pitch=pitch, velocity=80, hint=hint)


def test_a_hint_gives_the_part_and_assign_still_hears_the_key(satb):
    arr, state = Recording(satb), PerformanceState(4)
    assert arr.decide(_on(60, hint=3), state) == 3
    assert arr.decide(_on(62), state) == 1
    assert [p for p, _ in arr.asked] == [60, 62]
    assert arr.decide_quickly(_on(64, hint=0), state) == 0


def test_a_chord_is_decided_in_order_each_key_seeing_those_after_it(satb):
    arr, state = Recording(satb), PerformanceState(4)
    committed: list[tuple[int, int]] = []

    def commit(note: NoteEvent, part: int) -> None:
        committed.append((note.pitch, part))
        state.note_on(note.pitch, note.time, part)

    notes = [_on(48), _on(55, hint=2), _on(64)]
    arr.assign_chord(notes, state, commit)
    assert committed == [(48, 1), (55, 2), (64, 1)]
    assert arr.asked == [(48, [55, 64]), (55, [64]), (64, [])]
    assert state.pending == []
    assert arr.doublings(notes, state) == [] and arr.describe() == "recording"
