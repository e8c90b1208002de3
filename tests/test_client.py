"""The OSC client of an attached UI, against a real ControlServer over UDP: it reads back
exactly the figures the instrument sent, and says why a command was refused."""

from __future__ import annotations

import time

import pytest

from livearranger.client import ControlClient, ControlError, ping
from livearranger.control import ControlServer
from livearranger.osc import SessionStatus
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
