"""The OSC client of an attached UI, against a real ControlServer over UDP: it reads back
exactly the figures the instrument sent, and says why a command was refused."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_packet import OscPacket

from livearranger.client import ControlClient, ControlError, ping
from livearranger.control import ControlServer
from livearranger.osc import SessionStatus, message, stats_messages
from livearranger.stats import Snapshot
from tests.conftest import DrivenClock
from tests.osc_probe import free_udp_port
from tests.test_control import FakeInstrument

# every figure a value that survives OSC's 32-bit floats
SNAP = Snapshot(part_names=["hi", "mid", "lo"], counts=[5, 0, 2],
                sounding=[[72, 76], [], [40]], recent=[[72, 76, 79], [], [40, 43]],
                latency={"p50_ms": 0.5, "p99_ms": 1.25, "max_ms": 3.0, "count": 7},
                assign={"p50_ms": 0.125, "p99_ms": 0.25, "max_ms": 0.5, "count": 7},
                latency_recent=[0.5, 0.75, 1.25], notes_in=9, ignored=2,
                last_input=(43, 88), arranger="zone", preset="trio",
                errors=["one went wrong", "then another"], horizon_ms=30.0, moves=3,
                doubles=1, tempo_bpm=120.0, beat=6.5, dropped_note_ons=4, caught_up=5,
                realtime=True, muted=[1], soloed=[0, 2])
STATUS = SessionStatus(api="jack", input="keys:out", input_lost=True,
                       outputs=("synth", "daw:in"), recording="/tmp/take.mid",
                       audio="synth 5.3 ms", temperature=0.75)


class Instrument(FakeInstrument):
    def snapshot(self) -> Snapshot:
        return SNAP

    def status(self) -> SessionStatus:
        return STATUS


@pytest.fixture()
def attached(driven_clock: DrivenClock):
    fake = Instrument()
    server = ControlServer(fake, port=0, clock=driven_clock.seconds)
    server.start()
    client = ControlClient(server.port)
    yield fake, server, client
    client.close()
    server.stop()


def test_stats_decode_to_the_snapshot_and_status_sent(attached):
    _fake, _server, client = attached
    client.subscribe(10)                      # the first period goes out at once
    deadline = time.monotonic() + 10.0
    while client.latest is None:
        assert time.monotonic() < deadline, "no stats period arrived"
        time.sleep(0.005)
    assert client.latest == (SNAP, STATUS)
    assert client.periods == 1


def test_commands_return_the_ack_and_refusals_raise_the_reason(attached):
    fake, server, client = attached
    assert client.ask("/livearranger/preset", "satb") == "satb"
    assert client.ask("/livearranger/ping") == ""
    with pytest.raises(ControlError, match="that preset is broken"):
        client.ask("/livearranger/preset", "broken")
    assert fake.calls == [("preset", "satb")]
    assert ping(server.port)
    assert not ping(free_udp_port(), timeout=0.2)     # nobody there


def test_no_answer_is_an_error_naming_the_port():
    port = free_udp_port()
    client = ControlClient(port)
    try:
        with pytest.raises(ControlError, match=f"no answer from the instrument on port {port}"):
            client.ask("/livearranger/panic", timeout=0.2)
    finally:
        client.close()


class StandIn:
    """An instrument's socket played by the test: it answers every command with ``ok``
    (so a client can subscribe), learns the client's address from it, and sends the
    client whatever datagrams the test gives it, from the address the client talks to."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.client: tuple[str, int] | None = None
        self.heard = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._answer, daemon=True)
        self._thread.start()

    def _answer(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            for timed in OscPacket(data).messages:
                self.sock.sendto(message("/livearranger/ok", timed.message.address, ""),
                                 sender)
            self.client = sender
            self.heard.set()

    def send(self, datagrams: list[bytes], sock: socket.socket | None = None) -> None:
        assert self.heard.wait(10.0), "the client never spoke to the instrument"
        for data in datagrams:
            (sock or self.sock).sendto(data, self.client)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


GOOD_PERIOD = stats_messages(SNAP, 0, STATUS)
# one wrong value each: what a sender other than our instrument, or a broken one, sends
MALFORMED = [
    ("/livearranger/stats/latency", 0.5, 1.25, 3.0, float("inf")),     # a count of inf
    ("/livearranger/stats/part", "x", "hi", 5, "72 76", "72 76 79"),   # part number "x"
    ("/livearranger/stats/part", 1, "hi", 5, "72 300", "72 76 79"),    # no such key
    ("/livearranger/stats/part", 1, "hi", -5, "72 76", "72 76 79"),    # a negative count
    ("/livearranger/stats/part", 9, "hi", 5, "72 76", "72 76 79"),     # parts 2, 3, 9
    ("/livearranger/stats/part", 1, 7, 5, "72 76", "72 76 79"),        # a name not text
    ("/livearranger/stats/notes", 9, 3, 4, 2, 3, 0, 1, 5, float("nan")),
    ("/livearranger/stats/sparkline", 0.5, float("nan")),
    ("/livearranger/stats/engine", 1, 120.0, 6.5, 43, 1000),           # velocity 1000
    ("/livearranger/stats/engine", 1, float("inf"), 6.5, 43, 88),
    ("/livearranger/stats/mix", "9", ""),                               # no part 9
    ("/livearranger/stats/preset", 5, "zone", 30.0),
    ("/livearranger/stats/preset", "trio", "zone"),                     # one short
    ("/livearranger/stats/session", "jack", "keys:out", 1, "synth", "", "", "hot"),
]


def with_one_wrong(address: str, *args: object) -> list[bytes]:
    """The good period with its first message to ``address`` replaced."""
    out = list(GOOD_PERIOD)
    at = next(i for i, d in enumerate(out) if OscMessage(d).address == address)
    out[at] = message(address, *args)
    return out


@pytest.fixture()
def stand_in():
    instrument = StandIn()
    client = ControlClient(instrument.port)
    client.send("/livearranger/ping")
    yield instrument, client
    client.close()
    instrument.close()


def wait_for_period(client: ControlClient) -> None:
    deadline = time.monotonic() + 10.0
    while client.latest is None:
        assert time.monotonic() < deadline, "no stats period was read"
        time.sleep(0.005)


def test_a_malformed_period_is_counted_and_skipped_and_the_next_one_read(stand_in):
    instrument, client = stand_in
    for address, *args in MALFORMED:
        instrument.send(with_one_wrong(address, *args))
    instrument.send([message("/livearranger/stats/part", [1, 2]),   # an OSC array
                     message("/livearranger/stats/end", 1)])
    instrument.send(GOOD_PERIOD)
    wait_for_period(client)
    assert client.latest == (SNAP, STATUS)
    assert client.periods == 1 and client.rejected == len(MALFORMED) + 1


def test_stats_from_another_sender_are_not_read(stand_in):
    instrument, client = stand_in
    forged = stats_messages(replace(SNAP, preset="forged"), 0, STATUS)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.bind(("127.0.0.1", 0))
        instrument.send(forged, sock=stranger)
    instrument.send(GOOD_PERIOD)
    wait_for_period(client)
    assert client.latest == (SNAP, STATUS) and client.periods == 1
    assert client.strangers == len(forged)
