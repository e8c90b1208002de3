"""Throughput of ``livearranger arrange``: notes per second, end to end (read, arrange,
write), for a file of chords in time and for one with every note at one instant.

    .venv/bin/python scripts/bench_arrange.py [--notes 200000] [--arrangers model,closest-pitch]

Prints one JSON object per run and a summary table.  Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import mido

from livearranger.offline import arrange_file
from livearranger.presets import load_preset


def make_file(path: Path, notes: int, instant: bool) -> None:
    """``notes`` notes: four-note chords a beat apart (each held most of a beat), or all
    struck at tick 0 and released a beat later."""
    rng = random.Random(0)
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    events: list[tuple[int, int, int]] = []
    if instant:
        events = [(0, 1, 40 + i % 44) for i in range(notes)]
        events += [(480, 0, 40 + i) for i in range(min(notes, 44))]
    else:
        tick = 0
        while len(events) < 2 * notes:
            for p in sorted(rng.sample(range(40, 84), 4))[: notes - len(events) // 2]:
                events += [(tick, 1, p), (tick + 200, 0, p)]
            tick += 240
        events.sort()
    now = 0
    for tick, on, p in events:
        track.append(mido.Message("note_on" if on else "note_off", note=p,
                                  velocity=80 if on else 0, time=tick - now))
        now = tick
    mid.save(str(path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=200_000)
    ap.add_argument("--arrangers", default="closest-pitch,voice-leading,model")
    ap.add_argument("--preset", default="satb")
    args = ap.parse_args()
    preset = load_preset(args.preset)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("normal", "instant"):
            src = Path(tmp) / f"{kind}.mid"
            make_file(src, args.notes, kind == "instant")
            for arranger in args.arrangers.split(","):
                start = time.perf_counter()
                arrange_file(src, Path(tmp) / "out.mid", preset, arranger)
                seconds = time.perf_counter() - start
                row = {"file": kind, "arranger": arranger, "notes": args.notes,
                       "seconds": round(seconds, 2),
                       "notes_per_s": round(args.notes / seconds)}
                print(json.dumps(row), flush=True)
                rows.append(row)
    for r in rows:
        print(f"{r['file']:8} {r['arranger']:14} {r['notes']:8,} notes {r['seconds']:8.2f} s "
              f"{r['notes_per_s']:9,} notes/s")


if __name__ == "__main__":
    main()
