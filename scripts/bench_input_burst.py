"""Input bursts through `livearranger play --headless` on a private dummy jackd: figures,
not assertions.  Run from the repository root with the package installed:

    .venv/bin/python scripts/bench_input_burst.py [--preset satb] [--arranger closest-pitch]

1. pairs: 5,000 note-on/off pairs in 50 ms, then a probe note every 10 ms: notes out,
   in order, left sounding, and each probe's latency (keyboard send -> listener).
2. random: 20,000 random channel messages sent unpaced (as fast as the sender goes):
   note-ons taken and dropped (the engine's report), keys left sounding after stop.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livearranger.events import (  # noqa: E402
    AFTERTOUCH,
    CHANNEL_MASK,
    CONTROL,
    KIND_MASK,
    NOTE_OFF,
    NOTE_ON,
    PITCHBEND,
)
from livearranger.lab.jackd import JackServer  # noqa: E402
from livearranger.presets import load_preset  # noqa: E402
from tests.midi_probe import connect_live, send_burst, wait_for_port  # noqa: E402


def _play(preset: str, arranger: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "livearranger", "play", "--headless", "--api", "jack",
         "--in", "virtual", "--out", "virtual", "--preset", preset, "--arranger", arranger,
         "--horizon-ms", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd="/tmp")
    assert proc.stdout is not None
    proc.stdout.readline()
    wait_for_port("livearranger-out:out")
    return proc


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:        # a finding, not a crash of the benchmark
        print("  !! livearranger did not stop within 30 s of SIGTERM: killed")
        proc.kill()
        return proc.communicate(timeout=30)


def _sounding(msgs: list[list[int]]) -> int:
    open_notes: dict[tuple[int, int], int] = {}
    for m in msgs:
        kind, key = m[0] & KIND_MASK, (m[0] & CHANNEL_MASK, m[1])
        if kind == NOTE_ON and m[2]:
            open_notes[key] = open_notes.get(key, 0) + 1
        elif kind in (NOTE_OFF, NOTE_ON) and open_notes.get(key):
            open_notes[key] -= 1
    return sum(open_notes.values())


def _xruns(server: JackServer) -> str:
    """JACK's own losses so far: cycles in which a client was late (what it carried
    then never reached anyone)."""
    late = server.xruns()
    return f"JACK xruns so far: {len(late)}" + (f" ({', '.join(sorted(set(late)))})"
                                                 if late else "")


PROBE = 100


def pairs(server: JackServer, preset: str, arranger: str, n: int = 5000) -> None:
    proc = _play(preset, arranger)
    kb, ls = connect_live("livearranger-out:out", "livearranger:in")
    pitches = [36 + (i * 7) % 60 for i in range(n)]
    t0 = time.perf_counter()
    send_burst(kb, pitches, 0.05)                   # 50 slices of 1 ms
    t_end = time.perf_counter()
    sends = []
    for _ in range(30):
        sends.append(time.perf_counter())
        kb.send([NOTE_ON, PROBE, 64])
        kb.send([NOTE_OFF, PROBE, 0])
        time.sleep(0.01)
    time.sleep(1.0)
    out, _err = _stop(proc)
    time.sleep(0.5)
    got = ls.timed()
    ons = [(t, m) for t, m in got if m[0] & KIND_MASK == NOTE_ON and m[2]]
    # the probe key (100) is none of the burst's (36..95): told apart even when the
    # engine dropped burst notes under overload
    shift = {p.channel: p.transpose for p in load_preset(preset).parts}
    keys = [(t, m[1] - shift.get(m[0] & CHANNEL_MASK, 0)) for t, m in ons]   # as played
    burst = [(t, k) for t, k in keys if k != PROBE]
    probes = [(t, k) for t, k in keys if k == PROBE]
    print(f"pairs: {n} note-on/off pairs sent in {1000 * (t_end - t0):.1f} ms; "
          f"{len(burst)} note-ons out, in order: {[k for _t, k in burst] == pitches}; "
          f"left sounding after stop: {_sounding([m for _t, m in got])}; "
          f"{_xruns(server)}")
    if burst:
        print(f"  last burst note out {1000 * (burst[-1][0] - t_end):.0f} ms after the "
              "burst ended")
    lat = [f"+{1000 * (s - t_end):.0f}:{1000 * (t - s):.1f}"
           for s, (t, _m) in zip(sends, probes, strict=False)]
    print(f"  {len(probes)} of {len(sends)} probes out; probe sent at (ms after burst) : "
          "latency (ms): " + " ".join(lat))
    for line in out.splitlines():
        if line.startswith(("input:", "catching up:")):
            print("  " + line)
    kb.close()
    ls.close()


def random_stream(server: JackServer, preset: str, arranger: str, n: int = 20000,
                  seed: int = 0) -> None:
    proc = _play(preset, arranger)
    kb, ls = connect_live("livearranger-out:out", "livearranger:in")
    rng = random.Random(seed)
    sent_ons = 0
    t0 = time.perf_counter()
    for _ in range(n):
        kind = rng.choice([NOTE_ON, NOTE_ON, NOTE_OFF, NOTE_OFF, CONTROL, PITCHBEND, AFTERTOUCH])
        ch = rng.randrange(16)
        if kind == AFTERTOUCH:
            kb.send([kind | ch, rng.randrange(128)])
        elif kind == CONTROL:
            kb.send([kind | ch, rng.choice([1, 7, 64, 11]), rng.randrange(128)])
        else:
            v = rng.randrange(128)
            sent_ons += kind == NOTE_ON and v > 0
            kb.send([kind | ch, rng.randrange(36, 96), v])
    t_sent = time.perf_counter() - t0
    time.sleep(2.0)
    out, err = _stop(proc)
    time.sleep(0.5)
    got = ls.take()
    taken = sum(1 for m in got if m[0] & KIND_MASK == NOTE_ON and m[2])
    print(f"random: {n} messages ({sent_ons} note-ons) sent unpaced in {1000 * t_sent:.0f} ms; "
          f"{taken} note-ons out; left sounding after stop: {_sounding(got)}; "
          f"rtmidi queue-limit lines: {err.count('queue limit')}; {_xruns(server)}")
    print("  " + next(line for line in out.splitlines() if line.startswith("input:")))
    kb.close()
    ls.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="satb")
    ap.add_argument("--arranger", default="closest-pitch")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            JackServer(log=Path(tmp) / "jackd.log") as server:
        pairs(server, args.preset, args.arranger)
        random_stream(server, args.preset, args.arranger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
