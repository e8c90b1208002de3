"""Property: whatever comes in, every note-on sent gets exactly one note-off on the same
channel and pitch once the engine stops, and nothing raises.

Random message streams (any order, held keys struck again, velocity-0 note-ons, all 16
channels, pedal storms, bend, aftertouch, SysEx complete and not, running status,
garbage) go through the engine in memory with every arranger: paced (a fake clock, so
correction horizons close by time), unpaced (all at once), through the engine thread, and
through the polled path while overloaded (new note-ons dropped), and with hints (a
zone of silent hint keys over often-struck keys, and a hint controller).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livearranger import engine as engine_module
from livearranger.arrangers import arranger_names, make_arranger
from livearranger.arrangers.base import Arranger
from livearranger.engine import Engine
from livearranger.presets import HintSpec, Preset, load_preset
from livearranger.router import MemoryOutput, Router

KEYS = st.one_of(st.sampled_from([48, 55, 60, 64, 67, 72]), st.integers(0, 127))
BYTE = st.integers(0, 127)
CHANNEL = st.integers(0, 15)


def _voice(status: int, *data: st.SearchStrategy[int]) -> st.SearchStrategy[list[int]]:
    return st.tuples(CHANNEL, *data).map(lambda t: [status | t[0], *t[1:]])


NOTE_ON = _voice(0x90, KEYS, st.one_of(st.just(0), BYTE))
NOTE_OFF = _voice(0x80, KEYS, BYTE)
PEDAL = _voice(0xB0, st.just(64), st.sampled_from([0, 127, 64, 1]))
CONTROL = _voice(0xB0, st.sampled_from([0, 1, 7, 11, 32, 120, 121, 123, 127]), BYTE)
OTHER = st.one_of(_voice(0xE0, BYTE, BYTE), _voice(0xD0, BYTE), _voice(0xA0, KEYS, BYTE),
                  _voice(0xC0, BYTE))
SIMPLE = st.one_of(NOTE_ON, NOTE_ON, NOTE_OFF, NOTE_OFF, PEDAL, CONTROL, OTHER)
SYSEX = st.one_of(
    st.lists(BYTE, max_size=6).map(lambda d: [0xF0, *d, 0xF7]),            # complete
    st.lists(BYTE, max_size=6).map(lambda d: [0xF0, *d]),                  # never ended
    st.tuples(st.lists(BYTE, max_size=4), st.lists(SIMPLE, max_size=4)).map(
        lambda t: [0xF0, *t[0], *[b for m in t[1] for b in m], 0xF7]),    # rtmidi's catch
    st.just([0xF7]),
)
RUNNING = st.tuples(st.sampled_from([0x80, 0x90, 0xB0]), CHANNEL,
                    st.lists(st.tuples(KEYS, BYTE), min_size=2, max_size=4)).map(
    lambda t: [t[0] | t[1], *[b for pair in t[2] for b in pair]])
GARBAGE = st.one_of(st.lists(st.integers(0, 255), max_size=5),
                    st.lists(st.integers(-3, 300), min_size=1, max_size=4),
                    st.sampled_from([[0xF8], [0xFE], [0xFF], [0xF1, 3], [0xF2, 1, 2]]))
MESSAGE = st.one_of(SIMPLE, SIMPLE, SIMPLE, SIMPLE, PEDAL, SYSEX, RUNNING, GARBAGE)
STREAM = st.lists(st.tuples(MESSAGE, st.integers(0, 40_000_000)), max_size=120)

# arranger -> preset it plays (the learned model needs its own)
PRESETS = {name: "satb" if name == "model" else "pop-band" for name in arranger_names()}
_ARRANGERS: dict[tuple[str, str], Arranger] = {}
SLOW = {"model"}


def _arranger(name: str, preset_name: str) -> Arranger:
    key = (name, preset_name)
    if key not in _ARRANGERS:
        _ARRANGERS[key] = make_arranger(name, load_preset(preset_name))
    arr = _ARRANGERS[key]
    arr.reset()
    return arr


class FakeClock:
    def __init__(self) -> None:
        self.ns = 1_000_000_000

    def __call__(self) -> int:
        return self.ns


def _engine(name: str, horizon: float | None, clock=None,
            preset: Preset | None = None) -> tuple[Engine, MemoryOutput]:
    preset = preset or load_preset(PRESETS[name])
    out = MemoryOutput()
    kwargs = {} if clock is None else {"clock_ns": clock}
    engine = Engine(preset, _arranger(name, preset.name), Router(preset, [out]),
                    horizon=horizon, **kwargs)
    return engine, out


def assert_every_note_closed(out: MemoryOutput) -> None:
    """Per (channel, pitch): never more note-offs than note-ons so far, none left open."""
    open_notes: dict[tuple[int, int], int] = {}
    for _t, _part, m in out.messages:
        kind, key = m[0] & 0xF0, (m[0] & 0x0F, m[1] if len(m) > 1 else -1)
        if kind == 0x90 and m[2] > 0:
            open_notes[key] = open_notes.get(key, 0) + 1
        elif kind == 0x80 or kind == 0x90:
            assert open_notes.get(key, 0) > 0, f"note-off with no note-on: {m}"
            open_notes[key] -= 1
    assert not {k: v for k, v in open_notes.items() if v}, "notes left sounding"


def _no_errors(engine: Engine) -> None:
    assert not [e for e in engine.errors if "overloaded" not in e], engine.errors


def _settings(name: str, examples: int):
    return settings(max_examples=max(4, examples // 5) if name in SLOW else examples,
                    deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)


def _paced(name: str, stream, preset: Preset | None = None) -> MemoryOutput:
    """A fake clock moves on by each message's gap: correction horizons close by time."""
    clock = FakeClock()
    engine, out = _engine(name, 0.030, clock, preset)
    for data, gap in stream:
        clock.ns += gap
        engine.feed(data)
        engine.drain()
    clock.ns += 100_000_000
    engine.stop()
    assert_every_note_closed(out)
    _no_errors(engine)
    return out


