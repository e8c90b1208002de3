"""The OSC protocol of the instrument: its addresses, what each takes, how a message is
built, and the stats a subscriber gets.  The server (``livearranger.control``) and the
clients (``livearranger.client``, the attached TUI) share it; nothing here opens a
socket."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from livearranger.errors import LiveArrangerError
from livearranger.stats import Snapshot

DEFAULT_OSC_PORT = 9131
DEFAULT_OSC_HOST = "127.0.0.1"
PREFIX = "/livearranger"
MAX_STRING = 128
SPARKLINE = 32              # the latest latencies a period carries
# the stats of a period besides ``/stats/part`` (one per part) and ``/stats/end``
STATS_ADDRESSES = ("latency", "notes", "parts", "sounding", "preset", "assign", "engine",
                   "mix", "sparkline", "errors", "session")


@dataclass(frozen=True)
class SessionStatus:
    """What a remote UI shows besides the engine's figures: ports, take, synth."""

    api: str = ""
    input: str = ""                 # the keyboard's port ("": none)
    input_lost: bool = False
    outputs: tuple[str, ...] = ()
    recording: str = ""             # the take being recorded ("": none)
    audio: str = ""                 # the built-in synth's audio, one line
    temperature: float = 0.0


class Refused(LiveArrangerError, ValueError):
    """A message the server will not carry out; ``kind`` says which sort of refusal."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


# ------------------------------------------------------------------ arguments
def _name(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_STRING:
        raise TypeError(f"a name (string of 1-{MAX_STRING} characters)")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise TypeError("a number")
    return float(value)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise TypeError("1 or 0 (or True/False)")


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise TypeError("a UDP port 1-65535")
    return value


def _part(value: Any) -> int | str:
    if isinstance(value, bool):
        raise TypeError("a part number from 1, or a part's name")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 1:
        return value
    if isinstance(value, str) and 0 < len(value) <= MAX_STRING:
        return value
    raise TypeError("a part number from 1, or a part's name")


@dataclass(frozen=True)
class Command:
    """An address's arguments (``required`` of ``args`` must be given) and what it does."""

    args: tuple[Callable[[Any], Any], ...]
    required: int
    usage: str


COMMANDS: dict[str, Command] = {
    f"{PREFIX}/panic": Command((), 0, ""),
    f"{PREFIX}/ping": Command((), 0, ""),
    f"{PREFIX}/preset": Command((_name,), 1, "NAME"),
    f"{PREFIX}/arranger": Command((_name,), 1, "NAME"),
    f"{PREFIX}/temperature": Command((_number,), 1, "F"),
    f"{PREFIX}/horizon": Command((_number,), 1, "MS"),
    f"{PREFIX}/record": Command((_flag,), 1, "1|0"),
    f"{PREFIX}/part/mute": Command((_part, _flag), 2, "PART 1|0"),
    f"{PREFIX}/part/solo": Command((_part, _flag), 2, "PART 1|0"),
    f"{PREFIX}/stats/subscribe": Command((_number, _name, _port), 1, "HZ [HOST PORT]"),
    f"{PREFIX}/stats/unsubscribe": Command((_name, _port), 0, "[HOST PORT]"),
}


def check_args(address: str, params: list[Any]) -> list[Any]:
    """``params`` converted for ``address``; Refused naming what is wrong."""
    command = COMMANDS.get(address)
    if command is None:
        raise Refused("unknown address", f"unknown address {address[:MAX_STRING]!r}")
    usage = f"{address} {command.usage}".rstrip()
    if not command.required <= len(params) <= len(command.args):
        raise Refused("bad arguments", f"{usage}: got {len(params)} arguments")
    if address.endswith("/subscribe") and len(params) == 2 \
            or address.endswith("/unsubscribe") and len(params) == 1:
        raise Refused("bad arguments", f"{usage}: HOST and PORT go together")
    out = []
    for i, (convert, value) in enumerate(zip(command.args, params, strict=False)):
        try:
            out.append(convert(value))
        except TypeError as exc:
            raise Refused("bad arguments", f"{usage}: argument {i + 1} must be {exc}, "
                          f"got {type(value).__name__}") from None
    return out


def message(address: str, *args: Any) -> bytes:
    """One OSC message as a datagram."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def _pitches(values: Iterable[int]) -> str:
    return " ".join(str(int(v)) for v in values)


def _or_minus(value: float | None) -> float:
    return -1.0 if value is None else float(value)


def stats_messages(snap: Snapshot, refused: int,
                   status: SessionStatus | None = None) -> list[bytes]:
    """The stats one subscriber gets each period, as datagrams (see the README).  The
    first five are the summary; then what a remote UI draws; ``/stats/end`` last."""
    lat = snap.latency
    sounding = [len(s) for s in snap.sounding]
    last = snap.last_input
    out = [
        message(f"{PREFIX}/stats/latency", float(lat["p50_ms"]), float(lat["p99_ms"]),
                float(lat["max_ms"]), int(lat["count"])),
        message(f"{PREFIX}/stats/notes", snap.notes_in, sum(sounding),
                snap.dropped_note_ons, snap.ignored, snap.moves, refused, snap.doubles,
                snap.caught_up, snap.errors_total),
        message(f"{PREFIX}/stats/parts", *snap.counts),
        message(f"{PREFIX}/stats/sounding", *sounding),
        message(f"{PREFIX}/stats/preset", snap.preset, snap.arranger, float(snap.horizon_ms)),
        message(f"{PREFIX}/stats/assign", float(snap.assign["p50_ms"]),
                float(snap.assign["p99_ms"]), float(snap.assign["max_ms"]),
                int(snap.assign["count"])),
        message(f"{PREFIX}/stats/engine", -1 if snap.realtime is None else int(snap.realtime),
                _or_minus(snap.tempo_bpm), _or_minus(snap.beat),
                -1 if last is None else last[0], -1 if last is None else last[1]),
        message(f"{PREFIX}/stats/mix", _pitches(i + 1 for i in snap.muted),
                _pitches(i + 1 for i in snap.soloed)),
        message(f"{PREFIX}/stats/sparkline", *[float(v) for v in snap.latency_recent[-SPARKLINE:]]),
        message(f"{PREFIX}/stats/errors", *[e[:2 * MAX_STRING] for e in snap.errors]),
    ]
    for i, name in enumerate(snap.part_names):
        out.append(message(f"{PREFIX}/stats/part", i + 1, name, snap.counts[i],
                           _pitches(sorted(snap.sounding[i])), _pitches(snap.recent[i])))
    if status is not None:
        out.append(message(f"{PREFIX}/stats/session", status.api, status.input,
                           int(status.input_lost), " | ".join(status.outputs),
                           status.recording, status.audio, float(status.temperature)))
    out.append(message(f"{PREFIX}/stats/end", len(out)))
    return out
