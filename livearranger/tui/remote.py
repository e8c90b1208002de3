"""The TUI as a client of an instrument that runs in another process.

``RemoteController`` does for the app what ``Controller`` does, over the instrument's
OSC control (``livearranger.client``): it follows the stats at the app's redraw rate
and turns the player's keys into commands.  The engine never shares an interpreter
lock with the screen, and quitting only unsubscribes: the instrument plays on.  What
OSC cannot change (editing a part, saving a preset, ports) is refused in one line.

``spawn`` starts ``livearranger play --headless`` as a process of its own session, so
it outlives the TUI, and waits until it answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from livearranger.client import ControlClient, ControlError, ping
from livearranger.osc import DEFAULT_OSC_HOST, PREFIX, SessionStatus
from livearranger.presets import (
    Preset,
    PresetError,
    list_presets,
    load_preset,
    shipped_preset_dir,
)
from livearranger.stats import Snapshot
from livearranger.tui.controls import (
    HORIZON_STEPS_MS,
    TEMPERATURE_MAX,
    ActionError,
    PortChoice,
    PresetEntry,
)

STATS_HZ = 30.0
STALE_S = 2.0                 # no stats for this long: say so, and subscribe again
SPAWN_WAIT_S = 30.0           # a first JACK client or a model can take a while


def spawn(play_args: list[str], port: int, host: str = DEFAULT_OSC_HOST,
          log: Path | None = None, wait_s: float = SPAWN_WAIT_S) -> int:
    """Start ``livearranger play --headless PLAY_ARGS`` in a session of its own (a
    terminal closing or the TUI quitting does not reach it), its output in ``log``;
    return its pid once it answers on ``port``.  RuntimeError with its last words when
    it ends first or does not answer in ``wait_s``."""
    log = log or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") \
        / "livearranger" / f"instrument-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "livearranger", "play", "--headless", *play_args],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ControlError("the instrument did not start: " + (" / ".join(tail)
                               or f"exit {proc.returncode}"))
        if ping(port, host, 0.2):
            return proc.pid
    proc.terminate()
    raise ControlError(f"the instrument started but did not answer on OSC port {port} "
                       f"in {wait_s:g} s (its output: {log})")


class RemoteController:
    """Drives the instrument on OSC ``host``:``port`` for the TUI; owns no widget."""

    def __init__(self, port: int, host: str = DEFAULT_OSC_HOST,
                 stats_hz: float = STATS_HZ) -> None:
        self.port = port
        self.host = host
        self.stats_hz = stats_hz
        self.client: ControlClient | None = None
        self.arranger_choice: str | None = None
        self.modified = False
        self.saved_recordings: list[Path] = []
        self.record_errors: list[str] = []
        self._warnings: list[str] = []
        self._preset: Preset | None = None
        self._stale = False
        self._rejected = 0             # invalid stats periods said so far
        self._opened = self._last_ask = time.monotonic()

    # ------------------------------------------------------------ lifecycle
    def open(self) -> str | None:
        """Attach: subscribe to the stats (a message when the instrument does not answer)."""
        if self.client is not None:
            return None
        self.client = ControlClient(self.port, self.host)
        self._opened = self._last_ask = time.monotonic()
        self._rejected = 0
        try:
            self.client.subscribe(self.stats_hz)
        except (ControlError, OSError) as exc:
            return f"cannot attach to the instrument on OSC port {self.port}: {exc}"
        self._warnings.append(f"attached to the instrument on OSC port {self.port}: "
                              "quitting leaves it playing")
        return None

    def close(self, wait_s: float = -1) -> str | None:
        """Detach (unsubscribe); the instrument plays on.  Safe to call twice."""
        client, self.client = self.client, None
        if client is None:
            return None
        client.unsubscribe(timeout=1.0 if wait_s < 0 else min(wait_s, 1.0))
        client.close()
        return f"detached from the instrument on OSC port {self.port}: it plays on"

    def _ask(self, address: str, *args: object) -> str:
        client = self.client
        if client is None:
            raise ActionError(f"not attached to the instrument on OSC port {self.port}")
        try:
            return client.ask(f"{PREFIX}/{address}", *args)
        except ControlError as exc:
            raise ActionError(str(exc)) from None

    # ------------------------------------------------------------ reading
    def _latest(self) -> tuple[Snapshot, SessionStatus] | None:
        return None if self.client is None else self.client.latest

    def snapshot(self) -> Snapshot | None:
        latest = self._latest()
        return None if latest is None else latest[0]

    def _status(self) -> SessionStatus:
        latest = self._latest()
        return SessionStatus() if latest is None else latest[1]

    @property
    def preset(self) -> Preset | None:
        """The instrument's preset, read from this machine's presets by its name."""
        snap = self.snapshot()
        if snap is None or not snap.preset:
            return self._preset
        if self._preset is None or self._preset.name != snap.preset:
            try:
                self._preset = load_preset(snap.preset)
            except PresetError:
                self._preset = None
        return self._preset

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    @property
    def temperature(self) -> float:
        return self._status().temperature

    @property
    def api(self) -> str:
        return self._status().api or "?"

    def presets(self) -> list[PresetEntry]:
        shipped = shipped_preset_dir().resolve()
        return [PresetEntry(name, path.resolve().parent != shipped)
                for name, path in list_presets()]

    def ports(self, api: str) -> tuple[list[str], list[str]]:
        return [], []

    def output_names(self) -> list[str]:
        return list(self._status().outputs)

    def recording(self) -> str | None:
        return self._status().recording or None

    def arranger_name(self) -> str:
        snap = self.snapshot()
        return "" if snap is None else snap.arranger

    def audio_line(self) -> str:
        return self._status().audio or "synth: (the instrument's)"

    def unavailable(self, action: str) -> str | None:
        what = {"ports": "restart it to change ports",
                "edit": "parts are edited in a TUI of its own (livearranger tui "
                        "--osc-port 0)",
                "save": "presets are saved from a TUI of its own (livearranger tui "
                        "--osc-port 0)",
                "reroll": "re-roll is available in the instrument's own UI (its "
                          "takes are there)"}.get(action, f"{action} is not available")
        return f"attached to an instrument on port {self.port}: {what}"

    def input_status(self) -> tuple[str, bool]:
        status = self._status()
        return status.input or "none", status.input_lost

    def poll_input(self) -> str | None:
        """Notice an instrument that stopped sending stats (and subscribe again, for one
        restarted on the same port), its return, and stats periods skipped as invalid."""
        client = self.client
        if client is None:
            return None
        said = []
        now = time.monotonic()
        quiet = now - max(client.last_period, self._opened) > STALE_S
        if quiet and now - self._last_ask > STALE_S:
            self._last_ask = now
            client.send(f"{PREFIX}/stats/subscribe", float(self.stats_hz))
        if quiet != self._stale:
            self._stale = quiet
            said.append(f"no stats from the instrument on OSC port {self.port} for "
                        f"{STALE_S:g} s: is it still running?" if quiet else
                        f"the instrument on OSC port {self.port} answers again")
        rejected = client.rejected
        if rejected > self._rejected:
            said.append(f"{rejected - self._rejected} stats periods from OSC port "
                        f"{self.port} skipped: values the protocol does not allow")
            self._rejected = rejected
        return "; ".join(said) or None

    # ------------------------------------------------------------ playing
    def panic(self) -> str:
        self._ask("panic")
        return "panic: all notes off"

    def switch_preset(self, name: str) -> str:
        return self._ask("preset", name)

    def set_arranger(self, name: str) -> str:
        detail = self._ask("arranger", name)
        self.arranger_choice = name
        return detail

    def change_temperature(self, delta: float) -> str:
        t = round(min(TEMPERATURE_MAX, max(0.0, self.temperature + delta)), 2)
        return self._ask("temperature", t)

    def next_horizon(self) -> str:
        snap = self.snapshot()
        now = snap.horizon_ms if snap is not None else 0.0
        ms = next((h for h in HORIZON_STEPS_MS if h > now), 0.0)
        return self._ask("horizon", ms)

    def toggle_recording(self) -> str:
        on = self.recording() is None
        detail = self._ask("record", int(on))
        if not on and detail.startswith("saved "):
            self.saved_recordings.append(Path(detail[len("saved "):]))
        return detail

    # ------------------------------------------------------------ what OSC cannot do
    def reroll(self) -> Callable[[], str]:
        """The take lives in the instrument's process: re-roll it in its own UI."""
        raise ActionError(self.unavailable("reroll") or "")

    def edit_part(self, index: int, *, program: str, channel: str, low: str, high: str,
                  transpose: str) -> str:
        raise ActionError(self.unavailable("edit") or "")

    def save_preset_as(self, name: str) -> str:
        raise ActionError(self.unavailable("save") or "")

    def current_ports(self) -> PortChoice:
        status = self._status()
        return PortChoice(status.api, status.input or None, status.outputs)

    def apply_ports(self, choice: PortChoice) -> str:
        raise ActionError(self.unavailable("ports") or "")
