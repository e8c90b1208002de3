"""The status line (ports, recording) and the message log (every warning and error)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog, Static


class StatusBar(Static):
    """Input, outputs and recording state in one line."""

    def show(self, api: str, input_name: str, input_lost: bool, outputs: list[str],
             recording: str | None) -> None:
        text = Text()
        text.append(f" {api.upper()} ", style="bold reverse")
        text.append("  in ", style="dim")
        if input_lost:
            text.append(f"{input_name} (gone: press p to re-pick)", style="bold red")
        else:
            text.append(input_name, style="bold")
        text.append("  out ", style="dim")
        text.append(", ".join(outputs) or "none", style="bold" if outputs else "bold red")
        text.append("  ")
        if recording:
            text.append(f"● REC {recording}", style="bold red")
        else:
            text.append("○ not recording (r)", style="dim")
        self.plain = text.plain
        self.update(text)


class MessageLog(RichLog):
    """What happened: switches, warnings and errors, newest last."""

    BORDER_TITLE = "Messages"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=200, wrap=True, markup=False, **kwargs)  # type: ignore[arg-type]
        self.lines_text: list[str] = []

    def info(self, text: str) -> None:
        self.lines_text.append(text)
        self.write(Text(text))

    def warning(self, text: str) -> None:
        self.lines_text.append(f"warning: {text}")
        self.write(Text(f"warning: {text}", style="bold yellow"))

    def error(self, text: str) -> None:
        self.lines_text.append(f"error: {text}")
        self.write(Text(f"error: {text}", style="bold red"))
