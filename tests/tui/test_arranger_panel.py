"""The arranger panel and the screen that picks an arranger."""

from __future__ import annotations

from livearranger.tui.arranger_panel import ARRANGER_HELP, ArrangerPanel, ArrangerScreen
from tests.tui.conftest import Host, type_ahead


async def test_the_panel_says_what_plays_what_was_chosen_and_the_horizon() -> None:
    panel = ArrangerPanel()
    async with Host(panel).run_test():
        panel.show("model satb.onnx (cpu)", None, 0.5, 30)
        lines = panel.plain.splitlines()
        assert lines[0] == "playing  model satb.onnx (cpu)"
        assert lines[1] == "chosen   the preset's own"
        assert lines[2].startswith("temp     0.5") and lines[3].startswith("horizon  30 ms")
        panel.show("", "zone", 1.25, 0.0)
        assert "playing  -" in panel.plain and "chosen   zone" in panel.plain
        assert "horizon  off" in panel.plain


async def test_the_screen_starts_on_the_current_arranger_and_returns_the_pick() -> None:
    names = ["model", "closest-pitch", "zone"]
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(ArrangerScreen(names, "closest-pitch"))
        await pilot.pause()
        assert app.screen.query_one("#arranger-list").highlighted == 1
        await pilot.press("down", "enter")
        app.show(ArrangerScreen(names, "model"))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == ["zone", None]
    assert set(names) <= set(ARRANGER_HELP)          # every arranger has its line


async def test_keys_that_come_while_the_screen_closes_do_nothing() -> None:
    names = ["model", "closest-pitch", "zone"]
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(ArrangerScreen(names, "model"))
        await pilot.pause()
        type_ahead(app, "down", "enter", "enter")
        await pilot.pause()
        assert len(app.screen_stack) == 1
    assert app.results == ["closest-pitch"]
