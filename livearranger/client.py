"""A client of the instrument's OSC control: ask it things, follow its stats.

``ControlClient`` owns one UDP socket on loopback and one thread that reads it: the
stats of each period (``/livearranger/stats/*`` up to ``/stats/end``) become one
``Snapshot`` and one ``SessionStatus`` (see ``decode``); replies wake the ``ask`` that
waits for them.  Nothing here can hold up the instrument: it is another process, and a
client that quits or crashes only stops receiving.
"""

from __future__ import annotations

import math
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pythonosc.osc_packet import OscPacket

from livearranger.errors import LiveArrangerError
from livearranger.osc import (
    DEFAULT_OSC_HOST,
    MAX_STRING,
    PREFIX,
    SPARKLINE,
    STATS_ADDRESSES,
    SessionStatus,
    message,
)
from livearranger.presets import MAX_PARTS
from livearranger.stats import Snapshot

ASK_TIMEOUT_S = 5.0       # a preset switch loading a model can take a few seconds
PING_TIMEOUT_S = 0.5
RENEW_S = 3.0             # how often a subscription is renewed (the server keeps one 10 s)
MAX_TEXT = 2 * MAX_STRING  # the longest text of a period drawn (the errors are cut so)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
T = TypeVar("T")


class ControlError(LiveArrangerError):
    """The instrument refused, or did not answer; the message says which and why."""


def ping(port: int, host: str = DEFAULT_OSC_HOST, timeout: float = PING_TIMEOUT_S) -> bool:
    """True when an instrument answers ``/livearranger/ping`` on ``host``:``port``."""
    family, _t, _p, _n, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            sock.sendto(message(f"{PREFIX}/ping"), addr)
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                data, _ = sock.recvfrom(65536)
                if any(m.message.address == f"{PREFIX}/pong"
                       for m in OscPacket(data).messages):
                    return True
        except (OSError, ValueError):     # nothing there (ICMP refused), or junk
            return False
    return False


class BadStats(LiveArrangerError, ValueError):
    """A stats period holding what the protocol does not allow: skipped and counted."""


def _count(value: Any) -> int:
    """A count: a whole number 0..2**31-1 (OSC's int32; a float only when whole)."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value != int(value) or not 0 <= value < 2 ** 31:
        raise BadStats(f"{value!r} is not a count")
    return int(value)


def _real(value: Any, low: float = -math.inf) -> float:
    """A finite number, at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < low:
        raise BadStats(f"{value!r} is not a number from {low:g}")
    return float(value)


def _or_none(value: Any, convert: Callable[[Any], T]) -> T | None:
    """-1 (the protocol's "none"), else ``convert(value)``."""
    return None if value == -1 and not isinstance(value, bool) else convert(value)


def _midi(value: Any) -> int:
    number = _count(value)
    if number > 127:
        raise BadStats(f"{number} is not a MIDI key or velocity")
    return number


def _text(value: Any) -> str:
    """Text as it may be drawn: control characters (terminal escapes among them)
    shown as U+FFFD, cut to ``MAX_TEXT``."""
    if not isinstance(value, str):
        raise BadStats(f"{type(value).__name__} is not text")
    return _CONTROL.sub("\ufffd", value[:MAX_TEXT])


def _numbers(value: Any, convert: Callable[[Any], int]) -> list[int]:
    """Space-separated whole numbers, each through ``convert``."""
    words = _text(value).split()
    if not all(w.isascii() and w.isdigit() and len(w) < 10 for w in words):
        raise BadStats(f"{value!r} is not a list of numbers")
    return [convert(int(w)) for w in words]


def _args(period: dict[str, list[Any]], what: str, default: list[Any],
          n: int) -> list[Any]:
    """The arguments of ``/stats/WHAT`` (``default`` when it did not come), at least n."""
    args = period.get(what)
    if args is None:
        return default
    if len(args) < n:
        raise BadStats(f"/stats/{what}: {len(args)} arguments, not {n}")
    return args


def _ms(args: list[Any]) -> dict[str, float]:
    return {"p50_ms": _real(args[0], 0.0), "p99_ms": _real(args[1], 0.0),
            "max_ms": _real(args[2], 0.0), "count": _count(args[3])}


