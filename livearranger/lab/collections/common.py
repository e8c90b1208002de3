"""What every collection reader shares: its error, the per-file cache, splits by work and
the refusal of reserved composers.

A collection is a folder laid out as in the project's shared data (``pop909/``, ``nes/``,
``quartets/``, ``choral/``, ``asap-bach/``); a reader turns each of its files into one
``livearranger.lab.datasets.Piece`` named by the file's path relative to that folder.

Cache: each parsed file is kept under ``cache_dir()/collections/<collection>/`` in a file
named by a hash of the collection, the reader's ``VERSION`` and the file's bytes, so a
changed file is parsed again while a renamed or copied one is not; a reader whose output
changes raises its ``VERSION`` so that every file is parsed again.  A file a
reader leaves out (say, a score with more parts than a note's mask holds) is cached as a
small text file with the reason, so it is not parsed again either.

Splits by work (quartets, choral): every file belongs to a work (a string key the reader
derives from composer and catalogue number, or the file's own folder), and the split is
decided by the work alone, from a hash of its key: ``test`` for the last digit 0, ``valid``
for 1, ``train`` otherwise (about 8:1:1).  The same work in several sources (Mozart K. 465
in kern, OpenScore and MusicNet) so lands in one split, and adding files never moves
another work across splits.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from livearranger.errors import LiveArrangerError
from livearranger.lab.datasets import (
    RESERVED,
    DatasetError,
    Piece,
    _read,
    _save,
    cache_dir,
)

SPLITS = ("train", "valid", "test")
MAX_MASK_PARTS = 8          # a Piece's mask is uint8: one bit per part


class CollectionError(DatasetError):
    """A collection file or folder that cannot be read; the message names it, in one line."""


class Skip(LiveArrangerError):  # noqa: N818 - a reason, not an error: the file is left out
    """Raised by a reader for a file it leaves out on purpose (the message says why, in
    a line a player may be shown)."""


def unreadable(path: Path | str, exc: BaseException | str) -> CollectionError:
    """The one-line error for ``path`` that could not be read because of ``exc``."""
    text = exc if isinstance(exc, str) else (" ".join(str(exc).split()) or type(exc).__name__)
    return CollectionError(f"{path}: cannot be read ({text[:160]})")


def is_reserved_text(*texts: str) -> bool:
    """True when any text (a path, a ``!!!COM`` record, a track name) names a composer of
    ``RESERVED`` (Palestrina, Josquin), whose music is kept for checks and never read."""
    low = " ".join(texts).lower()
    return any(name in low for name in RESERVED)


def refuse_reserved(*texts: str) -> None:
    """Leave out (``Skip``) a file of a reserved composer by ``texts`` (its composer records),
    before its music is read (``files_under`` leaves out those its path names)."""
    if is_reserved_text(*texts):
        raise Skip(f"{', '.join(RESERVED)} are kept out of every collection "
                   "(unseen music for checks)")


def split_of_work(work: str) -> str:
    """``train``, ``valid`` or ``test`` for a work key (see the module docstring)."""
    digit = int(hashlib.sha256(work.encode()).hexdigest(), 16) % 10
    return "test" if digit == 0 else "valid" if digit == 1 else "train"


def check_split(split: str) -> None:
    if split not in (*SPLITS, "all"):
        raise CollectionError(f"unknown split {split!r} (train, valid, test, all)")


def folder_split_files(root: Path, split: str, suffixes: Sequence[str]) -> list[Path]:
    """Files of a collection split into folders (``train/``, ``valid/``): those of
    ``root/split``, sorted; for ``all`` every file under ``root``, in a split folder or
    not."""
    check_split(split)
    if split == "all":
        return files_under(root, suffixes)
    if not (root / split).is_dir():
        raise CollectionError(f"{root / split}: no {split} split in this collection")
    return files_under(root / split, suffixes)


def files_under(root: Path, suffixes: Sequence[str]) -> list[Path]:
    """Every file under ``root`` with one of ``suffixes``, sorted, but those whose path
    (below ``root``) names a reserved composer."""
    if not root.is_dir():
        raise CollectionError(f"{root}: no such collection folder")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes and p.is_file()
                  and not is_reserved_text(rel_name(root, p)))


def rel_name(root: Path, path: Path) -> str:
    """A piece's name: its path relative to the collection folder, with ``/``."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _cache_path(collection: str, version: int, data: bytes) -> Path:
    h = hashlib.sha256(f"{collection}:{version}:".encode() + data).hexdigest()[:32]
    return cache_dir() / "collections" / collection / h


