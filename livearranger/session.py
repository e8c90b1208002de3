"""A playing session: the engine wired to real ports, the synth and the recorder.

The CLI's ``play`` and the TUI both drive a ``Session``; it owns the open MIDI ports,
the built-in synth and the recorder, switches presets, arrangers and ports while the
engine runs, notices a keyboard that disappears (panic, recording kept, reconnect
when it comes back) and serves OSC control when ``osc_port`` is set
(``livearranger.control``).  Everything here runs outside the engine's hot path.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from livearranger.arrangers import Arranger, ArrangerError, arranger_names, make_arranger
from livearranger.chords import check_horizon
from livearranger.control import DEFAULT_OSC_HOST, ControlServer, SessionStatus
from livearranger.engine import Engine
from livearranger.io.files import check_writable
from livearranger.io.midi_io import (
    Loopback,
    MidiInput,
    MidiIOError,
    PerPartOutput,
    PortOutput,
    default_api,
)
from livearranger.io.synth import Synth, SynthOutput
from livearranger.presets import Preset, list_presets, load_preset
from livearranger.recorder import Recorder, fresh_take_path
from livearranger.router import DAW_MODES, DelayedOutput, Output, Router, close_outputs
from livearranger.stats import Snapshot

OUTPUT_KINDS = ("synth", "virtual", "virtual-per-part")
MAX_TEMPERATURE = 2.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class SessionConfig:
    """What to play with: preset, arranger, MIDI API, input and outputs."""

    preset: str = "satb"
    arranger: str | None = None           # None: the preset's own choice
    api: str = field(default_factory=default_api)
    input: str | None = "virtual"         # port name/prefix, "virtual", or None
    outputs: list[str] = field(default_factory=lambda: ["synth"])  # OUTPUT_KINDS or a port
    record: str | None = None             # .mid path to record to from the start
    soundfont: str | None = None
    audio_driver: str | None = None
    period_size: int = 128
    temperature: float = 0.0
    provider: str = "cpu"
    client: str = "livearranger"
    horizon_ms: float | None = None       # None: the preset's own correction horizon
    daw_mode: str = "live"                # MIDI port outputs: "live" moves, or "print"
    synth_mode: str = "live"              # the built-in synth: the same two modes
    osc_port: int = 0                     # OSC control on this UDP port (0: none)
    osc_host: str = DEFAULT_OSC_HOST      # where it listens (loopback: this machine only)


class _PartFilter(Output):
    """Passes one part's messages to an output of its own (a part's ``port``)."""

    def __init__(self, part: int, output: PortOutput) -> None:
        self.part = part
        self.output = output

    def send(self, part: int, message: list[int], time: float) -> None:
        if part == self.part:
            self.output.send(part, message, time)

    def close(self) -> None:
        self.output.close()


class _RecorderTap(Output):
    """Forwards to whichever recorder is current, so recording can start and stop live."""

    def __init__(self) -> None:
        self.recorder: Recorder | None = None
        self.error: str | None = None     # why the last recording could not be saved

    def send(self, part: int, message: list[int], time: float) -> None:
        rec = self.recorder
        if rec is not None:
            rec.send(part, message, time)

    def move(self, old_part: int, off: list[int], new_part: int, on: list[int],
             onset: float, time: float) -> None:
        rec = self.recorder
        if rec is not None:
            rec.move(old_part, off, new_part, on, onset, time)

    def late_note_on(self, part: int, message: list[int], onset: float,
                     time: float) -> None:
        rec = self.recorder
        if rec is not None:
            rec.late_note_on(part, message, onset, time)

    def preset_changed(self, preset: Preset) -> None:
        rec = self.recorder
        if rec is not None:
            rec.preset_changed(preset)

    def close(self) -> None:
        rec, self.recorder = self.recorder, None
        if rec is not None:
            try:
                rec.close()
            except OSError:
                self.error = rec.error


class _OutputWatch:
    """An output port: whether the port it sends to is there, and on JACK the loopback
    that hears it."""

    def __init__(self, output: PortOutput, client: str) -> None:
        self.output = output
        self.loopback = (Loopback(output.api, output.own_port, f"{client}-loop")
                         if output.api == "jack" else None)
        self.last_sent = output.sent
        self.silent_checks = 0
        self.lost = False            # the port it sends to has gone

    def close(self) -> None:
        if self.loopback is not None:
            self.loopback.close()

    def silent(self) -> bool:
        """True when we sent since the last look and nothing came back."""
        if self.loopback is None:
            return False
        heard = self.loopback.drain()
        sent = self.output.sent - self.last_sent
        self.last_sent = self.output.sent
        self.silent_checks = self.silent_checks + 1 if sent and not heard else 0
        return self.silent_checks >= 2


class Session:
    """Engine + ports + synth + recorder for one player.  Raises MidiIOError,
    PresetError, ArrangerError or SynthError with one readable line on bad set-up.
    ``clock_ns``: the engine's clock (tests drive it)."""

    def __init__(self, config: SessionConfig,
                 clock_ns: Callable[[], int] = time.perf_counter_ns) -> None:
        self.config = config
        self.warnings: list[str] = []
        self.preset = load_preset(config.preset)
        arranger, self.arranger_name = self._make_arranger(
            self.preset, config.arranger or self.preset.arranger)
        self.synth: Synth | None = None
        self.audio_latency_ms: float | None = None
        self.output_names: list[str] = []
        self._tap = _RecorderTap()
        self.last_take: Recorder | None = None   # the take recorded last, once stopped
        self._watches: list[_OutputWatch] = []
        self.notices: list[str] = []     # ports lost and back, for the snapshot
        # the control methods may be called from the TUI and the OSC thread at once
        self._control_lock = threading.RLock()
        self.control: ControlServer | None = None
        self._refusals_seen = 0
        self.input: MidiInput | None = None
        self.input_lost = False
        self._sources: set[str] = set()    # what a virtual input heard from at last look
        outputs = self._open_outputs(self.preset)
        try:
            self.engine = Engine(self.preset, arranger, Router(self.preset, outputs),
                                 clock_ns=clock_ns,
                                 horizon=self.horizon_ms(self.preset) / 1000.0)
        except BaseException:
            close_outputs(outputs)   # the set-up's own error is the one raised
            raise
        # A set-up that fails half way closes what it opened: a port left open is left in
        # JACK's graph after we exit, and a dead client there stalls the server for
        # everyone (new clients waited 35 s, measured).
        try:
            for out in outputs:
                port = out.output if isinstance(out, DelayedOutput) else out
                port = port.output if isinstance(port, _PartFilter) else port
                if isinstance(port, PortOutput):
                    self._watches.append(_OutputWatch(port, config.client))
            if config.input:
                self.set_input(config.input)
            if config.record:
                self.start_recording(config.record)
        except BaseException:
            self.stop()
            raise

    # ------------------------------------------------------------- building
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

    def _daw(self, output: Output, mode: str | None = None) -> Output:
        """An output as its mode (default: the DAW mode) wants it: ``print`` delays it by
        the horizon and gives it final parts only."""
        mode = self.config.daw_mode if mode is None else mode
        if mode not in DAW_MODES:
            raise MidiIOError(f"unknown output mode {mode!r} "
                              f"(choose from {', '.join(DAW_MODES)})")
        if mode == "print":
            return DelayedOutput(output, self.horizon_ms(self.preset) / 1000.0)
        return output

    def _open_outputs(self, preset: Preset) -> list[Output]:
        outputs: list[Output] = [self._tap]
        names: list[str] = []
        try:
            for kind in self.config.outputs:
                if kind == "synth":
                    self.synth = Synth(preset, self.config.soundfont)
                    self.audio_latency_ms = self.synth.start_audio(
                        self.config.audio_driver, self.config.period_size)
                    outputs.append(self._daw(SynthOutput(self.synth),
                                             self.config.synth_mode))
                    names.append(f"synth ({self.synth.driver}, "
                                  f"{self.audio_latency_ms:.1f} ms buffer)")
                elif kind == "virtual-per-part":
                    per_part = PerPartOutput(self.config.api, preset.part_names,
                                             self.config.client)
                    outputs.append(self._daw(per_part))
                    names.extend(per_part.names)
                else:
                    port = PortOutput(self.config.api, kind, self.config.client)
                    outputs.append(self._daw(port))
                    names.append(port.name)
            for i, part in enumerate(preset.parts):
                if part.port:
                    port = PortOutput(self.config.api, part.port, self.config.client,
                                      virtual_name=f"to-{part.name}")
                    outputs.append(self._daw(_PartFilter(i, port)))
                    names.append(f"{part.name} -> {port.name}")
        except BaseException:
            close_outputs(outputs)   # the set-up's own error is the one raised
            raise
        self.output_names = names
        return outputs

    # ------------------------------------------------------------- running
    def start(self) -> None:
        """Start the engine thread (input may already be open and queueing), then the OSC
        control server if asked for (a port it cannot bind is a warning: the instrument
        plays on without it).  Everything built so far is frozen out of Python's
        collector (``gc.freeze``): a full collection holds the interpreter lock, and
        scanning the set-up's objects (ports, model, synth, the UI's modules) took about
        9 ms here, a stall of the engine thread at a moment no one chooses."""
        gc.collect()
        gc.freeze()
        self.engine.start()
        if self.config.osc_port and self.control is None:
            server = ControlServer(self, self.config.osc_host, self.config.osc_port)
            try:
                server.start()
            except OSError as exc:
                self.warnings.append(f"{exc}: no OSC control (choose another --osc-port)")
                return
            self.control = server
            if self.config.osc_host not in _LOOPBACK:
                self.warnings.append(
                    f"OSC control listens on {self.config.osc_host}: anyone who can reach "
                    "that address can change presets, record and panic")

    def stop(self) -> None:
        """Stop OSC control (its port is free again at once), panic, save any recording,
        close ports and the synth.  Safe to call twice."""
        gc.unfreeze()                   # what ``start`` froze may be collected again
        control, self.control = self.control, None
        if control is not None:
            control.stop()
            self.notices.extend(control.summary())
        # Inputs close while the port they listen to is still there: a JACK port closed
        # just after a change of the graph can crash JACK's client library (see
        # midi_io.GRAPH_SETTLE_S), and this order makes fewer changes before each close.
        for watch in self._watches:
            watch.close()
        self._watches = []
        if self._tap.recorder is not None:
            self.last_take = self._tap.recorder
        self.engine.stop()   # drains, panics (recorded too), closes outputs incl. recorder
        self.close_input()

    def set_input(self, port: str) -> None:
        """Open ``port`` ("virtual" for a port others connect to) as the keyboard.

        The engine thread polls it (``MidiInput``): no Python runs on the MIDI API's
        thread, where it would wait for the interpreter lock (JACK then drops the
        client) and could deadlock with closing the port.
        """
        engine = self.engine
        new = MidiInput(self.config.api, port, self.config.client)
        old, self.input = self.input, new
        self.input_lost = False
        self._sources = set()
        engine.set_input_poll(new.poll, new.idle)
        if old is not None:
            engine.wait_idle()           # the engine no longer reads the old port
            old.close()
            engine.request_panic()

    def close_input(self) -> None:
        """Stop listening to the keyboard (the engine keeps running)."""
        old, self.input = self.input, None
        if old is not None:
            self.engine.set_input_poll(None)
            self.engine.wait_idle()
            old.close()

    def check_input(self) -> str | None:
        """Call now and then (not in the hot path): notice an unplugged keyboard (panic,
        keep playing state) and reopen it when it is back.  Returns a message on change."""
        inp = self.input
        if inp is None:
            return None
        if inp.virtual:
            return self._check_sources(inp)
        if not self.input_lost and not inp.present():
            self.input_lost = True
            self.engine.request_panic()
            return self._notice(f"MIDI input {inp.name!r} disappeared: all notes stopped, "
                                "waiting for it")
        if self.input_lost:
            try:
                self.set_input(inp.name)
            except MidiIOError:
                return None
            return self._notice(f"MIDI input {inp.name!r} is back")
        return None

    def _check_sources(self, inp: MidiInput) -> str | None:
        """A virtual input: a program that was connected to it and is not any more (quit,
        killed, unpatched) can never send the note-offs of its keys still down, so all
        notes stop.  Known on JACK only."""
        sources = inp.sources()
        if sources is None:
            return None
        gone, self._sources = self._sources - sources, sources
        if not gone:
            return None
        self.engine.request_panic()
        names = ", ".join(repr(n) for n in sorted(gone))
        return self._notice(f"MIDI input {inp.name!r} lost {names}: all notes stopped")

    def check_outputs(self) -> str | None:
        """Call now and then: an output whose port went away (its program quit or was
        killed) is reported and reconnected when the port is back; on JACK, an output
        port whose client stopped delivering (a known JACK hazard: its loopback hears
        nothing of what we send) is reopened.  Returns a message on change."""
        for i, watch in enumerate(self._watches):
            old = watch.output
            if watch.lost or not old.present():
                message = self._follow_lost(i, watch)
                if message:
                    return message
                continue
            if not watch.silent():
                continue
            watch.close()
            new = self._reopen_output(old)
            if new is None:
                del self._watches[i]
                return self._notice(f"MIDI output {old.name!r} stopped delivering and "
                                    "could not be reopened")
            self._watches[i] = _OutputWatch(new, self.config.client)
            return self._notice(f"MIDI output {old.name!r} stopped delivering: reopened")
        return None

    def _follow_lost(self, i: int, watch: _OutputWatch) -> str | None:
        """The port ``watch`` sends to is gone, or was: say so once, reconnect when it is
        back.  What was sounding there went with its program; the other outputs play on."""
        old = watch.output
        if not watch.lost:
            watch.lost = True
            return self._notice(f"MIDI output {old.name!r} disappeared: "
                                "reconnecting when it is back")
        if not old.present():
            return None
        watch.close()
        new = self._reopen_output(old, panic=False)
        if new is None:
            del self._watches[i]
            return self._notice(f"MIDI output {old.name!r} is back but could not be reopened")
        self._watches[i] = _OutputWatch(new, self.config.client)
        return self._notice(f"MIDI output {new.name!r} is back: reconnected")

    def _notice(self, message: str) -> str:
        if len(self.notices) >= 100:
            del self.notices[0]
        self.notices.append(message)
        return message

    def _reopen_output(self, old: PortOutput, panic: bool = True) -> PortOutput | None:
        """Replace ``old`` by a fresh client on the same port, on the engine thread
        (after a panic, unless ``panic`` is False)."""
        result: list[PortOutput] = []

        def swap() -> None:
            if panic:
                self.engine.panic()
            outputs = self.engine.router.outputs
            old.close()
            new = PortOutput(old.api, old.spec, old.client, old.virtual_name)
            for i, out in enumerate(outputs):
                holder = out.output if isinstance(out, DelayedOutput) else None
                inner = holder if holder is not None else out
                if inner is old:
                    if isinstance(out, DelayedOutput):
                        out.output = new
                    else:
                        outputs[i] = new
                elif isinstance(inner, _PartFilter) and inner.output is old:
                    inner.output = new                # a part's own port
            result.append(new)

        self.engine.call(swap)
        self.engine.wait_idle(30.0)      # a new JACK client can take seconds on a busy server
        return result[0] if result else None

    def check(self) -> list[str]:
        """``check_input``, ``check_outputs`` and ``check_control``: what changed, as
        messages."""
        with self._control_lock:
            return [m for m in (self.check_input(), self.check_outputs(),
                                self.check_control()) if m]

    def check_control(self) -> str | None:
        """OSC messages refused since the last look, as one line (None: none)."""
        control = self.control
        if control is None:
            return None
        count = control.refusals()
        new, self._refusals_seen = count - self._refusals_seen, count
        if new <= 0:
            return None
        last = control.last_reasons(1)
        return f"OSC: {new} messages refused" + (f" (latest: {last[0]})" if last else "")

    def set_preset(self, name_or_preset: str | Preset, arranger: str | None = None) -> None:
        """Switch ensemble live: panic, new programs on the synth, fresh arranger state."""
        with self._control_lock:
            self._set_preset(name_or_preset, arranger)

    def _set_preset(self, name_or_preset: str | Preset, arranger: str | None) -> None:
        preset = (name_or_preset if isinstance(name_or_preset, Preset)
                  else load_preset(name_or_preset))
        new_arranger, used = self._make_arranger(preset, arranger or preset.arranger)
        if [p.name for p in preset.parts] != [p.name for p in self.preset.parts] and any(
                k == "virtual-per-part" for k in self.config.outputs):
            self.warnings.append("per-part ports keep the old part names until restart")
        if self.synth is not None:
            synth = self.synth
            self.engine.call(lambda: synth.set_preset(preset))
        self.engine.set_preset(preset, new_arranger)
        self.engine.set_horizon(self.horizon_ms(preset) / 1000.0)
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
        with self._control_lock:
            if ms is not None:
                check_horizon(ms / 1000.0)
            self.config = replace(self.config, horizon_ms=ms)
            self.engine.set_horizon(self.horizon_ms() / 1000.0)

    def set_arranger(self, name: str, temperature: float | None = None) -> None:
        """Switch arranger live for the current preset."""
        with self._control_lock:
            if temperature is not None:
                self.config = replace(self.config, temperature=temperature)
            arranger, self.arranger_name = self._make_arranger(self.preset, name)
            self.engine.set_arranger(arranger)

    def panic(self) -> None:
        """All notes off now."""
        self.engine.request_panic()

    # ----------------------------------------------- OSC control (``Controlled``)
    def control_preset(self, name: str) -> str:
        """Switch to the known preset ``name`` (never a file path: a remote client reads
        no files), keeping the arranger asked for at start."""
        known = dict(list_presets())
        if name not in known:
            raise ValueError(f"unknown preset {name!r} (known: {', '.join(sorted(known))})")
        self.set_preset(name, self.config.arranger)
        return f"preset {self.preset.name}: {', '.join(self.preset.part_names)}"

    def control_arranger(self, name: str) -> str:
        if name not in arranger_names():
            raise ValueError(f"unknown arranger {name!r} "
                             f"(known: {', '.join(arranger_names())})")
        with self._control_lock:
            self.set_arranger(name)
            self.config = replace(self.config, arranger=name)
        return f"arranger {self.arranger_name}"

    def control_temperature(self, value: float) -> str:
        """The learned model's sampling temperature (0: always its best part)."""
        if not 0.0 <= value <= MAX_TEMPERATURE:
            raise ValueError(f"temperature must be 0-{MAX_TEMPERATURE:g}, got {value:g}")
        with self._control_lock:
            if self.arranger_name == "model":
                self.set_arranger("model", value)
            else:
                self.config = replace(self.config, temperature=value)
        return f"temperature {value:g}"

    def control_horizon(self, ms: float) -> str:
        self.set_horizon(ms)
        return f"correction horizon {self.horizon_ms():g} ms"

    def control_record(self, on: bool) -> str:
        """Start a take in the working folder under a fresh name, or stop and save it."""
        with self._control_lock:
            if not on:
                path = self.stop_recording()
                if path is None:
                    return "not recording"
                self._notice(f"recording saved to {path}")
                return f"saved {path}"
            if self.recording is not None:
                return f"recording to {self.recording}"
            path = fresh_take_path(Path.cwd(), time.time())
            self.start_recording(path)
            self._notice(f"recording to {path} (asked over OSC)")
            return f"recording to {path}"

    def _part_index(self, part: int | str) -> int:
        """0-based index of a part given by number (from 1) or name; ValueError if none."""
        names = self.preset.part_names
        if isinstance(part, str):
            if part not in names:
                raise ValueError(f"no part {part!r} (parts: {', '.join(names)})")
            return names.index(part)
        if not 1 <= part <= len(names):
            raise ValueError(f"no part {part} (parts 1-{len(names)})")
        return part - 1

    def control_mute(self, part: int | str, on: bool) -> str:
        """Mute a part (its sounding notes stop at once) or unmute it."""
        with self._control_lock:
            i = self._part_index(part)
            self.engine.set_mute(i, on)
        return f"{self.preset.part_names[i]} {'muted' if on else 'unmuted'}"

    def control_solo(self, part: int | str, on: bool) -> str:
        with self._control_lock:
            i = self._part_index(part)
            self.engine.set_solo(i, on)
        return f"{self.preset.part_names[i]} {'soloed' if on else 'solo off'}"

    def start_recording(self, path: str | Path) -> Path:
        """Record from now into ``path`` (.mid), saved on stop or any exit, journalled
        as it plays (``recorder``).  Raises FileProblem (one line) when ``path`` cannot
        be written or an unsaved take's journal is there."""
        check_writable(path, "recording")
        rec = Recorder(self.preset, path, journal=True)
        rec.start_journal()
        self.engine.call(lambda: setattr(self._tap, "recorder", rec))
        return Path(path)

    def stop_recording(self) -> Path | None:
        """Stop recording and save; returns the file written (None if not recording)."""
        rec = self._tap.recorder
        if rec is None:
            return None
        self._tap.recorder = None
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
        return self._tap.recorder or self.last_take

    @property
    def recording(self) -> Path | None:
        rec = self._tap.recorder
        return rec.path if rec is not None else None

    def audio_line(self) -> str:
        """The built-in synth's audio buffer and its latency, or why there is none."""
        synth = self.synth
        if synth is None:
            return "synth: off (no built-in synth output)"
        ms = self.audio_latency_ms
        driver = synth.driver or "?"
        return (f"synth: {driver}, buffer {self.config.period_size} x 2 frames = "
                f"{ms:.1f} ms" if ms is not None else f"synth: {driver}")

    def status(self) -> SessionStatus:
        """Ports, take and synth in one line each, for a remote UI (any thread)."""
        inp = self.input
        recording = self.recording
        return SessionStatus(api=self.config.api, input=inp.name if inp else "",
                             input_lost=self.input_lost, outputs=tuple(self.output_names),
                             recording=str(recording) if recording else "",
                             audio=self.audio_line(), temperature=self.config.temperature)

    def snapshot(self) -> Snapshot:
        """The engine's figures and the session's notices, with what OSC control does
        (any thread)."""
        snap = self.engine.snapshot()
        control = self.control
        notices = self.notices[-10:] + (control.summary() if control is not None else [])
        return replace(snap, notices=notices) if notices else snap
