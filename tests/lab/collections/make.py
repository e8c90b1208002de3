"""Small files laid out as the shared data's collections, made by the tests themselves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mido
import numpy as np

# (track name, program or None, [(start beat, length beats, pitch, velocity)])
Track = tuple[str, int | None, Sequence[tuple[float, float, int, int]]]


def write_midi(path: Path, tracks: Sequence[Track], tpq: int = 480,
               drums: int | None = None) -> Path:
    """A type-1 .mid file: a tempo track (120 bpm), then one track per entry, track k on
    channel k, but track ``drums`` on 9, the drum channel (as NES-MDB puts its noise)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=tpq)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0)])
    mid.tracks.append(meta)
    for k, (name, program, notes) in enumerate(tracks):
        ch = 9 if k == drums else k
        tr = mido.MidiTrack()
        if name:
            tr.append(mido.MetaMessage("track_name", name=name, time=0))
        if program is not None:
            tr.append(mido.Message("program_change", channel=ch, program=program, time=0))
        events = []
        for start, length, pitch, vel in notes:
            events.append((round(start * tpq), 1, pitch, vel))
            events.append((round((start + length) * tpq), 0, pitch, 0))
        events.sort()
        t = 0
        for tick, on, pitch, vel in events:
            kind = "note_on" if on else "note_off"
            tr.append(mido.Message(kind, channel=ch, note=pitch, velocity=vel, time=tick - t))
            t = tick
        mid.tracks.append(tr)
    path.parent.mkdir(parents=True, exist_ok=True)
    mid.save(path)
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def kern(spines: Sequence[Sequence[str]], header: Sequence[str] = (),
         refs: Sequence[str] = (), kinds: Sequence[str] | None = None) -> str:
    """A Humdrum file: ``spines`` left to right, each a column of quarter notes (kern
    tokens without the duration, e.g. "c", "GG", "r"), interpretation lines ``header``
    (tab-joined already), reference records ``refs``."""
    kinds = kinds or ["**kern"] * len(spines)
    lines = [*refs, "\t".join(kinds), *header, "\t".join(["*M4/4"] * len(kinds))]
    rows = max(len(s) for s in spines)
    cols = iter(spines)
    columns = [next(cols) if k == "**kern" else ["p"] + ["."] * (rows - 1) for k in kinds]
    for i in range(rows):
        lines.append("\t".join(("4" + c[i]) if kinds[j] == "**kern" else c[i]
                               for j, c in enumerate(columns)))
    lines.append("\t".join(["*-"] * len(kinds)))
    return "\n".join(lines) + "\n"


def pop_song(seed: int) -> list[Track]:
    """A small pop song: a melody above, a bridge between, piano chords below."""
    rng = np.random.default_rng(seed)
    mel = [(b, 1, int(72 + rng.integers(-3, 4)), 90) for b in range(16)]
    bridge = [(b, 2, int(64 + rng.integers(-2, 3)), 70) for b in range(0, 16, 2)]
    piano = [(b, 1, p, 60) for b in range(16) for p in (48, 52, 55)]
    return [("MELODY", None, mel), ("BRIDGE", None, bridge), ("PIANO", 0, piano)]


def write_pop909(data: Path, train: int, valid_seed: int) -> None:
    """``data/pop909`` as the shared data lays it out: ``train`` songs (seeds 0, 1, ...)
    in ``train/`` and one, of ``valid_seed``, in ``valid/``."""
    for k in range(train):
        write_midi(data / "pop909" / "train" / f"{k:03d}.mid", pop_song(k))
    write_midi(data / "pop909" / "valid" / "701.mid", pop_song(valid_seed))
