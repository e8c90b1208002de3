"""OSC control of a playing session: what each command does to it, and the server.

``ControlServer`` (``livearranger.control``) checks each message and calls the
``Controlled`` methods here; they turn a remote request into the session's own calls
(a preset by name only, never a file path: a remote client reads no files), each under
the session's control lock, as the TUI may act at the same moment.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from livearranger.arrangers import arranger_names
from livearranger.control import ControlServer
from livearranger.engine import Engine
from livearranger.errors import BadValue
from livearranger.io.midi_io import MidiInput
from livearranger.osc import SessionStatus
from livearranger.presets import Preset, list_presets
from livearranger.recorder import fresh_take_path
from livearranger.session_config import SessionConfig
from livearranger.stats import Snapshot

MAX_TEMPERATURE = 2.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Playing(Protocol):
    """What of a ``Session`` the commands use."""

    config: SessionConfig
    warnings: list[str]

    @property
    def preset(self) -> Preset: ...
    @property
    def arranger_name(self) -> str: ...
    @property
    def control_lock(self) -> AbstractContextManager[Any]: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def input(self) -> MidiInput | None: ...
    @property
    def input_lost(self) -> bool: ...
    @property
    def output_names(self) -> list[str]: ...
    @property
    def recording(self) -> Path | None: ...
    def set_preset(self, name_or_preset: str | Preset,
                   arranger: str | None = None) -> None: ...
    def set_arranger(self, name: str, temperature: float | None = None) -> None: ...
    def set_temperature(self, value: float) -> None: ...
    def set_horizon(self, ms: float | None) -> None: ...
    def horizon_ms(self, preset: Preset | None = None) -> float: ...
    def start_recording(self, path: str | Path) -> Path: ...
    def stop_recording(self) -> Path | None: ...
    def notice(self, message: str) -> str: ...
    def panic(self) -> None: ...
    def snapshot(self) -> Snapshot: ...
    def audio_line(self) -> str: ...


class SessionControl:
    """``Controlled`` for a session, and the OSC server that drives it."""

    def __init__(self, session: Playing) -> None:
        self.session = session
        self.server: ControlServer | None = None
        self._refusals_seen = 0

    def start(self, host: str, port: int) -> str | None:
        """Serve OSC on ``host``:``port``; a warning when it cannot (the instrument
        plays on without it) or when it listens beyond this machine."""
        server = ControlServer(self, host, port)
        try:
            server.start()
        except OSError as exc:
            return f"{exc}: no OSC control (choose another --osc-port)"
        self.server = server
        if host not in _LOOPBACK:
            return (f"OSC control listens on {host}: anyone who can reach that address "
                    "can change presets, record and panic")
        return None

    def stop(self) -> list[str]:
        """Stop serving (the port is free again at once); what it did, as notices."""
        server, self.server = self.server, None
        if server is None:
            return []
        server.stop()
        return server.summary()

    def summary(self) -> list[str]:
        server = self.server
        return server.summary() if server is not None else []

    def check(self) -> str | None:
        """OSC messages refused since the last look, as one line (None: none)."""
        server = self.server
        if server is None:
            return None
        count = server.refusals()
        new, self._refusals_seen = count - self._refusals_seen, count
        if new <= 0:
            return None
        last = server.last_reasons(1)
        return f"OSC: {new} messages refused" + (f" (latest: {last[0]})" if last else "")

    # ------------------------------------------------------------ ``Controlled``
    def panic(self) -> None:
        self.session.panic()

    def snapshot(self) -> Snapshot:
        return self.session.snapshot()

    def status(self) -> SessionStatus:
        """Ports, take and synth in one line each, for a remote UI (any thread)."""
        session = self.session
        inp = session.input
        recording = session.recording
        return SessionStatus(api=session.config.api, input=inp.name if inp else "",
                             input_lost=session.input_lost,
                             outputs=tuple(session.output_names),
                             recording=str(recording) if recording else "",
                             audio=session.audio_line(),
                             temperature=session.config.temperature)

    def control_preset(self, name: str) -> str:
        """Switch to the known preset ``name``, keeping the arranger asked for at start."""
        session = self.session
        known = dict(list_presets())
        if name not in known:
            raise BadValue(f"unknown preset {name!r} (known: {', '.join(sorted(known))})")
        warned = len(session.warnings)
        session.set_preset(name, session.config.arranger)
        said = f"preset {session.preset.name}: {', '.join(session.preset.part_names)}"
        if len(session.warnings) > warned:         # e.g. its model would not load
            said += f" ({'; '.join(session.warnings[warned:])})"
        return said

    def control_arranger(self, name: str) -> str:
        session = self.session
        if name not in arranger_names():
            raise BadValue(f"unknown arranger {name!r} "
                           f"(known: {', '.join(arranger_names())})")
        with session.control_lock:
            session.set_arranger(name)
            session.config = replace(session.config, arranger=name)
        return f"arranger {session.arranger_name}"

    def control_temperature(self, value: float) -> str:
        """The learned model's sampling temperature (0: always its best part)."""
        session = self.session
        if not 0.0 <= value <= MAX_TEMPERATURE:
            raise BadValue(f"temperature must be 0-{MAX_TEMPERATURE:g}, got {value:g}")
        session.set_temperature(value)
        return f"temperature {value:g}"

    def control_horizon(self, ms: float) -> str:
        self.session.set_horizon(ms)
        return f"correction horizon {self.session.horizon_ms():g} ms"

    def control_record(self, on: bool) -> str:
        """Start a take in the working folder under a fresh name, or stop and save it."""
        session = self.session
        with session.control_lock:
            if not on:
                path = session.stop_recording()
                if path is None:
                    return "not recording"
                session.notice(f"recording saved to {path}")
                return f"saved {path}"
            if session.recording is not None:
                return f"recording to {session.recording}"
            path = fresh_take_path(Path.cwd(), time.time())
            session.start_recording(path)
            session.notice(f"recording to {path} (asked over OSC)")
            return f"recording to {path}"

    def _part_index(self, part: int | str) -> int:
        """0-based index of a part given by number (from 1) or name; BadValue if none."""
        names = self.session.preset.part_names
        if isinstance(part, str):
            if part not in names:
                raise BadValue(f"no part {part!r} (parts: {', '.join(names)})")
            return names.index(part)
        if not 1 <= part <= len(names):
            raise BadValue(f"no part {part} (parts 1-{len(names)})")
        return part - 1

    def control_mute(self, part: int | str, on: bool) -> str:
        """Mute a part (its sounding notes stop at once) or unmute it."""
        session = self.session
        with session.control_lock:
            i = self._part_index(part)
            session.engine.set_mute(i, on)
        return f"{session.preset.part_names[i]} {'muted' if on else 'unmuted'}"

    def control_solo(self, part: int | str, on: bool) -> str:
        session = self.session
        with session.control_lock:
            i = self._part_index(part)
            session.engine.set_solo(i, on)
        return f"{session.preset.part_names[i]} {'soloed' if on else 'solo off'}"
