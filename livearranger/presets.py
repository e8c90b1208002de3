"""Ensembles as TOML presets: parts, programs, channels, ranges, polyphony, arranger.

Shipped presets live in the package (``livearranger.shipped_presets``, the repo's ``presets/``);
a player's own live in ``$XDG_CONFIG_HOME/livearranger/presets`` (default
``~/.config/livearranger/presets``) or ``$LIVEARRANGER_PRESETS``, and win on a name
clash.  Channels in the file are 1..16 as players count them; in memory 0..15.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from livearranger.errors import LiveArrangerError, one_line
from livearranger.events import DRUM_CHANNEL
from livearranger.files import FileProblem, read_limited
from livearranger.gm import PROGRAMS, program_number
from livearranger.registry import arranger_names


class PresetError(LiveArrangerError, ValueError):
    """A preset that cannot be used; the message names the file, the key and the problem."""


@dataclass(frozen=True, slots=True)
class Part:
    """One voice of the ensemble."""

    name: str
    program: int                 # GM program 0..127
    channel: int                 # 0..15
    low: int = 0                 # lowest pitch this part plays
    high: int = 127              # highest pitch this part plays
    mono: bool = False           # one note at a time
    velocity_offset: int = 0
    transpose: int = 0           # semitones added on the way out
    port: str = ""               # optional output port of its own

    def in_range(self, pitch: int) -> bool:
        """True when ``pitch`` lies within this part's range."""
        return self.low <= pitch <= self.high


@dataclass(frozen=True, slots=True)
class HintSpec:
    """Where a player's hints come from (``[hints]`` in a preset; see
    ``livearranger.hints``): ``zone`` (low, high) keys, one per part top to bottom
    from ``low`` (extra keys unused; every key of the zone is silent), and/or ``cc``, a
    controller whose value v > 0 hints part (v - 1) % parts and 0 ends the hint."""

    zone: tuple[int, int] | None = None
    cc: int | None = None
    # keys (one per part from the top) and controllers that mute or solo a part
    mute_zone: tuple[int, int] | None = None
    solo_zone: tuple[int, int] | None = None
    mute_cc: int | None = None
    solo_cc: int | None = None


@dataclass(frozen=True, slots=True)
class Preset:
    """An ensemble: ordered parts (top to bottom) and how notes are assigned to them."""

    name: str
    parts: tuple[Part, ...]
    arranger: str = "closest-pitch"
    model: str = ""              # ONNX file name (shipped) or path
    horizon_ms: float = 0.0      # how long after a key its part may still be corrected
    # a key of a settled chord also sounds on a mono part left without one when the
    # model gives that part at least this probability (a unison); 0: never
    doubling: float = 0.0
    description: str = ""
    hints: HintSpec | None = None   # a player's hints (key zone, controller); None: none
    path: str = field(default="", compare=False)

    @property
    def part_names(self) -> list[str]:
        return [p.name for p in self.parts]


MAX_PRESET_BYTES = 64 * 1024   # a preset file (the shipped ones are under 2 KB)
MAX_TEXT = 100                 # characters in a name, model or port
MAX_PARTS = 15                 # one per channel, channel 10 (drums) excepted
_PRESET_KEYS = {"name", "description", "arranger", "model", "horizon_ms", "doubling",
                "parts", "hints"}
_HINT_ZONES = ("zone", "mute_zone", "solo_zone")
_HINT_CCS = ("cc", "mute_cc", "solo_cc")
_HINT_KEYS = {*_HINT_ZONES, *_HINT_CCS}
# controllers a hint may not take: bank select, sustain, channel mode messages
_RESERVED_CC = {0, 32, 64, *range(120, 128)}
MAX_HORIZON_MS = 50.0   # the longest a key's part may still be corrected (chords.py)
_PART_KEYS = {"name", "program", "channel", "range", "mono", "velocity_offset",
              "transpose", "port"}