def read_cached(collection: str, version: int, path: Path, name: str,
                parse: Callable[[Path, bytes], Piece], use_cache: bool = True) -> Piece | None:
    """The Piece of ``path`` (named ``name``), parsed by ``parse(path, bytes)`` once and then
    read from the cache; None for a file the reader skips (``Skip``).  Any other failure
    becomes a one-line CollectionError naming the file: a reader raises ValueError, or
    DatasetError, for a file it cannot read (anything else is a bug, and shows as one)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc.strerror or str(exc)) from None
    base = _cache_path(collection, version, data)
    npz, skip = base.with_suffix(".npz"), base.with_suffix(".skip")
    if use_cache:
        if skip.is_file():
            return None
        if npz.is_file():
            got = _read(npz)
            if got:
                p = got[0]
                return Piece(name, *(getattr(p, f) for f in (
                    "part_names", "onset", "beat", "pitch", "velocity", "offset", "part",
                    "mask")))
    try:
        piece = parse(path, data)
    except Skip as why:
        if use_cache:
            skip.parent.mkdir(parents=True, exist_ok=True)
            skip.write_text(json.dumps({"file": name, "reason": str(why)}))
        return None
    except CollectionError:
        raise
    except DatasetError as exc:
        raise unreadable(path, str(exc).removeprefix(f"{path}: ")) from None
    except ValueError as exc:          # a malformed value in a text format
        raise unreadable(path, exc) from None
    piece.name = name
    if use_cache and len(piece):
        _save(npz, [piece])
    return piece


def skip_reason(collection: str, version: int, path: Path) -> str | None:
    """Why a cached file was skipped (None when it was not, or is not cached)."""
    skip = _cache_path(collection, version, path.read_bytes()).with_suffix(".skip")
    return json.loads(skip.read_text())["reason"] if skip.is_file() else None


def check_parts(path: Path, n_parts: int) -> None:
    if n_parts > MAX_MASK_PARTS:
        raise Skip(f"{n_parts} parts, more than the {MAX_MASK_PARTS} a Piece holds")
    if n_parts < 2:
        raise Skip(f"{n_parts} part: nothing to arrange")


def read_all(pieces: Iterable[Piece | None], limit: int | None = None) -> list[Piece]:
    """The pieces that were not skipped, at most ``limit`` (lazily: stops parsing there)."""
    out: list[Piece] = []
    for p in pieces:
        if limit is not None and len(out) >= limit:
            break
        if p is not None and len(p):
            out.append(p)
    return out


def work_split_files(root: Path, split: str, suffixes: Sequence[str],
                     work_of: Callable[[str], str]) -> list[Path]:
    """The files of ``split`` under ``root`` (``train``, ``valid``, ``test`` by work,
    ``split_of_work(work_of(name))``, or ``all``), the reserved composers' left out."""
    check_split(split)
    out = files_under(root, suffixes)
    if split == "all":
        return out
    return [f for f in out if split_of_work(work_of(rel_name(root, f))) == split]


def load_files(collection: str, version: int, root: Path, paths: Iterable[Path],
               parse: Callable[[Path, bytes], Piece], limit: int | None,
               use_cache: bool, unreadable: list[str] | None = None) -> list[Piece]:
    """The pieces of ``paths`` (files of ``root``), each parsed once and cached, at most
    ``limit`` of them; files left out on purpose are left out.  A file that cannot be
    read stops the load (``CollectionError``), unless ``unreadable`` is given: then its
    one-line reason is added to that list and the load goes on (a training run over a
    thousand files should not end on one the score parser cannot read)."""
    def read(f: Path) -> Piece | None:
        try:
            return read_cached(collection, version, f, rel_name(root, f), parse, use_cache)
        except CollectionError as exc:
            if unreadable is None:
                raise
            unreadable.append(str(exc))
            return None

    return read_all((read(f) for f in paths), limit)