def decode(period: dict[str, list[Any]],
           parts: list[list[Any]]) -> tuple[Snapshot, SessionStatus]:
    """One period's stats (arguments by address; the arguments of each ``/stats/part``)
    as the figures the TUI draws; BadStats when any of them is not what the protocol
    allows (the UI must never be handed a value it cannot draw)."""
    if len(parts) > MAX_PARTS:
        raise BadStats(f"{len(parts)} parts: at most {MAX_PARTS}")
    by_number: dict[int, list[Any]] = {}
    for args in parts:
        if len(args) < 5:
            raise BadStats(f"/stats/part: {len(args)} arguments, not 5")
        by_number[_count(args[0])] = args
    if sorted(by_number) != list(range(1, len(parts) + 1)):
        raise BadStats(f"parts numbered {sorted(by_number)}, not 1..{len(parts)}")
    ordered = [by_number[i] for i in range(1, len(parts) + 1)]
    notes = [_count(v) for v in _args(period, "notes", [0] * 6, 6)]
    preset = _args(period, "preset", ["", "", 0.0], 3)
    realtime, tempo, beat, pitch, velocity = _args(period, "engine", [-1, -1.0, -1.0, -1, -1],
                                                   5)[:5]
    mix = _args(period, "mix", ["", ""], 2)
    on_and_off = _or_none(realtime, _midi)
    if on_and_off is not None and on_and_off > 1:
        raise BadStats(f"realtime {realtime!r} is not 1, 0 or -1")
    key, strength = _or_none(pitch, _midi), _or_none(velocity, _midi)

    def part_indexes(text: Any) -> list[int]:
        numbers = _numbers(text, _count)
        if not all(1 <= i <= len(ordered) for i in numbers):
            raise BadStats(f"/stats/mix: {text!r} names a part that is not there")
        return [i - 1 for i in numbers]

    snap = Snapshot(
        part_names=[_text(p[1]) for p in ordered],
        counts=[_count(p[2]) for p in ordered],
        sounding=[_numbers(p[3], _midi) for p in ordered],
        recent=[_numbers(p[4], _midi) for p in ordered],
        latency=_ms(_args(period, "latency", [0.0, 0.0, 0.0, 0], 4)),
        assign=_ms(_args(period, "assign", [0.0, 0.0, 0.0, 0], 4)),
        latency_recent=[_real(v, 0.0) for v in period.get("sparkline", [])][-SPARKLINE:],
        notes_in=notes[0], dropped_note_ons=notes[2], ignored=notes[3], moves=notes[4],
        doubles=notes[6] if len(notes) > 6 else 0,
        caught_up=notes[7] if len(notes) > 7 else 0,
        last_input=None if key is None else (key, strength if strength is not None else 0),
        preset=_text(preset[0]), arranger=_text(preset[1]), horizon_ms=_real(preset[2], 0.0),
        errors=[_text(e) for e in period.get("errors", [])],
        errors_total=notes[8] if len(notes) > 8 else 0,
        tempo_bpm=_or_none(tempo, lambda v: _real(v, 0.0)),
        beat=_or_none(beat, lambda v: _real(v, 0.0)),
        realtime=None if on_and_off is None else bool(on_and_off),
        muted=part_indexes(mix[0]), soloed=part_indexes(mix[1]),
    )
    s = period.get("session")
    if s is None:
        return snap, SessionStatus()
    s = _args(period, "session", [], 7)
    if _count(s[2]) > 1:
        raise BadStats(f"input lost {s[2]!r} is not 1 or 0")
    status = SessionStatus(
        api=_text(s[0]), input=_text(s[1]), input_lost=bool(s[2]),
        outputs=tuple(o for o in _text(s[3]).split(" | ") if o), recording=_text(s[4]),
        audio=_text(s[5]), temperature=_real(s[6], 0.0))
    return snap, status


