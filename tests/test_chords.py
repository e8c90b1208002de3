"""The correction horizon: which keys are decided again together, in what order; that
every key sounds at once and a corrected key moves cleanly; and that the engine on its
own thread decides exactly what the offline replay decides."""

from __future__ import annotations

import time

import numpy as np
import pytest

from livearranger.arrangers import make_arranger
from livearranger.arrangers.base import Arranger
from livearranger.chords import (
    MAX_GROUP,
    MAX_HORIZON,
    HorizonGroup,
    check_horizon,
    chord_size,
)
from livearranger.engine import Engine
from livearranger.events import Kind, NoteEvent
from livearranger.lab.datasets import load_pieces
from livearranger.lab.evaluate import evaluate_assign, performance, replay
from livearranger.performer import Observer, Performer
from livearranger.recorder import Recorder
from livearranger.router import DelayedOutput, MemoryOutput, Router


class _Log(Arranger, Observer):
    """Lowest key on the top part, as a rule would: logs each decision (key, the keys
    still pending, whether a chord is settling) and each settle (keys, time)."""

    name = "log"

    def __init__(self, preset):
        super().__init__(preset)
        self.decisions: list[tuple[int, tuple[int, ...], bool]] = []
        self.settles: list[tuple[tuple[int, ...], float]] = []

    def assign(self, note, state):
        self.decisions.append((note.pitch, tuple(state.pending), self.settling))
        return self.constraints.candidates(note.pitch, state, note.time)[0]

    def settled(self, notes, at):
        self.settles.append((tuple(n.pitch for n in notes), at))


def _play(preset, on, off, pitch, horizon):
    """The notes' keys down and up through a performer (releases first at equal times)."""
    log = _Log(preset)
    performer = Performer(preset, log, Router(preset, []), horizon)
    performer.observers.append(log)
    events = sorted([(t, 1, p) for t, p in zip(on, pitch, strict=True)]
                    + [(t, 0, p) for t, p in zip(off, pitch, strict=True)])
    for t, down, p in events:
        performer.process(NoteEvent(Kind.NOTE_ON if down else Kind.NOTE_OFF, t, int(p), 80))
    performer.settle()
    return log


def test_without_horizon_every_key_is_decided_on_arrival(satb):
    log = _play(satb, (0.0, 0.01, 0.5), (0.4, 0.3, 1.0), (60, 64, 67), None)
    assert log.decisions == [(60, (), False), (64, (), False), (67, (), False)]
    assert log.settles == []


def test_a_spread_chord_is_settled_lowest_first_at_the_deadline(satb):
    # 67 then 60 then 64 within 12 ms; 72 arrives after the 15 ms deadline
    log = _play(satb, (0.000, 0.005, 0.012, 0.020), (1, 1, 1, 1), (67, 60, 64, 72), 0.015)
    settled = [d for d in log.decisions if d[2]]
    assert settled == [(60, (64, 67), True), (64, (67,), True), (67, (), True)]
    assert log.settles == [((60, 64, 67), pytest.approx(0.015))]
    assert log.decisions[-1] == (72, (), False)       # alone: decided once, on arrival


def test_release_or_restrike_of_a_key_in_the_group_settles_it_at_once(satb):
    log = _play(satb, (0.0, 0.004), (0.006, 1.0), (60, 64), 0.015)
    assert log.settles == [((60, 64), pytest.approx(0.006))]     # when 60 came up
    log = _play(satb, (0.0, 0.003), (0.002, 1.0), (60, 60), 0.015)
    assert log.settles == []           # a lone key let go: nothing learnt, nothing decided
    assert [d[0] for d in log.decisions] == [60, 60]


