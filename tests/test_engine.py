"""The engine on in-memory ports: routing, note-off bookkeeping, pedal, panic."""

from __future__ import annotations

import os
import threading

import pytest

from livearranger.arrangers import make_arranger
from livearranger.arrangers.base import Arranger
from livearranger.engine import CATCH_UP_LAG_NS, Engine
from livearranger.events import Kind, NoteEvent
from livearranger.router import MemoryOutput, Router


class Fixed(Arranger):
    """Gives notes to parts in a fixed cycle: the engine must not care which."""

    name = "fixed"

    def __init__(self, preset, order):
        super().__init__(preset)
        self.order = list(order)
        self.i = 0

    def assign(self, note, state):
        part = self.order[self.i % len(self.order)]
        self.i += 1
        return part


@pytest.fixture()
def make(preset, engine_rig):
    """``make(preset_name="satb", arranger=None)``: (engine, its output, its preset);
    ``arranger`` a name, or a callable that makes one for the preset."""
    def build(preset_name="satb", arranger=None):
        chosen = preset(preset_name)
        arr = arranger(chosen) if callable(arranger) else arranger or "closest-pitch"
        rig = engine_rig(chosen, arr)
        rig.out.messages.clear()      # drop the program changes of set-up
        return rig.engine, rig.out, chosen
    return build


def on(p, v=90, t=0.0):
    return NoteEvent(Kind.NOTE_ON, t, p, v)


def off(p, t=0.0):
    return NoteEvent(Kind.NOTE_OFF, t, p, 0)


def notes(out):
    return [(m[0] & 0xF0, m[0] & 0x0F, m[1], m[2]) for _t, _p, m in out.messages
            if m[0] & 0xF0 in (0x80, 0x90)]


def test_note_off_follows_its_note_whatever_happens_between(make):
    engine, out, preset = make(arranger=lambda p: Fixed(p, [2, 0, 1]))
    engine.process(on(60))
    engine.process(on(64))
    engine.process(on(67))
    engine.process(off(60))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 64, 0))   # velocity 0 is a note-off
    engine.process(off(67))
    sent = notes(out)
    ch = [p.channel for p in preset.parts]
    assert sent[:3] == [(0x90, ch[2], 60, 90), (0x90, ch[0], 64, 90), (0x90, ch[1], 67, 90)]
    assert sent[3:] == [(0x80, ch[2], 60, 0), (0x80, ch[0], 64, 0), (0x80, ch[1], 67, 0)]
    assert not engine.router.sounding


def test_repeated_note_on_of_a_held_key_leaves_nothing_stuck(make):
    engine, out, preset = make(arranger=lambda p: Fixed(p, [0, 3]))
    engine.process(on(60))
    engine.process(on(60))          # struck again while down: first one is closed
    engine.process(off(60))
    engine.process(off(60))         # a stray second off is ignored
    ch = [p.channel for p in preset.parts]
    assert notes(out) == [(0x90, ch[0], 60, 90), (0x80, ch[0], 60, 0),
                          (0x90, ch[3], 60, 90), (0x80, ch[3], 60, 0)]
    assert not engine.router.sounding and not engine.state.held


def test_sustain_pitchbend_and_aftertouch_go_to_every_part(make):
    engine, out, preset = make()
    engine.process(NoteEvent(Kind.CONTROL, 0.0, 64, 127))
    engine.process(NoteEvent(Kind.PITCHBEND, 0.0, 0, 10000))
    engine.process(NoteEvent(Kind.CONTROL, 0.0, 1, 50))
    engine.process(NoteEvent(Kind.AFTERTOUCH, 0.0, 0, 33))
    channels = {p.channel for p in preset.parts}
    msgs = [m for _t, _p, m in out.messages]
    assert {m[0] & 0x0F for m in msgs if m[:2] == [0xB0 | (m[0] & 0x0F), 64]} == channels
    assert {m[0] & 0x0F for m in msgs if m[0] & 0xF0 == 0xE0
            and (m[1] | m[2] << 7) == 10000} == channels
    assert {m[0] & 0x0F for m in msgs if m[0] & 0xF0 == 0xB0 and m[1] == 1} == channels
    assert {m[0] & 0x0F for m in msgs if m[0] & 0xF0 == 0xD0 and m[1] == 33} == channels


def test_poly_aftertouch_follows_the_key_to_its_part(make):
    engine, out, preset = make(arranger=lambda p: Fixed(p, [1]))
    engine.process(on(62))
    engine.process(NoteEvent(Kind.POLY_AFTERTOUCH, 0.0, 62, 40))
    engine.process(NoteEvent(Kind.POLY_AFTERTOUCH, 0.0, 70, 40))   # key not down: dropped
    poly = [m for _t, _p, m in out.messages if m[0] & 0xF0 == 0xA0]
    assert poly == [[0xA0 | preset.parts[1].channel, 62, 40]]


