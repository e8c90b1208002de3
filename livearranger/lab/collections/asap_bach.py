"""(n)ASAP's Bach (``asap-bach/``): real piano performances aligned note by note to their
scores, one Piece per performance (``Bach/<Prelude|Fugue>/bwv_NNN/<name>.mid`` with its
``<name>.match``, or ``Bach/Italian_concerto/...``).

Notes: those of the performance, as played (onset and release in seconds, velocity), read
from the ``.match`` file, which pairs each performed note (``note(id, pitch, onset tick,
offset tick, velocity ...)``) with its score note (``snote(xml id, ..., onset in beats,
..., [voice, staff, ...])``) and states its clock (``midiClockUnits`` ticks per quarter at
``midiClockRate`` microseconds per quarter).  The ``.match`` is read rather than the
performance MIDI, the MusicXML and ``note_alignment.tsv`` together because it holds all
three for each note; its ids are those of ``xml_score.musicxml``.  A performed note with
no score note (an insertion: a slip or an ornament's extra notes) has no voice and is
left out; a score note not played (a deletion) is simply absent.

Parts: the score note's voice as notated, ``v<n>`` from the MusicXML's ``<voice>``
(numbered across the part, so a voice that crosses to the other staff keeps its number;
the staff is not part of it), in the order of those numbers (top first: the upper staff's
voices come first).  This is the notation's voice, not yet the musical one (a voice can
change notated number mid-piece); a performance with more than eight such voices is left
out (a Piece's mask has eight bits).  ``beat`` is the score note's onset in quarter notes
(from the piece's time signature), so a performance keeps its score's metre.

Splits, by work (see ``common``): the work is the BWV number (the prelude and fugue of one
BWV together; ``Italian_concerto`` is BWV 971).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from livearranger.lab.collections.common import (
    Skip,
    check_parts,
    load_files,
    work_split_files,
)
from livearranger.lab.datasets import Piece, build_piece

NAME = "asap-bach"
VERSION = 2
_PAIR = re.compile(r"^snote\((.*?)\)-note\((.*?)\)\.?\s*$")
_INFO = re.compile(r"^info\((\w+),(.*)\)\.?\s*$")
_TIME_SIG = re.compile(r"^scoreprop\(timeSignature,(\d+)/(\d+),")


def _split_args(text: str) -> list[str]:
    """Top-level comma-separated fields of a match line's argument list ([..] kept whole)."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


class Aligned(NamedTuple):
    """One performed note with its score note: times in seconds, score times in quarter
    notes, the notated voice (``v<n>``)."""

    onset: float
    offset: float
    score_onset: float
    score_offset: float
    pitch: int
    velocity: int
    voice: str


def aligned(data: bytes) -> list[Aligned]:
    """Every performed note of a ``.match`` file's text that has a score note, in file
    order; a line that is not what it says raises ``ValueError`` naming it."""
    units, rate, den = 480.0, 500000.0, 4
    raw: list[tuple[float, float, float, float, int, int, str]] = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        m = _PAIR.match(line)
        if m:
            s, n = _split_args(m.group(1)), _split_args(m.group(2))
            attrs = s[-1].strip("[]").split(",")
            voice = next((a for a in attrs if re.fullmatch(r"v\d+", a)), None)
            if voice is None or len(s) < 9 or len(n) < 5:
                raise ValueError(f"line {number}: a note pair without its fields and voice")
            try:
                raw.append((float(n[2]), float(n[3]), float(s[6]), float(s[7]), int(n[1]),
                            int(n[4]), voice))
            except ValueError:
                raise ValueError(f"line {number}: not a note pair ({line[:60]})") from None
            continue
        info = _INFO.match(line)
        if info and info.group(1) == "midiClockUnits":
            units = float(info.group(2))
        elif info and info.group(1) == "midiClockRate":
            rate = float(info.group(2))
        ts = _TIME_SIG.match(line)
        if ts:
            den = int(ts.group(2))
    sec = rate / units / 1e6                     # seconds per tick
    quarters = 4.0 / den                         # quarter notes per score beat
    return [Aligned(on * sec, off * sec, son * quarters, soff * quarters, pitch, vel, v)
            for on, off, son, soff, pitch, vel, v in raw]


def parse(path: Path, data: bytes) -> Piece:
    """The performance of a ``.match`` file (``path``), each note labelled with its voice."""
    rows = aligned(data)
    if not rows:
        raise Skip("no performed note is aligned to the score")
    voices = sorted({r.voice for r in rows}, key=lambda v: int(v[1:]))
    check_parts(path, len(voices))
    index = {v: k for k, v in enumerate(voices)}
    notes = [(r.onset, r.score_onset, r.pitch, r.velocity, r.offset, 0.0, index[r.voice])
             for r in rows]
    return build_piece(path.name, voices, notes)


def work_of(rel: str) -> str:
    """The work of a performance (relative to the collection folder): its BWV number."""
    m = re.search(r"bwv_?(\d+)", rel.lower())
    if m:
        return f"bwv{int(m.group(1))}"
    if "italian_concerto" in rel.lower():
        return "bwv971"
    return rel.rsplit("/", 1)[0]


def files(root: Path, split: str = "train") -> list[Path]:
    """The ``.match`` files of ``split`` (``train``, ``valid``, ``test`` by work, or
    ``all``)."""
    return work_split_files(Path(root), split, (".match",), work_of)


def load(root: str | Path, split: str = "train", limit: int | None = None,
         use_cache: bool = True) -> list[Piece]:
    """The performances of ``split`` under ``root``, at most ``limit`` of them."""
    return load_files(NAME, VERSION, Path(root), files(Path(root), split), parse, limit,
                      use_cache)
