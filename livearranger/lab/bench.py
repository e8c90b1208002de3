"""``livearranger bench model|live|memory``: figures for the learned arranger in the loop.

model   per-note step time of the ONNX arranger (features + graph + constraints) over N
        notes (default 100,000), p50/p99/max; first vs last 10,000 (flatness); the graph
        alone; the same window re-run without a cache (the speed-up); notes per second.
live    end to end through real JACK MIDI ports (a private dummy jackd): a keyboard
        client, the engine with the arranger, a listener; a plain MIDI thru written
        here runs in the same pass, fed by the same keyboard.  p50/p99/max of both, the
        per-note difference, and the engine's own input-to-send time.  The thru and the
        listeners run in a second process, so their timestamps never wait for the
        engine's interpreter lock.  A client that
        delivers nothing is detected and the pass retried with fresh clients.
memory  resident memory over a session of N notes (default 1,000,000) through the engine
        into an output that keeps nothing.

Each prints one JSON object (``--json``; otherwise readable lines) and writes it to
``bench-results/``.  The input is the built-in performance (BWV 66.6) looped.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from livearranger.arrangers import Arranger, ArrangerError, make_arranger
from livearranger.engine import Engine
from livearranger.errors import LiveArrangerError
from livearranger.events import KIND_MASK, NOTE_OFF, NOTE_ON, Kind, NoteEvent, parse
from livearranger.graph import FEATURES, LOGITS, TOKENS

# (midi_io loads the system JACK library before the rtmidi imports below: jacklib)
from livearranger.io.midi_io import (
    MidiInput,
    PortOutput,
    close_callback_input,
    close_client,
    match_port,
)
from livearranger.io.output import Output
from livearranger.presets import Preset, PresetError, load_preset
from livearranger.router import Router
from livearranger.state import PerformanceState

RESULTS_DIR = Path("bench-results")


class BenchError(LiveArrangerError):
    """A benchmark that could not run; the message says why."""


# ----------------------------------------------------------------- input
def performance_events() -> list[NoteEvent]:
    """The built-in performance's notes: note-ons, and note-offs for every release."""
    from livearranger.offline import demo_performance, read_performance

    out: list[NoteEvent] = []
    for t, data in read_performance(demo_performance()):
        ev = parse(data, t)
        if ev is None:
            continue
        if ev.is_note_on:
            out.append(ev)
        elif ev.is_note_off:
            out.append(NoteEvent.note_off(t, ev.pitch))
    return out


def looped(n_notes: int, gap: float = 1.0) -> Iterator[NoteEvent]:
    """The performance repeated until ``n_notes`` note-ons, then the keys still down
    released; times keep rising across repeats.  Each event is new (the engine writes
    its part into it)."""
    base = performance_events()
    length = base[-1].time + gap
    ons = 0
    offset = 0.0
    down: set[int] = set()
    while ons < n_notes:
        for ev in base:
            pitch = ev.pitch
            if ev.kind is Kind.NOTE_ON:
                if ons >= n_notes:
                    continue
                ons += 1
                down.add(pitch)
            else:
                down.discard(pitch)
            yield NoteEvent(ev.kind, ev.time + offset, pitch, ev.velocity)
        offset += length
    for pitch in sorted(down):
        yield NoteEvent.note_off(offset, pitch)


def _stats(values_ms: np.ndarray) -> dict[str, float]:
    if values_ms.size == 0:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    p50, p99 = np.percentile(values_ms, [50, 99])
    return {"p50_ms": round(float(p50), 4), "p99_ms": round(float(p99), 4),
            "max_ms": round(float(values_ms.max()), 4)}


def _arranger(args: argparse.Namespace, preset: Preset, name: str | None = None) -> Arranger:
    name = name or getattr(args, "arranger", None) or "model"
    opts: dict[str, Any] = {}
    if name == "model":
        opts = {"provider": args.provider}
        if args.model:
            opts["model"] = args.model
    return make_arranger(name, preset, **opts)


