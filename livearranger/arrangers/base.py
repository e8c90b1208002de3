"""The arranger interface: every note-on gets one part."""

from __future__ import annotations

from abc import ABC, abstractmethod

from livearranger.constraints import Constraints
from livearranger.events import NoteEvent
from livearranger.presets import Preset
from livearranger.state import PerformanceState


class Arranger(ABC):
    """Assigns each incoming note-on to a part index of the preset.

    ``assign`` is called by the engine thread once per note-on, before the state
    records the note; it must honour ``self.constraints`` (the engine does not
    second-guess it) and must not block.  ``reset`` forgets any history of its own.
    """

    name = "base"

    def __init__(self, preset: Preset) -> None:
        self.preset = preset
        self.constraints = Constraints(preset)

    @abstractmethod
    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        """The part index for ``note``."""

    def reset(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Forget the performance so far (new piece, preset change)."""

    def describe(self) -> str:
        """One line for the UI: what assigns the notes and how it runs."""
        return self.name
