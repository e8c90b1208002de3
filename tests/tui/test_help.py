"""The help screen's key names and table."""

from __future__ import annotations

from textual.binding import Binding

from livearranger.tui.help import HelpScreen, binding_table, key_label
from tests.tui.conftest import Host, type_ahead


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


async def test_keys_that_come_while_it_closes_do_nothing() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(HelpScreen([("app", [Binding("x", "panic", "Panic")])]))
        await pilot.pause()
        type_ahead(app, "escape", "q", "question_mark", "escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
    assert app.results == [None]