def _unpaced(name: str, stream) -> None:
    """Everything at one instant, with and without a correction horizon."""
    for horizon in (None, 0.030):
        engine, out = _engine(name, horizon, FakeClock())
        for data, _gap in stream:
            engine.feed(data)
        engine.stop()
        assert_every_note_closed(out)
        _no_errors(engine)


@pytest.mark.parametrize("name", arranger_names())
def test_paced_streams_leave_nothing_sounding(name):
    @_settings(name, 30)
    @given(stream=STREAM)
    def run(stream):
        _paced(name, stream)
    run()


@pytest.mark.parametrize("name", arranger_names())
def test_unpaced_streams_leave_nothing_sounding(name):
    @_settings(name, 20)
    @given(stream=STREAM)
    def run(stream):
        _unpaced(name, stream)
    run()


@pytest.mark.parametrize("name", ["voice-leading", "closest-pitch", "model"])
def test_streams_with_hints_leave_nothing_sounding(name):
    """Hint keys (48..55, among the keys struck most) and a hint controller (CC 7)."""
    from dataclasses import replace

    @_settings(name, 20)
    @given(stream=STREAM)
    def run(stream):
        preset = replace(load_preset(PRESETS[name]), hints=HintSpec(zone=(48, 55), cc=7))
        out = _paced(name, stream, preset)
        assert not [m for _t, part, m in out.messages       # no hint key sounded
                    if m[0] & 0xF0 in (0x80, 0x90) and 48 <= m[1] <= 55
                    and not preset.parts[part].transpose]
    run()


@settings(max_examples=15, deadline=None, derandomize=True)
@given(stream=STREAM)
def test_the_engine_thread_leaves_nothing_sounding(stream):
    engine, out = _engine("closest-pitch", 0.030)
    engine.start()
    for data, _gap in stream:
        engine.feed(data)
    assert engine.wait_idle()
    engine.stop()
    assert_every_note_closed(out)
    _no_errors(engine)


class _Overload:
    """A polled input 1 ms behind for every message it hands over: soon far behind."""

    def __init__(self, stream, clock: FakeClock) -> None:
        self._items: Iterator = iter(stream)
        self.clock = clock
        self.done = threading.Event()

    def poll(self):
        try:
            data, _gap = next(self._items)
        except StopIteration:
            self.done.set()
            return None
        self.clock.ns += 1_000_000              # handling it took 1 ms
        return data, 0.0                        # and it came with the previous one


@contextmanager
def _lag_limit(ns: int) -> Iterator[None]:
    """Overload sooner than a real player could."""
    old = engine_module.MAX_INPUT_LAG_NS
    engine_module.MAX_INPUT_LAG_NS = ns
    try:
        yield
    finally:
        engine_module.MAX_INPUT_LAG_NS = old


def _overload(stream, horizon: float | None) -> tuple[Engine, MemoryOutput]:
    clock = FakeClock()
    engine, out = _engine("closest-pitch", horizon, clock)
    source = _Overload(stream, clock)
    with _lag_limit(20_000_000):                # 20 messages behind
        engine.set_input_poll(source.poll)
        engine.start()
        assert source.done.wait(5.0)
        assert engine.wait_idle()
    return engine, out


@settings(max_examples=15, deadline=None, derandomize=True)
@given(stream=STREAM, horizon=st.sampled_from([None, 0.030]))
def test_overloaded_polled_input_leaves_nothing_sounding(stream, horizon):
    engine, out = _overload(stream, horizon)
    engine.stop()
    assert_every_note_closed(out)
    _no_errors(engine)


def test_overload_drops_new_note_ons_counts_them_and_says_so():
    stream = []
    for i in range(100):                       # 100 keys, each released at once
        stream += [([0x90, 40 + i % 40, 90], 0), ([0x80, 40 + i % 40, 0], 0)]
    engine, out = _overload(stream, None)
    snap = engine.snapshot()
    engine.stop()
    sounded = sum(1 for _t, _p, m in out.messages if m[0] & 0xF0 == 0x90 and m[2])
    assert snap.dropped_note_ons > 0 and sounded + snap.dropped_note_ons == 100
    assert snap.notes_in == sounded
    assert sum("overloaded" in e for e in snap.errors) == 1
    assert_every_note_closed(out)
