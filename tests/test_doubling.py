"""Unisons: a key of a settled chord also sounds on a mono part left without one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from livearranger.arrangers import make_arranger
from livearranger.arrangers.base import Arranger
from livearranger.engine import Engine
from livearranger.events import Kind, NoteEvent
from livearranger.lab.datasets import Piece
from livearranger.lab.evaluate import Result, replay
from livearranger.recorder import Recorder
from livearranger.router import DelayedOutput, MemoryOutput, Router

# satb: soprano, alto, tenor, bass on channels 0..3, all mono
H = 0.03


class Doubler(Arranger):
    """Keys to fixed parts by pitch; after a chord, the doublings it is told to ask for."""

    name = "doubler"

    def __init__(self, preset, parts, ask):
        super().__init__(preset)
        self.parts, self.ask = parts, ask

    def assign(self, note, state):
        return self.parts[note.pitch]

    def doublings(self, notes, state):
        by_pitch = {n.pitch: n for n in notes}
        return [(by_pitch[k], p) for k, p in self.ask if k in by_pitch]


PARTS = {72: 0, 67: 1, 55: 2, 48: 3, 60: 2, 64: 1}


@pytest.fixture()
def doubling(satb, engine_rig):
    """``doubling(ask)``: (engine, its in-memory output) with a Doubler asking ``ask``."""
    def build(ask):
        rig = engine_rig(satb, Doubler(satb, PARTS, ask), horizon=H)
        rig.out.messages.clear()
        return rig.engine, rig.out
    return build


def _notes(out):
    return [(m[0] & 0xF0, m[0] & 0x0F, m[1]) for _t, _p, m in out.messages
            if m[0] & 0xF0 in (0x80, 0x90) and (m[0] & 0xF0 == 0x80 or m[2])]


def _chord(engine, keys, t=0.0):
    for i, k in enumerate(keys):
        engine.process(NoteEvent(Kind.NOTE_ON, t + 0.002 * i, k, 90))
    engine.settle()


def test_a_doubled_key_sounds_on_both_parts_and_stops_on_both(doubling):
    engine, out = doubling(ask=[(67, 0)])          # soprano sings the alto's 67 too
    _chord(engine, [48, 55, 67])                  # three keys, four voices
    assert _notes(out) == [(0x90, 3, 48), (0x90, 2, 55), (0x90, 1, 67), (0x90, 0, 67)]
    assert engine.doubles == 1 and (0, 67) in engine.router.sounding
    engine.process(NoteEvent(Kind.NOTE_OFF, 1.0, 67, 0))
    assert _notes(out)[-2:] == [(0x80, 1, 67), (0x80, 0, 67)]
    assert engine.router.sounding == {(3, 48), (2, 55)}


def test_a_new_key_on_the_doubling_part_ends_the_unison_first(doubling):
    engine, out = doubling(ask=[(67, 0)])
    _chord(engine, [48, 55, 67])
    engine.process(NoteEvent(Kind.NOTE_ON, 0.5, 72, 90))      # the soprano's own note
    assert _notes(out)[-2:] == [(0x80, 0, 67), (0x90, 0, 72)]
    engine.process(NoteEvent(Kind.NOTE_OFF, 1.0, 67, 0))      # only the alto's left
    assert _notes(out)[-1] == (0x80, 1, 67)
    assert sorted(engine.router.sounding) == [(0, 72), (2, 55), (3, 48)]


def test_impossible_doublings_are_refused(doubling):
    # a part the chord uses, a part out of the key's range, an unknown part, the key's own
    engine, out = doubling(ask=[(67, 2), (48, 0), (55, 9), (55, 2)])
    _chord(engine, [48, 55, 67])
    assert engine.doubles == 0 and len(_notes(out)) == 3
    # a part still sounding a key held over from the chord before
    engine, out = doubling(ask=[(67, 0)])
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 72, 90))
    engine.settle()
    _chord(engine, [48, 55, 67], t=0.5)
    assert engine.doubles == 0


def test_panic_stops_doubles_and_every_output_hears_one_note_off_each(doubling):
    engine, out = doubling(ask=[(67, 0)])
    _chord(engine, [48, 55, 67])
    engine.panic()
    ons = [(c, k) for kind, c, k in _notes(out) if kind == 0x90]
    offs = [(c, k) for kind, c, k in _notes(out) if kind == 0x80]
    assert sorted(ons) == sorted(offs) and not engine.router.sounding
    engine.process(NoteEvent(Kind.NOTE_OFF, 1.0, 67, 0))     # the key comes up later
    assert sorted(offs) == sorted((c, k) for kind, c, k in _notes(out) if kind == 0x80)


def test_records_and_print_outputs_put_the_double_at_the_keys_onset(satb, driven_clock):
    rec = Recorder(satb)
    inner = MemoryOutput()
    delayed = DelayedOutput(inner, H)
    # built by hand: the engine collects its delayed outputs when it is made
    router = Router(satb, [MemoryOutput(), rec, delayed])
    engine = Engine(satb, Doubler(satb, PARTS, [(67, 0)]), router, clock_ns=driven_clock,
                    horizon=H)
    _chord(engine, [48, 55, 67])
    engine.process(NoteEvent(Kind.NOTE_OFF, 1.0, 67, 0))
    on_67 = [(t, p) for t, p, m in rec.events if m[0] & 0xF0 == 0x90 and m[1] == 67]
    assert on_67 == [(0.004, 1), (0.004, 0)]                  # both at the key's onset
    delayed.tick(10.0)
    sent = [(round(t, 6), m[0] & 0x0F) for t, _p, m in inner.messages
            if m[0] & 0xF0 == 0x90 and m[1] == 67]
    assert sent == [(round(0.004 + H, 6), 1), (round(0.004 + H, 6), 0)]


def _piece(preset, pitch, onset, part, mask):
    n = len(pitch)
    return Piece(name="t", part_names=preset.part_names, onset=np.array(onset, float),
                 beat=np.zeros(n), pitch=np.array(pitch, np.int64),
                 velocity=np.full(n, 80, np.int64), offset=np.array(onset, float) + 0.5,
                 part=np.array(part, np.int64), mask=np.array(mask, np.int64))


def test_the_replay_counts_doubles_as_key_part_pairs(satb):
    unison = [8, 4, 3]           # 67 is sung by soprano and alto
    alto_only = [8, 4, 2]
    for mask, ask, precision, recall in ((unison, [(67, 0)], 100.0, 100.0),
                                         (unison, [], 100.0, 75.0),
                                         (alto_only, [(67, 0)], 75.0, 100.0),
                                         (alto_only, [], 100.0, 100.0)):
        piece = _piece(satb, [48, 55, 67], [0.0, 0.002, 0.004], [3, 2, 1], mask)
        got = replay(piece, Doubler(satb, {67: 1, 55: 2, 48: 3}, ask), H)
        res = Result(4)
        res.add(piece, got)
        summary = res.summary()
        assert summary["accuracy"] == 100.0            # the primary parts are all right
        assert (summary["pair_precision"], summary["pair_recall"]) == (precision, recall)


def test_the_model_doubles_only_above_its_threshold(satb, engine_rig):
    chord = [48, 55, 67]       # C3 G3 G4: a three-key chord for four voices
    counts = []
    for threshold in (0.0, 1e-9):
        arr = make_arranger("model", dataclasses.replace(satb, doubling=threshold))
        engine = engine_rig(satb, arr, horizon=H).engine
        _chord(engine, chord)
        counts.append(engine.doubles)
        sounding = engine.router.sounding
        for part in {p for p, _k in sounding}:            # mono: one note per voice
            assert sum(1 for p, _k in sounding if p == part) == 1
    assert counts == [0, 1]          # off: never; a threshold below any probability: one


class Mover(Doubler):
    """A Doubler that, deciding a chord again as a whole, moves key 60 to the soprano."""

    def assign(self, note, state):
        return 0 if self.settling and note.pitch == 60 else super().assign(note, state)


def test_a_key_moved_onto_a_unison_part_ends_the_unison_at_its_own_onset(satb, engine_rig):
    """The record of a move writes the key on its new part from its onset (outputs retag
    its note-on), so the unison it displaced ends there too: one voice never holds two
    keys in what is written, however late the chord settled."""
    rig = engine_rig(satb, Mover(satb, {**PARTS, 50: 3}, [(67, 0)]), horizon=H)
    engine, out = rig.engine, rig.out
    out.messages.clear()
    _chord(engine, [48, 55, 67])                  # the soprano doubles the alto's 67
    for k in (48, 55):
        engine.process(NoteEvent(Kind.NOTE_OFF, 0.4, k, 0))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.5, 50, 90))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.502, 60, 90))   # sounds on the tenor first
    engine.process(NoteEvent(Kind.NOTE_OFF, 0.9, 50, 0))     # the next event settles it
    off = [t for t, _p, m in out.messages if m[0] == 0x80 and m[1] == 67]
    assert engine.moves == 1 and off == [pytest.approx(0.502)]
    assert (0, 60) in engine.router.sounding and (0, 67) not in engine.router.sounding