def test_a_complete_chord_settles_without_waiting_and_groups_are_bounded(satb, quartet):
    """Four monophonic parts take at most four keys: the fourth completes the chord."""
    assert chord_size(satb) == 4
    assert chord_size(quartet) is None     # double stops
    on = (0.0, 0.002, 0.004, 0.006, 0.008)
    log = _play(satb, on, [t + 1.0 for t in on], (60, 64, 67, 72, 76), 0.015)
    assert log.settles == [((60, 64, 67, 72), pytest.approx(0.006))]
    assert (72, (), False) not in log.decisions        # the completing key: decided once
    assert log.decisions[-1] == (76, (), False)
    group = HorizonGroup(0.015, 2)
    group.add(NoteEvent(Kind.NOTE_ON, 0.0, 60, 80))
    assert not group.full and not group.closes_before(0.001)
    group.add(NoteEvent(Kind.NOTE_ON, 0.001, 64, 80))
    assert group.full and group.closes_before(0.001)
    unbounded = HorizonGroup(0.015, None)        # polyphonic parts: MAX_GROUP keys at most
    for i in range(MAX_GROUP):
        unbounded.add(NoteEvent(Kind.NOTE_ON, 0.0, 40 + i, 80))
    assert unbounded.full


def test_horizon_limits():
    assert check_horizon(None) is None and check_horizon(0) is None
    assert check_horizon(MAX_HORIZON) == MAX_HORIZON
    for bad in (-0.001, MAX_HORIZON + 0.001):
        with pytest.raises(ValueError, match="horizon"):
            check_horizon(bad)


def test_group_closes_on_deadline_and_its_own_keys():
    group = HorizonGroup(0.015)
    assert not group and not group.closes_before(5.0)
    group.add(NoteEvent(Kind.NOTE_ON, 1.0, 67, 80))
    group.add(NoteEvent(Kind.NOTE_ON, 1.01, 60, 80))
    assert group and group.deadline == pytest.approx(1.015)
    assert not group.closes_before(1.012) and not group.closes_before(1.012, 64)
    assert group.closes_before(1.012, 60) and group.closes_before(1.02)
    assert [n.pitch for n in group.take()] == [60, 67] and not group


def _events(perf):
    """(time, 0 off | 1 on, index), releases first at equal times (as the replay plays)."""
    events = []
    for j in range(len(perf)):
        events.append((float(perf.offset[j]), 0, j))
        events.append((float(perf.onset[j]), 1, j))
    events.sort()
    return events


@pytest.mark.parametrize("name", ["voice-leading", "closest-pitch", "model"])
def test_engine_thread_decides_what_the_replay_decides(satb, engine_rig, name):
    """The same performance fed to the engine thread (stamped, on a frozen clock so that
    only the notes' own times close chords) ends on the parts the replay gives."""
    piece = load_pieces("bach", "test", 2)[1]
    perf = performance(piece, "as-played", 1)
    for horizon in (None, 0.030):
        expected = replay(perf, make_arranger(name, satb), horizon)
        rec = Recorder(satb)
        rig = engine_rig(satb, name, horizon=horizon)     # its clock is never moved
        engine, start = rig.engine, rig.clock()
        engine.router.add_output(rec)
        owner: dict[int, int] = {}
        engine.start()
        for t, kind, j in _events(perf):
            p = int(perf.pitch[j])
            if kind:
                owner[p] = j
                engine.feed([0x90, p, max(1, int(perf.velocity[j]))], start + int(t * 1e9))
            elif owner.get(p) == j:
                del owner[p]
                engine.feed([0x80, p, 0], start + int(t * 1e9))
        assert engine.wait_idle(30.0)
        engine.stop()
        assert not engine.router.sounding and list(engine.errors) == []
        got = sorted((t, m[1], part) for t, part, m in rec.events
                     if m[0] & 0xF0 == 0x90 and m[2] > 0)
        want = sorted([(float(perf.onset[j]), int(perf.pitch[j]), int(expected.final[j]))
                       for j in range(len(perf))]
                      + [(float(perf.onset[j]), int(perf.pitch[j]), int(expected.double[j]))
                         for j in range(len(perf)) if expected.double[j] >= 0])   # unisons
        assert len(got) == len(want)
        assert [(k, part) for _t, k, part in got] == [(k, part) for _t, k, part in want]
        assert np.allclose([t for t, _k, _p in got], [t for t, _k, _p in want])
        if horizon:
            # every key not ending where it sounded moved; some moved as their chord
            # arrived (uncrossed), some of those back again
            assert engine.moves == expected.moves >= int(
                (expected.final != expected.onset).sum()) > 0


