"""Help: every key binding of the app and of its screens."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def _keys(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        if isinstance(b, Binding):
            key, desc = b.key, b.description
        else:
            key, desc = b[0], b[2] if len(b) > 2 else b[1]
        rows.append((", ".join(k.strip() for k in key.split(",")), desc))
    return rows


def binding_table(sections: list[tuple[str, Iterable[BindingType]]]) -> Table:
    """A table of every key per section."""
    table = Table(box=None, padding=(0, 2), expand=True)
    table.add_column("where", style="dim")
    table.add_column("key", style="bold cyan")
    table.add_column("does")
    for title, bindings in sections:
        for key, desc in _keys(bindings):
            table.add_row(title, key, desc)
            title = ""
    return table


class HelpScreen(ModalScreen[None]):
    """Shows ``sections`` of bindings; any of Esc, q, ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close help")]

    def __init__(self, sections: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("[b]LiveArranger keys[/]  [dim](Esc closes)[/]")
            yield Static(binding_table(self.sections), id="help-table")

    def action_close(self) -> None:
        self.dismiss(None)
