"""OSC control: argument checks, the server over real UDP against a fake instrument and
a real Session, and mute/solo in the router (never a stuck note)."""

from __future__ import annotations

import os
import time

import pytest

from livearranger.control import (
    COMMANDS_PER_S,
    LOG_KEEP,
    MAX_SUBSCRIBERS,
    Bucket,
    ControlServer,
    SessionStatus,
    message,
)
from livearranger.router import MemoryOutput, Router
from livearranger.session import Session, SessionConfig
from livearranger.stats import Snapshot
from tests.conftest import DrivenClock
from tests.osc_probe import OscClient, free_udp_port


def _snapshot() -> Snapshot:
    return Snapshot(part_names=["a", "b"], counts=[3, 4], sounding=[[60], []], recent=[[], []],
                    latency={"count": 7, "p50_ms": 0.5, "p99_ms": 1.5, "max_ms": 2.0},
                    assign={"count": 7, "p50_ms": 0.1, "p99_ms": 0.2, "max_ms": 0.3},
                    latency_recent=[], notes_in=7, ignored=1, last_input=None,
                    arranger="fake", preset="duo", errors=[])


class FakeInstrument:
    """Records what the server asked of it."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def panic(self) -> None:
        self.calls.append(("panic",))

    def control_preset(self, name: str) -> str:
        if name == "broken":
            raise ValueError("that preset is broken")
        self.calls.append(("preset", name))
        return name

    def control_arranger(self, name: str) -> str:
        self.calls.append(("arranger", name))
        return name

    def control_temperature(self, value: float) -> str:
        self.calls.append(("temperature", value))
        return ""

    def control_horizon(self, ms: float) -> str:
        self.calls.append(("horizon", ms))
        return ""

    def control_record(self, on: bool) -> str:
        self.calls.append(("record", on))
        return ""

    def control_mute(self, part: int | str, on: bool) -> str:
        self.calls.append(("mute", part, on))
        return ""

    def control_solo(self, part: int | str, on: bool) -> str:
        self.calls.append(("solo", part, on))
        return ""

    def snapshot(self) -> Snapshot:
        return _snapshot()

    def status(self) -> SessionStatus:
        return SessionStatus(api="fake", input="keys")


@pytest.fixture()
def served():
    fake = FakeInstrument()
    server = ControlServer(fake, port=0)
    server.start()
    client = OscClient(server.port)
    yield fake, server, client
    client.close()
    server.stop()


@pytest.fixture()
def driven(driven_clock: DrivenClock):
    """A server whose stats, leases and rate limits run on a clock the test moves."""
    fake = FakeInstrument()
    server = ControlServer(fake, port=0, clock=driven_clock.seconds)
    server.start()
    client = OscClient(server.port)
    yield fake, server, client, driven_clock
    client.close()
    server.stop()


def _flush(client: OscClient) -> None:
    """Collect every stats datagram due by now: the server publishes at most once a turn
    (after a stall, the next is due at once: two turns), each turn after a datagram, and
    each ping's pong comes after what it published on earlier turns (one socket, in
    order)."""
    for _ in range(3):
        assert client.ask("/livearranger/ping")[0] == "/livearranger/pong"


def _handled(server: ControlServer, n: int) -> None:
    """Wait until the server has carried out or refused ``n`` commands in all."""
    deadline = time.monotonic() + 10.0
    while server.done + server.refusals() < n:
        assert time.monotonic() < deadline, f"{server.done + server.refusals()} of {n} handled"
        time.sleep(0.001)


def test_commands_reach_the_instrument_and_are_acked(served):
    fake, server, client = served
    assert client.ask("/livearranger/ping") == ("/livearranger/pong", [])
    client.ok("/livearranger/panic")
    client.ok("/livearranger/preset", "satb")
    client.ok("/livearranger/arranger", "zone")
    client.ok("/livearranger/temperature", 0.5)
    client.ok("/livearranger/horizon", 20)
    client.ok("/livearranger/record", 1)
    client.ok("/livearranger/part/mute", 2, True)
    client.ok("/livearranger/part/solo", "b", 0)
    assert fake.calls == [("panic",), ("preset", "satb"), ("arranger", "zone"),
                          ("temperature", 0.5), ("horizon", 20.0), ("record", True),
                          ("mute", 2, True), ("solo", "b", False)]
    address, params = client.ask("/livearranger/preset", "broken")
    assert address == "/livearranger/error" and "broken" in params[0]
    assert server.done == 9 and server.refusals() == 1


def test_junk_is_refused_one_reason_each_and_the_log_stays_bounded(served):
    fake, server, client = served
    client.send_raw(b"")
    client.send_raw(b"\x00garbage")
    client.send("/elsewhere/panic")
    client.send("/livearranger/part/mute", "x")
    assert client.ask("/livearranger/ping")[0] == "/livearranger/pong"
    assert dict(server.log.kinds) == {"malformed": 2, "unknown address": 1,
                                      "bad arguments": 1}
    junk = 3000
    for batch in range(0, junk, 300):          # paced: the kernel drops none of it
        for i in range(batch, batch + 300):
            client.send_raw(os.urandom(1 + i % 97) if i % 3 else
                            message(f"/livearranger/x{i}", i))
        assert client.ask("/livearranger/ping")[0] == "/livearranger/pong"
    assert server.refusals() == junk + 4
    assert len(server.last_reasons()) <= LOG_KEEP
    assert server.log.unlogged > 0
    summary = server.summary()
    assert f"{junk + 4} refused" in summary[0] and "not logged (rate limit)" in summary[0]
    assert fake.calls == []                     # nothing of it reached the instrument


def test_a_command_flood_is_rate_limited(driven):
    fake, server, client, clock = driven
    flood = int(COMMANDS_PER_S) * 3             # at one instant: one burst's worth is done
    for batch in range(0, flood, 50):           # paced: the kernel drops none of it
        for _ in range(50):
            client.send("/livearranger/panic")
        _handled(server, batch + 50)
    assert len(fake.calls) == server.done == COMMANDS_PER_S
    assert server.log.kinds["rate limit"] == flood - COMMANDS_PER_S
    clock.advance(1.0)                          # the bucket refills
    assert client.ask("/livearranger/ping")[0] == "/livearranger/pong"


def _notes(client: OscClient) -> list[list]:
    return [p for _t, a, p in client.stats if a == "/livearranger/stats/notes"]


def test_stats_arrive_at_the_asked_rate_until_unsubscribed(driven):
    _fake, server, client, clock = driven
    client.ok("/livearranger/stats/subscribe", 16)      # 1/16 s and 1/64 s: exact floats
    _flush(client)                              # the first, at once
    for _ in range(64):                         # one second, in steps shorter than a period
        clock.advance(1 / 64)
        _flush(client)
    assert len(_notes(client)) == 1 + 16        # at once, then one each period
    notes = _notes(client)
    assert notes[-1][:5] == [7, 1, 0, 1, 0]     # notes in, sounding, dropped, ignored, moves
    parts = [p for _t, a, p in client.stats if a == "/livearranger/stats/parts"]
    assert parts[-1] == [3, 4]
    latency = [p for _t, a, p in client.stats if a == "/livearranger/stats/latency"]
    assert latency[-1] == [0.5, 1.5, 2.0, 7]
    clock.advance(1.0)                          # a stall: no backlog of 16 caught up,
    _flush(client)                              # the one due and, the schedule restarting
    assert len(_notes(client)) == 1 + 16 + 2    # from now, the next at once
    client.ok("/livearranger/stats/unsubscribe")
    seen = len(client.stats)
    clock.advance(1.0)
    _flush(client)
    assert len(client.stats) == seen


def test_subscribers_are_bounded_and_stats_go_to_the_senders_host_only(served):
    _fake, _server, client = served
    assert client.ask("/livearranger/stats/subscribe", 61)[0] == "/livearranger/error"
    address, params = client.ask("/livearranger/stats/subscribe", 1, "10.1.2.3", 9000)
    assert address == "/livearranger/error" and "own host" in params[0]
    for port in range(MAX_SUBSCRIBERS):
        client.ok("/livearranger/stats/subscribe", 1, "127.0.0.1", 20000 + port)
    address, params = client.ask("/livearranger/stats/subscribe", 1)
    assert address == "/livearranger/error" and "subscribers" in params[0]


def test_bucket_allows_its_rate():
    now = [0.0]
    bucket = Bucket(10.0, clock=lambda: now[0])
    assert sum(bucket.take() for _ in range(50)) == 10
    now[0] = 0.5
    assert sum(bucket.take() for _ in range(50)) == 5


# ---------------------------------------------------------------- a real Session
def _session(port: int) -> Session:
    return Session(SessionConfig(preset="satb", arranger="closest-pitch", api="jack",
                                 input=None, outputs=[], osc_port=port))


def test_a_session_serves_and_releases_its_port_for_the_next():
    port = free_udp_port()
    for _ in range(3):                          # a TUI's restart: stop, then a new Session
        session = _session(port)
        session.start()
        assert session.control is not None and not session.warnings
        client = OscClient(port)
        assert client.ok("/livearranger/horizon", 12) == "correction horizon 12 ms"
        assert session.engine.wait_idle()
        assert session.snapshot().horizon_ms == 12
        address, params = client.ask("/livearranger/preset", "nope")
        assert address == "/livearranger/error" and "unknown preset 'nope'" in params[0]
        client.close()
        session.stop()
        assert any("1 commands done, 1 refused" in n for n in session.notices), \
            session.notices


def test_a_port_in_use_is_a_warning_and_the_instrument_plays_on():
    port = free_udp_port()
    first = _session(port)
    first.start()
    second = _session(port)
    try:
        second.start()
        assert second.engine.running and second.control is None
        assert any("no OSC control" in w for w in second.warnings), second.warnings
    finally:
        second.stop()
        first.stop()


# ---------------------------------------------------------------- mute and solo
def _balanced(messages: list[list[int]]) -> bool:
    sounding: set[tuple[int, int]] = set()
    for m in messages:
        if m[0] & 0xF0 == 0x90 and m[2]:
            sounding.add((m[0] & 0x0F, m[1]))
        elif m[0] & 0xF0 in (0x80, 0x90):
            sounding.discard((m[0] & 0x0F, m[1]))
    return not sounding


def test_mute_stops_what_a_part_sounds_and_keeps_it_silent(satb):
    out = MemoryOutput()
    router = Router(satb, [out])
    ch = router.channels
    router.note_on(0, 72, 90, 0.0)
    router.note_on(1, 64, 90, 0.0)
    router.set_mute(0, True, 1.0)
    assert out.messages[-1][2] == [0x80 | ch[0], 72, 0]
    assert router.sounding == {(1, 64)}
    n = len(out.messages)
    router.note_on(0, 74, 90, 2.0)
    router.note_off(0, 72, 2.0)                 # the key let go: nothing more to say
    router.note_off(0, 74, 2.0)
    assert len(out.messages) == n
    router.move(1, 64, 0, 64, 90, 0.0, 3.0)     # into the muted part: only the note-off
    assert out.messages[-1][2] == [0x80 | ch[1], 64, 0] and not router.sounding
    router.set_mute(0, False, 4.0)
    router.note_on(0, 76, 90, 4.0)
    router.note_off(0, 76, 5.0)
    assert _balanced([m for _t, _p, m in out.messages])


def test_a_key_held_through_mute_and_unmute_gets_one_note_off(satb):
    out = MemoryOutput()
    router = Router(satb, [out])
    router.note_on(0, 72, 90, 0.0)
    router.note_on(0, 76, 90, 0.0)
    router.set_mute(0, True, 1.0)               # both stop here
    router.set_mute(0, False, 2.0)              # heard again; the keys are still down
    router.note_off(0, 72, 3.0)                 # nothing more to say for either
    router.move(0, 76, 1, 64, 90, 0.0, 3.0)     # out of the part: only the new note-on
    offs = [m for _t, _p, m in out.messages if m[0] & 0xF0 == 0x80]
    assert [m[1] for m in offs] == [72, 76]
    assert out.messages[-1][2][0] & 0xF0 == 0x90 and router.sounding == {(1, 64)}
    router.note_off(1, 64, 4.0)
    assert _balanced([m for _t, _p, m in out.messages])


def test_solo_silences_the_other_parts_and_mute_beats_solo(satb):
    out = MemoryOutput()
    router = Router(satb, [out])
    for part in range(4):
        router.note_on(part, 60 + part, 90, 0.0)
    router.set_solo(3, True, 1.0)
    assert router.sounding == {(3, 63)}
    router.set_mute(3, True, 2.0)
    assert not router.sounding and router.silent == {0, 1, 2, 3}
    router.set_mute(3, False, 3.0)
    router.set_solo(3, False, 3.0)
    assert not router.silent
    with pytest.raises(IndexError):
        router.set_mute(4, True, 4.0)
    assert _balanced([m for _t, _p, m in out.messages])


def test_a_subscription_lapses_unless_renewed(driven_clock: DrivenClock):
    clock = driven_clock
    server = ControlServer(FakeInstrument(), port=0, subscription_s=0.5, clock=clock.seconds)
    server.start()
    client = OscClient(server.port)
    try:
        client.ok("/livearranger/stats/subscribe", 16)
        _flush(client)                               # the first, at once
        for _ in range(8):                           # 0.5 s: up to the lease's end
            clock.advance(1 / 16)
            _flush(client)
        seen = len(_notes(client))
        assert seen == 8                             # at 0, 1/16, ... 7/16 s; lapsed at 0.5
        clock.advance(1.0)
        _flush(client)
        assert len(_notes(client)) == seen           # a crashed client costs nothing
        for _ in range(4):                           # renewed in time: stats go on
            client.ok("/livearranger/stats/subscribe", 16)
            before = len(_notes(client))
            clock.advance(0.4)                       # within the lease
            _flush(client)
            assert len(_notes(client)) > before
    finally:
        client.close()
        server.stop()


def test_our_client_keeps_its_subscription_alive(monkeypatch):
    from livearranger import client as client_module
    from livearranger.client import ControlClient

    monkeypatch.setattr(client_module, "RENEW_S", 0.2)
    server = ControlServer(FakeInstrument(), port=0, subscription_s=0.6)
    server.start()
    ours = ControlClient(server.port)
    try:
        ours.subscribe(20)
        time.sleep(2.0)                              # three leases' worth
        periods = ours.periods
        deadline = time.monotonic() + 10.0           # still coming: a new period
        while ours.periods == periods:
            assert time.monotonic() < deadline, "stats stopped: the subscription lapsed"
            time.sleep(0.01)
    finally:
        ours.unsubscribe()
        ours.close()
        server.stop()


def test_stats_are_never_sent_to_the_instruments_own_port(served):
    """A subscription naming the server's own address would have it refuse its own
    datagrams many times a second: it is refused at once."""
    _fake, server, client = served
    for host in ("127.0.0.1", "localhost"):
        address, params = client.ask("/livearranger/stats/subscribe", 10, host, server.port)
        assert address == "/livearranger/error" and "own port" in params[0]
    client.ok("/livearranger/stats/subscribe", 10, "127.0.0.1", server.port + 1)