def test_the_horizon_helps_voice_leading_on_spread_chords(satb):
    pieces = load_pieces("bach", "test", 6)
    acc = {}
    for horizon in (None, 0.030):
        r = evaluate_assign(pieces, "as-played", make_arranger("voice-leading", satb),
                            horizon=horizon)
        acc[horizon] = r["accuracy"]
        if horizon:
            assert 0 < r["moves_per_100"] < 50
            assert 0 < r["moved_after_p50_ms"] <= r["moved_after_p99_ms"] <= 30.0 + 1e-6
            assert r["accuracy_onset"] < r["accuracy"]
        else:
            assert r["moves_per_100"] == 0 and r["accuracy_onset"] == r["accuracy"]
    assert acc[0.030] > acc[None] + 5.0


@pytest.fixture()
def horizon_engine(satb, engine_rig):
    """``horizon_engine(arranger="voice-leading", horizon=0.030)``: (engine, its output)
    on satb with a correction horizon, the output emptied of the set-up."""
    def build(arranger: str = "voice-leading", horizon: float | None = 0.030):
        rig = engine_rig(satb, arranger, horizon=horizon)
        rig.out.messages.clear()
        return rig.engine, rig.out
    return build


def _engine_with(preset, clock, outputs):
    """Voice-leading on ``preset`` with a 30 ms horizon playing into ``outputs`` as well,
    built by hand: the outputs must be in its router when the engine is made, which is
    when it collects the delayed ones it ticks."""
    return Engine(preset, make_arranger("voice-leading", preset),
                  Router(preset, [MemoryOutput(), *outputs]), clock_ns=clock, horizon=0.030)


def _notes(out):
    return [(m[0] & 0xF0, m[0] & 0x0F, m[1]) for _t, _p, m in out.messages
            if m[0] & 0xF0 in (0x80, 0x90)]


def _follow(sent):
    """Per key (first channel, last channel, moves) from note messages, checking that a
    key sounds on one channel at a time: every note-off on the channel it sounds on,
    a move = its note-off there, then its note-on on another channel."""
    out: dict[int, list[int]] = {}
    sounding: dict[int, int] = {}
    for kind, ch, key in sent:
        if kind == 0x90:
            assert key not in sounding, f"key {key} struck twice without a note-off"
            sounding[key] = ch
            if key in out:
                assert ch != out[key][1]
                out[key][1] = ch
                out[key][2] += 1
            else:
                out[key] = [ch, ch, 0]
        else:
            assert sounding.pop(key) == ch, f"key {key} let go on the wrong channel"
    return {k: tuple(v) for k, v in out.items()}


def _spread_chord(engine, t0=0.0):
    """A chord struck top note first, then the bass, then the inner voices: voice-leading
    key by key puts the first keys wrong, as a whole it places them in order."""
    for dt, p in ((0.000, 72), (0.004, 48), (0.008, 60), (0.012, 64)):
        engine.process(NoteEvent(Kind.NOTE_ON, t0 + dt, p, 90))


def test_every_key_sounds_at_once_and_a_corrected_key_moves_cleanly(horizon_engine):
    engine, out = horizon_engine()
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 72, 90))
    assert _notes(out) == [(0x90, out.messages[0][2][0] & 0x0F, 72)]   # no wait
    for dt, p in ((0.004, 48), (0.008, 60)):
        engine.process(NoteEvent(Kind.NOTE_ON, dt, p, 90))
    # key by key the rule put 72 below where 60 then went: the keys so far are put
    # back in pitch order on the parts they hold (72 moves up, 60 sounds below it)
    keys = _follow(_notes(out))
    assert sum(m for _f, _l, m in keys.values()) == engine.moves > 0
    assert keys[72][1] < keys[60][1] < keys[48][1]
    assert keys[60][2] == keys[48][2] == 0                    # the new key did not move
    # the key completing the chord is decided with the others before it sounds: the
    # chord settles on it, and that key sounds once, on its final part, never moving
    before = len(_notes(out))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.012, 64, 90))
    assert (engine.performer.due() or 0) != float("-inf") and engine.performer.due() is None
    sent = _notes(out)
    assert [m for m in sent[before:] if m[2] == 64] == [(0x90, 1, 64)]
    keys = _follow(sent)                                      # moves are clean
    assert sum(m for _f, _l, m in keys.values()) == engine.moves
    assert max(m for _f, _l, m in keys.values()) <= 2
    parts = {ev_key: ch for kind, ch, ev_key in sent if kind == 0x90}
    assert [parts[k] for k in (72, 64, 60, 48)] == [0, 1, 2, 3]   # in order, top to bottom
    for p in (72, 48, 60, 64):
        engine.process(NoteEvent(Kind.NOTE_OFF, 0.5, p, 0))
    assert not engine.router.sounding
    offs = [(ch, k) for kind, ch, k in _notes(out)[-4:]]
    assert sorted(offs) == sorted((parts[k], k) for k in (72, 48, 60, 64))
    snap = engine.snapshot()
    assert snap.moves == engine.moves and snap.horizon_ms == pytest.approx(30.0)
    assert sum(snap.counts) == 4                               # a move is no new note


