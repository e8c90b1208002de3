"""The performer: one decision procedure, told to observers, driven alike by the engine
and by evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from livearranger.arrangers import make_arranger
from livearranger.arrangers.base import Arranger
from livearranger.events import Kind, NoteEvent
from livearranger.lab.datasets import load_pieces
from livearranger.lab.evaluate import performance, replay
from livearranger.performer import Observer, Performer
from livearranger.router import MemoryOutput, Router

H = 0.03


class Fixed(Arranger):
    """Keys to parts by pitch, the same on arrival and at the settle unless told
    otherwise: ``settle_parts`` overrides what a chord's keys get when it settles."""

    name = "fixed"

    def __init__(self, preset, parts, settle_parts=None):
        super().__init__(preset)
        self.parts = parts
        self.settle_parts = settle_parts or {}

    def assign(self, note, state):
        if self.settling and note.pitch in self.settle_parts:
            return self.settle_parts[note.pitch]
        return self.parts[note.pitch]


class Log(Observer):
    def __init__(self):
        self.events = []

    def sounded(self, note, part):
        self.events.append(("sounded", note.pitch, part))

    def moved(self, note, old, part, at):
        self.events.append(("moved", note.pitch, old, part, round(at, 6)))

    def settled(self, notes, at):
        self.events.append(("settled", tuple(n.pitch for n in notes), round(at, 6)))

    def doubled(self, note, part):
        self.events.append(("doubled", note.pitch, part))


def _on(t, key, vel=90):
    return NoteEvent(Kind.NOTE_ON, t, key, vel)


def _off(t, key):
    return NoteEvent(Kind.NOTE_OFF, t, key, 0)


def test_observers_hear_each_sound_move_and_settle_with_its_time(satb):
    arr = Fixed(satb, {72: 1, 67: 0, 55: 2, 60: 2}, settle_parts={72: 0, 67: 1})
    out = MemoryOutput()
    performer = Performer(satb, arr, Router(satb, [out]), horizon=H)
    log = Log()
    performer.observers.append(log)
    performer.process(_on(0.000, 72))
    performer.process(_on(0.004, 55))
    performer.process(_on(0.100, 48 + 12))     # after the deadline: the chord settles first
    assert log.events[:2] == [("sounded", 72, 1), ("sounded", 55, 2)]
    # the settle happened at the deadline, before the late key sounded
    assert ("moved", 72, 1, 0, H) in log.events
    settled = [e for e in log.events if e[0] == "settled"]
    assert settled == [("settled", (55, 72), H)]
    assert log.events.index(settled[0]) < log.events.index(("sounded", 60, 2))
    assert performer.moves == 1


def test_a_crossed_key_moves_its_chord_at_its_own_arrival(satb):
    # 67 arrives first on the top part, 72 then arrives on a lower part: crossed
    arr = Fixed(satb, {67: 0, 72: 1})
    performer = Performer(satb, arr, Router(satb, []), horizon=H)
    log = Log()
    performer.observers.append(log)
    performer.process(_on(0.000, 67))
    performer.process(_on(0.005, 72))
    assert ("moved", 67, 0, 1, 0.005) in log.events
    assert ("sounded", 72, 0) in log.events


def test_without_a_horizon_nothing_is_settled_or_moved(satb):
    arr = Fixed(satb, {72: 1, 67: 0})
    performer = Performer(satb, arr, Router(satb, []))
    log = Log()
    performer.observers.append(log)
    for ev in (_on(0.0, 72), _on(0.001, 67), _off(0.5, 72), _off(0.5, 67)):
        performer.process(ev)
    assert performer.due() is None
    assert [e[0] for e in log.events] == ["sounded", "sounded"]


def test_due_says_when_the_open_chord_must_settle(satb):
    performer = Performer(satb, Fixed(satb, {72: 0, 67: 1, 60: 2, 48: 3}),
                          Router(satb, []), horizon=H)
    assert performer.due() is None
    performer.process(_on(1.0, 72))
    assert performer.due() == pytest.approx(1.0 + H)
    performer.process(_on(1.001, 67))
    performer.process(_on(1.002, 60))
    performer.process(_on(1.003, 48))          # the fourth key of four mono parts
    assert performer.due() is None             # complete: settled with its last key


def _messages(drive):
    out = MemoryOutput()
    drive(out)
    return out.messages


def test_the_engine_plays_exactly_what_the_performer_plays(satb, engine_rig):
    """The engine adds time and threads, never a decision: the same events through
    ``Engine.process`` and ``Performer.process`` send the same messages."""
    piece = load_pieces("bach", "valid", limit=2)[1]
    perf = performance(piece, "as-played", 1)
    events = []
    order = np.lexsort((perf.pitch, perf.onset))
    for j in order.tolist():
        events.append((float(perf.onset[j]), 1, int(perf.pitch[j]), int(perf.velocity[j])))
        events.append((float(perf.offset[j]), 0, int(perf.pitch[j]), 0))
    events.sort(key=lambda e: (e[0], e[1]))

    def stream():
        for t, on, key, vel in events:
            yield NoteEvent(Kind.NOTE_ON if on else Kind.NOTE_OFF, t, key, max(vel, 1))

    rig = engine_rig(satb, "model", horizon=H)      # its clock is never moved
    for ev in stream():
        rig.engine.process(ev)
    rig.engine.settle()

    def with_performer(out):
        arr = make_arranger("model", satb)
        performer = Performer(satb, arr, Router(satb, [out]), horizon=H)
        for ev in stream():
            performer.process(ev)
        performer.settle()

    a, b = rig.out.messages, _messages(with_performer)
    assert len(a) > 100 and a == b


def test_evaluation_counts_what_the_performer_did(satb):
    """Evaluation's replay learns onsets, moves and finals only from the observers: its
    counts agree with the messages a performer sent for the same piece."""
    piece = load_pieces("bach", "valid", limit=1)[0]
    perf = performance(piece, "as-played", 0)
    got = replay(perf, make_arranger("voice-leading", satb), H)
    moved = ~np.isnan(got.moved_after)
    assert got.moves >= int(moved.sum()) > 0
    assert (got.moved_after[moved] >= 0).all() and (got.moved_after[moved] <= H + 1e-9).all()
    # a key that never moved ends where it first sounded
    assert (got.final[~moved] == got.onset[~moved]).all()
