"""Note streams for training and evaluation: music21 corpus pieces and a player's own MIDI.

Each piece becomes one ``Piece``: notes sorted by onset then pitch, with onset in seconds
and beats (quarter notes), pitch, velocity (0 where the source has none), offset in
seconds (used only to know which keys are still down, never as a feature) and the part.

Keyboard view: a key can sound only once.  Notes of several parts on the same key with
the same onset (unisons) are merged into one note whose ``mask`` has a bit for every such
part (``part`` is the highest of them); a note that starts on a key still held by an
earlier note cuts that earlier note short.  Evaluation counts a merged note as correct
when any part of its mask is chosen.

Corpus datasets: "bach" (chorales, SATB), "string-quartet" (Haydn, Mozart, Beethoven),
"madrigal" (Monteverdi, five voices) and "trecento" (two or three voices; each piece's
``part_names`` is its own ensemble).  Palestrina and Josquin are never part of a dataset:
they are kept back as unseen music for checks.

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

from livearranger.errors import LiveArrangerError
from livearranger.events import DRUM_CHANNEL
from livearranger.io.midifile import MAX_FILE_BYTES
from livearranger.presets import MAX_PARTS, Part, Preset, load_preset

CACHE_VERSION = 1
DATASETS = ("bach", "string-quartet", "madrigal", "trecento")
SATB = ("Soprano", "Alto", "Tenor", "Bass")
QUARTET = ("violin1", "violin2", "viola", "cello")
QUARTET_WORKS = ("haydn", "mozart", "beethoven")
PART_COUNTS = {"madrigal": (5,), "trecento": (2, 3)}   # scores kept, by number of parts
RESERVED = ("palestrina", "josquin")   # corpus folders in no dataset (unseen music)
PRESET_OF = {"bach": "satb", "string-quartet": "string-quartet"}   # corpus -> shipped preset
# what each corpus is, for model cards and graph metadata (music21 ships the encodings)
CORPUS_SOURCE = {
    "bach": "the Bach chorales in four parts, encoded by permission of their encoders; "
            "the music is public domain",
    "string-quartet": "Haydn, Mozart and Beethoven quartets (CCARH encodings)",
    "madrigal": "Monteverdi's madrigals", "trecento": "trecento songs"}
VOICE_PROGRAM = 52                     # GM Choir Aahs
RANGE_MARGIN = 2                       # semitones added to a part's range on each side
MIDI_SUFFIXES = (".mid", ".midi")
SPLIT_SEED = 0
DEFAULT_BPM = 120.0


class DatasetError(LiveArrangerError):
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


def piece_from_score(score, name: str, part_names: Sequence[str],
                     part_of: Sequence[int] | None = None) -> Piece:
    """Notes of a music21 score, one label per part (parts in score order); with
    ``part_of`` the score's part k is labelled ``part_of[k]`` instead (several score parts
    may share a label)."""
    segs = _tempo_map(score)
    rows = []
    for k, part in enumerate(score.parts):
        p_index = part_of[k] if part_of is not None else k
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


def is_reserved(rel: str) -> bool:
    """True for a corpus path inside a ``RESERVED`` folder (Palestrina, Josquin)."""
    return any(c.lower() in RESERVED for c in Path(os.path.normpath(rel)).parts)


def corpus_files(dataset: str) -> list[str]:
    """Corpus-relative paths of the candidate files of ``dataset`` (before part checks).

    Files under a ``RESERVED`` folder are refused (left out) whatever the dataset.
    """
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
    elif dataset == "madrigal":
        # scores only: the .rntxt twins are Roman-numeral analyses; madrigal.3.1_old is
        # an older encoding of madrigal.3.1 (the same work twice would leak across splits)
        files = [f for f in sorted(root.glob("monteverdi/*.mxl"))
                 if not f.stem.endswith("_old")]
    elif dataset == "trecento":
        # each work once: the .xml where an .mxl twin exists
        files = sorted([*root.glob("trecento/*.xml"),
                        *(f for f in root.glob("trecento/*.mxl")
                          if not f.with_suffix(".xml").exists())])
    else:
        raise DatasetError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    rels = [str(f.relative_to(root)) for f in files]
    return [r for r in rels if not is_reserved(r)]


def part_labels(names: Sequence[str | None]) -> tuple[str, ...]:
    """Labels from a score's part names: lower-cased, whitespace stripped (and runs of it
    made one space); an empty or repeated name becomes ``part<i>`` (1-based), and all do
    when that still repeats one."""
    low = [" ".join((n or "").split()).lower() for n in names]
    labels = [n if n and low.count(n) == 1 else f"part{i + 1}" for i, n in enumerate(low)]
    if len(set(labels)) < len(labels):
        labels = [f"part{i + 1}" for i in range(len(low))]
    return tuple(labels)


def _parse_corpus_piece(dataset: str, rel: str) -> Piece | None:
    music21 = _need_music21()
    try:
        score = music21.corpus.parse(rel)
    except Exception:  # noqa: BLE001
        return None
    parts = list(score.parts)
    labels: Sequence[str]
    if dataset in PART_COUNTS:
        if len(parts) not in PART_COUNTS[dataset]:
            return None
        labels = part_labels([p.partName for p in parts])
    elif len(parts) != 4:
        return None
    elif dataset == "bach":
        names = tuple((p.partName or "").strip() for p in parts)
        if names != SATB:
            return None
        labels = tuple(n.lower() for n in SATB)
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
    """Pieces of ``dataset`` ("bach", "string-quartet", "madrigal" or "trecento"), parsed
    once and cached.

    With ``files`` only those corpus paths (a subset, e.g. for tests; not cached as a whole);
    a file under a ``RESERVED`` folder is refused.
    """
    if dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    reserved = [f for f in files or () if is_reserved(f)]
    if reserved:
        raise DatasetError(f"{reserved[0]}: {', '.join(RESERVED)} are kept out of every "
                           "dataset (unseen music for checks)")
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


def overlapping_notes(piece: Piece) -> np.ndarray:
    """Boolean per note: it starts while an earlier note (or one of the same onset) of one
    of its parts is still held, so it breaks that part's ``mono``; a chord of n notes in one
    part counts n - 1.  A unison's release is the later of its parts' and the Piece does
    not keep whose, so a unison holds no part here: a lower bound (counting unisons as
    held would flag, nearly always, only a shorter unison part moving on)."""
    out = np.zeros(len(piece), dtype=bool)
    alone = (piece.mask & (piece.mask - 1)) == 0
    until = np.where(alone, piece.offset, piece.onset)
    for k in range(piece.n_parts):
        idx = np.flatnonzero((piece.mask >> k) & 1)
        if idx.size < 2:
            continue
        held = np.maximum.accumulate(until[idx])[:-1]      # latest release so far
        out[idx[1:]] |= piece.onset[idx[1:]] < held - 1e-6
    return out


def piece_preset(dataset: str, piece: Piece) -> Preset:
    """The ensemble that plays ``piece`` of ``dataset``, its parts in the piece's part order.

    "bach" and "string-quartet": the shipped ``satb`` and ``string-quartet`` presets.
    "madrigal" and "trecento": one part per score part, named by its label, program 52
    (Choir Aahs), channels 0, 1, ... skipping 9 (drums), mono, arranger "model" (no model
    file named), range the part's lowest..highest note widened by ``RANGE_MARGIN``
    (a part without notes: the whole piece's).

    The order is the score's, which the note labels follow.  By mean pitch it is top to
    bottom in 25 of the 40 madrigals and 74 of the 80 trecento pieces.  Otherwise a part
    lies above the one before it: by at most a semitone in 8 madrigals (mostly canto and
    quinto, both sopranos); by 4-10 semitones in 7 (3.2, 3.3, 3.4, 3.5, 3.10, 4.6, 4.9),
    seemingly an octave error of the encoding (3.10's alto, in treble clef, spans the
    bass's 45..62); by 0-6 semitones in 6 trecento pieces, where voices of one range
    (cantus I/II, cantus/contratenor, contratenor/tenor) cross, as that music allows.
    """
    if dataset in PRESET_OF:
        preset = load_preset(PRESET_OF[dataset])
        if preset.part_names != list(piece.part_names):
            raise DatasetError(f"{piece.name}: parts {list(piece.part_names)} are not those "
                               f"of the {preset.name} preset {preset.part_names}")
        return preset
    if dataset not in PART_COUNTS:
        raise DatasetError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    return ensemble_of(piece, dataset)


def ensemble_of(piece: Piece, name: str) -> Preset:
    """A preset ``name`` with one part per part of ``piece`` (see ``piece_preset``)."""
    if piece.n_parts > MAX_PARTS:
        raise DatasetError(f"{piece.name}: {piece.n_parts} parts, more than the "
                           f"{MAX_PARTS} channels (drums excepted)")
    channels = [c for c in range(MAX_PARTS + 1) if c != DRUM_CHANNEL]
    span = (int(piece.pitch.min()), int(piece.pitch.max())) if len(piece) else (0, 127)
    parts = []
    for k, name in enumerate(piece.part_names):
        own = piece.pitch[((piece.mask >> k) & 1).astype(bool)]
        lo, hi = (int(own.min()), int(own.max())) if own.size else span
        parts.append(Part(name=name, program=VOICE_PROGRAM, channel=channels[k],
                          low=max(0, lo - RANGE_MARGIN), high=min(127, hi + RANGE_MARGIN),
                          mono=True))
    return Preset(name=name, parts=tuple(parts), arranger="model",
                  description=f"{piece.name}: {', '.join(piece.part_names)}")


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


@dataclass
class MidiTrack:
    """The notes of one track of a .mid file (of one channel, for a file whose notes are
    all in one track), with what names it: its track name and its first program."""

    index: int                  # the track's number in the file, from 0 (or its channel)
    name: str                   # the track name ("" when none; always "" for a channel)
    program: int | None         # its first program change
    channel: int                # 0..15: the channel most of its notes are on
    by_channel: bool            # one channel of a single-track (type 0) file
    # (onset s, beat, pitch, velocity, offset s) of every note, in the order they end
    notes: list[tuple[float, float, int, int, float]]

    @property
    def drums(self) -> bool:
        """On the General MIDI drum channel (10)."""
        return self.channel == DRUM_CHANNEL

    @property
    def label(self) -> str:
        """What to call it: its name, else its GM program, else 'track N' / 'channel N'
        (counted from 1 for a channel, as players count them; from 0 for a track)."""
        if self.name:
            return self.name
        if self.program is not None:
            return _gm_family(self.program)
        return f"channel {self.channel + 1}" if self.by_channel else f"track {self.index}"

    @property
    def mean_pitch(self) -> float:
        return sum(n[2] for n in self.notes) / max(len(self.notes), 1)


def read_midi_tracks(path: str | Path) -> list[MidiTrack]:
    """Every track of a .mid file that has notes (every channel, for a file whose notes
    are all in one track), in file order; notes on the drum channel are a track of
    their own (``drums``).  A note still held at the end of the file is left out.
    Raises DatasetError (one line naming the file) for a file that cannot be read."""
    import io

    import mido

    from livearranger.files import FileProblem, read_limited

    try:
        data = read_limited(path, MAX_FILE_BYTES, "MIDI file")
    except FileProblem as exc:
        raise DatasetError(str(exc)) from None
    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - mido raises assorted errors on bad files
        text = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise DatasetError(f"{path}: not a readable MIDI file ({text})") from None
    tpq = mid.ticks_per_beat
    if not tpq:
        raise DatasetError(f"{path}: not a readable MIDI file (no ticks per beat)")
    with_notes = [ti for ti, t in enumerate(mid.tracks)
                  if any(m.type == "note_on" for m in t)]
    by_channel = len(with_notes) == 1
    events = []
    for ti, tr in enumerate(mid.tracks):
        t = 0
        for m in tr:
            t += m.time
            events.append((t, ti, m))
    events.sort(key=lambda e: (e[0], 0 if e[2].type == "set_tempo" else 1))
    tracks: dict[tuple[int, bool], MidiTrack] = {}   # (track or channel, drums)
    channels: dict[tuple[int, bool], dict[int, int]] = {}
    programs: dict[int, int] = {}                    # channel -> first program
    first_program: dict[int, int] = {}               # track -> first program
    down: dict[tuple[int, int, int], tuple[float, float, int]] = {}
    tempo, t_sec, last_tick = 500000, 0.0, 0
    for tick, ti, m in events:
        t_sec += mido.tick2second(tick - last_tick, tpq, tempo)
        last_tick = tick
        if m.type == "set_tempo":
            tempo = m.tempo
            continue
        if m.type == "program_change":
            programs.setdefault(m.channel, m.program)
            first_program.setdefault(ti, m.program)
            continue
        if m.type not in ("note_on", "note_off"):
            continue
        k = (ti, m.channel, m.note)
        if m.type == "note_on" and m.velocity > 0:
            down[k] = (t_sec, tick / tpq, m.velocity)
            continue
        if k not in down:
            continue
        on, beat, vel = down.pop(k)
        drums = m.channel == DRUM_CHANNEL
        key = (m.channel if by_channel else ti, drums)
        track = tracks.get(key)
        if track is None:
            name = "" if by_channel else next(
                (x.name.strip() for x in mid.tracks[ti] if x.type == "track_name"
                 and x.name.strip()), "")
            track = tracks[key] = MidiTrack(key[0], name, None, m.channel, by_channel, [])
            channels[key] = {}
        track.notes.append((on, beat, m.note, vel, t_sec))
        count = channels[key]
        count[m.channel] = count.get(m.channel, 0) + 1
    out = []
    for key, track in sorted(tracks.items()):
        track.channel = max(channels[key], key=lambda c: channels[key][c])
        track.program = programs.get(track.channel) if by_channel \
            else first_program.get(track.index)
        out.append(track)
    return out


def load_midi_file(path: str | Path, part_names: Sequence[str] | None = None) -> Piece:
    """A multitrack .mid file: one part per track with notes (or per channel for a
    single-track file), named by track name, else the GM program of its first program
    change (``read_midi_tracks``), top part first; drum-channel notes are left out.

    With ``part_names`` the parts are matched to those names (case-insensitive) and notes of
    other tracks are dropped.
    """
    by_label: dict[str, list[tuple[float, float, int, int, float]]] = {}
    for track in read_midi_tracks(path):
        if not track.drums:
            by_label.setdefault(track.label, []).extend(track.notes)
    labels = sorted(by_label, key=lambda s: sum(n[2] for n in by_label[s]) / len(by_label[s]),
                    reverse=True)
    if part_names is not None:
        lower = {n.lower(): i for i, n in enumerate(part_names)}
        idx = {lab: lower.get(lab.lower()) for lab in labels}
        final_names = tuple(part_names)
    else:
        idx = {lab: i for i, lab in enumerate(labels)}
        final_names = tuple(labels)
    rows = [(on, beat, pitch, vel, off, 0.0, part)
            for lab in labels if (part := idx[lab]) is not None
            for on, beat, pitch, vel, off in by_label[lab]]
    if not rows:
        raise DatasetError(f"{path}: no notes in the named parts")
    return build_piece(str(path), final_names, rows)


def midi_files(folder: str | Path) -> list[Path]:
    """The .mid/.midi files under ``folder`` (recursively), sorted."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES
                  and not p.is_dir())


def load_midi_folder(folder: str | Path, part_names: Sequence[str] | None = None) -> list[Piece]:
    """Every .mid/.midi file of ``folder`` (recursively) as pieces; see ``load_midi_file``."""
    root = Path(folder)
    files = midi_files(root)
    if not files:
        raise DatasetError(f"no .mid files in {root}")
    return [load_midi_file(f, part_names) for f in files]