def norm(text: str) -> str:
    """Lower case, letters and digits only (for matching names)."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _note_track_name(path: Path) -> str:
    """The name of the one track of ``path`` that has notes ("" when it has none)."""
    import mido

    for track in mido.MidiFile(path).tracks:
        if any(m.type == "note_on" for m in track):
            return next((m.name.strip() for m in track if m.type == "track_name"), "")
    return ""


def named_tracks(tracks: Mapping[str, str], dropped: Sequence[str] = ()
                 ) -> Callable[[str], str | None]:
    """``part_of`` for ``midi_piece`` where a collection names its tracks (in any case):
    ``tracks`` maps a track name to its part, a ``dropped`` track is no part (None), and
    a track of another name leaves the file out (``Skip``)."""
    known = {k.lower(): v for k, v in tracks.items()}
    gone = {d.lower() for d in dropped}
    names = ", ".join((*tracks, *dropped))

    def part_of(track_name: str) -> str | None:
        name = track_name.strip().lower()
        if name in gone:
            return None
        part = known.get(name)
        if part is None:
            raise Skip(f"track {track_name!r} is none of {names}")
        return part

    return part_of


def midi_piece(path: Path, part_names: Sequence[str],
               part_of: Callable[[str], str | None], keep_velocity: bool = True) -> Piece:
    """A Piece of a multitrack .mid file whose tracks are named: each track with notes goes
    to ``part_of(track name)`` (one of ``part_names``) or is dropped when that is None.
    Without ``keep_velocity`` every velocity is 0, the Piece's "unknown"."""
    from livearranger.lab.datasets import build_piece, read_midi_tracks

    index = {n: i for i, n in enumerate(part_names)}
    rows: list[tuple[float, float, int, int, float, float, int]] = []
    tracks = read_midi_tracks(path)
    # a file with one track of notes is read by channel, without the track's name
    only = _note_track_name(path) if tracks and tracks[0].by_channel else None
    for track in tracks:
        part = part_of(track.name if only is None else only)
        if part is None:
            continue
        k = index[part]
        rows.extend((on, beat, pitch, vel if keep_velocity else 0, off, 0.0, k)
                    for on, beat, pitch, vel, off in track.notes)
    if not rows:
        raise Skip("no notes in the named tracks")
    return build_piece(path.name, part_names, rows)


def kern_text(data: bytes) -> str:
    """A Humdrum file's text (UTF-8; Latin-1 where it is not)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def kern_spines(text: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The ``**kern`` spines of a Humdrum file, left to right, each with what its header
    says (``I`` instrument code or name, ``name`` from ``*I"``, ``clef``), and the file's
    reference records (``COM`` etc.).  Only the lines before the first data line are read,
    where each spine is one column."""
    refs: dict[str, str] = {}
    spines: list[dict[str, str]] = []
    kinds: list[str] = []
    for line in text.splitlines():
        if line.startswith("!!!"):
            key, _, value = line[3:].partition(":")
            refs.setdefault(key.strip(), value.strip())
            continue
        if not line or line.startswith("!"):
            continue
        fields = line.split("\t")
        if not kinds:
            if line.startswith("**"):
                kinds = fields
                spines = [{} for f in fields if f == "**kern"]
            continue
        if not line.startswith("*") or len(fields) != len(kinds):
            if not line.startswith("*"):
                break
            continue
        kern = [f for f, kind in zip(fields, kinds, strict=True) if kind == "**kern"]
        for spine, tok in zip(spines, kern, strict=True):
            if tok.startswith('*I"'):
                spine.setdefault("name", tok[3:])
            elif tok.startswith("*I'") or tok.startswith("*ITr") or tok.startswith("*IC"):
                continue
            elif tok.startswith("*I") and len(tok) > 2:
                spine.setdefault("I", tok[2:].lstrip(":"))
            elif tok.startswith("*clef"):
                spine.setdefault("clef", tok[5:])
    return spines, refs


def parse_kern(text: str):
    """A music21 score of Humdrum ``text``; its parts are the ``**kern`` spines from right
    to left (top part first)."""
    return _music21_parse(lambda m21: m21.converter.parseData(text, format="humdrum"))


def parse_score(path: Path):
    """A music21 score of the MusicXML file ``path`` (music21's own pickle cache unused:
    ours is the cache)."""
    return _music21_parse(lambda m21: m21.converter.parse(path, forceSource=True,
                                                         storePickle=False))


def _music21_parse(parse: Callable[[Any], Any]) -> Any:
    from livearranger.lab.datasets import _need_music21

    music21 = _need_music21()
    try:
        return parse(music21)
    except Exception as exc:  # noqa: BLE001 - music21 raises assorted errors on bad files
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"music21: {text}") from None
