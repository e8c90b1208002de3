"""A test-side OSC client: asks the instrument over real UDP and collects its stats."""

from __future__ import annotations

import socket
import time
from typing import Any

from pythonosc.osc_packet import OscPacket

from livearranger.osc import message

REPLIES = ("/livearranger/ok", "/livearranger/error", "/livearranger/pong")


def free_udp_port() -> int:
    """A UDP port on loopback that nothing uses now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OscClient:
    """Sends to ``port`` on loopback; keeps the stats it receives apart from replies."""

    def __init__(self, port: int) -> None:
        self.to = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.stats: list[tuple[float, str, list[Any]]] = []

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(message(address, *args), self.to)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.to)

    def receive(self, timeout: float) -> tuple[str, list[Any]] | None:
        """The next message that is not stats (those are kept in ``stats``), or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65536)
            except TimeoutError:
                return None
            for timed in OscPacket(data).messages:
                m = timed.message
                if m.address.startswith("/livearranger/stats/"):
                    self.stats.append((time.monotonic(), m.address, list(m.params)))
                else:
                    return m.address, list(m.params)
        return None

    def ask(self, address: str, *args: Any, timeout: float = 10.0) -> tuple[str, list[Any]]:
        """Send and wait for the reply to it (its ok, an error naming it, or the pong),
        passing over replies to earlier messages."""
        self.send(address, *args)
        deadline = time.monotonic() + timeout
        while (got := self.receive(deadline - time.monotonic())) is not None:
            reply, params = got
            if (reply == "/livearranger/pong" and address.endswith("/ping")
                    or reply in REPLIES[:2] and params and address in str(params[0])):
                return got
        raise AssertionError(f"no reply to {address} {args}")

    def ok(self, address: str, *args: Any) -> str:
        """``ask``, which must succeed; the ack's detail."""
        got = self.ask(address, *args)
        assert got[0] == "/livearranger/ok" and got[1][0] == address, got
        return str(got[1][1])

    def wait_stats(self, predicate, timeout: float = 10.0) -> list[Any]:
        """The first ``/livearranger/stats/notes`` arguments (from now) that satisfy
        ``predicate``."""
        start = len(self.stats)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _t, address, params in self.stats[start:]:
                if address == "/livearranger/stats/notes" and predicate(params):
                    return params
            start = len(self.stats)
            self.receive(0.05)
        raise AssertionError(f"no stats as wanted; last: {self.stats[-5:]}")

    def close(self) -> None:
        self.sock.close()
