"""A playing session: the engine wired to real ports, the synth and the recorder.

The CLI's ``play`` and the TUI both drive a ``Session``; it builds the outputs for the
preset (``output_set``), switches presets, arrangers and ports while the engine runs,
records, has its ports watched (``port_watch``: a keyboard that disappears, an output
that stops delivering) and serves OSC control when ``osc_port`` is set
(``session_control``).  Everything here runs outside the engine's hot path.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from livearranger.arrangers import Arranger, ArrangerError, make_arranger
from livearranger.chords import check_horizon
from livearranger.engine import Engine
from livearranger.files import check_writable
from livearranger.io.midi_io import MidiInput, claim_clients
from livearranger.io.synth import Synth
from livearranger.output_set import OutputSet
from livearranger.port_watch import PortWatch
from livearranger.presets import Preset, load_preset
from livearranger.recorder import Recorder
from livearranger.router import Router
from livearranger.session_config import SessionConfig
from livearranger.session_control import MAX_TEMPERATURE, SessionControl
from livearranger.stats import Snapshot

__all__ = ["MAX_TEMPERATURE", "Session", "SessionConfig"]


class Session:
    """Engine + ports + synth + recorder for one player.  Raises MidiIOError,
    PresetError, ArrangerError or SynthError with one readable line on bad set-up.
    ``clock_ns``: the engine's clock (tests drive it).  ``config.client`` is the name
    its clients are named from as asked; ``self.config.client`` the one they have (a
    second instance on one JACK server: ``livearranger-01``)."""

    def __init__(self, config: SessionConfig,
                 clock_ns: Callable[[], int] = time.perf_counter_ns) -> None:
        self.config = config
        self.warnings: list[str] = []
        self.preset = load_preset(config.preset)
        arranger, self.arranger_name = self._make_arranger(
            self.preset, config.arranger or self.preset.arranger)
        client, self._names = claim_clients(config.api, config.client)
        self.config = config = replace(config, client=client)
        self.last_take: Recorder | None = None   # the take recorded last, once stopped
        self.notices: list[str] = []     # ports lost and back, for the snapshot
        # the control methods may be called from the TUI and the OSC thread at once
        self.control_lock = threading.RLock()
        self.control: SessionControl | None = None
        try:
            self.outputs = OutputSet(config.output_plan(), self.preset,
                                     self.horizon_ms(self.preset) / 1000.0)
        except BaseException:
            self._release_names()
            raise
        self._tap = self.outputs.tap
        self.synth: Synth | None = self.outputs.synth
        self.audio_latency_ms = self.outputs.audio_latency_ms
        self.output_names = self.outputs.names
        try:
            self.engine = Engine(self.preset, arranger,
                                 Router(self.preset, self.outputs.outputs),
                                 clock_ns=clock_ns,
                                 horizon=self.horizon_ms(self.preset) / 1000.0)
        except BaseException:
            self.outputs.close()   # the set-up's own error is the one raised
            self._release_names()
            raise
        self.ports = PortWatch(self.engine, self.outputs, config.api, config.client,
                               self.notice, self._names)
        # A set-up that fails half way closes what it opened: a port left open is left in
        # JACK's graph after we exit, and a dead client there stalls the server for
        # everyone.
        try:
            self.ports.watch_outputs()
            if config.input:
                self.set_input(config.input)
            if config.record:
                self.start_recording(config.record)
        except BaseException:
            self.stop()
            raise

    def _make_arranger(self, preset: Preset, name: str) -> tuple[Arranger, str]:
        """The arranger called ``name`` and the name really used: a learned model that
        will not load falls back to closest-pitch with a warning, never a dead session."""
        options: dict[str, Any] = {}
        if name == "model":
            options = {"temperature": self.config.temperature,
                       "provider": self.config.provider}
        try:
            return make_arranger(name, preset, **options), name
        except (ArrangerError, TypeError, ValueError) as exc:
            if name != "model":
                raise ArrangerError(str(exc)) from None
            self.warnings.append(f"{exc}; playing with the closest-pitch arranger instead")
            return make_arranger("closest-pitch", preset), "closest-pitch"

    # ------------------------------------------------------------- running
    def start(self) -> None:
        """Start the engine thread (input may already be open and queueing), then the OSC
        control server if asked for (a port it cannot bind is a warning: the instrument
        plays on without it).  Everything built so far is frozen out of Python's
        collector (``gc.freeze``): a full collection holds the interpreter lock, and
        scanning the set-up's objects (ports, model, synth, the UI's modules) would
        stall the engine thread at a moment no one chooses."""
        gc.collect()
        gc.freeze()
        self.engine.start()
        if self.config.osc_port and self.control is None:
            control = SessionControl(self)
            warning = control.start(self.config.osc_host, self.config.osc_port)
            if warning:
                self.warnings.append(warning)
            if control.server is not None:
                self.control = control

    def stop(self) -> None:
        """Stop OSC control (its port is free again at once), panic, save any recording,
        close ports and the synth.  Safe to call twice."""
        gc.unfreeze()                   # what ``start`` froze may be collected again
        control, self.control = self.control, None
        if control is not None:
            self.notices.extend(control.stop())
        # Inputs close while the port they listen to is still there: a JACK port closed
        # just after a change of the graph can crash JACK's client library (see
        # midi_io.GRAPH_SETTLE_S), and this order makes fewer changes before each close.
        self.ports.close_watches()
        if self._tap.inner is not None:
            self.last_take = self._tap.inner
        try:
            self.engine.stop()   # drains, panics (recorded too), closes outputs, recorder
            self.ports.close_input()
        finally:
            self._release_names()

    def _release_names(self) -> None:
        """Close the JACK client that holds our names, once no client of ours is left."""
        names, self._names = self._names, None
        if names is not None:
            names.close()

    # ------------------------------------------------------------- ports
    @property
    def input(self) -> MidiInput | None:
        """The keyboard's port (None: no input)."""
        return self.ports.input

    @property
    def input_lost(self) -> bool:
        """True while the keyboard's port is gone (unplugged)."""
        return self.ports.input_lost

    def set_input(self, port: str) -> None:
        """Open ``port`` ("virtual" for a port others connect to) as the keyboard."""
        self.ports.set_input(port)

    def close_input(self) -> None:
        """Stop listening to the keyboard (the engine keeps running)."""
        self.ports.close_input()

    def check_input(self) -> str | None:
        """Call now and then (not in the hot path): an unplugged keyboard panics and is
        reopened when it is back.  Returns a message on change."""
        return self.ports.check_input()

    def check_outputs(self) -> str | None:
        """Call now and then: an output port that went away or stopped delivering is
        reconnected or reopened.  Returns a message on change."""
        return self.ports.check_outputs()

    def check(self) -> list[str]:
        """The keyboard, the outputs and OSC control's refusals: what changed, as
        messages.  A JACK server that stopped is said in the engine's errors (the UI's
        log, OSC, the exit report) and in ``server_lost``; nothing is watched after."""
        with self.control_lock:
            lost = self.ports.check_server()
            if lost is not None:
                errors = self.engine.errors
                self.engine.call(lambda: errors.add(lost))
            if self.ports.server_lost is not None:
                return []
            control = self.control
            return [m for m in (self.check_input(), self.check_outputs(),
                                control.check() if control is not None else None) if m]

    @property
    def server_lost(self) -> str | None:
        """Why the JACK server is gone, once it is (``check``); else None."""
        return self.ports.server_lost

    def notice(self, message: str) -> str:
        """Keep ``message`` for the snapshot (the latest 100); returns it."""
        if len(self.notices) >= 100:
            del self.notices[0]
        self.notices.append(message)
        return message

    # ------------------------------------------------------------- playing
    def set_preset(self, name_or_preset: str | Preset, arranger: str | None = None) -> None:
        """Switch ensemble live: panic, the new preset's own outputs (a port per part),
        new programs on the synth, fresh arranger state."""
        with self.control_lock:
            self._set_preset(name_or_preset, arranger)

    def _set_preset(self, name_or_preset: str | Preset, arranger: str | None) -> None:
        preset = (name_or_preset if isinstance(name_or_preset, Preset)
                  else load_preset(name_or_preset))
        new_arranger, used = self._make_arranger(preset, arranger or preset.arranger)
        engine = self.engine
        old = self.outputs.switch(preset)           # opens the new parts' ports first
        # outputs others added to the router (a test's, a bench's) stay
        outputs = [o for o in engine.router.outputs if not any(o is x for x in old)]
        outputs += self.outputs.own
        if self.synth is not None:
            synth = self.synth
            engine.call(lambda: synth.set_preset(preset))
        engine.set_preset(preset, new_arranger, Router(preset, outputs))
        engine.call(self.outputs.flush)
        engine.set_horizon(self.horizon_ms(preset) / 1000.0)
        engine.wait_idle()              # the engine sends to the old outputs no more
        errors = self.outputs.retire()
        for error in errors:
            self.notice(f"closing an output of the last preset: {error}")
        self.ports.watch_outputs()
        self.output_names = self.outputs.names
        self.preset = preset
        self.arranger_name = used

    def horizon_ms(self, preset: Preset | None = None) -> float:
        """The correction horizon in use for ``preset`` (default: the current one), ms."""
        if self.config.horizon_ms is not None:
            return self.config.horizon_ms
        return (preset or self.preset).horizon_ms

    def set_horizon(self, ms: float | None) -> None:
        """Change the correction horizon live (ms, 0 for none; None: the preset's).
        ``print`` outputs keep the delay they started with (a DAW compensates one
        constant offset).  ValueError when out of range."""
        with self.control_lock:
            if ms is not None:
                check_horizon(ms / 1000.0)
            self.config = replace(self.config, horizon_ms=ms)
            self.engine.set_horizon(self.horizon_ms() / 1000.0)

    def set_arranger(self, name: str, temperature: float | None = None) -> None:
        """Switch arranger live for the current preset."""
        with self.control_lock:
            if temperature is not None:
                self.config = replace(self.config, temperature=temperature)
            arranger, self.arranger_name = self._make_arranger(self.preset, name)
            self.engine.set_arranger(arranger)

    def set_temperature(self, value: float) -> None:
        """The learned model's sampling temperature, changed in place: the playing model
        keeps its history (with another arranger the value waits for the model)."""
        with self.control_lock:
            self.config = replace(self.config, temperature=value)
            if self.arranger_name == "model":
                from livearranger.arrangers.onnx_model import retune
                engine = self.engine
                engine.call(lambda: retune(engine.arranger, value))

    def panic(self) -> None:
        """All notes off now."""
        self.engine.request_panic()

    # ------------------------------------------------------------- recording
    def start_recording(self, path: str | Path) -> Path:
        """Record from now into ``path`` (.mid), saved on stop or any exit, journalled
        as it plays (``recorder``).  Raises FileProblem (one line) when ``path`` cannot
        be written or an unsaved take's journal is there.  A take already running is
        stopped and saved first (raising as ``stop_recording`` does when it cannot be):
        its recorder's journal thread and file would otherwise be left open, unsaved."""
        check_writable(path, "recording")
        self.stop_recording()
        rec = Recorder(self.preset, path, journal=True)
        engine = self.engine             # a failed journal write: said with its errors
        rec.on_journal_error = lambda text: engine.call(lambda: engine.errors.add(text))
        rec.start_journal()
        self.engine.call(lambda: setattr(self._tap, "inner", rec))
        self.engine.wait_idle()          # ``recording`` names the new take from now
        return Path(path)

    def stop_recording(self) -> Path | None:
        """Stop recording and save; returns the file written (None if not recording)."""
        rec = self._tap.inner
        if rec is None:
            return None
        self._tap.inner = None
        self.engine.wait_idle()
        self.last_take = rec
        rec.close()
        return rec.path

    @property
    def record_error(self) -> str | None:
        """Why the recording could not be saved on stop (None: saved, or none)."""
        return self._tap.error

    @property
    def take(self) -> Recorder | None:
        """The take being recorded, else the one recorded last (None: no take yet)."""
        return self._tap.inner or self.last_take

    @property
    def recording(self) -> Path | None:
        rec = self._tap.inner
        return rec.path if rec is not None else None

    # ------------------------------------------------------------- showing
    def audio_line(self) -> str:
        """The built-in synth's audio buffer and its latency, or why there is none."""
        synth = self.synth
        if synth is None:
            return "synth: off (no built-in synth output)"
        ms = self.audio_latency_ms
        driver = synth.driver or "?"
        return (f"synth: {driver}, buffer {self.config.period_size} x 2 frames = "
                f"{ms:.1f} ms" if ms is not None else f"synth: {driver}")

    def snapshot(self) -> Snapshot:
        """The engine's figures and the session's notices, with what OSC control does
        (any thread)."""
        snap = self.engine.snapshot()
        control = self.control
        notices = self.notices[-10:] + (control.summary() if control is not None else [])
        return replace(snap, notices=notices) if notices else snap
