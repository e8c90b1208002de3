"""The help screen's key names and table."""

from __future__ import annotations

from textual.binding import Binding

from livearranger.tui.help import binding_table, key_label


def test_keys_are_written_for_people():
    assert [key_label(k) for k in ("question_mark", "ctrl+s", "shift+tab", "f5", "x", "escape")] \
        == ["?", "Ctrl+S", "Shift+Tab", "F5", "x", "Esc"]


def test_the_table_has_a_row_per_binding_titled_once_per_section():
    table = binding_table([
        ("app", [Binding("question_mark", "help", "Help"), ("x", "panic", "Panic")]),
        ("parts", [Binding("enter,e", "edit", "Edit the part")])])
    rows = list(zip(*(column.cells for column in table.columns), strict=True))
    assert rows == [("app", "?", "Help"), ("", "x", "Panic"),
                    ("parts", "Enter, e", "Edit the part")]
