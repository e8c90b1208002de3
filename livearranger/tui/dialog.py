"""A modal dialog that closes once.

Keys a player types faster than the app handles them wait in a queue, already routed
to the widget that had the focus: a second Enter after the one that closes a dialog
still reaches the dialog's list or field, and Textual's ``dismiss`` pops whatever
screen is on top (with only the main screen left, it raises).  ``Dialog.close`` hands
its result back once, and only while the dialog is the screen on top; ``acting`` says
whether a key may still do something here.
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A modal screen whose result is handed back once."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    @property
    def acting(self) -> bool:
        """True while this dialog is on top and not closing: its keys may act."""
        return not self.closing and self.is_active

    def close(self, result: ResultT | None = None) -> None:
        """Hand ``result`` back and close, if the dialog is ``acting`` (else nothing:
        it is closing already, or another screen, help say, is over it)."""
        if not self.acting:
            return
        self.closing = True
        self.dismiss(result)
