"""What the TUI asks of the instrument, in one place and without any widget.

The widgets turn keys into calls on a ``Controller``; the controller drives the
``Session`` (the engine's owner) and returns a short line to show.  Every failure
comes back as ``ActionError`` (or one of the runtime's own errors) with a readable
message, which the app shows instead of crashing.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from livearranger.alternatives import SAMPLING_ARRANGER, reroll_path, reroll_take
from livearranger.arrangers import arranger_names
from livearranger.errors import one_line
from livearranger.events import note_name
from livearranger.gm import PROGRAMS
from livearranger.io.midi_io import list_ports
from livearranger.presets import (
    Preset,
    list_presets,
    load_preset,
    save_user_preset,
    shipped_preset_dir,
)
from livearranger.recorder import Recorder, fresh_take_path
from livearranger.session import Session, SessionConfig
from livearranger.stats import Snapshot
from livearranger.tui.controls import (
    HORIZON_STEPS_MS,
    TEMPERATURE_MAX,
    ActionError,
    PortChoice,
    PresetEntry,
    parse_pitch,
    parse_program,
    validated,
)

PortLister = Callable[[str], tuple[list[str], list[str]]]
SessionFactory = Callable[[SessionConfig], Any]

REROLL_TEMPERATURE = 1.0               # a re-roll samples at this while the session's is 0


class Controller:
    """Drives one ``Session`` for the TUI; owns no widget.

    ``session`` may be injected (tests, snapshot tests); otherwise ``open`` builds one
    from ``config`` with ``session_factory``.  ``port_lister`` lists (inputs, outputs)
    for an API, ``preset_lister`` the presets; ``record_dir`` is where recordings go.
    """

    def __init__(self, config: SessionConfig, session: Any | None = None,
                 session_factory: SessionFactory = Session,
                 port_lister: PortLister = list_ports,
                 record_dir: str | Path | None = None,
                 clock: Callable[[], float] = time.time,
                 preset_lister: Callable[[], list[PresetEntry]] | None = None) -> None:
        self.config = config
        self.session = session
        self.session_factory = session_factory
        self.port_lister = port_lister
        self.record_dir = Path(record_dir) if record_dir else Path.cwd()
        self.clock = clock
        self.preset_lister = preset_lister
        self.arranger_choice: str | None = config.arranger
        self.modified = False          # current preset edited and not saved
        self.saved_recordings: list[Path] = []
        self.record_errors: list[str] = []     # takes that could not be saved, and why
        self._closing = threading.Lock()   # the exit watchdog may close from its thread
        self._last_take: Recorder | None = None   # the last take of a session closed since
        self._rerolling = False            # a re-roll is running (one at a time)

    # ------------------------------------------------------------ lifecycle
    def open(self) -> str | None:
        """Build and start the session if none was given; a message on failure."""
        if self.session is not None:
            if not self.session.engine.running:
                self.session.start()
            return None
        try:
            self.session = self.session_factory(self.config)
            self.session.start()
        except Exception as exc:
            self.session = None
            return (f"cannot start the instrument: {one_line(exc)} "
                    "(press p to choose ports and the MIDI API)")
        return None

    def close(self, wait_s: float = -1) -> str | None:
        """Stop the session (panic, recording saved).  Safe to call twice, and from
        another thread; gives up after ``wait_s`` (-1: never) while a close is running."""
        if not self._closing.acquire(timeout=wait_s):
            return None
        try:
            session, self.session = self.session, None
            if session is None:
                return None
            recording = session.recording
            session.stop()
            failed = session.record_error
            self._last_take = session.take or self._last_take
        finally:
            self._closing.release()
        if failed is not None:
            self.record_errors.append(failed)
            return f"recording NOT saved: {failed}"
        if recording is not None:
            self.saved_recordings.append(Path(recording))
            return f"recording saved to {recording}"
        return None

    def _need(self) -> Any:
        if self.session is None:
            raise ActionError("no instrument is running: press p to choose ports")
        return self.session

    # ------------------------------------------------------------ reading
    def snapshot(self) -> Snapshot | None:
        """The engine's figures now, or None without a session."""
        return None if self.session is None else self.session.snapshot()

    @property
    def preset(self) -> Preset | None:
        return None if self.session is None else self.session.preset

    @property
    def warnings(self) -> list[str]:
        return [] if self.session is None else list(self.session.warnings)

    def presets(self) -> list[PresetEntry]:
        """Every known preset, shipped and the player's own."""
        if self.preset_lister is not None:
            return self.preset_lister()
        shipped = shipped_preset_dir().resolve()
        return [PresetEntry(name, path.resolve().parent != shipped)
                for name, path in list_presets()]

    def ports(self, api: str) -> tuple[list[str], list[str]]:
        """(inputs, outputs) under ``api``, without our own ports."""
        inputs, outputs = self.port_lister(api)
        own = (f"{self.config.client}:", f"{self.config.client}-")
        return ([p for p in inputs if not p.startswith(own)],
                [p for p in outputs if not p.startswith(own)])

    @property
    def api(self) -> str:
        return self.config.api

    def output_names(self) -> list[str]:
        return [] if self.session is None else list(self.session.output_names)

    def recording(self) -> str | None:
        """The take being recorded, or None."""
        rec = None if self.session is None else self.session.recording
        return str(rec) if rec else None

    def arranger_name(self) -> str:
        """The arranger playing now ("" without a session)."""
        return "" if self.session is None else str(self.session.arranger_name)

    def audio_line(self) -> str:
        if self.session is None:
            return "synth: off (no built-in synth output)"
        return str(self.session.audio_line())

    def unavailable(self, action: str) -> str | None:
        """Why ``action`` ("ports", "edit", "save") cannot be done here (None: it can)."""
        return None

    def input_status(self) -> tuple[str, bool]:
        """(input port name or "none", lost?)."""
        session = self.session
        if session is None or session.input is None:
            return "none", False
        return session.input.name, bool(session.input_lost)

    def poll_input(self) -> str | None:
        """Notice an unplugged keyboard or its return, or a JACK output that stopped
        delivering (about once a second)."""
        if self.session is None:
            return None
        return "; ".join(self.session.check()) or None

    # ------------------------------------------------------------ playing
    def panic(self) -> str:
        self._need().panic()
        return "panic: all notes off"

    def switch_preset(self, name: str) -> str:
        """Switch to preset ``name`` live (the engine panics in between)."""
        session = self._need()
        session.set_preset(name, self.arranger_choice)
        self.modified = False
        return f"preset {name}: {', '.join(session.preset.part_names)}"

    def set_arranger(self, name: str) -> str:
        session = self._need()
        if name not in arranger_names():
            raise ActionError(f"unknown arranger {name!r}")
        session.set_arranger(name, self.config.temperature)
        self.arranger_choice = name
        used = session.arranger_name
        if used != name:
            return f"arranger {name} is not available; playing with {used}"
        return f"arranger {used}"

    def change_temperature(self, delta: float) -> str:
        """Raise or lower the sampling temperature (0 = always the model's best part)."""
        session = self._need()
        t = round(min(TEMPERATURE_MAX, max(0.0, self.config.temperature + delta)), 2)
        self.config = replace(self.config, temperature=t)
        if session.arranger_name == "model":
            session.set_temperature(t)
            return f"temperature {t:.1f}"
        return f"temperature {t:.1f} (used by the model arranger)"

    @property
    def temperature(self) -> float:
        return self.config.temperature

    def next_horizon(self) -> str:
        """The next correction horizon of ``HORIZON_STEPS_MS`` (after the last: off)."""
        session = self._need()
        now = session.horizon_ms()
        ms = next((h for h in HORIZON_STEPS_MS if h > now), 0.0)
        session.set_horizon(ms)
        self.config = replace(self.config, horizon_ms=ms)
        if ms:
            return f"correction horizon {ms:g} ms: a key may move to a better part as " \
                   "its chord arrives"
        return "correction horizon off: every key keeps the part it sounded on"

    def toggle_recording(self) -> str:
        session = self._need()
        if session.recording is not None:
            path = session.stop_recording()
            if path is not None:
                self.saved_recordings.append(Path(path))
            return f"recording saved to {path}"
        path = fresh_take_path(self.record_dir, self.clock())
        session.start_recording(path)
        return f"recording to {path}"

    def reroll(self) -> Callable[[], str]:
        """Re-roll the take being recorded (else the last one): its keys as played,
        arranged again offline with the current preset and the learned model sampling
        at the session's temperature (``REROLL_TEMPERATURE`` while that is 0), a fresh
        seed and the horizon in use, into ``TAKE-reroll-K.mid`` beside the take.

        Checks here (quick; ActionError says why not: no take, a rule arranger, one
        already running) and returns the work: a call of seconds returning the line to
        show, to run off the UI thread (and never on the engine's)."""
        session = self._need()
        take = session.take or self._last_take
        if take is None or take.path is None:
            raise ActionError("no take to re-roll yet: press r to record one")
        preset = session.preset
        arranger = self.arranger_choice or preset.arranger
        if arranger != SAMPLING_ARRANGER:
            raise ActionError(f"re-roll samples the learned model: the arranger "
                              f"{arranger!r} is a rule, with nothing to sample (press a "
                              f"for {SAMPLING_ARRANGER})")
        if self._rerolling:
            raise ActionError("a re-roll is running: its line comes when it is written")
        temperature = self.config.temperature or REROLL_TEMPERATURE
        horizon_ms = session.horizon_ms()
        dst = reroll_path(take.path)
        self._rerolling = True

        def work() -> str:
            try:
                return reroll_take(take, preset, temperature, horizon_ms=horizon_ms,
                                   dst=dst).summary()
            finally:
                self._rerolling = False
        return work

    # ------------------------------------------------------------ presets
    def edit_part(self, index: int, *, program: str, channel: str, low: str, high: str,
                  transpose: str) -> str:
        """Change one part of the current preset and play it at once (unsaved)."""
        session = self._need()
        preset = session.preset
        if not 0 <= index < len(preset.parts):
            raise ActionError(f"there is no part number {index + 1}")
        try:
            ch = int(channel.strip())
        except ValueError:
            raise ActionError(f"channel {channel!r} is not a number 1..16") from None
        if not 1 <= ch <= 16:
            raise ActionError(f"channel {ch} is outside 1..16")
        try:
            tr = int(transpose.strip() or "0")
        except ValueError:
            raise ActionError(f"transpose {transpose!r} is not a whole number") from None
        try:
            part = replace(preset.parts[index], program=parse_program(program),
                           channel=ch - 1, low=parse_pitch(low), high=parse_pitch(high),
                           transpose=tr)
        except ValueError as exc:
            raise ActionError(str(exc)) from None
        parts = list(preset.parts)
        parts[index] = part
        new = validated(replace(preset, parts=tuple(parts)))
        session.set_preset(new, self.arranger_choice)
        self.modified = True
        return (f"{part.name}: {PROGRAMS[part.program]}, channel {ch}, "
                f"{note_name(part.low)}-{note_name(part.high)}, transpose {tr:+d} (unsaved)")

    def save_preset_as(self, name: str) -> str:
        """Save the current preset (with its edits) as the player's own preset ``name``."""
        session = self._need()
        name = name.strip()
        if not name:
            raise ActionError("give the new preset a name")
        path = save_user_preset(session.preset, name)
        session.set_preset(load_preset(name), self.arranger_choice)
        self.modified = False
        return f"saved preset {name} to {path}"

    # ------------------------------------------------------------ ports
    def current_ports(self) -> PortChoice:
        session = self.session
        inp = self.config.input
        if session is not None and session.input is not None:
            inp = "virtual" if session.input.virtual else session.input.name
        return PortChoice(self.config.api, inp, tuple(self.config.outputs))

    def apply_ports(self, choice: PortChoice) -> str:
        """Use the chosen API, input and outputs.  A new input is opened live; another
        API or other outputs restart the session (recording saved, preset kept)."""
        if not choice.outputs:
            raise ActionError("choose at least one output")
        session = self.session
        same_outputs = (session is not None and choice.api == self.config.api
                        and tuple(self.config.outputs) == tuple(choice.outputs))
        if same_outputs and session is not None:
            if choice.input and choice.input != self.current_ports().input:
                session.set_input(choice.input)
                self.config = replace(self.config, input=choice.input)
                opened = session.input
                return f"input: {opened.name if opened is not None else choice.input}"
            return "ports unchanged"
        return self._rebuild(replace(self.config, api=choice.api, input=choice.input,
                                     outputs=list(choice.outputs), record=None))

    def _rebuild(self, config: SessionConfig) -> str:
        old = self.session
        preset = old.preset if old is not None else None
        notes: list[str] = []
        if old is not None:
            saved = self.close()
            if saved:
                notes.append(saved)
        if preset is not None:
            config = replace(config, preset=preset.path or preset.name)
        try:
            session = self.session_factory(config)
            if preset is not None and self.modified:
                session.set_preset(preset, self.arranger_choice)
            session.start()
        except Exception as exc:
            self.session = None
            raise ActionError(f"cannot use those ports: {one_line(exc)}") from None
        self.session = session
        self.config = config
        notes.append(f"ports: in {config.input or 'none'}, out {', '.join(session.output_names)}")
        return "; ".join(notes)


def crash_report(exc: BaseException, folder: str | Path | None = None) -> Path:
    """Write the full traceback of an unexpected error to a file; return its path."""
    base = Path(folder) if folder else Path.home() / ".cache" / "livearranger"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path("/tmp")
    path = base / "tui-error.log"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError:
        pass
    return path
