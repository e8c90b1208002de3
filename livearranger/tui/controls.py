"""What the TUI asks of an instrument, whoever plays it: the ``Controls`` a widget
calls (a ``Controller`` over a local session, or a ``RemoteControls`` over OSC), the
values they exchange, and the checks of what a player types."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from livearranger.errors import BadValue, LiveArrangerError
from livearranger.events import NOTE_NAMES
from livearranger.gm import program_number
from livearranger.io.midi_io import available_apis
from livearranger.presets import Preset, parse_preset, preset_to_toml
from livearranger.session_control import MAX_TEMPERATURE
from livearranger.stats import Snapshot

# the MIDI APIs the panel offers: those this rtmidi build has, JACK first
APIS = tuple(sorted(available_apis(), key=lambda a: a != "jack"))
TEMPERATURE_STEP = 0.1
HORIZON_STEPS_MS = (10.0, 20.0, 30.0)   # what `h` steps through (then off)
TEMPERATURE_MAX = MAX_TEMPERATURE      # what the instrument accepts


class ActionError(LiveArrangerError):
    """A player's request that cannot be done; the message says why."""




def parse_pitch(text: str) -> int:
    """A MIDI pitch from ``"60"`` or a name like ``"C4"``, ``"F#3"``, ``"Bb2"``."""
    s = text.strip()
    if not s:
        raise BadValue("a pitch is needed (a number 0..127 or a name like C4)")
    if s.lstrip("-").isdigit():
        value = int(s)
    else:
        letter = s[0].upper()
        if letter not in "CDEFGAB":
            raise BadValue(f"{text!r} is not a pitch (use 0..127 or a name like C4)")
        rest = s[1:]
        shift = 0
        while rest[:1] in ("#", "b"):
            shift += 1 if rest[0] == "#" else -1
            rest = rest[1:]
        try:
            octave = int(rest)
        except ValueError:
            raise BadValue(f"{text!r} is not a pitch (use 0..127 or a name like C4)") from None
        value = (octave + 1) * 12 + NOTE_NAMES.index(letter) + shift
    if not 0 <= value <= 127:
        raise BadValue(f"pitch {text!r} is outside 0..127")
    return value


def parse_program(text: str) -> int:
    """A GM program from its number (0..127) or its name."""
    s = text.strip()
    try:
        return program_number(int(s) if s.isdigit() else s)
    except ValueError as exc:
        raise BadValue(str(exc)) from None


def validated(preset: Preset) -> Preset:
    """``preset`` checked exactly as a preset file would be (raises PresetError)."""
    checked = parse_preset(tomllib.loads(preset_to_toml(preset)), f"preset {preset.name!r}")
    return replace(checked, path=preset.path)


@dataclass(frozen=True)
class PresetEntry:
    """A preset the player can pick: its name and whether it is the player's own."""

    name: str
    user: bool


@dataclass(frozen=True)
class PortChoice:
    """What the ports screen hands back."""

    api: str
    input: str | None
    outputs: tuple[str, ...]


class Controls(Protocol):
    """What the app asks of a controller: ``Controller`` drives a session in this
    process, ``remote.RemoteController`` an instrument in another over OSC."""

    arranger_choice: str | None
    modified: bool
    saved_recordings: list[Path]
    record_errors: list[str]

    def open(self) -> str | None: ...
    def close(self, wait_s: float = -1) -> str | None: ...
    def snapshot(self) -> Snapshot | None: ...
    @property
    def preset(self) -> Preset | None: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def temperature(self) -> float: ...
    @property
    def api(self) -> str: ...
    def presets(self) -> list[PresetEntry]: ...
    def ports(self, api: str) -> tuple[list[str], list[str]]: ...
    def output_names(self) -> list[str]: ...
    def recording(self) -> str | None: ...
    def arranger_name(self) -> str: ...
    def audio_line(self) -> str: ...
    def unavailable(self, action: str) -> str | None: ...
    def input_status(self) -> tuple[str, bool]: ...
    def poll_input(self) -> str | None: ...
    def panic(self) -> str: ...
    def switch_preset(self, name: str) -> str: ...
    def set_arranger(self, name: str) -> str: ...
    def change_temperature(self, delta: float) -> str: ...
    def next_horizon(self) -> str: ...
    def toggle_recording(self) -> str: ...
    def reroll(self) -> Callable[[], str]: ...
    def edit_part(self, index: int, *, program: str, channel: str, low: str, high: str,
                  transpose: str) -> str: ...
    def save_preset_as(self, name: str) -> str: ...
    def current_ports(self) -> PortChoice: ...
    def apply_ports(self, choice: PortChoice) -> str: ...
