"""Edit a part (program, channel, range, transpose) and save the preset as the player's own."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from livearranger.errors import one_line
from livearranger.events import note_name
from livearranger.gm import PROGRAMS
from livearranger.presets import Part
from livearranger.tui.controls import parse_program
from livearranger.tui.dialog import Dialog

Apply = Callable[[dict[str, str]], str]
FIELDS = ("program", "channel", "low", "high", "transpose")


class EditPartScreen(Dialog[str]):
    """A form for one part; ``apply`` raises on bad values, which stay on screen."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "apply", "Apply")]

    def __init__(self, part: Part, apply: Apply) -> None:
        super().__init__()
        self.part = part
        self.apply = apply

    def compose(self) -> ComposeResult:
        p = self.part
        values = {"program": str(p.program), "channel": str(p.channel + 1),
                  "low": note_name(p.low), "high": note_name(p.high),
                  "transpose": str(p.transpose)}
        hints = {"program": "GM number 0..127 or name", "channel": "1..16 (not 10)",
                 "low": "lowest note, e.g. C3 or 48", "high": "highest note",
                 "transpose": "semitones, e.g. -12"}
        with Vertical(id="edit-dialog", classes="dialog"):
            yield Label(f"Edit part [b]{p.name}[/]  [dim](Enter: apply, Esc: cancel)[/]")
            with Grid(id="edit-grid"):
                for name in FIELDS:
                    yield Label(name)
                    yield Input(values[name], id=f"edit-{name}", placeholder=hints[name])
            yield Static(PROGRAMS[p.program], id="program-name")
            yield Static("", id="edit-error")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Input.Changed, "#edit-program")
    def program_typed(self, event: Input.Changed) -> None:
        try:
            name = PROGRAMS[parse_program(event.value)]
        except ValueError as exc:
            name = f"[red]{exc}[/]"
        self.query_one("#program-name", Static).update(name)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if not self.acting:         # a second Enter while closing: applied once only
            return
        values = {name: self.query_one(f"#edit-{name}", Input).value for name in FIELDS}
        try:
            message = self.apply(values)
        except Exception as exc:
            self.query_one("#edit-error", Static).update(f"[b red]{one_line(exc)}[/]")
            return
        self.close(message)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.close(None)


class SavePresetScreen(Dialog[str]):
    """Ask for a name and save the current preset under it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, suggestion: str, apply: Callable[[str], str]) -> None:
        super().__init__()
        self.suggestion = suggestion
        self.apply = apply

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog", classes="dialog"):
            yield Label("Save preset as  [dim](Enter: save, Esc: cancel)[/]")
            yield Input(self.suggestion, id="save-name", placeholder="name of your preset")
            yield Static("", id="save-error")

    @on(Input.Submitted)
    def action_save(self) -> None:
        if not self.acting:
            return
        try:
            message = self.apply(self.query_one("#save-name", Input).value)
        except Exception as exc:
            self.query_one("#save-error", Static).update(f"[b red]{one_line(exc)}[/]")
            return
        self.close(message)

    def action_cancel(self) -> None:
        self.close(None)