def test_program_change_and_bank_select_from_keyboard_do_not_break_preset(make):
    engine, out, _preset = make()
    engine.process(NoteEvent(Kind.PROGRAM, 0.0, 5, 0))
    engine.process(NoteEvent(Kind.CONTROL, 0.0, 0, 1))
    assert out.messages == []
    assert engine.ignored == 2


def test_panic_stops_exactly_what_was_sent_and_lifts_pedal(make):
    engine, out, preset = make(arranger=lambda p: Fixed(p, [0, 1, 2]))
    engine.process(NoteEvent(Kind.CONTROL, 0.0, 64, 127))
    for p in (60, 64, 67):
        engine.process(on(p))
    engine.process(off(64))          # released, but the pedal holds it in the synth
    out.messages.clear()
    stopped = engine.panic()
    msgs = [m for _t, _p, m in out.messages]
    ch = [p.channel for p in preset.parts]
    assert stopped == 2
    assert [0x80 | ch[0], 60, 0] in msgs and [0x80 | ch[2], 67, 0] in msgs
    for c in ch:
        assert [0xB0 | c, 64, 0] in msgs and [0xB0 | c, 123, 0] in msgs
    assert not engine.router.sounding and not engine.state.held


def test_all_notes_off_from_keyboard_is_a_panic(make):
    engine, out, _ = make()
    engine.process(on(60))
    engine.process(NoteEvent(Kind.CONTROL, 0.0, 123, 0))
    assert not engine.router.sounding


def test_transpose_and_velocity_offset_apply_on_the_way_out(make):
    engine, out, preset = make("pop-band", arranger=lambda p: Fixed(p, [4, 0]))
    bass, brass = preset.parts[4], preset.parts[0]
    engine.process(on(40, 100))
    engine.process(on(80, 5))
    engine.process(off(40))
    sent = notes(out)
    assert sent[0] == (0x90, bass.channel, 40 + bass.transpose, 100 + bass.velocity_offset)
    assert sent[1] == (0x90, brass.channel, 80, 1)             # clamped, never 0
    assert sent[2] == (0x80, bass.channel, 40 + bass.transpose, 0)


def test_garbage_bytes_are_counted_and_ignored_by_the_thread(make):
    engine, out, _ = make()
    engine.start()
    for junk in ([], [0xFF], [0x90, 200, 1], [0x90, 60], [0x12, 0x34, 0x56],
                 [0xF0, 1, 2, 0xF7], [0x90, 60, 300]):
        engine.feed(junk)
    engine.feed([0xF7])                       # a lone End of Exclusive: not even counted
    engine.feed([0xF8])                       # a clock tick: the clock's, not junk
    engine.feed([0x90, 60, 100])
    engine.feed([0x80, 60, 0])
    assert engine.wait_idle()
    engine.stop()
    assert engine.ignored == 7                # [0x90, 200, 1] is a program change on ch 9
    assert engine.snapshot().ignored == 7 and engine.snapshot().dropped_note_ons == 0
    assert [n[0] for n in notes(out)][:2] == [0x90, 0x80]


def test_messages_caught_in_an_unterminated_sysex_are_played(make):
    """rtmidi hands over everything after a SysEx without its F7 as one message, when an
    F7 arrives: each status byte in it ends the SysEx, and what follows is played."""
    engine, out, preset = make(arranger=lambda p: Fixed(p, [0, 1]))
    engine.start()
    engine.feed([0x90, 60, 100])
    engine.feed([0x90, 64, 100])
    engine.feed([0xF0, 0x7E, 0x01, 0x80, 60, 0, 0xF8, 0x90, 64, 0, 0xF7])
    engine.feed([0x90, 67, 90, 72, 90])       # running status: two note-ons in one
    engine.feed([0x80, 67, 0, 0x80, 72])      # and an incomplete one after a note-off
    assert engine.wait_idle()
    ch = [p.channel for p in preset.parts]
    assert notes(out) == [(0x90, ch[0], 60, 100), (0x90, ch[1], 64, 100),
                          (0x80, ch[0], 60, 0), (0x80, ch[1], 64, 0),
                          (0x90, ch[0], 67, 90), (0x90, ch[1], 72, 90),
                          (0x80, ch[0], 67, 0)]
    assert engine.ignored == 0
    engine.stop()
    assert not engine.router.sounding


def test_thread_records_latency_and_stop_panics(satb):
    # on the real clock (not engine_rig's driven one): latency is measured on it
    engine = Engine(satb, make_arranger("closest-pitch", satb), Router(satb, [MemoryOutput()]))
    engine.start()
    for p in (60, 64, 67):
        engine.feed([0x90, p, 80])
    assert engine.wait_idle()
    snap = engine.snapshot()
    assert snap.latency["count"] == 3 and snap.latency["max_ms"] > 0
    assert sum(snap.counts) == 3 and sum(len(s) for s in snap.sounding) == 3
    engine.stop()
    assert not engine.router.sounding
    assert not engine.running


