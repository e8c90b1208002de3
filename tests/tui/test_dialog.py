"""A dialog hands its result back once, and only while it is the screen on top."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import OptionList

from livearranger.tui.dialog import Dialog
from livearranger.tui.help import HelpScreen
from tests.tui.conftest import Host, type_ahead


class Pick(Dialog[str]):
    """Enter on a list closes with the option; an option picked counts in ``picked``."""

    def __init__(self) -> None:
        super().__init__()
        self.picked = 0

    def compose(self) -> ComposeResult:
        yield OptionList("one", "two")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.picked += 1
        self.close(str(event.option.prompt))


async def test_enter_typed_twice_closes_once_and_leaves_the_screen_below() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        dialog = Pick()
        app.show(dialog)
        await pilot.pause()
        type_ahead(app, "down", "enter", "enter", "enter")
        await pilot.pause()
        assert dialog.picked == 3 and dialog.closing and not dialog.acting
        assert len(app.screen_stack) == 1
    assert app.results == ["two"]


async def test_a_dialog_under_another_screen_does_not_close() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        dialog = Pick()
        app.show(dialog)
        await pilot.pause()
        help_screen = HelpScreen([])
        app.push_screen(help_screen)
        await pilot.pause()
        dialog.close("one")                       # a pick queued before help came up
        await pilot.pause()
        assert app.screen is help_screen and not dialog.closing
        help_screen.close()
        await pilot.pause()
        assert dialog.acting
        dialog.close("two")
        await pilot.pause()
    assert app.results == ["two"]
