"""Offline use of the live engine: arrange a .mid file, and the built-in demo.

``arrange_file`` replays every note of a file, as one stream, through the same
``Engine.process`` the live instrument uses.  ``run_demo`` plays the built-in
performance through the engine *thread*, fed in real time (or faster) exactly as a
MIDI callback would feed it, and measures the engine's latency on the way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from livearranger.arrangers import Arranger, make_arranger
from livearranger.engine import Engine
from livearranger.errors import BadValue, LiveArrangerError
from livearranger.events import CHANNEL_MASK, DRUM_CHANNEL, KIND_MASK, NOTE_ON, PROGRAM, parse
from livearranger.files import FileProblem, check_writable, read_limited
from livearranger.io.midifile import MAX_FILE_BYTES, MidiFileError, read_smf
from livearranger.io.synth import (
    check_render_length,
    check_wav_name,
    find_soundfont,
    render_wav,
)
from livearranger.presets import Preset
from livearranger.recorder import Recorder
from livearranger.router import Router
from livearranger.stats import Snapshot


class OfflineError(LiveArrangerError):
    """An input file that cannot be read; the message names it."""


MAX_NOTES = 1_000_000               # notes in one file to arrange
PROGRESS_EVERY = 4096               # messages arranged between two progress calls


def read_performance(path: str | Path, max_notes: int = MAX_NOTES
                     ) -> list[tuple[float, list[int]]]:
    """Every channel-voice message of a .mid file as (seconds, raw bytes), all tracks
    merged into one stream on channel 1.  Drum-channel notes and program changes are
    left out.  Raises OfflineError (one line naming the file) for a file that is not a
    regular file, over ``MAX_FILE_BYTES``, malformed, or with more than ``max_notes``."""
    try:
        data = read_limited(path, MAX_FILE_BYTES, "MIDI file")
        messages = read_smf(data)
    except FileProblem as exc:
        raise OfflineError(str(exc)) from None
    except MidiFileError as exc:
        raise OfflineError(f"{path}: not a readable MIDI file ({exc})") from None
    out: list[tuple[float, list[int]]] = []
    notes = 0
    for now, msg in messages:
        status = msg[0]
        if status & CHANNEL_MASK == DRUM_CHANNEL or status & KIND_MASK == PROGRAM:
            continue
        msg[0] = status & KIND_MASK
        if msg[0] == NOTE_ON and msg[2]:
            notes += 1
            if notes > max_notes:
                raise OfflineError(f"{path}: more than {max_notes:,} notes (the limit)")
        out.append((now, msg))
    if not notes:
        raise OfflineError(f"{path}: has no notes to arrange")
    return out


@dataclass
class ArrangeResult:
    """What an offline run produced."""

    recorder: Recorder
    snapshot: Snapshot
    wav: dict[str, float] | None = None


def _engine(preset: Preset, arranger: Arranger | str, recorder: Recorder,
            time_scale: float = 1.0, horizon_ms: float | None = None,
            replay: bool = False, clock_ns: Callable[[], int] = time.perf_counter_ns
            ) -> Engine:
    if isinstance(arranger, str):
        arranger = make_arranger(arranger, preset)
    ms = preset.horizon_ms if horizon_ms is None else horizon_ms
    return Engine(preset, arranger, Router(preset, [recorder]), clock_ns,
                  time_scale=time_scale, horizon=ms / 1000.0, replay=replay)


def arrange_file(src: str | Path, dst: str | Path, preset: Preset,
                 arranger: Arranger | str | None = None, wav: str | Path | None = None,
                 soundfont: str | None = None, horizon_ms: float | None = None,
                 progress: Callable[[float], None] | None = None) -> ArrangeResult:
    """Arrange ``src`` into the multitrack ``dst`` (and optionally render ``wav``), with
    the final part of every key; ``horizon_ms`` overrides the preset's horizon;
    ``progress(done)`` hears how far it is (0..1) every few thousand messages."""
    check_writable(dst, "arrangement")          # before any work: never "wrote" nothing
    if wav:
        check_wav_name(wav)
        check_writable(wav, "audio")
    performance = read_performance(src)
    return arrange_performance(performance, dst, preset, arranger, wav, soundfont,
                               horizon_ms, progress)


def arrange_performance(performance: list[tuple[float, list[int]]], dst: str | Path,
                        preset: Preset, arranger: Arranger | str | None = None,
                        wav: str | Path | None = None, soundfont: str | None = None,
                        horizon_ms: float | None = None,
                        progress: Callable[[float], None] | None = None,
                        clock_ns: Callable[[], int] = time.perf_counter_ns
                        ) -> ArrangeResult:
    """Arrange ``performance`` ((seconds, raw bytes) of one keyboard, in time order, as
    ``read_performance`` gives) into the multitrack ``dst``: what ``arrange_file`` does
    once the file is read (a take's keys are arranged again this way).  Every time
    written is the performance's own; ``clock_ns`` times only the arranger's steps."""
    check_writable(dst, "arrangement")
    if not performance:
        raise OfflineError(f"{dst}: no notes to arrange")
    if wav:
        check_wav_name(wav)
        check_writable(wav, "audio")
        check_render_length(performance[-1][0], wav)
        find_soundfont(soundfont)            # a soundfont it cannot use: before the work
    recorder = Recorder(preset, dst)
    engine = _engine(preset, arranger or preset.arranger, recorder, horizon_ms=horizon_ms,
                     replay=True, clock_ns=clock_ns)
    total = len(performance)
    for i, (t, data) in enumerate(performance):
        if progress is not None and not i % PROGRESS_EVERY:
            progress(i / total)
        event = parse(data, t)
        if event is not None:
            engine.process(event)
    engine.settle()
    if progress is not None:
        progress(1.0)
    snap = engine.snapshot()
    engine.stop(time_s=performance[-1][0])   # panics at the end; the recorder writes dst
    if recorder.error:
        raise OfflineError(recorder.error)
    stats = render_wav(recorder.timed_messages(), preset, wav, soundfont) if wav else None
    return ArrangeResult(recorder, snap, stats)


def demo_performance() -> Path:
    """The built-in performance (BWV 66.6 played on one keyboard)."""
    return Path(__file__).resolve().parent / "data" / "demo.mid"


class _KeyboardClock:
    """The demo's clock (ns, as ``Engine`` reads one): it stands at 0 until the keyboard
    plays, then runs from there.  The engine's start-up (a model loaded, a thread
    started) is no part of the performance: counted, it would open the file with a
    silence ``speed`` times as long as the start-up took."""

    def __init__(self, clock_ns: Callable[[], int] = time.perf_counter_ns) -> None:
        self._clock_ns = clock_ns
        self._start: int | None = None

    def start(self) -> None:
        """The keyboard plays its first key now."""
        self._start = self._clock_ns()

    def __call__(self) -> int:
        return 0 if self._start is None else self._clock_ns() - self._start


# The demo is fed in real time, so every wall-clock delay (a thread switch, a busy
# core) lands in the file ``speed`` times as long; beyond this a usual delay moves a
# note by more than a chord's spread.
MAX_DEMO_SPEED = 100.0


def run_demo(out_dir: str | Path, preset: Preset, arranger: Arranger | str | None = None,
             speed: float = 1.0, soundfont: str | None = None,
             performance: str | Path | None = None, horizon_ms: float | None = None
             ) -> ArrangeResult:
    """Play the built-in performance through the live engine thread at ``speed`` times
    real time; write ``out_dir``/demo.mid and demo.wav (at the written tempo, final
    parts).  ``horizon_ms`` overrides the preset's correction horizon."""
    if not 0 < speed <= MAX_DEMO_SPEED:
        raise BadValue(f"speed must be positive, at most {MAX_DEMO_SPEED:g} (the demo is "
                       f"played in real time; faster, a moment's delay on this machine "
                       f"would move its notes), got {speed:g}")
    out = Path(out_dir)
    check_writable(out / "demo.mid", "demo")
    find_soundfont(soundfont)                # a soundfont it cannot use: before the work
    events = read_performance(performance or demo_performance())
    recorder = Recorder(preset, out / "demo.mid")
    clock = _KeyboardClock()
    engine = _engine(preset, arranger or preset.arranger, recorder, time_scale=speed,
                     horizon_ms=horizon_ms, clock_ns=clock)
    engine.start()

    def play() -> None:
        clock.start()
        for t, data in events:
            delay = t / speed - clock() * 1e-9
            if delay > 0:
                time.sleep(delay)
            engine.feed(data)          # what a MIDI callback does: stamp and enqueue

    player = threading.Thread(target=play, name="demo-keyboard", daemon=True)
    player.start()
    player.join()
    engine.call(engine.settle)         # the last chord need not wait for its deadline
    engine.wait_idle(5.0)
    snap = engine.snapshot()
    # the performance ends with its last message, not when the engine has stopped: the
    # wall-clock time that takes would be a silence ``speed`` times as long
    end = max((t for t, _m in recorder.timed_messages()), default=0.0)
    engine.stop(time_s=end)
    if recorder.error:
        raise OfflineError(recorder.error)
    stats = render_wav(recorder.timed_messages(), preset, out / "demo.wav", soundfont)
    return ArrangeResult(recorder, snap, stats)
