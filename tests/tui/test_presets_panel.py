"""The presets list and the parts table of the preset playing now."""

from __future__ import annotations

from livearranger.gm import PROGRAMS
from livearranger.tui.controls import PresetEntry
from livearranger.tui.presets_panel import PartsTable, PresetList, PresetsPanel
from tests.tui.conftest import Host


async def test_the_list_marks_the_current_preset_and_the_players_own(satb) -> None:
    panel = PresetsPanel()
    async with Host(panel).run_test(size=(100, 30)):
        panel.show_presets([PresetEntry("duo", False), PresetEntry("satb", False),
                            PresetEntry("mine", True)], "satb")
        options = panel.query_one(PresetList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(3)]
        assert labels == ["  duo", "▶ satb", "  mine  (user)"]
        assert options.highlighted == 1


async def test_the_table_has_a_row_per_part_and_keeps_the_cursor(satb, quartet) -> None:
    panel = PresetsPanel()
    async with Host(panel).run_test(size=(100, 30)):
        panel.show_parts(satb, modified=True)
        table = panel.query_one(PartsTable)
        assert table.row_count == 4 and "(edited, w to save)" in str(table.border_title)
        first = [str(c) for c in table.get_row_at(0)]
        soprano = satb.parts[0]
        assert first[1:] == [f"{soprano.program:>3} {PROGRAMS[soprano.program]}",
                             str(soprano.channel + 1), "A3-C6", "mono", "0"]
        table.move_cursor(row=3)
        panel.show_parts(quartet, modified=False)
        assert table.row_count == len(quartet.parts) and table.cursor_row == 3
        assert "edited" not in str(table.border_title)
