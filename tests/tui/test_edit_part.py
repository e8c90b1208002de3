"""The part form and the save-as form: values go to ``apply``, whose refusal stays on
screen."""

from __future__ import annotations

from textual.widgets import Input, Static

from livearranger.gm import PROGRAMS
from livearranger.tui.edit_part import EditPartScreen, SavePresetScreen
from tests.tui.conftest import Host, type_ahead


async def test_the_form_shows_the_part_and_applies_what_was_typed(satb) -> None:
    asked: list[dict[str, str]] = []

    def apply(values: dict[str, str]) -> str:
        asked.append(values)
        if values["channel"] == "10":
            raise ValueError("channel 10 is for drums")
        return "alto changed"

    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        app.show(EditPartScreen(satb.parts[1], apply))
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#edit-low", Input).value == "D3"
        screen.query_one("#edit-program", Input).value = "40"
        await pilot.pause()
        assert str(screen.query_one("#program-name", Static).render()) == PROGRAMS[40]
        screen.query_one("#edit-channel", Input).value = "10"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen                  # refused: still open, saying why
        assert "channel 10 is for drums" in str(screen.query_one("#edit-error",
                                                                 Static).render())
        screen.query_one("#edit-channel", Input).value = "3"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == ["alto changed"]
    assert asked[-1] == {"program": "40", "channel": "3", "low": "D3", "high": "G5",
                         "transpose": "0"}


async def test_save_as_gives_the_name_to_apply() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(SavePresetScreen("satb-2", lambda name: f"saved {name}"))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == ["saved satb-2"]


async def test_a_form_applies_once_however_often_enter_comes(satb) -> None:
    asked: list[object] = []
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        app.show(EditPartScreen(satb.parts[1], lambda values: asked.append(values) or "ok"))
        await pilot.pause()
        type_ahead(app, "enter", "enter", "ctrl+s")
        await pilot.pause()
        app.show(SavePresetScreen("satb-2", lambda name: asked.append(name) or "saved"))
        await pilot.pause()
        type_ahead(app, "enter", "enter")
        await pilot.pause()
        assert len(app.screen_stack) == 1
    assert app.results == ["ok", "saved"] and len(asked) == 2
