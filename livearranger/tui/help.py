"""Help: every key binding of the app and of its screens."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from livearranger.tui.dialog import Dialog

KEY_LABELS = {"question_mark": "?", "plus": "+", "minus": "-", "equals_sign": "=",
              "escape": "Esc", "enter": "Enter", "tab": "Tab", "shift+tab": "Shift+Tab",
              "up": "Up", "down": "Down"}


def key_label(key: str) -> str:
    """How a key is written for people: ``question_mark`` -> ``?``, ``ctrl+s`` -> ``Ctrl+S``."""
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    if "+" in key:
        return "+".join(p.capitalize() if len(p) > 1 else p.upper() for p in key.split("+"))
    return key.upper() if key.startswith("f") and key[1:].isdigit() else key


def _keys(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        if isinstance(b, Binding):
            key, desc = b.key, b.description
        else:
            key, desc = b[0], b[2] if len(b) > 2 else b[1]
        rows.append((", ".join(key_label(k.strip()) for k in key.split(",")), desc))
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


class HelpScreen(Dialog[None]):
    """Shows ``sections`` of bindings; any of Esc, q, ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close help")]

    def __init__(self, sections: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections
        self.table = binding_table(sections)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("[b]LiveArranger keys[/]  [dim](Esc closes)[/]")
            yield Static(self.table, id="help-table")

    def action_close(self) -> None:
        self.close(None)
