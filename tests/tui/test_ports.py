"""The ports screen: the API's ports listed, gone ones kept visible, a choice handed
back only with an output."""

from __future__ import annotations

from textual.widgets import OptionList, SelectionList, Static

from livearranger.tui.controls import APIS, PortChoice
from livearranger.tui.ports import OUTPUT_LABELS, PortsScreen
from tests.tui.conftest import Host, type_ahead

API = APIS[0]


def lister(api: str) -> tuple[list[str], list[str]]:
    if api != API:
        raise OSError("no such MIDI system here")
    return ["USB:out", "Pads:out"], ["Hardware:in"]


async def test_ports_are_listed_and_what_is_gone_stays_chosen_and_marked() -> None:
    app = Host()
    current = PortChoice(API, "Gone:out", ("synth", "Old:in"))
    async with app.run_test(size=(120, 40)) as pilot:
        app.show(PortsScreen(current, lister))
        await pilot.pause()
        inputs = app.screen.query_one("#inputs", OptionList)
        prompts = [str(inputs.get_option_at_index(i).prompt)
                   for i in range(inputs.option_count)]
        assert prompts[1:] == ["USB:out", "Pads:out", "Gone:out  (gone)"]
        outputs = app.screen.query_one("#outputs", SelectionList)
        values = [outputs.get_option_at_index(i).value for i in range(outputs.option_count)]
        assert values == [*OUTPUT_LABELS, "Hardware:in", "Old:in"]
        assert sorted(outputs.selected) == ["Old:in", "synth"]
        assert inputs.highlighted is None         # the input chosen is gone
        await pilot.press("down", "down")         # "virtual", then the first port
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [PortChoice(API, "USB:out", ("synth", "Old:in"))]


async def test_no_output_is_refused_on_screen_and_cancel_hands_back_nothing() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        app.show(PortsScreen(PortChoice(API, None, ("synth",)), lister))
        await pilot.pause()
        screen = app.screen
        screen.query_one("#outputs", SelectionList).deselect_all()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "choose at least one output" in str(screen.query_one("#ports-error",
                                                                    Static).render())
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_an_api_that_fails_to_list_is_shown_not_raised() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = PortsScreen(PortChoice(API, None, ("synth",)), lister)
        app.show(screen)
        await pilot.pause()
        screen.api = "other"
        screen.fill()
        await pilot.pause()
        error = str(screen.query_one("#ports-error", Static).render())
        assert error.startswith("OTHER: ") and "no such MIDI system here" in error
        assert screen.query_one("#inputs", OptionList).option_count == 1   # virtual only


async def test_keys_that_come_while_the_screen_closes_do_nothing() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        app.show(PortsScreen(PortChoice(API, None, ("synth",)), lister))
        await pilot.pause()
        app.screen.query_one("#apply").focus()
        type_ahead(app, "enter", "enter", "ctrl+s", "escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
    assert app.results == [PortChoice(API, None, ("synth",))]
