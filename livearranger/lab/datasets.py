"""Note streams for training and evaluation: music21 corpus pieces and a player's own MIDI.

Each piece becomes one ``Piece``: notes sorted by onset then pitch, with onset in seconds
and beats (quarter notes), pitch, velocity (0 where the source has none), offset in
seconds (used only to know which keys are still down, never as a feature) and the part.

Keyboard view: a key can sound only once.  Notes of several parts on the same key with
the same onset (unisons) are merged into one note whose ``mask`` has a bit for every such
part (``part`` is the highest of them); a note that starts on a key still held by an
earlier note cuts that earlier note short.  Evaluation counts a merged note as correct
when any part of its mask is chosen.

music21 is imported lazily; parsed corpora are cached as ``.npz`` under ``cache_dir()``.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

CACHE_VERSION = 1
DATASETS = ("bach", "string-quartet")
SATB = ("Soprano", "Alto", "Tenor", "Bass")
QUARTET = ("violin1", "violin2", "viola", "cello")
QUARTET_WORKS = ("haydn", "mozart", "beethoven")
SPLIT_SEED = 0
DEFAULT_BPM = 120.0


class DatasetError(RuntimeError):
    """A dataset that cannot be loaded (music21 missing, unknown name, empty folder)."""


@dataclass
class Piece:
    """One piece as a keyboard note stream (arrays of equal length, sorted by onset, pitch)."""

    name: str
    part_names: tuple[str, ...]
    onset: np.ndarray      # float64 seconds
    beat: np.ndarray       # float64 quarter notes from the start
    pitch: np.ndarray      # int16
    velocity: np.ndarray   # int16, 0 = unknown
    offset: np.ndarray     # float64 seconds (release; for held-key state only)
    part: np.ndarray       # int8, the label (highest part of a unison)
    mask: np.ndarray       # uint8 bit mask of the parts that own the note

    def __len__(self) -> int:
        return int(self.pitch.shape[0])

    @property
    def n_parts(self) -> int:
        return len(self.part_names)


def cache_dir() -> Path:
    """Where parsed corpora are kept: ``$XDG_CACHE_HOME/livearranger`` (default
    ``~/.cache/livearranger``); delete it to parse again."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "livearranger"


def _need_music21():
    try:
        import music21  # noqa: F401
    except ImportError:
        raise DatasetError("music21 is not installed: pip install 'livearranger[train]'") from None
    import music21
    return music21


def build_piece(name: str, part_names: Sequence[str],
                notes: Iterable[tuple[float, float, int, int, float, float, int]]) -> Piece:
    """A Piece from raw notes ``(onset_s, beat, pitch, velocity, offset_s, _, part)``.

    Merges unisons (same key, same onset) and cuts a note short when its key is struck
    again before it ends.
    """
    rows = sorted(notes, key=lambda r: (r[0], r[2], r[6]))
    merged: list[list] = []
    index: dict[tuple[float, int], int] = {}
    for on, beat, pitch, vel, off, _, part in rows:
        key = (round(on, 6), pitch)
        j = index.get(key)
        if j is not None:
            m = merged[j]
            m[4] = max(m[4], off)
            m[7] |= 1 << part
            m[3] = max(m[3], vel)
            continue
        index[key] = len(merged)
        merged.append([on, beat, pitch, vel, off, 0.0, part, 1 << part])
    last_on_key: dict[int, int] = {}
    for j, m in enumerate(merged):
        prev = last_on_key.get(m[2])
        if prev is not None and merged[prev][4] > m[0]:
            merged[prev][4] = m[0]
        last_on_key[m[2]] = j
    arr = merged
    return Piece(
        name=name,
        part_names=tuple(part_names),
        onset=np.array([m[0] for m in arr], dtype=np.float64),
        beat=np.array([m[1] for m in arr], dtype=np.float64),
        pitch=np.array([m[2] for m in arr], dtype=np.int16),
        velocity=np.array([m[3] for m in arr], dtype=np.int16),
        offset=np.array([m[4] for m in arr], dtype=np.float64),
        part=np.array([m[6] for m in arr], dtype=np.int8),
        mask=np.array([m[7] for m in arr], dtype=np.uint8),
    )


