"""Presets: the list (shipped and the player's own) and the current preset's parts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from livearranger.events import note_name
from livearranger.gm import PROGRAMS
from livearranger.presets import Preset
from livearranger.tui.controls import PresetEntry
from livearranger.tui.messages import PartEditRequested, PresetChosen
from livearranger.tui.render import part_colour


class PresetList(OptionList):
    """Every preset; Enter switches to the highlighted one."""

    BORDER_TITLE = "Presets"


class PartsTable(DataTable[str]):
    """The current preset's parts: name, program, channel, range, mono/poly, transpose."""

    BORDER_TITLE = "Parts"
    BINDINGS = [("e", "edit_part", "Edit part")]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("part", "program", "ch", "range", "voice", "tr")

    def show(self, preset: Preset) -> None:
        """Fill the table with ``preset``'s parts, keeping the cursor row."""
        row = self.cursor_row
        self.clear()
        for i, p in enumerate(preset.parts):
            self.add_row(
                f"[{part_colour(i)}]■[/] {p.name}",
                f"{p.program:>3} {PROGRAMS[p.program]}",
                str(p.channel + 1),
                f"{note_name(p.low)}-{note_name(p.high)}",
                "mono" if p.mono else "poly",
                f"{p.transpose:+d}" if p.transpose else "0",
                key=str(i),
            )
        if preset.parts:
            self.move_cursor(row=min(max(row, 0), len(preset.parts) - 1))

    def action_edit_part(self) -> None:
        if self.row_count:
            self.post_message(PartEditRequested(self.cursor_row))


class PresetsPanel(Vertical):
    """The presets list above the parts of the preset playing now."""

    def compose(self) -> ComposeResult:
        yield PresetList(id="preset-list")
        yield PartsTable(id="parts")

    def show_presets(self, entries: list[PresetEntry], current: str | None) -> None:
        """Refill the list; mark the current preset and the player's own."""
        options = self.query_one(PresetList)
        options.clear_options()
        for e in entries:
            label = f"{'▶ ' if e.name == current else '  '}{e.name}{'  (user)' if e.user else ''}"
            options.add_option(Option(label, id=e.name))
        names = [e.name for e in entries]
        if current in names:
            options.highlighted = names.index(current)

    def show_parts(self, preset: Preset, modified: bool) -> None:
        table = self.query_one(PartsTable)
        table.border_title = f"Parts of {preset.name}{' (edited, w to save)' if modified else ''}"
        table.show(preset)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(PresetChosen(event.option.id))
