"""Messages the panels send up to the app (the app talks to the controller)."""

from __future__ import annotations

from textual.message import Message


class PresetChosen(Message):
    """The player picked a preset to play now."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class PartEditRequested(Message):
    """The player wants to edit part ``index`` of the current preset."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
