"""A client of the instrument's OSC control: ask it things, follow its stats.

``ControlClient`` owns one UDP socket on loopback and one thread that reads it: the
stats of each period (``/livearranger/stats/*`` up to ``/stats/end``) become one
``Snapshot`` and one ``SessionStatus`` (see ``decode``); replies wake the ``ask`` that
waits for them.  Nothing here can hold up the instrument: it is another process, and a
client that quits or crashes only stops receiving.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from pythonosc.osc_packet import OscPacket

from livearranger.errors import LiveArrangerError
from livearranger.osc import DEFAULT_OSC_HOST, PREFIX, SessionStatus, message
from livearranger.stats import Snapshot

ASK_TIMEOUT_S = 5.0       # a preset switch loading a model can take a few seconds
PING_TIMEOUT_S = 0.5
RENEW_S = 3.0             # how often a subscription is renewed (the server keeps one 10 s)


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


def _ints(text: Any) -> list[int]:
    return [int(v) for v in str(text).split()]


def _ms(params: list[Any] | None) -> dict[str, float]:
    p = params or [0.0, 0.0, 0.0, 0]
    return {"p50_ms": float(p[0]), "p99_ms": float(p[1]), "max_ms": float(p[2]),
            "count": int(p[3])}


def decode(period: dict[str, list[Any]],
           parts: dict[int, list[Any]]) -> tuple[Snapshot, SessionStatus]:
    """One period's stats (arguments by address; ``/stats/part`` by part number) as the
    figures the TUI draws."""
    notes = period.get("notes") or [0, 0, 0, 0, 0, 0]
    preset = period.get("preset") or ["", "", 0.0]
    engine = period.get("engine") or [-1, -1.0, -1.0, -1, -1]
    mix = period.get("mix") or ["", ""]
    numbers = sorted(parts)
    realtime, tempo, beat, pitch, velocity = engine
    snap = Snapshot(
        part_names=[str(parts[i][0]) for i in numbers],
        counts=[int(parts[i][1]) for i in numbers],
        sounding=[_ints(parts[i][2]) for i in numbers],
        recent=[_ints(parts[i][3]) for i in numbers],
        latency=_ms(period.get("latency")), assign=_ms(period.get("assign")),
        latency_recent=[float(v) for v in period.get("sparkline", [])],
        notes_in=int(notes[0]), dropped_note_ons=int(notes[2]), ignored=int(notes[3]),
        moves=int(notes[4]), doubles=int(notes[6]) if len(notes) > 6 else 0,
        caught_up=int(notes[7]) if len(notes) > 7 else 0,
        last_input=None if pitch < 0 else (int(pitch), int(velocity)),
        preset=str(preset[0]), arranger=str(preset[1]), horizon_ms=float(preset[2]),
        errors=[str(e) for e in period.get("errors", [])],
        errors_total=int(notes[8]) if len(notes) > 8 else 0,
        tempo_bpm=None if tempo < 0 else float(tempo),
        beat=None if beat < 0 else float(beat),
        realtime=None if realtime < 0 else bool(realtime),
        muted=[i - 1 for i in _ints(mix[0])], soloed=[i - 1 for i in _ints(mix[1])],
    )
    s = period.get("session")
    status = SessionStatus() if s is None else SessionStatus(
        api=str(s[0]), input=str(s[1]), input_lost=bool(s[2]),
        outputs=tuple(o for o in str(s[3]).split(" | ") if o), recording=str(s[4]),
        audio=str(s[5]), temperature=float(s[6]))
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
        self._parts: dict[int, list[Any]] = {}
        self.latest: tuple[Snapshot, SessionStatus] | None = None
        self.periods = 0                  # stats periods received in all
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
                data, _ = self._sock.recvfrom(65536)
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
        if what == "part" and params:
            self._parts[int(params[0])] = params[1:]
        elif what == "end":
            try:
                latest = decode(self._period, self._parts)
            except (ValueError, TypeError, IndexError):   # a period cut short: skip it
                latest = None
            if latest is not None:
                self.latest = latest
                self.periods += 1
                self.last_period = time.monotonic()
            self._period, self._parts = {}, {}
        else:
            self._period[what] = params
