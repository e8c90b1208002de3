"""The messages the panels send up: a preset picked, a part to edit, each with what the
app needs to act on it."""

from __future__ import annotations

from livearranger.tui.controls import PresetEntry
from livearranger.tui.messages import PartEditRequested, PresetChosen
from livearranger.tui.presets_panel import PartsTable, PresetList, PresetsPanel
from tests.tui.conftest import Host


class Listening(Host):
    def on_preset_chosen(self, message: PresetChosen) -> None:
        self.results.append(("preset", message.name))

    def on_part_edit_requested(self, message: PartEditRequested) -> None:
        self.results.append(("edit", message.index))


async def test_enter_on_a_preset_and_e_on_a_part_reach_the_app(satb) -> None:
    panel = PresetsPanel()
    app = Listening(panel)
    async with app.run_test(size=(100, 30)) as pilot:
        panel.show_presets([PresetEntry("satb", False), PresetEntry("mine", True)], "satb")
        panel.show_parts(satb, modified=False)
        panel.query_one(PresetList).focus()
        await pilot.press("down", "enter")
        table = panel.query_one(PartsTable)
        table.focus()
        await pilot.press("down", "down", "e")
        await pilot.pause()
    assert app.results == [("preset", "mine"), ("edit", 2)]
