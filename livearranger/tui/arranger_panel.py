"""Arranger: which one plays (and on which onnxruntime provider), the temperature and
the correction horizon."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from livearranger.tui.dialog import Dialog


class ArrangerPanel(Static):
    """Shows the engine's own description of its arranger."""

    BORDER_TITLE = "Arranger"

    def show(self, description: str, chosen: str | None, temperature: float,
             horizon_ms: float = 0.0) -> None:
        text = Text()
        text.append("playing  ", style="dim")
        text.append(description or "-", style="bold")
        text.append("\nchosen   ", style="dim")
        text.append(chosen or "the preset's own")
        text.append("\ntemp     ", style="dim")
        text.append(f"{temperature:.1f}")
        text.append("  (a: change arranger, +/-: temperature)", style="dim")
        text.append("\nhorizon  ", style="dim")
        text.append(f"{horizon_ms:g} ms" if horizon_ms else "off")
        text.append("  (h: how long a key's part may still be corrected)", style="dim")
        self.plain = text.plain
        self.update(text)


class ArrangerScreen(Dialog[str]):
    """Pick the arranger: learned model or one of the rules."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: list[str], current: str) -> None:
        super().__init__()
        self.names = names
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="arranger-dialog", classes="dialog"):
            yield Label("Arranger  [dim](Enter: choose, Esc: cancel)[/]")
            yield OptionList(*[Option(ARRANGER_HELP.get(n, n), id=n) for n in self.names],
                             id="arranger-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in self.names:
            options.highlighted = self.names.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.close(event.option.id)

    def action_cancel(self) -> None:
        self.close(None)


ARRANGER_HELP = {
    "model": "model          the learned model (onnxruntime)",
    "closest-pitch": "closest-pitch  the part whose last note is nearest",
    "zone": "zone           split points per part",
    "top-bottom": "top-bottom     highest note on top, lowest at the bottom",
    "voice-leading": "voice-leading  rules that keep voices apart",
    "most-common": "most-common    everything to one part (a baseline)",
}
