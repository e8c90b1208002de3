"""The OSC protocol: what each address takes, and the stats datagrams a remote UI
decodes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pythonosc.osc_message import OscMessage

from livearranger.client import decode
from livearranger.osc import PREFIX, Refused, check_args, message, stats_messages
from livearranger.stats import Snapshot

SNAP = Snapshot(part_names=["a", "b"], counts=[3, 4], sounding=[[60], []], recent=[[], []],
                latency={"count": 7, "p50_ms": 0.5, "p99_ms": 1.5, "max_ms": 2.0},
                assign={"count": 7, "p50_ms": 0.1, "p99_ms": 0.2, "max_ms": 0.3},
                latency_recent=[], notes_in=7, ignored=1, last_input=None,
                arranger="fake", preset="duo", errors=[])


def test_arguments_are_checked_by_count_and_type():
    assert check_args("/livearranger/part/mute", [2, 1]) == [2, True]
    assert check_args("/livearranger/part/solo", ["alto", False]) == ["alto", False]
    assert check_args("/livearranger/horizon", [20]) == [20.0]
    bad = [("/livearranger/nowhere", []), ("/livearranger/preset", []),
           ("/livearranger/preset", [3]), ("/livearranger/panic", [1]),
           ("/livearranger/record", [2]), ("/livearranger/part/mute", [0, 1]),
           ("/livearranger/temperature", [float("nan")]), ("/livearranger/horizon", [True]),
           ("/livearranger/stats/subscribe", [10, "127.0.0.1"]),
           ("/livearranger/stats/subscribe", [10, "127.0.0.1", 70000])]
    for address, params in bad:
        with pytest.raises(Refused):
            check_args(address, params)


def test_a_message_is_one_datagram_with_its_arguments():
    msg = OscMessage(message(f"{PREFIX}/part/mute", 2, True, "alto", 0.5))
    assert msg.address == "/livearranger/part/mute"
    assert msg.params == [2, True, "alto", 0.5]


def test_stats_end_with_their_count_and_name_every_part():
    datagrams = [OscMessage(d) for d in stats_messages(SNAP, 3)]
    assert datagrams[-1].address == f"{PREFIX}/stats/end"
    assert datagrams[-1].params == [len(datagrams) - 1]
    parts = [m.params for m in datagrams if m.address == f"{PREFIX}/stats/part"]
    assert [p[:3] for p in parts] == [[1, "a", 3], [2, "b", 4]]
    notes = next(m.params for m in datagrams if m.address == f"{PREFIX}/stats/notes")
    assert notes[0] == 7 and notes[5] == 3          # notes in; refusals


def test_stats_carry_the_latest_errors_and_their_total_to_a_remote_ui():
    """A remote UI tells new errors by the total, as the local one does."""
    snap = replace(SNAP, errors=[f"error {i}" for i in range(3, 13)], errors_total=12)
    period: dict = {}
    parts: list = []
    for datagram in stats_messages(snap, 0):
        msg = OscMessage(datagram)
        what = msg.address.rsplit("/", 1)[1]
        if what == "part":
            parts.append(list(msg.params))
        else:
            period[what] = list(msg.params)
    got, _status = decode(period, parts)
    assert got.errors == snap.errors and got.errors_total == 12