def test_a_record_holds_final_parts_at_original_times(satb, driven_clock):
    rec = Recorder(satb)
    engine = _engine_with(satb, driven_clock, [rec])
    rec.events.clear()
    _spread_chord(engine, 1.0)
    engine.settle()
    for p in (72, 48, 60, 64):
        engine.process(NoteEvent(Kind.NOTE_OFF, 1.5, p, 0))
    assert engine.moves > 0
    ons = [(t, part, m[1]) for t, part, m in rec.events if m[0] & 0xF0 == 0x90]
    offs = [(part, m[1]) for _t, part, m in rec.events if m[0] & 0xF0 == 0x80]
    assert sorted(ons) == [(1.0, 0, 72), (1.004, 3, 48), (1.008, 2, 60), (1.012, 1, 64)]
    assert sorted(offs) == sorted((part, key) for _t, part, key in ons)   # no trace of a move
    for _t, part, m in rec.events:
        assert m[0] & 0x0F == satb.parts[part].channel


def test_print_output_is_delayed_by_exactly_the_horizon_with_final_parts_only(satb,
                                                                            driven_clock):
    daw = MemoryOutput()
    delayed = DelayedOutput(daw, 0.030)
    engine = _engine_with(satb, driven_clock, [delayed])
    delayed.tick(1e9)
    daw.messages.clear()
    _spread_chord(engine, 1.0)
    assert delayed.tick(1.029) == pytest.approx(1.030) and daw.messages == []
    engine.settle()                               # moves before anything is due
    assert engine.moves > 0
    delayed.tick(1.030)
    assert [(part, m[1]) for _t, part, m in daw.messages] == [(0, 72)]
    assert daw.messages[0][0] == pytest.approx(1.030)
    delayed.tick(1.042)
    assert [(part, m[1]) for _t, part, m in daw.messages] == [(0, 72), (3, 48), (2, 60),
                                                               (1, 64)]
    assert [t for t, _p, _m in daw.messages] == pytest.approx([1.030, 1.034, 1.038, 1.042])
    assert all(m[0] & 0xF0 == 0x90 for _t, _p, m in daw.messages)   # no move to hear
    for p in (72, 48, 60, 64):
        engine.process(NoteEvent(Kind.NOTE_OFF, 1.5, p, 0))
    engine.stop(time_s=1.6)                        # what is still due goes out on close
    offs = [(part, m[1]) for _t, part, m in daw.messages if m[0] & 0xF0 == 0x80]
    assert sorted(offs) == [(0, 72), (1, 64), (2, 60), (3, 48)]


def test_engine_thread_settles_a_chord_at_its_deadline(satb):
    # on the real clock (not engine_rig's driven one): with nothing arriving, time
    # passing is what closes the chord here
    out = MemoryOutput()
    engine = Engine(satb, make_arranger("voice-leading", satb), Router(satb, [out]),
                    horizon=0.010)
    out.messages.clear()
    engine.start()
    try:
        engine.feed([0x90, 67, 90])
        engine.feed([0x90, 48, 90])
        engine.feed([0x90, 60, 90])
        assert engine.wait_idle()
        deadline = time.monotonic() + 2.0
        while engine.performer.due() is not None and time.monotonic() < deadline:
            time.sleep(0.002)                    # nothing else arrives: the clock closes it
        assert engine.performer.due() is None and engine.wait_idle()
        ons = [(ch, k) for kind, ch, k in _notes(out) if kind == 0x90]
        keys = _follow(_notes(out))
        assert list(keys) == [67, 48, 60]                 # each sounded as it came
        final = {k: ch for ch, k in ons}         # the latest note-on of each key
        assert [final[k] for k in (67, 60, 48)] == sorted(final[k] for k in (67, 60, 48))
        assert engine.moves == len(ons) - 3 > 0
    finally:
        engine.stop()
    assert not engine.router.sounding