def _tempo_map(score) -> list[tuple[float, float, float]]:
    """(start quarter, start seconds, seconds per quarter) segments."""
    segs: list[tuple[float, float, float]] = []
    t = 0.0
    try:
        bounds = score.metronomeMarkBoundaries()
    except Exception:  # noqa: BLE001 - music21 raises assorted errors on odd scores
        bounds = []
    for start, end, mm in bounds:
        if end <= start:
            continue
        bpm = mm.getQuarterBPM() or DEFAULT_BPM
        spq = 60.0 / bpm
        segs.append((float(start), t, spq))
        t += (float(end) - float(start)) * spq
    if not segs:
        segs.append((0.0, 0.0, 60.0 / DEFAULT_BPM))
    return segs


def _seconds(segs: list[tuple[float, float, float]], q: float) -> float:
    start, t0, spq = segs[0]
    for s in segs:
        if s[0] <= q:
            start, t0, spq = s
        else:
            break
    return t0 + (q - start) * spq


def piece_from_score(score, name: str, part_names: Sequence[str]) -> Piece:
    """Notes of a music21 score, one label per part (parts in score order)."""
    segs = _tempo_map(score)
    rows = []
    for p_index, part in enumerate(score.parts):
        flat = part.stripTies().flatten()
        for el in flat.notes:
            ql = float(el.quarterLength)
            if ql <= 0:  # grace notes
                continue
            q0 = float(el.offset)
            on = _seconds(segs, q0)
            off = _seconds(segs, q0 + ql)
            vel = el.volume.velocity if el.volume.velocityIsRelative is False else None
            vel = int(vel) if vel else 0
            pitches = el.pitches if el.isChord else (el.pitch,)
            for pt in pitches:
                rows.append((on, q0, int(pt.midi), vel, off, 0.0, p_index))
    return build_piece(name, part_names, rows)


def corpus_files(dataset: str) -> list[str]:
    """Corpus-relative paths of the candidate files of ``dataset`` (before part checks)."""
    music21 = _need_music21()
    root = Path(music21.__file__).parent / "corpus"
    if dataset == "bach":
        files = sorted(root.glob("bach/*.mxl")) + sorted(root.glob("bach/*.xml"))
    elif dataset == "string-quartet":
        files = []
        for composer in QUARTET_WORKS:
            for f in sorted((root / composer).rglob("*")):
                if f.suffix not in (".mxl", ".krn", ".xml"):
                    continue
                # each work once: prefer the MusicXML where a Humdrum twin exists
                if f.suffix == ".krn" and f.with_suffix(".mxl").exists():
                    continue
                files.append(f)
    else:
        raise DatasetError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    return [str(f.relative_to(root)) for f in files]


def _parse_corpus_piece(dataset: str, rel: str) -> Piece | None:
    music21 = _need_music21()
    try:
        score = music21.corpus.parse(rel)
    except Exception:  # noqa: BLE001
        return None
    parts = list(score.parts)
    if len(parts) != 4:
        return None
    if dataset == "bach":
        names = tuple((p.partName or "").strip() for p in parts)
        if names != SATB:
            return None
        labels: Sequence[str] = tuple(n.lower() for n in SATB)
    else:
        labels = QUARTET
    piece = piece_from_score(score, rel, labels)
    return piece if len(piece) else None


def _save(path: Path, pieces: list[Piece]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    cat = {f: np.concatenate([getattr(p, f) for p in pieces])
           for f in ("onset", "beat", "pitch", "velocity", "offset", "part", "mask")}
    meta = json.dumps({"version": CACHE_VERSION, "names": [p.name for p in pieces],
                       "part_names": [list(p.part_names) for p in pieces]})
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, lengths=lengths, meta=np.array(meta), **cat)  # type: ignore[arg-type]
    tmp.replace(path)