# ----------------------------------------------------------------- model
def _time_calls(fn: Any, n: int) -> np.ndarray:
    clock = time.perf_counter_ns
    out = np.empty(n)
    for i in range(n):
        t0 = clock()
        fn()
        out[i] = clock() - t0
    return out * 1e-6


def _nocache(arr: Any, args: argparse.Namespace, n: int) -> dict[str, Any]:
    """Cost per note of re-running over the window without a cache."""
    import onnxruntime as ort

    from livearranger.arrangers.onnx_model import open_session

    w = arr.window
    full = Path(args.nocache_model) if args.nocache_model else arr.path.with_suffix(".full.onnx")
    if full.is_file():
        sess = open_session(full)
        shapes = {i.name: i.shape for i in sess.get_inputs()}
        feats = np.zeros(shapes[FEATURES], dtype=np.float32)
        toks = np.zeros(shapes[TOKENS], dtype=np.int64)
        toks[..., 0] = 60
        logits = np.zeros([1, feats.shape[1], len(arr.preset.parts)], dtype=np.float32)
        io = sess.io_binding()
        io.bind_input(FEATURES, "cpu", 0, np.float32, list(feats.shape), feats.ctypes.data)
        io.bind_input(TOKENS, "cpu", 0, np.int64, list(toks.shape), toks.ctypes.data)
        io.bind_output(LOGITS, "cpu", 0, np.float32, list(logits.shape), logits.ctypes.data)
        times = _time_calls(lambda: sess.run_with_iobinding(io), n)
        del ort
        return {"nocache_method": f"full-window graph over the last {shapes[FEATURES][1]} "
                                  f"notes ({full.name})", **_prefix("nocache", _stats(times))}
    # no full graph: recompute the window through the step graph from an empty cache
    def recompute() -> None:
        arr.reset()
        for _ in range(w):
            arr._session.run_with_iobinding(arr._io)
    times = _time_calls(recompute, max(1, n // w))
    arr.reset()
    return {"nocache_method": f"step graph re-run over the last {w} notes from an empty "
                              "cache", **_prefix("nocache", _stats(times))}


def _trend(times_ms: np.ndarray, block: int = 1000) -> float:
    """Least-squares slope of per-block median step time, in microseconds per 10,000
    notes (0 for a flat cost; robust to the odd slow block on a shared machine)."""
    n = times_ms.size // block
    if n < 2:
        return 0.0
    med = np.median(times_ms[: n * block].reshape(n, block), axis=1) * 1e3
    x = np.arange(n) * block / 10_000
    return round(float(np.polyfit(x, med, 1)[0]), 3)


def _prefix(name: str, d: dict[str, float]) -> dict[str, float]:
    return {f"{name}_{k}": v for k, v in d.items()}


def bench_model(args: argparse.Namespace) -> dict[str, Any]:
    """Per-note step of the ONNX arranger over ``args.notes`` notes."""
    preset = load_preset(args.preset)
    arr: Any = _arranger(args, preset, "model")
    n = args.notes
    state = PerformanceState(len(preset.parts))
    times = np.empty(n)
    clock = time.perf_counter_ns
    assign = arr.assign
    i = 0
    gc.collect()
    gc.freeze()                         # as a started session does (session.Session.start)
    start = time.perf_counter()
    for ev in looped(n):
        if ev.kind is Kind.NOTE_ON:
            t0 = clock()
            part = assign(ev, state)
            times[i] = clock() - t0
            i += 1
            state.note_on(ev.pitch, ev.time, part)
        else:
            state.note_off(ev.pitch)
    wall = time.perf_counter() - start
    gc.unfreeze()
    times = times[:i] * 1e-6
    k = min(10_000, max(1, i // 10))
    first, last = _stats(times[:k]), _stats(times[-k:])
    graph = _stats(_time_calls(lambda: arr._session.run_with_iobinding(arr._io),
                               min(10_000, max(100, n // 10))))
    arr.reset()
    nocache = _nocache(arr, args, min(2_000, max(50, n // 50)))
    result: dict[str, Any] = {
        "bench": "model", "preset": preset.name, "model": arr.path.name,
        "provider": arr.provider, "window": arr.window, "notes": i,
        **_prefix("step", _stats(times)),
        "flat_window": k,
        **_prefix("first", first), **_prefix("last", last),
        "last_over_first_p50": round(last["p50_ms"] / first["p50_ms"], 3),
        "trend_p50_us_per_10k_notes": _trend(times),
        "flat": bool(last["p50_ms"] <= first["p50_ms"] * 1.10),
        **_prefix("graph", graph), **nocache,
        "offline_notes_per_s": round(i / wall, 1),
    }
    result["speedup_p50"] = round(result["nocache_p50_ms"] / graph["p50_ms"], 2)
    return result


def _horizon_ms(args: argparse.Namespace, preset: Preset) -> float:
    return preset.horizon_ms if args.horizon_ms is None else float(args.horizon_ms)


def _horizon(args: argparse.Namespace, preset: Preset) -> float | None:
    """The correction horizon in seconds the engine under test plays with."""
    ms = _horizon_ms(args, preset)
    return ms / 1000.0 if ms else None


# ---------------------------------------------------------------- memory
class NullOutput(Output):
    """An output that keeps nothing (counts messages)."""

    def __init__(self) -> None:
        self.count = 0

    def _send(self, part: int, message: list[int], time: float) -> None:
        self.count += 1


def rss_mb() -> float:
    """Resident set size of this process now, MB."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def bench_memory(args: argparse.Namespace) -> dict[str, Any]:
    """RSS growth over a session of ``args.notes`` notes through the engine."""
    preset = load_preset(args.preset)
    arr = _arranger(args, preset)
    sink = NullOutput()
    engine = Engine(preset, arr, Router(preset, [sink]), horizon=_horizon(args, preset))
    n = args.notes
    warm = min(20_000, max(1, n // 50))
    every = max(1, n // 20)
    samples: list[tuple[int, float]] = []
    rss0 = 0.0
    ons = 0
    process = engine.process
    start = time.perf_counter()
    for ev in looped(n):
        process(ev)
        if ev.kind is Kind.NOTE_ON:
            ons += 1
            if ons == warm:
                rss0 = rss_mb()
                samples.append((ons, round(rss0, 2)))
            elif ons > warm and ons % every == 0:
                samples.append((ons, round(rss_mb(), 2)))
    wall = time.perf_counter() - start
    engine.panic()
    rss1 = rss_mb()
    peak = max(mb for _n, mb in samples) if samples else rss1
    return {
        "bench": "memory", "preset": preset.name, "arranger": arr.describe(),
        "notes": ons, "warmup_notes": warm, "rss_start_mb": round(rss0, 2),
        "rss_end_mb": round(rss1, 2), "rss_peak_mb": round(max(peak, rss1), 2),
        "growth_mb": round(rss1 - rss0, 2), "samples": samples,
        "messages_out": sink.count, "engine_notes_per_s": round(ons / wall, 1),
        "sounding_after_panic": len(engine.router.sounding),
        "horizon_ms": _horizon_ms(args, preset), "moves": engine.moves,
    }


# ------------------------------------------------------------------ live
class _Sink:
    """A JACK MIDI input that stamps every note-on it receives (in the peer process)."""

    def __init__(self, rtmidi: Any, client: str) -> None:
        self.arrivals: list[tuple[int, int, int, int]] = []   # (ns, status, pitch, vel)
        self.offs = 0
        self.inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=client)
        self.inp.ignore_types(sysex=True, timing=True, active_sense=True)
        self.inp.set_callback(self._on)
        self.inp.open_virtual_port("in")

    def _on(self, event: tuple[list[int], float], data: object = None) -> None:
        msg = event[0]
        if len(msg) == 3 and msg[0] & KIND_MASK == NOTE_ON and msg[2] > 0:
            self.arrivals.append((time.perf_counter_ns(), msg[0], msg[1], msg[2]))
        elif len(msg) == 3 and msg[0] & KIND_MASK in (NOTE_OFF, NOTE_ON):
            self.offs += 1


def peer_main(tag: str, source: str) -> int:
    """The other end of ``bench live``, in a process of its own so that its timestamps
    never wait for the engine's interpreter lock: the plain MIDI thru (input callback ->
    send, nothing else) from ``source`` to sink "sinkt<tag>", and the two sinks
    "sinkm<tag>" (the engine's output) and "sinkt<tag>".  Commands on stdin, one per
    line: counts | clear | dump | quit; answers are one JSON line on stdout."""
    import rtmidi

    sinks = {"model": _Sink(rtmidi, f"sinkm{tag}"), "thru": _Sink(rtmidi, f"sinkt{tag}")}
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"thruout{tag}")
    out.open_port(match_port(out.get_ports(), f"sinkt{tag}:in"), "out")
    inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=f"thruin{tag}")
    send = out.send_message
    inp.set_callback(lambda event, data=None: send(event[0]))
    inp.open_port(match_port(inp.get_ports(), source), "in")
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "counts":
            answer: Any = {k: [len(v.arrivals), v.offs] for k, v in sinks.items()}
        elif cmd == "clear":
            for v in sinks.values():
                v.arrivals.clear()
                v.offs = 0
            answer = "ok"
        elif cmd == "dump":
            answer = {k: v.arrivals for k, v in sinks.items()}
        else:
            break
        print(json.dumps(answer), flush=True)
    close_callback_input(inp)
    close_client(out, "jack")
    for v in sinks.values():
        close_callback_input(v.inp)
    return 0


class _Peer:
    """Handle on the peer process (thru + sinks)."""

    def __init__(self, tag: str, source: str) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "livearranger.lab.bench", "_peer", tag, source],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
        line = self._readline(15.0)
        if line != "ready":
            self.close()
            raise BenchError(f"the thru/sink peer did not start ({line!r})")

    def _readline(self, timeout: float) -> str:
        import select

        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().strip() if ready else ""

    def ask(self, cmd: str, timeout: float = 10.0) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        line = self._readline(timeout)
        if not line:
            raise BenchError(f"the thru/sink peer did not answer {cmd!r}")
        return json.loads(line)

    def close(self) -> None:
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _wait(pred: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def _match(sends: list[tuple[tuple[int, int], int]], arrivals: list[list[int]],
           shift: dict[int, tuple[int, int]] | None) -> tuple[dict[int, float], int]:
    """Latency (ms) per sent note index from arrivals tagged by (pitch, velocity);
    ``shift``: channel -> (transpose, velocity offset) the engine applied."""
    queues: dict[tuple[int, int], deque[int]] = defaultdict(deque)
    for i, (key, _ns) in enumerate(sends):
        queues[key].append(i)
    per: dict[int, float] = {}
    missed = 0
    for ns, status, pitch, vel in arrivals:
        if shift is not None:
            dp, dv = shift.get(status & 0x0F, (0, 0))
            pitch, vel = pitch - dp, vel - dv
        q = queues.get((pitch, vel))
        if q:
            i = q.popleft()
            per[i] = (ns - sends[i][1]) * 1e-6
        else:
            missed += 1
    return per, missed


def play_tagged(kbd: Any, notes: int, speed: float,
                first_vel: int = 0) -> list[tuple[tuple[int, int], int]]:
    """Play ``notes`` of the looped chorale ``speed`` times faster into ``kbd`` (an
    rtmidi output); ((pitch, velocity), send ns) of each note-on.  The velocity tags the
    note (with its pitch) so that arrivals match their own note even when another one
    is lost on the way."""
    sends: list[tuple[tuple[int, int], int]] = []
    start = time.perf_counter()
    for ev in looped(notes):
        delay = start + ev.time / speed - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if ev.kind is Kind.NOTE_ON:
            vel = 20 + (first_vel + len(sends)) % 100
            sends.append(((ev.pitch, vel), time.perf_counter_ns()))
            kbd.send_message([NOTE_ON, ev.pitch, vel])
        else:
            kbd.send_message(ev.message())
    return sends


def _live_pass(args: argparse.Namespace, preset: Preset, tag: str) -> dict[str, Any]:
    import rtmidi

    kbd = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"kbd{tag}")
    kbd.open_virtual_port("out")
    src = f"kbd{tag}:out"
    closers: list[Any] = [lambda: close_client(kbd, "jack")]
    try:
        peer = _Peer(tag, src)
        closers.append(peer.close)
        arr = _arranger(args, preset)
        engine = Engine(preset, arr, Router(preset, [PortOutput("jack", f"sinkm{tag}:in",
                                                                client=f"engout{tag}")]),
                        horizon=_horizon(args, preset))
        # as ``play`` does: the engine thread polls the port (no Python on JACK's thread)
        engine_in = MidiInput("jack", src, client=f"engin{tag}")
        # (run in reverse: the peer's inputs close first, while the ports they hear are
        # there; then the engine stops)
        closers += [engine_in.close, engine.stop, peer.close]
        engine.set_input_poll(engine_in.poll)
        engine.start()
        time.sleep(0.3)
        # probe: both paths must deliver before we measure (a known JACK hazard)
        kbd.send_message([NOTE_ON, 60, 1])
        kbd.send_message([NOTE_OFF, 60, 0])
        _wait(lambda: all(c[1] > 0 for c in peer.ask("counts").values()), 3.0, 0.1)
        counts = peer.ask("counts")
        alive = {k: c[1] > 0 for k, c in counts.items()}
        if not all(alive.values()):
            return {"delivered": False, "alive": alive}
        engine.call(arr.reset)
        engine.call(engine.latency.clear)
        engine.wait_idle(2.0)
        peer.ask("clear")
        sends = play_tagged(kbd, args.notes, args.speed)
        n = len(sends)
        _wait(lambda: all(c[0] >= n for c in peer.ask("counts").values()), 3.0, 0.1)
        engine.wait_idle(2.0)
        internal = engine.latency.summary()
        errors = engine.snapshot().errors
        moves = engine.moves
        got = peer.ask("dump")
    finally:
        for close in reversed(closers):
            try:
                close()
            except Exception:
                pass
    shift = {p.channel: (p.transpose, p.velocity_offset) for p in preset.parts}
    lat_m, miss_m = _match(sends, got["model"], shift)
    lat_t, miss_t = _match(sends, got["thru"], None)
    both = sorted(set(lat_m) & set(lat_t))
    model_ms = np.array([lat_m[i] for i in both])
    thru_ms = np.array([lat_t[i] for i in both])
    ms, ts = _stats(model_ms), _stats(thru_ms)
    return {
        "delivered": bool(lat_m) and bool(lat_t),
        "notes": n, "received_model": len(lat_m), "received_thru": len(lat_t),
        "lost_model": n - len(lat_m), "lost_thru": n - len(lat_t),
        "unmatched_model": miss_m, "unmatched_thru": miss_t,
        **_prefix("model", ms), **_prefix("thru", ts),
        **_prefix("added_per_note", _stats(model_ms - thru_ms)),
        "added_p99_ms": round(ms["p99_ms"] - ts["p99_ms"], 4),
        **_prefix("engine_in_to_send", {k: round(v, 4) for k, v in internal.items()
                                        if k != "count"}),
        "arranger": arr.describe(), "engine_errors": errors[:5],
        "horizon_ms": _horizon_ms(args, preset), "moves": moves,
    }


def bench_live(args: argparse.Namespace) -> dict[str, Any]:
    """End to end through real JACK ports, model path against a plain thru."""
    from livearranger.lab.jackd import JackError, JackServer

    preset = load_preset(args.preset)
    _arranger(args, preset)                      # fail early and clearly
    RESULTS_DIR.mkdir(exist_ok=True)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)                # let JACK's callback thread in quickly
    attempts: list[dict[str, Any]] = []
    try:
        with JackServer(log=RESULTS_DIR / "jackd-live.log") as server:
            for attempt in range(args.attempts):
                xruns = len(server.xruns())
                r = _live_pass(args, preset, f"{os.getpid() % 1000}x{attempt}")
                # cycles in which a client was late: what it carried is lost inside JACK
                r["jack_xruns"] = len(server.xruns()) - xruns
                attempts.append({k: r.get(k) for k in ("delivered", "alive", "notes",
                                                       "received_model", "received_thru")})
                if r.get("delivered"):
                    r.update(bench="live", preset=preset.name, attempts=attempts,
                             jack_period_ms=round(server.period_ms, 3), speed=args.speed)
                    return r
                time.sleep(0.5)
    except JackError as exc:
        raise BenchError(f"no JACK server: {exc}") from None
    finally:
        sys.setswitchinterval(previous)
    raise BenchError(f"a JACK client delivered nothing in {args.attempts} fresh passes: "
                     f"{attempts}")


# ------------------------------------------------------------------ soak
SOAK_RATE = 4000.0        # note-ons per second of dense playing (chords of the chorale)
SOAK_WINDOW_S = 1.0       # latency and memory sampled this often


def bench_soak(args: argparse.Namespace) -> dict[str, Any]:
    """Dense playing for ``args.notes`` notes through real JACK ports (a keyboard client
    into the engine's polled input, the engine out to a JACK port): memory and the
    engine's input-to-send latency per window, first against last, and nothing left
    sounding."""
    import rtmidi

    from livearranger.lab.jackd import JackError, JackServer

    preset = load_preset(args.preset)
    arr = _arranger(args, preset)
    RESULTS_DIR.mkdir(exist_ok=True)
    tag = f"{os.getpid() % 1000}"
    base = performance_events()
    written_rate = sum(1 for e in base if e.is_note_on) / (base[-1].time + 1.0)
    faster = args.rate / written_rate            # the chorale played this many times faster
    windows: list[dict[str, float]] = []
    try:
        with JackServer(log=RESULTS_DIR / "jackd-soak.log") as server:
            kbd = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"soakkbd{tag}")
            kbd.open_virtual_port("out")
            out = PortOutput("jack", "virtual", client=f"soakout{tag}")
            engine = Engine(preset, arr, Router(preset, [out]),
                            horizon=_horizon(args, preset))
            inp = MidiInput("jack", f"soakkbd{tag}:out", client=f"soakin{tag}")
            try:
                engine.set_input_poll(inp.poll)
                engine.start()
                time.sleep(0.3)
                start = time.perf_counter()
                window_end = start + SOAK_WINDOW_S
                seen = 0
                for ev in looped(args.notes):
                    delay = start + ev.time / faster - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    kbd.send_message(ev.message())
                    now = time.perf_counter()
                    if now >= window_end:
                        window_end = now + SOAK_WINDOW_S
                        count = engine.latency.count
                        new = min(count - seen, engine.latency.size)
                        vals = engine.latency.values()[-new:] if new > 0 else np.empty(0)
                        seen = count
                        windows.append({"t_s": round(now - start, 2), "notes": count,
                                        "rss_mb": round(rss_mb(), 2),
                                        **_stats(vals)})
                engine.wait_idle(5.0)
                time.sleep(0.5)
            finally:
                engine.set_input_poll(None)
                engine.wait_idle(5.0)
                inp.close()
                engine.stop()
                close_client(kbd, "jack")
            xruns = server.xruns()
    except JackError as exc:
        raise BenchError(f"no JACK server: {exc}") from None
    if len(windows) < 2:
        raise BenchError("the soak was too short to compare windows: play more --notes")
    k = max(1, len(windows) // 10)
    first, last = windows[1:1 + k] or windows[:1], windows[-k:]

    def mean(rows: list[dict[str, float]], key: str) -> float:
        return round(float(np.mean([r[key] for r in rows])), 4)
    return {
        "bench": "soak", "preset": preset.name, "arranger": arr.describe(),
        "horizon_ms": _horizon_ms(args, preset), "notes_sent": args.notes,
        "rate_notes_per_s": args.rate,
        "notes_in": engine.notes_in, "dropped_note_ons": engine.dropped_note_ons,
        "caught_up": engine.caught_up,
        "moves": engine.moves, "sounding_after_stop": len(engine.router.sounding),
        # cycles in which a client (the keyboard, our input) was late: what it carried
        # then is lost inside JACK (the dummy driver on a busy machine)
        "jack_xruns": len(xruns), "jack_xrun_clients": sorted(set(xruns)),
        "realtime": engine.realtime,
        "seconds": windows[-1]["t_s"], "window_s": SOAK_WINDOW_S,
        "first_windows_p99_ms": mean(first, "p99_ms"),
        "last_windows_p99_ms": mean(last, "p99_ms"),
        "rss_first_mb": windows[1]["rss_mb"] if len(windows) > 1 else windows[0]["rss_mb"],
        "rss_last_mb": windows[-1]["rss_mb"],
        "windows": windows,
    }


# ------------------------------------------------------------------- cli
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="livearranger bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["model", "live", "memory", "soak"])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--notes", type=int, default=None,
                    help="notes to play (model 100000, live 600, memory 1000000)")
    ap.add_argument("--preset", default="satb")
    ap.add_argument("--model", default=None, help="ONNX file (default: the preset's model)")
    ap.add_argument("--arranger", default=None,
                    help="live/memory: arranger in the loop (default model)")
    ap.add_argument("--provider", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--nocache-model", default=None,
                    help="model: full-window graph to time as the cache-free re-run")
    ap.add_argument("--horizon-ms", type=float, default=None,
                    help="live/memory: correction horizon (default: the preset's)")
    ap.add_argument("--speed", type=float, default=3.0,
                    help="live: play the performance this many times faster")
    ap.add_argument("--rate", type=float, default=SOAK_RATE,
                    help=f"soak: note-ons per second (default {SOAK_RATE:g})")
    ap.add_argument("--attempts", type=int, default=3, help="live: fresh passes at most")
    ap.add_argument("--out", default=None, help="JSON file to write (default bench-results/)")
    return ap


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


DEFAULT_NOTES = {"model": 100_000, "live": 600, "memory": 1_000_000, "soak": 1_000_000}


def main(argv: list[str] | None = None) -> int:
    """Run one benchmark; print one JSON object (``--json``) and write it to a file."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_peer"] and len(argv) == 3:      # bench live's other process
        return peer_main(argv[1], argv[2])
    args = build_parser().parse_args(argv)
    if args.notes is None:
        args.notes = DEFAULT_NOTES[args.kind]
    if args.notes < 1:
        print("livearranger bench: --notes must be at least 1", file=sys.stderr)
        return 2
    run = {"model": bench_model, "live": bench_live, "memory": bench_memory,
           "soak": bench_soak}[args.kind]
    load_before = _loadavg()
    try:
        result = run(args)
        # other work on the machine shows in every figure: say how busy it was
        result.update(cpus=os.cpu_count(), loadavg_before=load_before,
                      loadavg_after=_loadavg())
    except (BenchError, ArrangerError, PresetError, OSError) as exc:
        print(f"livearranger bench: error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(result)
    out = Path(args.out) if args.out else RESULTS_DIR / (
        f"{args.kind}-{args.arranger or 'model'}-{args.preset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    if args.json:
        print(text)
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
        print(f"(written to {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
