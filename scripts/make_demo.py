"""Write livearranger/data/demo.mid: the built-in performance of ``livearranger demo``.

Bach's chorale BWV 66.6 (music21 corpus), its four voices flattened into one stream on
one channel, as a keyboard player would play it: chords spread over a few milliseconds
in random order, slightly detached notes, varied velocities.  Seeded, so the file is
reproducible: ``python scripts/make_demo.py`` (needs music21, the ``train`` extra).
"""

from __future__ import annotations

import random
from pathlib import Path

import mido
from music21 import corpus

BPM = 80
SEED = 66
OUT = Path(__file__).resolve().parent.parent / "livearranger" / "data" / "demo.mid"


def main() -> None:
    rng = random.Random(SEED)
    score = corpus.parse("bach/bwv66.6").stripTies()
    sec = 60.0 / BPM
    notes = []
    for voice, part in enumerate(score.parts):
        for n in part.flatten().notes:
            for p in n.pitches:
                notes.append((float(n.offset) * sec, float(n.quarterLength) * sec, p.midi, voice))
    onsets = sorted({round(t, 6) for t, *_ in notes})
    spread = {t: rng.sample(range(4), 4) for t in onsets}
    events = []
    for start, dur, pitch, voice in notes:
        t_on = start + spread[round(start, 6)][voice] * rng.uniform(0.003, 0.008)
        t_off = start + dur - rng.uniform(0.02, 0.06)
        vel = max(1, min(127, int(rng.gauss(88 if voice == 0 else 76, 6))))
        events.append((t_on, 1, pitch, vel))
        events.append((max(t_off, t_on + 0.05), 0, pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))   # offs before ons at the same instant
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    tempo = mido.bpm2tempo(120)
    track.append(mido.MetaMessage("track_name", name="BWV 66.6, played on one keyboard"))
    track.append(mido.MetaMessage("set_tempo", tempo=tempo))
    now = 0
    for t, on, pitch, vel in events:
        tick = int(round(mido.second2tick(t, 480, tempo)))
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=vel, time=tick - now))
        now = tick
    OUT.parent.mkdir(parents=True, exist_ok=True)
    mid.save(str(OUT))
    print(f"wrote {OUT} ({len(notes)} notes, {events[-1][0]:.1f} s)")


if __name__ == "__main__":
    main()