def test_preset_change_panics_old_parts_then_sets_new_programs(make, preset):
    engine, out, old = make()
    engine.process(on(60))
    new = preset("chiptune")
    engine.set_preset(new, make_arranger("top-bottom", new))
    msgs = [m for _t, _p, m in out.messages]
    first_prog = next(i for i, m in enumerate(msgs) if m[0] & 0xF0 == 0xC0)
    assert any(m[0] & 0xF0 == 0x80 and m[1] == 60 for m in msgs[:first_prog])
    assert {(m[0] & 0x0F, m[1]) for m in msgs if m[0] & 0xF0 == 0xC0} == {
        (p.channel, p.program) for p in new.parts}
    engine.process(on(72))
    assert engine.snapshot().preset == "chiptune"


def test_arranger_for_another_preset_is_refused(satb, preset):
    other = preset("chiptune")
    with pytest.raises(ValueError):
        Engine(satb, make_arranger("zone", other), Router(satb, []))


def test_engine_thread_reports_the_priority_it_runs_at(make):
    engine, _, _ = make()
    assert engine.realtime is None and engine.snapshot().realtime is None
    engine.start()
    try:
        assert engine.wait_idle()
        thread = next(t for t in threading.enumerate() if t.name == "livearranger-engine")
        policy = os.sched_getscheduler(thread.native_id)
        assert engine.realtime == (policy == os.SCHED_FIFO)
        assert engine.snapshot().realtime == engine.realtime
    finally:
        engine.stop()


class Quick(Fixed):
    """Part 0 when asked to assign, part 3 when asked to be quick: tells which ran."""

    def __init__(self, preset):
        super().__init__(preset, [0])
        self.quick = 0

    def decide_quickly(self, note, state):
        self.quick += 1
        return 3


def test_a_note_the_engine_is_behind_on_is_placed_quickly_and_not_corrected(satb,
                                                                            engine_rig):
    arr = Quick(satb)
    rig = engine_rig(satb, arr, horizon=0.030)        # its clock never moves from now
    engine, now = rig.engine, rig.clock()
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 48, 90, stamp=now))      # in time
    assert engine.performer.due() is not None and arr.quick == 0
    late = now - CATCH_UP_LAG_NS - 1_000_000
    engine.process(NoteEvent(Kind.NOTE_ON, 0.001, 72, 90, stamp=late))       # behind
    assert arr.quick == 1 and engine.caught_up == 1
    assert engine.performer.due() is None    # the chord before it was settled first
    assert engine.state.held == {48: 0, 72: 3}
    engine.settle()                           # nothing left to take back
    assert engine.state.held == {48: 0, 72: 3}
    engine.process(NoteEvent(Kind.NOTE_ON, 0.002, 60, 90, stamp=now))     # caught up
    assert arr.quick == 1 and engine.state.held[60] == 0
    assert engine.snapshot().caught_up == 1


def test_a_replayed_note_is_never_behind(make):
    engine, _out, _preset = make(arranger=Quick)
    engine.process(on(60))                    # stamp 0: a file, not a port
    assert engine.arranger.quick == 0 and engine.caught_up == 0


def test_running_status_carries_across_input_events(engine_rig):
    """A note-off sent as its data bytes alone, in an event of its own after its
    note-on (running status across JACK events, as bridges and some programs send it),
    stops the note; a system message in between ends the running status."""
    rig = engine_rig()
    engine = rig.engine
    engine.feed([0x90, 60, 100])
    engine.feed([60, 0])                      # note-off by running status
    engine.feed([0xF8])                       # a clock tick keeps the running status
    engine.feed([64, 90])                     # a second note-on, running status
    engine.feed([64, 0])
    engine.drain()
    assert not engine.router.sounding
    assert [m[1:] for m in rig.sent(0x90)] == [[60, 100], [64, 90]]
    assert len(rig.sent(0x80)) + sum(1 for m in rig.sent(0x90) if m[2] == 0) == 2
    engine.feed([0x90, 67, 100])
    engine.feed([0xF0, 0x7D, 0xF7])           # a SysEx: no running status after it
    engine.feed([67, 0])
    engine.drain()
    assert engine.router.sounding and engine.junk == 2     # the SysEx, the bare bytes
    engine.feed([0x80, 67, 0])
    engine.drain()
    assert not engine.router.sounding


def test_the_inputs_own_lone_end_of_exclusive_keeps_the_running_status(engine_rig):
    """The input's own F7 sender (it ends an unterminated SysEx) sends a lone F7 every
    so often: it is no message of the player's and ends no running status."""
    rig = engine_rig()
    engine = rig.engine
    engine.feed([0x90, 60, 100])
    engine.feed([0xF7])
    engine.feed([60, 0])
    engine.drain()
    assert not engine.router.sounding and engine.junk == 0