_LOADED: dict[tuple[str, float], list[Piece]] = {}


def _load(path: Path) -> list[Piece] | None:
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        return None
    if key in _LOADED:
        return _LOADED[key]
    out = _read(path)
    if out is not None:
        _LOADED.clear()
        _LOADED[key] = out
    return out


def _read(path: Path) -> list[Piece] | None:
    try:
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError):
        return None
    if meta.get("version") != CACHE_VERSION:
        return None
    fields = [z[f] for f in ("onset", "beat", "pitch", "velocity", "offset", "part", "mask")]
    out, start = [], 0
    for name, pn, n in zip(meta["names"], meta["part_names"], z["lengths"], strict=True):
        sl = slice(start, start + int(n))
        out.append(Piece(name, tuple(pn), *(a[sl].copy() for a in fields)))
        start += int(n)
    return out


def load_corpus(dataset: str, files: Sequence[str] | None = None,
                use_cache: bool = True, progress: bool = False) -> list[Piece]:
    """Pieces of ``dataset`` ("bach" or "string-quartet"), parsed once and cached.

    With ``files`` only those corpus paths (a subset, e.g. for tests; not cached as a whole).
    """
    if dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    path = cache_dir() / f"{dataset}-v{CACHE_VERSION}.npz"
    if use_cache and path.exists():
        cached = _load(path)
        if cached is not None:
            if files is None:
                return cached
            by_name = {p.name: p for p in cached}
            if all(f in by_name for f in files):
                return [by_name[f] for f in files]
    wanted = list(files) if files is not None else corpus_files(dataset)
    pieces = []
    for k, rel in enumerate(wanted):
        piece = _parse_corpus_piece(dataset, rel)
        if piece is not None:
            pieces.append(piece)
        if progress:
            print(f"\rparsing {dataset}: {k + 1}/{len(wanted)} ({len(pieces)} kept)",
                  end="", flush=True)
    if progress:
        print()
    if files is None and use_cache:
        _save(path, pieces)
    return pieces


# ---------------------------------------------------------------- splits

def split_path(dataset: str) -> Traversable:
    """The committed split file of ``dataset`` (package data, read through
    importlib.resources)."""
    return resources.files("livearranger.data.splits") / f"{dataset}.json"


def make_split(names: Sequence[str], seed: int = SPLIT_SEED) -> dict[str, list[str]]:
    """Split file names 8:1:1 (train/valid/test) with a fixed seed."""
    order = sorted(names)
    random.Random(seed).shuffle(order)
    n = len(order)
    n_test = max(1, round(n * 0.1))
    n_valid = max(1, round(n * 0.1))
    return {"train": sorted(order[: n - n_valid - n_test]),
            "valid": sorted(order[n - n_valid - n_test: n - n_test]),
            "test": sorted(order[n - n_test:])}


def load_split(dataset: str) -> dict[str, list[str]]:
    """The committed split of ``dataset``: {"train"|"valid"|"test": [file, ...]}."""
    path = split_path(dataset)
    if not path.is_file():
        raise DatasetError(f"no split committed for {dataset!r} ({path})")
    return json.loads(path.read_text())


def load_pieces(dataset: str, split: str = "test", limit: int | None = None) -> list[Piece]:
    """Pieces of one split (``train``, ``valid``, ``test`` or ``all``), optionally the first
    ``limit`` of them."""
    sp = load_split(dataset)
    names = [n for k in ("train", "valid", "test") for n in sp[k]] if split == "all" \
        else sp.get(split)
    if names is None:
        raise DatasetError(f"unknown split {split!r} (train, valid, test, all)")
    if limit is not None:
        names = names[:limit]
    return load_corpus(dataset, names)


# ---------------------------------------------------------------- user MIDI folders

