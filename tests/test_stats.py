"""The engine's figures: latency rings, per-part activity and the snapshot handed out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from livearranger.stats import LatencyRing, PartActivity, Snapshot
from tests.conftest import EngineRig


def test_an_empty_ring_summarises_to_zeros() -> None:
    ring = LatencyRing(8)
    assert ring.summary() == {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    assert ring.values().size == 0


def test_summary_percentiles_over_what_was_recorded() -> None:
    ring = LatencyRing(1000)
    for ms in range(1, 101):                 # 1..100 ms, shuffled order must not matter
        ring.add(float((ms * 37) % 100 + 1))
    s = ring.summary()
    assert s["count"] == 100
    assert s["p50_ms"] == pytest.approx(50.5)
    assert s["p99_ms"] == pytest.approx(99.01)
    assert s["max_ms"] == 100.0


def test_a_full_ring_keeps_the_newest_oldest_first_and_counts_them_all() -> None:
    ring = LatencyRing(4)
    for ms in (9.0, 1.0, 2.0, 3.0, 4.0, 5.0):
        ring.add(ms)
    assert ring.values().tolist() == [2.0, 3.0, 4.0, 5.0]
    s = ring.summary()
    assert s["count"] == 6                  # all recorded, not just the ring's size
    assert s["max_ms"] == 5.0               # over the ring: the 9 ms has left it
    assert ring.max_ms == 9.0               # the running maximum remembers it


def test_values_is_a_copy() -> None:
    ring = LatencyRing(4)
    ring.add(1.0)
    vals = ring.values()
    vals[0] = 99.0
    assert ring.values().tolist() == [1.0]
    for ms in (2.0, 3.0, 4.0, 5.0):        # wrapped: the copy is made by concatenation
        ring.add(ms)
    wrapped = ring.values()
    wrapped[:] = 0.0
    assert ring.values().tolist() == [2.0, 3.0, 4.0, 5.0]


def test_clear_starts_again() -> None:
    ring = LatencyRing(4)
    for ms in (7.0, 8.0, 9.0, 10.0, 11.0):
        ring.add(ms)
    ring.clear()
    assert ring.count == 0 and ring.max_ms == 0.0 and ring.values().size == 0
    ring.add(2.0)
    assert ring.values().tolist() == [2.0] and ring.summary()["max_ms"] == 2.0


def test_ring_matches_numpy_over_random_durations() -> None:
    rng = np.random.default_rng(7)
    data = rng.exponential(2.0, 5000)
    ring = LatencyRing(1024)
    for ms in data:
        ring.add(float(ms))
    tail = data[-1024:]
    s = ring.summary()
    assert s["p50_ms"] == pytest.approx(float(np.median(tail)))
    assert s["p99_ms"] == pytest.approx(float(np.percentile(tail, 99)))
    assert ring.max_ms == pytest.approx(float(data.max()))


def test_part_activity_counts_sounding_and_recent() -> None:
    act = PartActivity(["s", "b"])
    assert act.counts == [0, 0] and act.sounding == [set(), set()]
    for pitch in range(60, 70):
        act.on(0, pitch)
    act.on(1, 40)
    act.off(0, 60)
    act.off(0, 127)                        # never sounded: no error
    assert act.counts == [10, 1]
    assert act.sounding[0] == set(range(61, 70)) and act.sounding[1] == {40}
    assert list(act.recent[0]) == list(range(62, 70))        # the last 8
    act.all_off()
    assert act.sounding == [set(), set()] and act.counts == [10, 1]


def test_a_moved_key_counts_for_its_new_part_only() -> None:
    act = PartActivity(["s", "a"])
    act.on(0, 64)
    act.moved(0, 64, 1, 64)
    assert act.counts == [0, 1]
    assert act.sounding == [set(), {64}]
    assert list(act.recent[1]) == [64]


def test_each_part_has_its_own_collections() -> None:
    act = PartActivity(["a", "b", "c"])
    act.on(2, 50)
    assert act.sounding[0] == set() and list(act.recent[1]) == []


def _snapshot(errors: list[str] | None = None, **extra: object) -> Snapshot:
    return Snapshot(part_names=["s"], counts=[1], sounding=[[60]], recent=[[60]],
                    latency={}, assign={}, latency_recent=[], notes_in=1, ignored=0,
                    last_input=(60, 100), arranger="x", preset="p", errors=errors or [],
                    **extra)


def test_snapshot_is_frozen_with_quiet_defaults() -> None:
    snap = _snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.notes_in = 2  # type: ignore[misc]
    assert snap.horizon_ms == 0.0 and snap.moves == 0 and snap.dropped_note_ons == 0
    assert snap.tempo_bpm is None and snap.beat is None and snap.realtime is None
    other = _snapshot()
    snap.notices.append("port lost")
    assert other.notices == []             # no list shared between snapshots



def test_a_snapshot_made_without_a_total_counts_its_errors() -> None:
    assert _snapshot().errors_total == 0
    assert _snapshot(["a", "b"]).errors_total == 2
    assert _snapshot(["a", "b"], errors_total=40).errors_total == 40


def test_the_engine_shows_its_latest_errors_and_the_routers_in_order(
        engine_rig: Callable[..., EngineRig]) -> None:
    """Past 100 errors the snapshot still shows the latest (it showed the first 100's
    last ten), the engine's and the router's in the order they happened."""
    from livearranger.events import Kind, NoteEvent
    from livearranger.router import Output

    class Unplugged(Output):
        def send(self, part: int, message: list[int], time: float) -> None:
            if message[0] & 0xF0 == 0x90:
                raise OSError(f"unplugged at pitch {message[1]}")

    engine = engine_rig("satb", "closest-pitch").engine
    engine.router.add_output(Unplugged())
    for i in range(120):
        engine.process(NoteEvent(Kind.NOTE_ON, 0.1 * i, 40 + i % 40, 90))
        engine.process(NoteEvent(Kind.NOTE_OFF, 0.1 * i + 0.05, 40 + i % 40, 0))
    engine.arranger.assign = lambda note, state: 1 / 0      # type: ignore[method-assign]
    engine.process(NoteEvent(Kind.NOTE_ON, 20.0, 70, 90))
    snap = engine.snapshot()
    assert snap.errors_total == 122
    assert len(snap.errors) == 10
    assert snap.errors[-3] == "Unplugged: unplugged at pitch 79"      # the 120th note
    assert "ZeroDivisionError" in snap.errors[-2]                     # the engine's
    assert snap.errors[-1] == "Unplugged: unplugged at pitch 70"      # sounded all the same
