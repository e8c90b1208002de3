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

Parts: musical voices, made from the notated ones.  MusicXML numbers voices per staff
(``v1``/``v2`` on the upper, ``v5``/``v6`` on the lower), so a fugue's middle voice that
moves to the other staff changes number, and a passing second voice of a few notes gets
a number of its own.  So the notated voices are merged (``musical_voices``): a fugue keeps
as many voices as it has (``FUGUE_VOICES``, the Well-Tempered Clavier's own counts), the
notated voices with the most notes; another piece keeps every notated voice that holds
at least ``MAIN_SHARE`` of its notes.  Each note of a voice not kept goes, in score order,
to the kept voice that is silent at that score time (no written note of it sounding) and
whose nearest note is nearest in pitch (any kept voice when none is silent).  Voices are
named ``voice 1`` (the highest by mean pitch) down.  The check (``voice_check``, printed
by ``python -m livearranger.lab.playing``): a musical voice is a single line, so the
share of its notes that overlap another of its notes in written time should be near 0,
and a fugue's voice count is what its composer wrote.  ``beat`` is the score note's
onset in quarter notes (from the piece's time signature), so a performance keeps its
score's metre.

Splits, by work (see ``common``): the work is the BWV number (the prelude and fugue of one
BWV together; ``Italian_concerto`` is BWV 971).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from livearranger.lab.collections.common import (
    Skip,
    check_parts,
    work_split_files,
)
from livearranger.lab.datasets import Piece, build_piece

NAME = "asap-bach"
VERSION = 3
SOURCE = "(n)ASAP, github.com/CPJKU/asap-dataset at 4097b45757bed854818cf87e77b92323ebf90615"
LICENSES = {"": "CC BY-NC-SA 4.0"}
SPLIT = "by work (the BWV number: a prelude with its fugue), about 8:1:1"
MAIN_SHARE = 0.05        # a notated voice with fewer of the piece's notes is a fragment
# the voices of each fugue of the Well-Tempered Clavier, Book I, as Bach wrote them
FUGUE_VOICES = {846: 4, 847: 3, 848: 3, 849: 5, 850: 4, 851: 3, 852: 3, 853: 3, 854: 3,
                855: 2, 856: 3, 857: 4, 858: 3, 859: 4, 860: 3, 861: 4, 862: 4, 863: 4,
                864: 3, 865: 4, 866: 3, 867: 5, 868: 4, 869: 4}
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


def voice_count(rel: str) -> int | None:
    """The number of voices a file's piece is written in, where known (a fugue)."""
    m = re.search(r"fugue/bwv_?(\d+)", rel.lower())
    return FUGUE_VOICES.get(int(m.group(1))) if m else None


def _overlaps(a: Aligned, b: Aligned) -> bool:
    return a.score_onset < b.score_offset - 1e-6 and b.score_onset < a.score_offset - 1e-6


def _distance(line: Sequence[Aligned], r: Aligned) -> int:
    """Semitones from ``r`` to the note of ``line`` nearest to it in written time."""
    near = min(line, key=lambda o: abs(o.score_onset - r.score_onset))
    return abs(near.pitch - r.pitch)


def musical_voices(rows: Sequence[Aligned], count: int | None = None) -> list[int]:
    """Per row, its musical voice: 0 the highest (see the module text); ``count``: the
    voices the piece is written in, where known."""
    sizes = Counter(r.voice for r in rows)
    ranked = [v for v, _c in sizes.most_common()]
    kept = ranked[:count] if count else [v for v in ranked
                                         if sizes[v] >= MAIN_SHARE * len(rows)] or ranked[:1]
    mean = {v: float(np.mean([r.pitch for r in rows if r.voice == v])) for v in kept}
    kept.sort(key=lambda v: -mean[v])
    index = {v: k for k, v in enumerate(kept)}
    out = [index.get(r.voice, -1) for r in rows]
    lines: list[list[Aligned]] = [[r for r in rows if r.voice == v] for v in kept]
    for i in sorted((i for i, k in enumerate(out) if k < 0),
                    key=lambda i: (rows[i].score_onset, -rows[i].pitch)):
        r = rows[i]
        silent = [k for k, line in enumerate(lines) if not any(_overlaps(r, o) for o in line)]
        k = min(silent or range(len(lines)), key=lambda k, r=r: _distance(lines[k], r))
        out[i] = k
        lines[k].append(r)
    return out


def voice_check(rows: Sequence[Aligned], voices: Sequence[int]) -> float:
    """Percent of notes that overlap, in written time, another note of their own voice
    (0 for voices that are single lines)."""
    by: dict[int, list[Aligned]] = {}
    for r, v in zip(rows, voices, strict=True):
        by.setdefault(v, []).append(r)
    bad = 0
    for line in by.values():
        line.sort(key=lambda r: r.score_onset)
        for j, r in enumerate(line):
            nxt = line[j + 1:j + 8]
            prv = line[max(0, j - 8):j]
            bad += any(_overlaps(r, o) for o in (*prv, *nxt))
    return 100.0 * bad / max(len(rows), 1)


def parse(path: Path, data: bytes) -> Piece:
    """The performance of a ``.match`` file (``path``), each note labelled with its
    musical voice."""
    rows = aligned(data)
    if not rows:
        raise Skip("no performed note is aligned to the score")
    voices = musical_voices(rows, voice_count(path.as_posix()))
    n = max(voices) + 1
    check_parts(path, n)
    notes = [(r.onset, r.score_onset, r.pitch, r.velocity, r.offset, 0.0, v)
             for r, v in zip(rows, voices, strict=True)]
    return build_piece(path.name, tuple(f"voice {k + 1}" for k in range(n)), notes)


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
