"""Ports screen: MIDI API, the keyboard input and the outputs, re-pickable at any time."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, OptionList, RadioButton, RadioSet, SelectionList, Static
from textual.widgets.option_list import Option

from livearranger.errors import one_line
from livearranger.tui.controls import APIS, PortChoice
from livearranger.tui.dialog import Dialog

OUTPUT_LABELS = {
    "synth": "built-in synth (FluidSynth)",
    "virtual": "virtual port, one channel per part",
    "virtual-per-part": "a virtual port per part (one DAW track each)",
}


class PortsScreen(Dialog[PortChoice]):
    """Pick API, input and outputs; Apply hands a ``PortChoice`` back."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
        Binding("f5", "refresh", "Refresh ports"),
    ]

    def __init__(self, current: PortChoice,
                 lister: Callable[[str], tuple[list[str], list[str]]]) -> None:
        super().__init__()
        self.current = current
        self.lister = lister
        self.api = current.api if current.api in APIS else APIS[0]
        self.input = current.input

    def compose(self) -> ComposeResult:
        with Vertical(id="ports-dialog", classes="dialog"):
            yield Label("[b]Ports[/]  [dim]Tab: next  Enter/Space: choose  Ctrl+S: apply  "
                        "F5: refresh  Esc: cancel[/]")
            with RadioSet(id="api"):
                for api in APIS:
                    yield RadioButton(api.upper(), value=api == self.api, name=api)
            yield Label("Input (keyboard)")
            yield OptionList(id="inputs")
            yield Label("Outputs")
            yield SelectionList[str](id="outputs")
            yield Static("", id="ports-error")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.fill()
        self.query_one("#inputs", OptionList).focus()

    def fill(self) -> None:
        """List the ports of the chosen API (a failing API is shown, not raised)."""
        error = self.query_one("#ports-error", Static)
        try:
            inputs, outputs = self.lister(self.api)
            error.update("")
        except Exception as exc:
            inputs, outputs = [], []
            error.update(f"[b red]{self.api.upper()}: {one_line(exc)}[/]")
        in_list = self.query_one("#inputs", OptionList)
        in_list.clear_options()
        in_list.add_option(Option("virtual  (a port other apps play into)", id="virtual"))
        for port in inputs:
            in_list.add_option(Option(port, id=port))
        wanted = self.input
        if wanted and wanted != "virtual" and wanted not in inputs:
            in_list.add_option(Option(f"{wanted}  (gone)", id=wanted, disabled=True))
        ids = ["virtual", *inputs]
        if wanted in ids:
            in_list.highlighted = ids.index(wanted)
        out_list = self.query_one("#outputs", SelectionList)
        out_list.clear_options()
        chosen = set(self.current.outputs)
        for kind, label in OUTPUT_LABELS.items():
            out_list.add_option((label, kind, kind in chosen))
        for port in outputs:
            out_list.add_option((f"{port}  (a channel per part)", port, port in chosen))
        for port in sorted(chosen - set(OUTPUT_LABELS) - set(outputs)):
            out_list.add_option((f"{port}  (gone)", port, True))

    @on(RadioSet.Changed, "#api")
    def api_changed(self, event: RadioSet.Changed) -> None:
        self.api = event.pressed.name or self.api
        self.fill()

    @on(OptionList.OptionHighlighted, "#inputs")
    def input_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.input = event.option.id

    @on(OptionList.OptionSelected, "#inputs")
    def input_selected(self, event: OptionList.OptionSelected) -> None:
        self.input = event.option.id
        self.query_one("#outputs", SelectionList).focus()

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if not self.acting:
            return
        outputs = tuple(self.query_one("#outputs", SelectionList).selected)
        if not outputs:
            self.query_one("#ports-error", Static).update("[b red]choose at least one output[/]")
            return
        self.close(PortChoice(self.api, self.input, outputs))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.close(None)

    def action_refresh(self) -> None:
        self.fill()
