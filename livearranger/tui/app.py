"""The instrument's front panel: a Textual app over one ``Session``.

The engine plays in its own thread; the app only calls the ``Controller`` (which drives
the session) and polls the engine's figures with an interval timer.  Every failure is
shown as one line in the message log; quitting stops the session (panic, recording
saved), and so do SIGINT, SIGTERM and SIGHUP (the terminal closed; see ``signals``).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Iterable

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Header

from livearranger.arrangers import arranger_names
from livearranger.errors import LiveArrangerError, one_line
from livearranger.stats import Snapshot
from livearranger.tui.arranger_panel import ArrangerPanel, ArrangerScreen
from livearranger.tui.controller import crash_report
from livearranger.tui.controls import Controls
from livearranger.tui.dialog import Dialog
from livearranger.tui.edit_part import EditPartScreen, SavePresetScreen
from livearranger.tui.help import HelpScreen
from livearranger.tui.latency import LatencyPanel
from livearranger.tui.messages import PartEditRequested, PresetChosen
from livearranger.tui.parts import LiveView
from livearranger.tui.ports import PortsScreen
from livearranger.tui.presets_panel import PartsTable, PresetList, PresetsPanel
from livearranger.tui.status import MessageLog, StatusBar

SWITCH_INTERVAL_S = 0.0005
StatsSource = Callable[[], Snapshot | None]


class UnexpectedError(LiveArrangerError):
    """A bug met in the TUI: one line on exit, asking for a report with the file that
    holds its traceback (the terminal was the TUI's)."""

    def __rich__(self) -> Text:
        return Text(str(self), style="bold red")


class LiveArrangerApp(App[int]):
    """Ports, presets, arranger, live view and latency of one playing session."""

    CSS_PATH = "livearranger.tcss"
    TITLE = "LiveArranger"
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("x", "panic", "Panic"),
        Binding("p", "ports", "Ports"),
        Binding("a", "arranger", "Arranger"),
        Binding("plus,equals_sign", "temperature(1)", "Temp +"),
        Binding("minus", "temperature(-1)", "Temp -"),
        Binding("h", "horizon", "Horizon"),
        Binding("e", "edit_part", "Edit part"),
        Binding("w", "save_preset", "Save preset as"),
        Binding("r", "record", "Record"),
        Binding("n", "reroll", "Re-roll take"),
        Binding("q,ctrl+q", "quit", "Quit"),
    ]
    HELP_EXTRA = [
        Binding("enter", "", "switch to the highlighted preset (presets list)"),
        Binding("up,down", "", "move in a list or the parts table"),
        Binding("tab,shift+tab", "", "next / previous panel"),
    ]

    def __init__(self, controller: Controls, *, stats_source: StatsSource | None = None,
                 poll_hz: float = 20.0, input_check_s: float = 1.0) -> None:
        super().__init__()
        self.controller = controller
        self.stats_source = stats_source or controller.snapshot
        self.poll_hz = poll_hz
        self.input_check_s = input_check_s
        self._shown_preset: object = None
        self._shown_modified = False
        self._seen_errors = 0
        self._seen_warnings = 0
        self.last_snapshot: Snapshot | None = None
        self._switch_interval = sys.getswitchinterval()   # restored at unmount
        self._polls: list[Timer] = []   # our own timers, stopped before the session closes
        self.loop: asyncio.AbstractEventLoop | None = None    # while mounted
        self.stopped_by: int | None = None    # the signal that ends the app, if one did
        self._stopping = False                # quitting: keys still waiting are dropped
        self._ui_thread: int | None = None    # the event loop's thread, while mounted

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header(icon="♪")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield PresetsPanel(id="presets")
                yield ArrangerPanel(id="arranger")
            with Vertical(id="right"):
                yield LiveView(id="live")
                yield LatencyPanel(id="latency")
        yield StatusBar(id="status")
        yield MessageLog(id="log")
        yield Footer()

    def on_mount(self) -> None:
        # The engine thread (which polls the keyboard) shares the interpreter lock with
        # the UI.  With Python's default 5 ms switch interval a redraw can hold it for
        # milliseconds while a chord waits to be played; hand the lock over every 0.5 ms.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL_S))
        self.live = self.query_one(LiveView)
        self.latency = self.query_one(LatencyPanel)
        self.arranger_panel = self.query_one(ArrangerPanel)
        self.status = self.query_one(StatusBar)
        self.presets_panel = self.query_one(PresetsPanel)
        self.log_panel = log = self.query_one(MessageLog)
        self.loop = asyncio.get_running_loop()
        self._ui_thread = threading.get_ident()
        if self.stopped_by is not None:       # a signal came while starting: play nothing
            self.stop_by_signal(self.stopped_by)
            return
        problem = self.controller.open()
        if problem:
            log.error(problem)
        self.refresh_presets()
        self.poll_stats()
        self._polls = [
            self.set_interval(1.0 / self.poll_hz, self.poll_stats, name="stats"),
            self.set_interval(self.input_check_s, self.poll_input, name="input-check"),
        ]
        self.query_one(PresetList).focus()

    def on_unmount(self) -> None:
        self.loop = None
        self._ui_thread = None
        self._stop_timers()
        self._close_session()
        sys.setswitchinterval(self._switch_interval)

    def _stop_timers(self) -> None:
        for timer in self._polls:
            timer.stop()
        self._polls = []

    # ------------------------------------------------------------------ guards
    def run_action_safely(self, fn: Callable[[], str | None]) -> bool:
        """Run a controller call; show its message, or its error as one line
        (quitting: nothing, the instrument is stopped)."""
        if self._stopping:
            return False
        log = self.log_panel
        try:
            message = fn()
        except Exception as exc:
            log.error(one_line(exc))
            self.bell()
            return False
        if message:
            log.info(message)
        self.poll_stats()
        return True

    def _handle_exception(self, error: Exception) -> None:
        """Anything unplanned: stop the instrument safely, leave one line, not a traceback."""
        self._close_session()
        path = crash_report(error)
        wrapped = UnexpectedError(f"livearranger: unexpected error: {one_line(error)} "
                                  f"(details in {path}); this is a bug in livearranger, "
                                  "not something you did: please report it with that file")
        wrapped.__cause__ = error
        super()._handle_exception(wrapped)

    def stop_by_signal(self, signum: int) -> None:
        """End like quitting, for a signal: timers off, panic, take saved, exit 0.
        Nothing is drawn before the session has stopped."""
        if self.stopped_by is None:
            self.stopped_by = signum
        self._quit()

    def _quit(self) -> None:
        """Timers off, the session stopped (panic, take saved), exit 0; once."""
        if self._stopping:
            return
        self._stopping = True
        self._stop_timers()
        self._close_session()
        self.exit(0)

    # ------------------------------------------------------------------ keys
    def post_message(self, message: Message) -> bool:
        """Quit as soon as a quit key comes in.  Keys wait in a queue when they come
        faster than the app handles them (a key storm, a cat on the keyboard), each
        then doing its work in turn: a quit must not wait behind them."""
        if isinstance(message, events.Key) and not message.is_forwarded \
                and self._ui_thread == threading.get_ident() and self._quits(message.key):
            self._quit()
        return super().post_message(message)

    def _quits(self, key: str) -> bool:
        """Whether ``key`` quits now: Ctrl+Q anywhere, q on the main screen (a dialog
        takes no q: it may be typed into a field, and it closes help)."""
        return key == "ctrl+q" or key == "q" and not isinstance(self.screen, Dialog)

    async def on_event(self, event: events.Event) -> None:
        if self._stopping and isinstance(event, events.Key):
            return                    # a key still waiting when the player quit: dropped
        await super().on_event(event)

    def close_session(self, wait_s: float = -1) -> None:
        """Stop the session from any thread (no widget touched); see ``Controller.close``."""
        try:
            self.controller.close(wait_s)
        except Exception:
            pass

    def _close_session(self) -> None:
        try:
            message = self.controller.close()
        except Exception as exc:  # still exiting: say what went wrong, once
            message = f"stopping the instrument failed: {one_line(exc)}"
        if message:
            try:
                self.log_panel.info(message)
            except Exception:
                pass

    # ------------------------------------------------------------------ polling
    def poll_stats(self) -> None:
        """Redraw the live view, latency, arranger and status from the engine's figures."""
        ctrl = self.controller
        try:
            snap = self.stats_source()
        except Exception as exc:
            self.log_panel.error(f"reading the engine's figures: {one_line(exc)}")
            snap = None
        self.last_snapshot = snap
        preset = ctrl.preset
        self.live.show(snap, preset)
        self.latency.show(snap, self.audio_line())
        self.arranger_panel.show(snap.arranger if snap else "-",
                                 ctrl.arranger_choice, ctrl.temperature,
                                 snap.horizon_ms if snap else 0.0)
        name, lost = ctrl.input_status()
        self.status.show(ctrl.api, name, lost, ctrl.output_names(), ctrl.recording())
        if preset is not None and (preset != self._shown_preset
                                   or ctrl.modified != self._shown_modified):
            self._shown_preset, self._shown_modified = preset, ctrl.modified
            self.presets_panel.show_parts(preset, ctrl.modified)
            self.refresh_presets()
        self.sub_title = (f"{preset.name}{' (edited)' if ctrl.modified else ''}"
                          if preset is not None else "no instrument")
        self._report_new(snap)

    def _report_new(self, snap: Snapshot | None) -> None:
        log = self.log_panel
        warnings = self.controller.warnings
        if len(warnings) < self._seen_warnings:
            self._seen_warnings = 0
        for w in warnings[self._seen_warnings:]:
            log.warning(w)
        self._seen_warnings = len(warnings)
        if snap is None:                  # no instrument: the next one counts from 0
            self._seen_errors = 0
            return
        # a snapshot carries the latest few errors and how many there were in all: show
        # those not shown yet (a new instrument counts from 0 again)
        total = snap.errors_total
        if total < self._seen_errors:
            self._seen_errors = 0
        new = total - self._seen_errors
        if new > len(snap.errors):
            log.error(f"{new - len(snap.errors)} earlier errors not shown")
        for e in snap.errors[len(snap.errors) - min(new, len(snap.errors)):]:
            log.error(e)
        self._seen_errors = total

    def poll_input(self) -> None:
        try:
            message = self.controller.poll_input()
        except Exception as exc:
            message = f"checking the MIDI input: {one_line(exc)}"
        if message:
            self.log_panel.warning(message)
            self.poll_stats()

    def audio_line(self) -> str:
        """The built-in synth's audio buffer and its latency, or why there is none."""
        return self.controller.audio_line()

    def refresh_presets(self) -> None:
        try:
            entries = self.controller.presets()
        except Exception as exc:
            self.log_panel.error(f"listing presets: {one_line(exc)}")
            entries = []
        preset = self.controller.preset
        self.presets_panel.show_presets(entries, preset.name if preset else None)

    # ------------------------------------------------------------------ actions
    def action_panic(self) -> None:
        self.run_action_safely(self.controller.panic)

    def action_temperature(self, direction: int) -> None:
        from livearranger.tui.controls import TEMPERATURE_STEP
        self.run_action_safely(
            lambda: self.controller.change_temperature(direction * TEMPERATURE_STEP))

    def action_horizon(self) -> None:
        self.run_action_safely(self.controller.next_horizon)

    def action_record(self) -> None:
        self.run_action_safely(self.controller.toggle_recording)

    def action_reroll(self) -> None:
        """Arrange the take again (``Controller.reroll``) in a thread worker: the UI
        never waits for it; its line comes when the file is written."""
        log = self.log_panel
        try:
            work = self.controller.reroll()
        except Exception as exc:
            log.warning(one_line(exc))
            return
        log.info("re-rolling the take ...")
        self.run_worker(lambda: self._reroll(work), name="reroll", group="reroll",
                        thread=True, exit_on_error=False)

    def _reroll(self, work: Callable[[], str]) -> None:
        """In the worker thread: do the re-roll, then show its line on the UI thread."""
        try:
            line, failed = work(), False
        except Exception as exc:
            line, failed = f"re-roll failed: {one_line(exc)}", True
        log = self.log_panel
        try:
            self.call_from_thread(log.error if failed else log.info, line)
        except RuntimeError:
            pass                  # the app has quit meanwhile: the file is written anyway

    def on_preset_chosen(self, message: PresetChosen) -> None:
        self.run_action_safely(lambda: self.controller.switch_preset(message.name))

    def action_arranger(self) -> None:
        names = arranger_names()
        current = self.controller.arranger_name()

        def chosen(name: str | None) -> None:
            if name:
                self.run_action_safely(lambda: self.controller.set_arranger(name))
        self.push_screen(ArrangerScreen(names, current), chosen)

    def _unavailable(self, action: str) -> bool:
        """Say in one line why ``action`` cannot be done here (True), if it cannot."""
        reason = self.controller.unavailable(action)
        if reason:
            self.log_panel.warning(reason)
        return reason is not None

    def action_edit_part(self) -> None:
        if self._unavailable("edit"):
            return
        self.on_part_edit_requested(PartEditRequested(self.query_one(PartsTable).cursor_row))

    def on_part_edit_requested(self, message: PartEditRequested) -> None:
        if self._unavailable("edit"):
            return
        preset = self.controller.preset
        if preset is None or not 0 <= message.index < len(preset.parts):
            self.log_panel.error("no part to edit: start the instrument first")
            return
        index = message.index

        def apply(values: dict[str, str]) -> str:
            return self.controller.edit_part(index, **values)
        self.push_screen(EditPartScreen(preset.parts[index], apply), self._screen_done)

    def action_save_preset(self) -> None:
        if self._unavailable("save"):
            return
        preset = self.controller.preset
        if preset is None:
            self.log_panel.error("no preset to save: start the instrument first")
            return
        self.push_screen(SavePresetScreen(f"my-{preset.name}", self.controller.save_preset_as),
                         self._screen_done)

    def _screen_done(self, message: str | None) -> None:
        if message:
            self.log_panel.info(message)
        self.refresh_presets()
        self.poll_stats()

    def action_ports(self) -> None:
        if self._unavailable("ports"):
            return

        def chosen(choice: object) -> None:
            if choice is not None:
                self.run_action_safely(lambda: self.controller.apply_ports(choice))  # type: ignore[arg-type]
        self.push_screen(PortsScreen(self.controller.current_ports(), self.controller.ports),
                         chosen)

    def action_help(self) -> None:
        enter = Binding("enter", "", "choose / apply")
        sections: list[tuple[str, Iterable[BindingType]]] = [
                    ("main", self.BINDINGS), ("", self.HELP_EXTRA),
                    ("parts table", PartsTable.BINDINGS),
                    ("ports", [*PortsScreen.BINDINGS,
                               Binding("enter", "", "choose the input"),
                               Binding("space", "", "turn an output on or off"),
                               Binding("tab", "", "API, input, outputs, buttons")]),
                    ("edit part", [*EditPartScreen.BINDINGS, enter]),
                    ("arranger", [*ArrangerScreen.BINDINGS, enter]),
                    ("save preset", [*SavePresetScreen.BINDINGS, enter]),
                    ("help", HelpScreen.BINDINGS)]
        self.push_screen(HelpScreen(sections))

    async def action_quit(self) -> None:
        self._quit()