def user_preset_dir() -> Path:
    """Folder of the player's own presets (may not exist yet)."""
    env = os.environ.get("LIVEARRANGER_PRESETS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "livearranger" / "presets"


def shipped_preset_dir() -> Path:
    """Folder of the presets that ship with the package (the repo's ``presets/`` when
    running from a source checkout)."""
    installed = resources.files("livearranger") / "shipped_presets"
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "presets"


def _int(where: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PresetError(f"{where}: expected a whole number, got {_show(value)}")
    if not lo <= value <= hi:
        raise PresetError(f"{where}: {value} is outside {lo}..{hi}")
    return value


def _str(where: str, value: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise PresetError(f"{where}: expected text, got {_show(value)}")
    if len(value) > limit:
        raise PresetError(f"{where}: longer than {limit} characters")
    if any(c in value for c in "\n\r\x00"):
        raise PresetError(f"{where}: must be one line")
    return value


def _known_keys(where: str, table: dict[str, Any], known: set[str]) -> None:
    """PresetError naming the first key of ``table`` that is not in ``known``."""
    unknown = sorted(set(table) - known)
    if unknown:
        raise PresetError(f"{where}: unknown key {_show(unknown[0])} "
                          f"(known: {', '.join(sorted(known))})")


def _table(where: str, raw: Any, known: set[str], header: str) -> None:
    """PresetError unless ``raw`` is a TOML table (``header``) of ``known`` keys only."""
    if not isinstance(raw, dict):
        raise PresetError(f"{where}: expected a table ({header})")
    _known_keys(where, raw, known)


def _key_range(where: str, rng: Any) -> tuple[int, int]:
    """A ``[low, high]`` pair of MIDI keys, low not above high."""
    if not (isinstance(rng, list) and len(rng) == 2):
        raise PresetError(f"{where}: expected [low, high], got {_show(rng)}")
    low = _int(where, rng[0], 0, 127)
    high = _int(where, rng[1], 0, 127)
    if low > high:
        raise PresetError(f"{where}: low {low} is above high {high}")
    return low, high


def _part(src: str, index: int, raw: Any) -> Part:
    where = f"{src}: parts[{index}]"
    _table(where, raw, _PART_KEYS, "[[parts]]")
    for key in ("name", "program", "channel"):
        if key not in raw:
            raise PresetError(f"{where}: missing key {key!r}")
    name = _str(f"{where}.name", raw["name"]).strip()
    if not name:
        raise PresetError(f"{where}.name: must not be empty")
    try:
        program = program_number(raw["program"])
    except ValueError as exc:
        raise PresetError(f"{where}.program: {one_line(exc, 200)}") from None
    channel = _int(f"{where}.channel", raw["channel"], 1, 16)
    if channel - 1 == DRUM_CHANNEL:
        raise PresetError(f"{where}.channel: 10 is the General MIDI drum channel")
    low, high = _key_range(f"{where}.range", raw["range"]) if "range" in raw else (0, 127)
    mono = raw.get("mono", False)
    if not isinstance(mono, bool):
        raise PresetError(f"{where}.mono: expected true or false, got {_show(mono)}")
    return Part(
        name=name,
        program=program,
        channel=channel - 1,
        low=low,
        high=high,
        mono=mono,
        velocity_offset=_int(f"{where}.velocity_offset", raw.get("velocity_offset", 0), -127, 127),
        transpose=_int(f"{where}.transpose", raw.get("transpose", 0), -48, 48),
        port=_str(f"{where}.port", raw.get("port", "")),
    )


def _hints(src: str, raw: Any, parts: tuple[Part, ...]) -> HintSpec:
    where = f"{src}: hints"
    _table(where, raw, _HINT_KEYS, "[hints]")
    if not raw:
        raise PresetError(f"{where}: needs at least one of {', '.join(sorted(_HINT_KEYS))}")
    zones: dict[str, tuple[int, int]] = {}
    for name in _HINT_ZONES:
        if name not in raw:
            continue
        low, high = _key_range(f"{where}.{name}", raw[name])
        if high - low + 1 < len(parts):
            raise PresetError(f"{where}.{name}: {high - low + 1} keys for {len(parts)} "
                              f"parts (one key per part, from {low} up)")
        for other, (lo, hi) in zones.items():
            if low <= hi and lo <= high:
                raise PresetError(f"{where}.{name}: keys {low}-{high} overlap {other}")
        zones[name] = (low, high)
    ccs: dict[str, int] = {}
    for name in _HINT_CCS:
        if name not in raw:
            continue
        cc = _int(f"{where}.{name}", raw[name], 1, 119)
        if cc in _RESERVED_CC:
            raise PresetError(f"{where}.{name}: {cc} is the sustain pedal or bank select")
        for other, number in ccs.items():
            if cc == number:
                raise PresetError(f"{where}.{name}: controller {cc} is {other} already")
        ccs[name] = cc
    return HintSpec(zone=zones.get("zone"), cc=ccs.get("cc"),
                    mute_zone=zones.get("mute_zone"), solo_zone=zones.get("solo_zone"),
                    mute_cc=ccs.get("mute_cc"), solo_cc=ccs.get("solo_cc"))


def parse_preset(data: dict[str, Any], src: str = "<preset>") -> Preset:
    """Validate a preset's TOML table; raise PresetError naming src, key and problem."""
    if "grace_ms" in data:
        raise PresetError(f"{src}: grace_ms: no longer used (keys never wait now); "
                          "use horizon_ms, how long a key's part may still be corrected")
    _known_keys(src, data, _PRESET_KEYS)
    name = _str(f"{src}: name", data.get("name", Path(src).stem)).strip()
    if not name:
        raise PresetError(f"{src}: name: must not be empty")
    arranger = _str(f"{src}: arranger", data.get("arranger", "closest-pitch"))

    if arranger not in arranger_names():
        raise PresetError(f"{src}: arranger: unknown arranger {_show(arranger)} "
                          f"(known: {', '.join(arranger_names())})")
    horizon = data.get("horizon_ms", 0.0)
    if isinstance(horizon, bool) or not isinstance(horizon, int | float) \
            or not 0.0 <= horizon <= MAX_HORIZON_MS:
        raise PresetError(f"{src}: horizon_ms: must be a number of milliseconds from 0 to "
                          f"{MAX_HORIZON_MS:g}, got {_show(horizon)}")
    doubling = data.get("doubling", 0.0)
    if isinstance(doubling, bool) or not isinstance(doubling, int | float) \
            or not 0.0 <= doubling <= 1.0:
        raise PresetError(f"{src}: doubling: must be a probability from 0 (never) to 1, "
                          f"got {_show(doubling)}")
    raw_parts = data.get("parts")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise PresetError(f"{src}: parts: at least one [[parts]] table is needed")
    if len(raw_parts) > MAX_PARTS:
        raise PresetError(f"{src}: parts: at most {MAX_PARTS} parts (one per channel but "
                          f"the drum channel), got {len(raw_parts)}")
    parts = tuple(_part(src, i, p) for i, p in enumerate(raw_parts))
    seen: dict[int, str] = {}
    names: set[str] = set()
    for i, part in enumerate(parts):
        if part.channel in seen:
            raise PresetError(f"{src}: parts[{i}].channel: channel {part.channel + 1} is "
                              f"already used by part {seen[part.channel]!r}")
        seen[part.channel] = part.name
        if part.name in names:
            raise PresetError(f"{src}: parts[{i}].name: duplicate part name {_show(part.name)}")
        names.add(part.name)
    hints = _hints(src, data["hints"], parts) if "hints" in data else None
    return Preset(
        name=name,
        parts=parts,
        arranger=arranger,
        model=_str(f"{src}: model", data.get("model", ""), 1024),
        horizon_ms=float(horizon),
        doubling=float(doubling),
        description=_str(f"{src}: description", data.get("description", ""), 2000),
        hints=hints,
        path=src,
    )


def load_preset_file(path: str | Path) -> Preset:
    """Read and validate one preset file (a regular file of at most
    ``MAX_PRESET_BYTES``; TOML is data only: nothing in it runs)."""
    path = Path(path)
    try:
        text = read_limited(path, MAX_PRESET_BYTES, "preset").decode("utf-8-sig")
    except FileProblem as exc:
        raise PresetError(str(exc)) from None
    except UnicodeDecodeError:
        raise PresetError(f"{path}: not a UTF-8 text file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{path}: not valid TOML ({one_line(exc, 200)})") from None
    except RecursionError:
        raise PresetError(f"{path}: not a usable preset (nested too deeply)") from None
    try:
        return parse_preset(data, str(path))
    except RecursionError:
        raise PresetError(f"{path}: not a usable preset (nested too deeply)") from None


def _short(text: str, limit: int) -> str:
    """``text`` (a value's repr) on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _show(value: Any) -> str:
    """A value for an error message: its repr, on one line and short."""
    try:
        return _short(repr(value), 60)
    except RecursionError:
        return "(a deeply nested value)"


def preset_files() -> dict[str, Path]:
    """Every known preset name -> its file; user presets override shipped ones."""
    found: dict[str, Path] = {}
    for folder in (shipped_preset_dir(), user_preset_dir()):
        if folder.is_dir():
            for file in sorted(folder.glob("*.toml")):
                found[file.stem] = file
    return found


def load_preset(name_or_path: str) -> Preset:
    """A preset by name (shipped or user) or by path to a .toml file."""
    if name_or_path.endswith(".toml") or os.sep in name_or_path:
        return load_preset_file(name_or_path)
    files = preset_files()
    if name_or_path not in files:
        known = ", ".join(sorted(files)) or "none"
        raise PresetError(f"no preset named {name_or_path!r} (known: {known})")
    return load_preset_file(files[name_or_path])


def list_presets() -> list[tuple[str, Path]]:
    """(name, file) of every known preset, sorted by name."""
    return sorted(preset_files().items())


def preset_to_toml(preset: Preset) -> str:
    """The TOML text of a preset, as ``load_preset_file`` reads it back."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"name = {q(preset.name)}"]
    if preset.description:
        lines.append(f"description = {q(preset.description)}")
    lines.append(f"arranger = {q(preset.arranger)}")
    if preset.model:
        lines.append(f"model = {q(preset.model)}")
    if preset.horizon_ms:
        lines.append(f"horizon_ms = {preset.horizon_ms:g}")
    if preset.doubling:
        lines.append(f"doubling = {preset.doubling:g}")
    for part in preset.parts:
        lines += [
            "",
            "[[parts]]",
            f"name = {q(part.name)}",
            f"program = {part.program}  # {PROGRAMS[part.program]}",
            f"channel = {part.channel + 1}",
            f"range = [{part.low}, {part.high}]",
            f"mono = {'true' if part.mono else 'false'}",
            f"velocity_offset = {part.velocity_offset}",
            f"transpose = {part.transpose}",
        ]
        if part.port:
            lines.append(f"port = {q(part.port)}")
    hints = preset.hints
    if hints is not None:
        lines += ["", "[hints]"]
        zones = zip(_HINT_ZONES, (hints.zone, hints.mute_zone, hints.solo_zone), strict=True)
        for name, zone in zones:
            if zone is not None:
                lines.append(f"{name} = [{zone[0]}, {zone[1]}]")
        for name, cc in zip(_HINT_CCS, (hints.cc, hints.mute_cc, hints.solo_cc), strict=True):
            if cc is not None:
                lines.append(f"{name} = {cc}")
    return "\n".join(lines) + "\n"


def save_user_preset(preset: Preset, name: str | None = None) -> Path:
    """Write ``preset`` (renamed to ``name`` if given) into the user folder; return its path."""
    name = (name or preset.name).strip()
    if not name or "/" in name or name.startswith("."):
        raise PresetError(f"cannot save a preset named {name!r}")
    folder = user_preset_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    text = preset_to_toml(replace(preset, name=name))
    parse_preset(tomllib.loads(text), str(path))  # never write what we cannot read back
    path.write_text(text, encoding="utf-8")
    return path