def test_panic_ends_the_group_and_stops_its_keys(horizon_engine):
    engine, out = horizon_engine()
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 60, 90))
    engine.panic(0.001)
    assert engine.performer.due() is None and not engine.router.sounding
    engine.process(NoteEvent(Kind.NOTE_OFF, 0.002, 60, 0))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.1, 64, 90))
    engine.stop(time_s=0.2)
    assert [k for kind, _c, k in _notes(out) if kind == 0x90] == [60, 64]
    assert not engine.router.sounding


def test_a_key_released_inside_the_horizon_settles_its_chord_first(horizon_engine):
    engine, out = horizon_engine()
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 60, 90))
    engine.process(NoteEvent(Kind.NOTE_OFF, 0.005, 60, 0))
    assert [(kind, k) for kind, _c, k in _notes(out)] == [(0x90, 60), (0x80, 60)]
    assert engine.performer.due() is None
    engine.set_horizon(None)
    engine.process(NoteEvent(Kind.NOTE_ON, 0.1, 62, 90))
    assert _notes(out)[-1][::2] == (0x90, 62) and engine.horizon is None
    assert engine.performer.due() is None
    with pytest.raises(ValueError):
        engine.set_horizon(0.5)


def test_a_failing_arranger_keeps_the_chord_as_it_sounds(horizon_engine):
    engine, out = horizon_engine("closest-pitch")

    def broken(notes, state, commit):
        commit(notes[0], 3)
        raise RuntimeError("model crashed")

    engine.arranger.assign_chord = broken
    for p in (48, 60, 67):
        engine.process(NoteEvent(Kind.NOTE_ON, 0.001 * p / 60, p, 90))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.5, 72, 90))    # after the deadline
    sent = [k for kind, _c, k in _notes(out) if kind == 0x90]
    assert sent[:3] == [48, 60, 67] and sent[-1] == 72
    assert any("model crashed" in e for e in engine.errors)
    assert engine.state.pending == [] and len(engine.state.held) == 4
    engine.stop(time_s=1.0)
    assert not engine.router.sounding


@pytest.mark.parametrize("last", [48, 72])
def test_a_failing_arranger_still_sounds_the_key_completing_a_chord(horizon_engine, last):
    """The completing key is decided with its chord before it sounds: when that fails it
    sounds all the same, once (on the part the failing decision gave it, else the first
    allowed one), the others keep their parts, and nothing is left sounding."""
    engine, out = horizon_engine("closest-pitch")

    def broken(notes, state, commit):
        commit(notes[0], 3)                  # the lowest key gets the bass, then a crash
        raise RuntimeError("model crashed")

    engine.arranger.assign_chord = broken
    keys = [k for k in (48, 60, 67, 72) if k != last] + [last]
    for i, p in enumerate(keys):
        engine.process(NoteEvent(Kind.NOTE_ON, 0.002 * i, p, 90))
    ons = [(c, k) for kind, c, k in _notes(out) if kind == 0x90]
    assert [k for _c, k in ons] == keys and engine.moves == 0
    if last == 48:
        assert ons[-1] == (3, 48)
    assert any("model crashed" in e for e in engine.errors)
    assert engine.state.pending == [] and len(engine.state.held) == 4
    assert engine.performer.due() is None
    engine.stop(time_s=1.0)
    assert not engine.router.sounding


def test_a_failing_arranger_still_sounds_a_key(horizon_engine):
    engine, out = horizon_engine("closest-pitch", horizon=None)
    engine.arranger.assign = lambda note, state: 1 / 0
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 60, 90))
    assert [k for kind, _c, k in _notes(out) if kind == 0x90] == [60]
    assert any("ZeroDivisionError" in e for e in engine.errors)