class ControlClient:
    """Talks to the instrument on ``host``:``port`` from a socket of its own."""

    def __init__(self, port: int, host: str = DEFAULT_OSC_HOST) -> None:
        self.port = port
        self.host = host
        family, _t, _p, _n, to = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        self._to: tuple[Any, ...] = to
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.settimeout(0.1)
        self._lock = threading.Condition()
        self._replies: list[tuple[str, list[Any]]] = []
        self._period: dict[str, list[Any]] = {}
        self._parts: list[list[Any]] = []
        self.latest: tuple[Snapshot, SessionStatus] | None = None
        self.periods = 0                  # stats periods received in all
        self.rejected = 0                 # periods skipped: not what the protocol allows
        self.strangers = 0                # datagrams from another sender, not read
        self.last_period = 0.0            # when the latest arrived (monotonic)
        self._hz = 0.0                    # the stats rate asked for (0: none)
        self._renewed = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livearranger-osc-client",
                                        daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ asking
    def send(self, address: str, *args: Any) -> None:
        """Send without waiting for the reply."""
        self._sock.sendto(message(address, *args), self._to)

    def ask(self, address: str, *args: Any, timeout: float = ASK_TIMEOUT_S) -> str:
        """Send and return the ack's detail; ControlError with the instrument's reason
        when it refused, or when no reply came within ``timeout``."""
        with self._lock:
            self._replies.clear()
        self.send(address, *args)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for reply, params in self._replies:
                    if reply == f"{PREFIX}/pong" and address.endswith("/ping"):
                        return ""
                    if params and address in str(params[0]):
                        if reply == f"{PREFIX}/ok":
                            return str(params[1]) if len(params) > 1 else ""
                        raise ControlError(str(params[0]))
                self._replies.clear()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ControlError(f"no answer from the instrument on port {self.port} "
                                       f"to {address[len(PREFIX):]}")
                self._lock.wait(left)

    def subscribe(self, hz: float) -> str:
        """Stats at ``hz``, kept alive from now on: the reader thread renews the
        subscription every ``RENEW_S`` (the instrument lets one lapse that is not)."""
        detail = self.ask(f"{PREFIX}/stats/subscribe", float(hz))
        self._hz = float(hz)
        self._renewed = time.monotonic()
        return detail

    def unsubscribe(self, timeout: float = 1.0) -> None:
        """Stop the stats (best effort: an instrument gone cannot be asked)."""
        self._hz = 0.0
        try:
            self.ask(f"{PREFIX}/stats/unsubscribe", timeout=timeout)
        except (ControlError, OSError):
            pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        while not self._stop.is_set():
            if self._hz and time.monotonic() - self._renewed >= RENEW_S:
                self._renewed = time.monotonic()
                try:                      # the ack comes back like any reply
                    self.send(f"{PREFIX}/stats/subscribe", self._hz)
                except OSError:
                    pass
            try:
                data, sender = self._sock.recvfrom(65536)
                if tuple(sender[:2]) != tuple(self._to[:2]):
                    # only the instrument asked answers: any local process could
                    # send here, and what it sends must not reach the screen
                    self.strangers += 1
                    continue
                messages = OscPacket(data).messages
            except TimeoutError:
                continue
            except OSError:               # an ICMP error of an earlier send
                time.sleep(0.01)
                continue
            except Exception:             # junk from someone else: not ours to read
                continue
            for timed in messages:
                self._take(timed.message.address, list(timed.message.params))

    def _take(self, address: str, params: list[Any]) -> None:
        stats = f"{PREFIX}/stats/"
        if not address.startswith(stats):
            with self._lock:
                self._replies.append((address, params))
                self._lock.notify_all()
            return
        what = address[len(stats):]
        if what == "part":
            if len(self._parts) <= MAX_PARTS:     # more: decode refuses the period
                self._parts.append(params)
        elif what == "end":
            try:
                latest: tuple[Snapshot, SessionStatus] | None = decode(self._period,
                                                                       self._parts)
            except BadStats:
                latest = None
            if latest is None:
                self.rejected += 1
            else:
                self.latest = latest
                self.periods += 1
                self.last_period = time.monotonic()
            self._period, self._parts = {}, []
        elif what in STATS_ADDRESSES:
            self._period[what] = params