def _gm_family(program: int) -> str:
    from livearranger.gm import PROGRAMS
    name = PROGRAMS[program] if 0 <= program < len(PROGRAMS) else f"program {program}"
    return str(name)


def load_midi_file(path: str | Path, part_names: Sequence[str] | None = None) -> Piece:
    """A multitrack .mid file: one part per track with notes (or per channel for a
    single-track file), named by track name, else the GM program of its first program change.

    With ``part_names`` the parts are matched to those names (case-insensitive) and notes of
    other tracks are dropped.
    """
    import mido

    mid = mido.MidiFile(str(path))
    tpq = mid.ticks_per_beat
    tracks = [t for t in mid.tracks if any(m.type == "note_on" for m in t)]
    by_channel = len(tracks) == 1
    # tempo map in ticks
    tempo, t_sec, last_tick = 500000, 0.0, 0
    keys: dict[tuple[str, int], list] = {}
    notes: list[tuple[str, float, float, int, int, float]] = []
    names: dict[str, str] = {}
    # track identity per message: merge loses it, so walk tracks separately for names
    track_of: list[str] = []
    for ti, tr in enumerate(mid.tracks):
        nm = next((m.name for m in tr if m.type == "track_name" and m.name.strip()), "")
        prog = next((m.program for m in tr if m.type == "program_change"), None)
        label = nm.strip() or (_gm_family(prog) if prog is not None else f"track {ti}")
        track_of.append(label)
    events = []
    for ti, tr in enumerate(mid.tracks):
        t = 0
        for m in tr:
            t += m.time
            events.append((t, ti, m))
    events.sort(key=lambda e: (e[0], 0 if e[2].type == "set_tempo" else 1))
    for tick, ti, m in events:
        t_sec += mido.tick2second(tick - last_tick, tpq, tempo)
        last_tick = tick
        if m.type == "set_tempo":
            tempo = m.tempo
            continue
        if m.type not in ("note_on", "note_off"):
            if m.type == "program_change" and by_channel:
                names.setdefault(f"ch{m.channel}", _gm_family(m.program))
            continue
        label = f"ch{m.channel}" if by_channel else track_of[ti]
        k = (label, m.note)
        if m.type == "note_on" and m.velocity > 0:
            keys[k] = [t_sec, tick / tpq, m.velocity]
        elif k in keys:
            on, beat, vel = keys.pop(k)
            notes.append((label, on, beat, m.note, vel, t_sec))
    pitch_sum: dict[str, list[int]] = {}
    for n in notes:
        acc = pitch_sum.setdefault(n[0], [0, 0])
        acc[0] += n[3]
        acc[1] += 1
    labels = sorted(pitch_sum, key=lambda s: pitch_sum[s][0] / pitch_sum[s][1], reverse=True)
    if by_channel:
        pretty = {lab: names.get(lab, lab) for lab in labels}
    else:
        pretty = {lab: lab for lab in labels}
    if part_names is not None:
        lower = {n.lower(): i for i, n in enumerate(part_names)}
        idx = {lab: lower.get(pretty[lab].lower()) for lab in labels}
        final_names = tuple(part_names)
    else:
        idx = {lab: i for i, lab in enumerate(labels)}
        final_names = tuple(pretty[lab] for lab in labels)
    rows = [(on, beat, pitch, vel, off, 0.0, part)
            for lab, on, beat, pitch, vel, off in notes
            if (part := idx.get(lab)) is not None]
    if not rows:
        raise DatasetError(f"{path}: no notes in the named parts")
    return build_piece(str(path), final_names, rows)


def load_midi_folder(folder: str | Path, part_names: Sequence[str] | None = None) -> list[Piece]:
    """Every .mid/.midi file of ``folder`` (recursively) as pieces; see ``load_midi_file``."""
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        raise DatasetError(f"no .mid files in {root}")
    return [load_midi_file(f, part_names) for f in files]
