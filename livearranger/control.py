"""The instrument as an OSC server: presets, arranger, panic, mute and stats over UDP.

One thread of its own receives datagrams (python-osc parses them), checks each
message's address and arguments (``livearranger.osc``) and calls the ``Controlled``
target (a ``Session``), whose changes reach the engine through the engine's own queue:
nothing here runs on the engine's or a MIDI API's thread.  The same thread publishes
stats to subscribers at the rate each asked for.  Anything it cannot use (a malformed
datagram, an unknown address, wrong arguments, a flood) is refused with one reason:
counted always, kept in a bounded log (at most ``LOG_PER_S`` a second, the last
``LOG_KEEP``) and answered with ``/livearranger/error`` (at most ``ERRORS_PER_S``; a
command done is acked, and at most ``COMMANDS_PER_S`` are done).
The music never waits for any of it.  Bundles' time tags are ignored: all runs now.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pythonosc
from pythonosc.osc_packet import OscPacket, ParseError

from livearranger.errors import ErrorLog, LiveArrangerError, one_line
from livearranger.osc import (
    DEFAULT_OSC_HOST,
    DEFAULT_OSC_PORT,
    PREFIX,
    Refused,
    SessionStatus,
    check_args,
    message,
    stats_messages,
)
from livearranger.stats import Snapshot

MAX_STATS_HZ = 60.0
MAX_SUBSCRIBERS = 8
SUBSCRIPTION_S = 10.0           # a subscription lapses unless subscribed again within this
MAX_MESSAGES_PER_PACKET = 32
COMMANDS_PER_S = 100.0          # commands carried out, a second (bursts of as many)
LOG_PER_S = 10.0                # refusals logged, a second (all are counted)
LOG_KEEP = 100
ERRORS_PER_S = 50.0             # error replies sent back, a second
_POLL_S = 0.1                   # longest wait for a datagram (how soon ``stop`` is seen)


class Controlled(Protocol):
    """What the server drives (``Session``).  Each raises with a readable message when
    it cannot do what is asked; each returns a short line for the ack."""

    def panic(self) -> None: ...
    def control_preset(self, name: str) -> str: ...
    def control_arranger(self, name: str) -> str: ...
    def control_temperature(self, value: float) -> str: ...
    def control_horizon(self, ms: float) -> str: ...
    def control_record(self, on: bool) -> str: ...
    def control_mute(self, part: int | str, on: bool) -> str: ...
    def control_solo(self, part: int | str, on: bool) -> str: ...
    def snapshot(self) -> Snapshot: ...
    def status(self) -> SessionStatus: ...


class OscUnavailable(LiveArrangerError, OSError):
    """OSC control that cannot listen where asked (the port taken, an unknown host)."""


class Bucket:
    """A token bucket: ``take`` is True at most ``rate`` times a second on average, in
    bursts of at most ``burst``."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = rate if burst is None else burst
        self.tokens = self.burst
        self._clock = clock
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RefusalLog:
    """Every refusal counted by kind; the reasons of the last ``keep`` logged, at most
    ``per_s`` a second (the rest only counted)."""

    def __init__(self, keep: int = LOG_KEEP, per_s: float = LOG_PER_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.kinds: Counter[str] = Counter()
        self.reasons = ErrorLog(keep)
        self.unlogged = 0
        self._bucket = Bucket(per_s, clock=clock)

    @property
    def count(self) -> int:
        return sum(self.kinds.values())

    def add(self, kind: str, reason: str) -> None:
        self.kinds[kind] += 1
        if self._bucket.take():
            self.reasons.add(reason)
        else:
            self.unlogged += 1


class _QuietPythonOsc(logging.Filter):
    """python-osc warns through the root logger about each odd datagram: a flood would
    print thousands of lines.  The server counts those datagrams itself instead."""

    _folder = str(Path(pythonosc.__file__).parent)

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.pathname.startswith(self._folder)


@dataclass
class _Subscriber:
    address: tuple[str, int]
    period: float
    due: float
    expires: float                  # a client that crashed stops counting after this


class ControlServer:
    """OSC over UDP on ``host``:``port`` (0: any free port; ``port`` says which after
    ``start``) driving ``target``.  ``start`` raises OSError when it cannot bind.
    ``clock`` (seconds) paces stats, leases and rate limits (tests drive it)."""

    def __init__(self, target: Controlled, host: str = DEFAULT_OSC_HOST,
                 port: int = DEFAULT_OSC_PORT,
                 subscription_s: float = SUBSCRIPTION_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self._clock = clock
        self.subscription_s = subscription_s
        self.host = host
        self.port = port
        self.done = 0                       # commands carried out
        self.log = RefusalLog(clock=clock)
        self._lock = threading.Lock()       # the log and counts, read by ``summary``
        self._commands = Bucket(COMMANDS_PER_S, clock=clock)
        self._errors = Bucket(ERRORS_PER_S, clock=clock)
        self._subscribers: dict[tuple[str, int], _Subscriber] = {}
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._quiet = _QuietPythonOsc()

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Bind and start serving (OscUnavailable, the address named, when it cannot)."""
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise OscUnavailable(f"OSC control cannot listen on udp {self.host}:{self.port}: "
                                 f"{exc.strerror or exc}") from None
        family, _type, _proto, _name, addr = infos[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind(addr)
        except OSError as exc:
            sock.close()
            raise OscUnavailable(f"OSC control cannot listen on udp {self.host}:{self.port}: "
                                 f"{exc.strerror or exc}") from None
        self._sock = sock
        self.port = sock.getsockname()[1]
        logging.getLogger().addFilter(self._quiet)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="livearranger-osc",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port (it can be bound again at once)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
            logging.getLogger().removeFilter(self._quiet)
        self._subscribers.clear()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------ reading
    def summary(self) -> list[str]:
        """What the server did, for a report: one line, then the latest reasons."""
        with self._lock:
            log = self.log
            kinds = ", ".join(f"{n} {k}" for k, n in log.kinds.most_common())
            line = (f"OSC control on udp {self.host}:{self.port}: {self.done} commands "
                    f"done, {log.count} refused" + (f" ({kinds})" if kinds else ""))
            if log.unlogged:
                line += f"; {log.unlogged} refusals not logged (rate limit)"
            return [line] + [f"OSC refused: {r}" for r in log.reasons.latest(3)]

    def refusals(self) -> int:
        with self._lock:
            return self.log.count

    def last_reasons(self, n: int = LOG_KEEP) -> list[str]:
        with self._lock:
            return self.log.reasons.latest(n)

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            now = self._clock()
            wait = _POLL_S
            for sub in self._subscribers.values():
                wait = min(wait, max(sub.due - now, 0.0))
            sock.settimeout(wait if wait > 0 else 0.0)
            try:
                data, sender = sock.recvfrom(65536)
            except (BlockingIOError, TimeoutError):
                pass
            except OSError:              # e.g. an ICMP error of an earlier send
                time.sleep(0.001)
            else:
                self._datagram(data, sender[:2])
            if self._subscribers:
                self._publish(self._clock())

    def _refuse(self, kind: str, reason: str, sender: tuple[str, int]) -> None:
        with self._lock:
            self.log.add(kind, reason)
        if self._errors.take():
            self._send(sender, message(f"{PREFIX}/error", reason))

    def _send(self, to: tuple[str, int], data: bytes) -> bool:
        sock = self._sock
        if sock is None:
            return False
        try:
            sock.sendto(data, to)
        except OSError:
            return False
        return True

    def _datagram(self, data: bytes, sender: tuple[str, int]) -> None:
        try:
            messages = OscPacket(data).messages
        except ParseError:
            return self._refuse("malformed", f"malformed datagram of {len(data)} bytes "
                                f"from {sender[0]}:{sender[1]}", sender)
        except Exception as exc:         # the parser's own failures on odd bytes
            return self._refuse("malformed", f"malformed datagram of {len(data)} bytes "
                                f"({type(exc).__name__})", sender)
        if not messages:
            return self._refuse("malformed", "empty bundle", sender)
        if len(messages) > MAX_MESSAGES_PER_PACKET:
            return self._refuse("too many messages", f"bundle of {len(messages)} messages "
                                f"(at most {MAX_MESSAGES_PER_PACKET})", sender)
        for timed in messages:
            self._message(timed.message.address, list(timed.message.params), sender)

    def _message(self, address: str, params: list[Any], sender: tuple[str, int]) -> None:
        try:
            args = check_args(address, params)
            if not self._commands.take():
                raise Refused("rate limit", f"{address}: more than {COMMANDS_PER_S:g} "
                              "commands a second")
            detail = self._carry_out(address, args, sender)
        except Refused as exc:
            return self._refuse(exc.kind, str(exc), sender)
        except Exception as exc:         # the target said no: report, serve on
            return self._refuse("failed", f"{address}: {one_line(exc)}", sender)
        with self._lock:
            self.done += 1
        if address.endswith("/ping"):
            self._send(sender, message(f"{PREFIX}/pong"))
        else:
            self._send(sender, message(f"{PREFIX}/ok", address, detail))

    def _carry_out(self, address: str, args: list[Any], sender: tuple[str, int]) -> str:
        target = self.target
        what = address[len(PREFIX) + 1:]
        if what == "panic":
            target.panic()
            return "all notes off"
        if what == "ping":
            return ""
        if what == "preset":
            return target.control_preset(args[0])
        if what == "arranger":
            return target.control_arranger(args[0])
        if what == "temperature":
            return target.control_temperature(args[0])
        if what == "horizon":
            return target.control_horizon(args[0])
        if what == "record":
            return target.control_record(args[0])
        if what == "part/mute":
            return target.control_mute(args[0], args[1])
        if what == "part/solo":
            return target.control_solo(args[0], args[1])
        if what == "stats/subscribe":
            return self._subscribe(args, sender)
        return self._unsubscribe(args, sender)

    # ------------------------------------------------------------ stats
    def _subscribe(self, args: list[Any], sender: tuple[str, int]) -> str:
        hz = args[0]
        if not 0 < hz <= MAX_STATS_HZ:
            raise Refused("bad arguments", f"{PREFIX}/stats/subscribe: HZ must be above 0 "
                          f"and at most {MAX_STATS_HZ:g}, got {hz:g}")
        to = (args[1], args[2]) if len(args) == 3 else sender
        if to[0] != sender[0] and to[0] not in ("127.0.0.1", "localhost", "::1"):
            raise Refused("bad arguments", f"{PREFIX}/stats/subscribe: stats go to the "
                          f"sender's own host only, not {to[0]!r}")
        if to[1] == self.port and to[0] in (self.host, "127.0.0.1", "localhost", "::1"):
            raise Refused("bad arguments", f"{PREFIX}/stats/subscribe: stats go to a "
                          f"client, not to the instrument's own port {self.port}")
        if to not in self._subscribers and len(self._subscribers) >= MAX_SUBSCRIBERS:
            raise Refused("too many subscribers", f"{PREFIX}/stats/subscribe: already "
                          f"{MAX_SUBSCRIBERS} subscribers")
        now = self._clock()
        old = self._subscribers.get(to)
        due = now if old is None else min(old.due, now + 1.0 / hz)    # a renewal: on time
        self._subscribers[to] = _Subscriber(to, 1.0 / hz, due, now + self.subscription_s)
        return f"stats to {to[0]}:{to[1]} at {hz:g} Hz for {self.subscription_s:g} s"

    def _unsubscribe(self, args: list[Any], sender: tuple[str, int]) -> str:
        to = (args[0], args[1]) if len(args) == 2 else sender
        if self._subscribers.pop(to, None) is None:
            raise Refused("bad arguments", f"{PREFIX}/stats/unsubscribe: {to[0]}:{to[1]} "
                          "is not subscribed")
        return f"no more stats to {to[0]}:{to[1]}"

    def _publish(self, now: float) -> None:
        lapsed = [to for to, s in self._subscribers.items() if s.expires <= now]
        for to in lapsed:                # not renewed: its client is gone
            del self._subscribers[to]
        due = [s for s in self._subscribers.values() if s.due <= now]
        if not due:
            return
        try:
            datagrams = stats_messages(self.target.snapshot(), self.refusals(),
                                       self.target.status())
        except Exception:                # a snapshot that failed: try next time
            datagrams = []
        for sub in due:
            # on schedule, without catching up a backlog after a stall
            sub.due = max(sub.due + sub.period, now)
            for data in datagrams:
                self._send(sub.address, data)
