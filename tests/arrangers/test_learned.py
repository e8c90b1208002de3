"""What every stepped learned arranger shares: its inputs per note (the hint row among
them), hinted notes, and the quick rule used while behind the input."""

from __future__ import annotations

from livearranger.arrangers.heuristics import ClosestPitchArranger
from livearranger.arrangers.learned import LearnedArranger
from livearranger.events import Kind, NoteEvent
from livearranger.features import feature_dim
from livearranger.state import PerformanceState


class Scripted(LearnedArranger):
    """A "model" that answers from a list and records the inputs it was stepped on."""

    name = "scripted"

    def __init__(self, preset, answers: list[int]) -> None:
        super().__init__(preset)
        self.answers = list(answers)
        self.steps: list[tuple[int, list[float]]] = []

    def choose(self, note: NoteEvent, state: PerformanceState) -> int:
        assert self.inputs.features.shape == (1, feature_dim(len(self.preset.parts)))
        self.steps.append((note.pitch, self.inputs.hint[0].tolist()))
        return self.answers.pop(0)


def _on(pitch: int, hint: int = -1) -> NoteEvent:
    return NoteEvent(Kind.NOTE_ON, time=0.0, pitch=pitch, velocity=90, hint=hint)


def test_a_hinted_note_gets_its_hint_and_the_model_still_steps_over_it(satb):
    arr, state = Scripted(satb, [0, 2, 1]), PerformanceState(4)
    assert arr.decide(_on(60), state) == 0
    assert arr.decide(_on(55, hint=3), state) == 3     # the model said 2: the hint wins
    assert arr.decide(_on(64), state) == 1
    assert arr.steps == [(60, [0.0] * 4), (55, [0.0, 0.0, 0.0, 1.0]), (64, [0.0] * 4)]


def test_behind_the_input_the_quick_rule_answers_and_the_model_is_not_stepped(satb):
    arr, state = Scripted(satb, []), PerformanceState(4)
    state.note_on(72, 0.0, 0)
    rule = ClosestPitchArranger(satb)
    for pitch in (40, 55, 62):
        assert arr.decide_quickly(_on(pitch), state) == rule.assign(_on(pitch), state)
    assert arr.decide_quickly(_on(62, hint=2), state) == 2
    assert arr.steps == []
