"""The grace window: which keys are decided together, in what order, and that the engine
(streaming, synchronous and on its own thread) decides exactly what the offline replay
decides."""

from __future__ import annotations

import time

import numpy as np
import pytest

from livearranger.arrangers import make_arranger
from livearranger.chords import MAX_GRACE, ChordGate, check_grace, chord_size, schedule
from livearranger.datasets import load_pieces
from livearranger.engine import Engine
from livearranger.evaluate import evaluate_assign, performance, replay
from livearranger.events import Kind, NoteEvent
from livearranger.presets import load_preset
from livearranger.router import MemoryOutput, Router


def _arr(*xs):
    return np.array(xs, dtype=np.float64)


def test_without_grace_every_key_is_decided_on_arrival():
    on, off, pitch = _arr(0.0, 0.01, 0.5), _arr(0.4, 0.3, 1.0), np.array([60, 64, 67])
    steps = schedule(on, off, pitch, None)
    assert [(k, j) for k, j, _p, _t in steps] == [(1, 0), (1, 1), (0, 1), (0, 0), (1, 2),
                                                    (0, 2)]
    assert all(p == () for _k, _j, p, _t in steps)
    assert [t for k, _j, _p, t in steps if k == 1] == [0.0, 0.01, 0.5]


def test_a_spread_chord_is_decided_lowest_first_at_the_deadline():
    # 67 then 60 then 64 within 12 ms; 72 arrives after the 15 ms deadline
    on = _arr(0.000, 0.005, 0.012, 0.020)
    off, pitch = on + 1.0, np.array([67, 60, 64, 72])
    steps = [s for s in schedule(on, off, pitch, 0.015) if s[0] == 1]
    assert [(j, p) for _k, j, p, _t in steps] == [(1, (64, 67)), (2, (67,)), (0, ()),
                                                  (3, ())]
    assert [t for *_x, t in steps] == pytest.approx([0.015, 0.015, 0.015, 0.035])


def test_release_or_restrike_of_a_waiting_key_decides_its_chord_at_once():
    on, off, pitch = _arr(0.0, 0.004), _arr(0.006, 1.0), np.array([60, 64])
    steps = schedule(on, off, pitch, 0.015)
    assert [(k, j) for k, j, _p, _t in steps[:3]] == [(1, 0), (1, 1), (0, 0)]
    assert steps[0][3] == pytest.approx(0.006)       # decided when 60 came up
    on, off, pitch = _arr(0.0, 0.003), _arr(0.002, 1.0), np.array([60, 60])
    kinds = [(k, j) for k, j, _p, _t in schedule(on, off, pitch, 0.015)]
    assert kinds == [(1, 0), (0, 0), (1, 1), (0, 1)]


def test_a_full_chord_does_not_wait_for_the_deadline():
    """Four monophonic parts take at most four keys: the fourth closes the gate."""
    assert chord_size(load_preset("satb")) == 4
    assert chord_size(load_preset("string-quartet")) is None     # double stops
    on = _arr(0.0, 0.002, 0.004, 0.006, 0.008)
    steps = [s for s in schedule(on, on + 1.0, np.array([60, 64, 67, 72, 76]), 0.015, 4)
             if s[0] == 1]
    assert [t for *_x, t in steps] == pytest.approx([0.006] * 4 + [0.023])
    gate = ChordGate(0.015, 2)
    assert not gate.add(NoteEvent(Kind.NOTE_ON, 0.0, 60, 80))
    assert gate.add(NoteEvent(Kind.NOTE_ON, 0.001, 64, 80))


def test_grace_limits():
    assert check_grace(None) is None and check_grace(0) is None
    assert check_grace(MAX_GRACE) == MAX_GRACE
    for bad in (-0.001, 0.05):
        with pytest.raises(ValueError, match="grace window"):
            check_grace(bad)


def test_gate_closes_on_deadline_and_waiting_keys():
    gate = ChordGate(0.015)
    assert not gate and not gate.closes_before(5.0)
    gate.add(NoteEvent(Kind.NOTE_ON, 1.0, 67, 80))
    gate.add(NoteEvent(Kind.NOTE_ON, 1.01, 60, 80))
    assert gate and gate.deadline == pytest.approx(1.015)
    assert not gate.closes_before(1.012) and not gate.closes_before(1.012, 64)
    assert gate.closes_before(1.012, 60) and gate.closes_before(1.02)
    assert [n.pitch for n in gate.take()] == [60, 67] and not gate


def _engine_parts(perf, preset, arranger, grace):
    """Play ``perf`` into Engine.process; the part of every note, in the piece's order."""
    out = MemoryOutput()
    engine = Engine(preset, arranger, Router(preset, [out]), grace=grace)
    events = []
    for j in range(len(perf)):
        events.append((float(perf.offset[j]), 0, j))
        events.append((float(perf.onset[j]), 1, j))
    events.sort()
    sent: dict[int, NoteEvent] = {}
    for t, kind, j in events:
        p = int(perf.pitch[j])
        if kind:
            ev = NoteEvent(Kind.NOTE_ON, t, p, int(perf.velocity[j]))
            sent[j] = ev
        else:
            ev = NoteEvent(Kind.NOTE_OFF, t, p, 0)
        engine.process(ev)
    engine.stop()
    assert not engine.router.sounding                 # nothing left stuck
    return np.array([sent[j].part for j in range(len(perf))])