@pytest.mark.parametrize("seed", range(6))
def test_the_key_completing_a_chord_sounds_once_on_its_final_part(horizon_engine, seed):
    """Spread four-key chords in random orders: the last key of each is decided with
    the others before it sounds, so it is never moved; the keys that are moved get one
    note-off on the channel they sounded on, then their new note-on."""
    rng = np.random.default_rng(seed)
    engine, out = horizon_engine("model" if seed % 2 else "voice-leading")
    t = 0.0
    for chord in ((48, 60, 64, 72), (43, 59, 62, 67), (45, 57, 64, 72), (41, 57, 65, 69)):
        order = rng.permutation(chord).tolist()
        out.messages.clear()
        moves = engine.moves
        for p in order:
            engine.process(NoteEvent(Kind.NOTE_ON, t, p, 80))
            t += float(rng.uniform(0.0, 0.008))
        assert engine.performer.due() is None          # settled on its fourth key
        sent = _notes(out)
        last = [m for m in sent if m[2] == order[-1]]
        assert len(last) == 1 and last[0][0] == 0x90
        keys = _follow(sent)                  # each move: off where it sounded, then on
        assert sum(m for _f, _l, m in keys.values()) == engine.moves - moves
        assert all(m <= 2 for _f, _l, m in keys.values())
        assert sorted(last for _f, last, _m in keys.values()) == [0, 1, 2, 3]
        t += 0.5
        for p in chord:
            engine.process(NoteEvent(Kind.NOTE_OFF, t, p, 0))
        t += 0.1
    assert not engine.router.sounding


def _group(*keys, ranges=((60, 81), (53, 74), (48, 69), (36, 64))):
    """A satb-like open group of (pitch, part[, hint]) keys."""
    group = HorizonGroup(0.030, 4, list(ranges))
    for k in keys:
        note = NoteEvent(Kind.NOTE_ON, 0.0, k[0], 80, hint=k[2] if len(k) > 2 else -1)
        note.part = k[1]
        group.add(note)
    return group


def test_uncross_puts_a_crossed_chord_back_in_pitch_order():
    # 67 guessed soprano, then 72 arrives and gets alto: 72 goes up, 67 down
    assert _group((67, 0)).uncross(72, 1) == [1, 0]
    # three keys: 64 on alto, 60 on soprano (crossed), 48 arriving on bass
    assert _group((64, 1), (60, 0)).uncross(48, 3) is None    # the new key crosses none
    assert _group((64, 1), (55, 2)).uncross(60, 0) == [0, 2, 1]
    assert _group((64, 0), (55, 2)).uncross(60, 1) is None    # already in order


def test_uncross_leaves_what_it_cannot_restore():
    assert _group((67, 0)).uncross(72, 0) is None              # one part twice
    assert _group((67, 0), (62, 0)).uncross(72, 1) is None     # a part held twice
    assert _group((67, 0, 0)).uncross(72, 1) is None           # a hinted key stays
    assert _group((62, 0)).uncross(50, 3) is None              # in order
    # 79 would go to the alto, out of its range
    assert _group((79, 2)).uncross(70, 1) is None
    plain = HorizonGroup(0.030, 4)                             # no ranges: never
    note = NoteEvent(Kind.NOTE_ON, 0.0, 67, 80)
    note.part = 0
    plain.add(note)
    assert plain.uncross(72, 1) is None


def test_uncrossing_changes_no_final_part(satb):
    """The settle decides from the state before the chord: with keys moved as their
    chord arrives or not, each key ends on the same part (voice-leading, as played)."""
    # a performance in which some keys were uncrossed: more moves than keys moved
    for i, piece in enumerate(load_pieces("bach", "test", 6)):
        perf = performance(piece, "as-played", i)
        got = replay(perf, make_arranger("voice-leading", satb), 0.030)
        if got.moves > int((got.final != got.onset).sum()):
            break
    else:
        raise AssertionError("no key was uncrossed in six performances")

    class NoUncross(HorizonGroup):
        def uncross(self, pitch, part):
            return None

    engine_group = Performer._new_group
    try:
        Performer._new_group = lambda self: NoUncross(0.030, 4)
        plain = replay(perf, make_arranger("voice-leading", satb), 0.030)
    finally:
        Performer._new_group = engine_group
    assert np.array_equal(got.final, plain.final)
    assert (got.onset == plain.onset).mean() < 1.0              # onsets did change
    right = ((perf.mask.astype(np.int64) >> got.onset) & 1).sum()
    assert right > ((perf.mask.astype(np.int64) >> plain.onset) & 1).sum()
