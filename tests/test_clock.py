"""MIDI clock: tempo and beat position from 24-ppqn ticks, start/stop/continue and
song position, as a DAW sends them."""

from __future__ import annotations

import math

import pytest

from livearranger.clock import CLOCK, CONTINUE, PPQN, START, STOP, MidiClock


def _ticks(clock: MidiClock, n: int, t0: float, bpm: float) -> float:
    dt = 60.0 / bpm / PPQN
    for i in range(n):
        assert clock.handle([CLOCK], t0 + i * dt)
    return t0 + (n - 1) * dt


def test_no_clock_no_beat():
    clock = MidiClock()
    assert clock.beat(1.0) is None and clock.tempo_bpm is None
    _ticks(clock, 48, 0.0, 120)          # ticks without Start: tempo, but no position
    assert clock.tempo_bpm == pytest.approx(120, rel=1e-6) and clock.beat(1.0) is None


def test_start_counts_beats_and_tempo():
    clock = MidiClock()
    clock.handle([START], 0.0)
    last = _ticks(clock, 2 * PPQN + 1, 0.0, 120)       # two quarter notes at 120 bpm
    assert clock.tempo_bpm == pytest.approx(120, rel=1e-6)
    assert clock.beat(last) == pytest.approx(2.0)
    half_tick = 0.5 * 60.0 / 120 / PPQN
    assert clock.beat(last + half_tick) == pytest.approx(2.0 + 0.5 / PPQN)  # by the tempo
    assert clock.beat(last + 1.0) is None                 # silent: the clock is gone


def test_ticks_stamped_a_driver_period_apart_still_give_the_tempo():
    """Ticks reach the engine stamped at a driver's periods (a dummy JACK server's 256
    frames at 48 kHz): from the second beat on, the tempo is within a bpm of the true one
    at every tick."""
    clock = MidiClock()
    period = 256 / 48000
    dt = 60.0 / 120 / PPQN
    got = []
    for i in range(6 * PPQN):
        stamp = math.ceil((0.0031 + i * dt) / period) * period   # delivered at a period end
        assert clock.handle([CLOCK], stamp)
        if i > PPQN:
            got.append(clock.tempo_bpm)
    assert all(t == pytest.approx(120, abs=1.0) for t in got), (min(got), max(got))


def test_a_pause_in_the_ticks_is_no_tempo():
    clock = MidiClock()
    last = _ticks(clock, 30, 0.0, 120)
    _ticks(clock, 30, last + 2.0, 90)             # two seconds of silence, then slower
    assert clock.tempo_bpm == pytest.approx(90, rel=1e-6)


def test_stop_continue_and_song_position():
    clock = MidiClock()
    clock.handle([START], 0.0)
    last = _ticks(clock, PPQN + 1, 0.0, 100)
    clock.handle([STOP], last + 0.01)
    assert clock.beat(last + 0.01) is None
    clock.handle([0xF2, 16, 0], last + 0.5)   # sixteenth 16 = quarter note 4
    clock.handle([CONTINUE], last + 0.6)
    again = _ticks(clock, 1, last + 0.7, 100)
    assert clock.beat(again) == pytest.approx(4.0)
    assert not clock.handle([0xF0, 1, 2, 0xF7], again)     # not a clock message


@pytest.mark.jack
def test_jack_midi_clock_drives_the_engines_tempo_and_beat(jack_server):
    """A real MIDI clock (Debian's jack-midi-clock, JACK transport rolling at 120 bpm)
    into the engine's polled JACK input: tempo, a beat that advances, and a key struck
    meanwhile knows its beat, which the ensemble model is given; transport stopped, the
    beat is gone."""
    import subprocess
    import time

    from livearranger.arrangers import make_arranger
    from livearranger.arrangers.learned import LearnedArranger
    from livearranger.engine import Engine
    from livearranger.io.midi_io import MidiInput
    from livearranger.presets import load_preset
    from livearranger.router import MemoryOutput, Router
    from tests.midi_probe import Keyboard, wait_for_port

    preset = load_preset("chiptune")          # names no model: the ensemble model
    arranger = make_arranger("model", preset)
    assert isinstance(arranger, LearnedArranger)
    engine = Engine(preset, arranger, Router(preset, [MemoryOutput()]))
    inp = MidiInput("jack", "virtual", client="clocked")
    clock = subprocess.Popen(["jack_midi_clock", "-b", "120", "-B"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kb = None
    try:
        engine.set_input_poll(inp.poll)
        engine.start()
        wait_for_port("jack_midi_clock:mclk_out")
        subprocess.run(["jack_connect", "jack_midi_clock:mclk_out", "clocked:in"],
                       check=True, timeout=10)
        subprocess.run(["jack_transport"], input="play\nquit\n", text=True, timeout=10,
                       capture_output=True, check=True)
        deadline = time.monotonic() + 5.0
        while engine.snapshot().beat is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first = engine.snapshot()
        assert first.beat is not None, "no MIDI clock reached the engine"
        time.sleep(0.5)
        later = engine.snapshot()
        assert later.tempo_bpm == pytest.approx(120, abs=3)
        assert later.beat is not None and later.beat > first.beat + 0.5
        kb = Keyboard("clocked:in")
        kb.send([0x90, 60, 90])
        deadline = time.monotonic() + 3.0
        while engine.notes_in == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.wait_idle() and engine.state.beat is not None
        assert arranger.inputs.beat[0, 0] == 1.0          # the model saw a known beat
        phase = math.atan2(arranger.inputs.beat[0, 1], arranger.inputs.beat[0, 2])
        assert phase / (2 * math.pi) % 1.0 == pytest.approx(engine.state.beat % 1.0, abs=1e-3)
        subprocess.run(["jack_transport"], input="stop\nquit\n", text=True, timeout=10,
                       capture_output=True, check=True)
        deadline = time.monotonic() + 3.0
        while engine.snapshot().beat is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.snapshot().beat is None
    finally:
        if kb is not None:
            kb.close()
        engine.set_input_poll(None)
        engine.wait_idle()
        inp.close()
        engine.stop()
        clock.terminate()
        clock.wait(timeout=5)