@pytest.mark.parametrize("name", ["voice-leading", "closest-pitch"])
def test_engine_decides_what_the_replay_decides(name):
    preset = load_preset("satb")
    piece = load_pieces("bach", "test", 2)[1]
    perf = performance(piece, "as-played", 1)
    for grace in (None, 0.015):
        arr = make_arranger(name, preset)
        expected = replay(perf, arr.assign, 4, arr.reset, grace, arr.assign_chord,
                          size=chord_size(preset))
        got = _engine_parts(perf, preset, make_arranger(name, preset), grace)
        assert np.array_equal(got, expected), grace


def test_grace_helps_voice_leading_on_spread_chords():
    preset = load_preset("satb")
    pieces = load_pieces("bach", "test", 6)
    acc = {}
    for grace in (None, 0.015):
        arr = make_arranger("voice-leading", preset)
        r = evaluate_assign(pieces, "as-played", lambda a=arr: (a.assign, a.reset,
                                                               a.assign_chord), 4, grace=grace)
        acc[grace] = r["accuracy"]
        if grace:
            assert 0 < r["wait_mean_ms"] <= r["wait_max_ms"] <= 15.0 + 1e-6
        else:
            assert r["wait_max_ms"] == 0.0
    assert acc[0.015] > acc[None] + 3.0


def _gated_engine(arranger: str = "closest-pitch", grace: float | None = 0.015):
    """An engine on satb with a grace window (None: none), its output emptied of the
    set-up."""
    preset = load_preset("satb")
    out = MemoryOutput()
    engine = Engine(preset, make_arranger(arranger, preset), Router(preset, [out]),
                    grace=grace)
    out.messages.clear()
    return engine, out


def _chord_messages(out):
    return [(m[0] & 0xF0, m[1]) for _t, _p, m in out.messages if m[0] & 0xF0 in (0x80, 0x90)]


def test_engine_thread_sends_a_waiting_chord_at_its_deadline():
    engine, out = _gated_engine("voice-leading", 0.010)
    engine.start()
    try:
        engine.feed([0x90, 67, 90])
        engine.feed([0x90, 48, 90])
        engine.feed([0x90, 60, 90])
        deadline = time.monotonic() + 2.0
        while len(_chord_messages(out)) < 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        sent = _chord_messages(out)
        assert [p for _k, p in sent] == [48, 60, 67]          # lowest first, all three
        parts = [part for _t, part, m in out.messages if m[0] & 0xF0 == 0x90]
        assert parts == sorted(parts, reverse=True)            # no crossing
        snap = engine.snapshot()
        assert snap.grace_ms == pytest.approx(10.0)
        assert snap.latency["max_ms"] >= 9.0                    # the wait is in the figure
    finally:
        engine.stop()
    assert not engine.router.sounding


def test_panic_drops_waiting_keys_and_their_release_is_harmless():
    engine, out = _gated_engine()
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 60, 90))
    engine.panic(0.001)
    engine.process(NoteEvent(Kind.NOTE_OFF, 0.002, 60, 0))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.1, 64, 90))
    engine.stop(time_s=0.2)
    assert [p for k, p in _chord_messages(out) if k == 0x90] == [64]
    assert not engine.router.sounding


def test_a_key_released_inside_the_window_still_sounds_then_stops():
    engine, out = _gated_engine()
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 60, 90))
    engine.process(NoteEvent(Kind.NOTE_OFF, 0.005, 60, 0))
    assert _chord_messages(out) == [(0x90, 60), (0x80, 60)]
    engine.set_grace(None)
    engine.process(NoteEvent(Kind.NOTE_ON, 0.1, 62, 90))
    assert _chord_messages(out)[-1] == (0x90, 62) and engine.grace is None
    with pytest.raises(ValueError):
        engine.set_grace(0.5)


def test_a_failing_arranger_loses_no_waiting_key():
    engine, out = _gated_engine()

    def broken(notes, state, commit):
        commit(notes[0], 3)
        raise RuntimeError("model crashed")

    engine.arranger.assign_chord = broken
    for p in (48, 60, 67):
        engine.process(NoteEvent(Kind.NOTE_ON, 0.001 * p / 60, p, 90))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.5, 72, 90))    # after the deadline
    sent = [p for k, p in _chord_messages(out) if k == 0x90]
    assert sent == [48, 60, 67]
    assert any("model crashed" in e for e in engine.errors)
    engine.stop(time_s=1.0)
    assert not engine.router.sounding


def test_a_failing_arranger_still_sounds_a_key_without_window():
    engine, out = _gated_engine(grace=None)
    engine.arranger.assign = lambda note, state: 1 / 0
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 60, 90))
    assert [p for k, p in _chord_messages(out) if k == 0x90] == [60]
    assert any("ZeroDivisionError" in e for e in engine.errors)
