"""String quartets (``quartets/``): Humdrum kern (``kern-haydn/``, ``kern-mozart/``,
``kern-beethoven/``), OpenScore MusicXML (``openscore/<Composer>/<Work>/*.mxl``) and
MusicNet MIDI (``musicnet/<Composer>/<id>_<name>.mid``).

Parts: ``violin1``, ``violin2``, ``viola``, ``cello`` (the ``string-quartet`` preset's).
A name is matched without case, spaces or punctuation: ``violoncello``, ``cello``, ``vc``
-> cello; ``viola``, ``vla`` -> viola; ``violin``/``violino``/``violine``/``violn``/``vn``
followed by ``1``/``I`` -> violin1, by ``2``/``II`` -> violin2 (``Violin1 Sub`` is
violin1).  A bare ``violin`` (Humdrum's ``*Ivioln``) is violin1 for the first such part
from the top and violin2 for the second.

- Kern: one ``**kern`` spine per part (``**dynam`` spines are not parts).  With four
  spines, left to right cello, viola, violin2, violin1 (the collections' layout, which
  their ``*I`` records agree with); with any other number, each spine must be named by
  its ``*I`` record (two spines of one part, e.g. a divided violin 1, are one part), else
  the file is left out (clefs alone cannot tell which part a fifth spine belongs to).
- MusicXML: each score part by its part name; parts of one name (Janacek's two
  ``Violoncello`` staves) are one part.
- MIDI: each track with notes by its track name, else by its first program (40 violin,
  41 viola, 42 cello; violins in track order).
A file with a part that maps to none of the four, or that lacks one of them, is left out,
and so is a kern file whose title (``!!!OTL``) names a wind or keyboard instrument: the
kern collections hold Mozart's flute and oboe quartets (K. 285, 298, 370), whose top
spine is not a violin.

Splits, by work (see ``common``): the work is (composer, catalogue number) for Haydn
(opus and number: ``op01n0``, ``Op.9_No.6``, ``op64n5``; the opus alone for ``op42``),
Mozart (the Koechel number: ``k080``, ``K.80/73f`` written ``K.8073f``, ``kv_465``) and
Beethoven (the quartet's number: ``quartet01``, ``String_Quartet_No.1``, ``qt15``; the
Grosse Fuge, Op. 133, is quartet 13's first finale and goes with it), so that one work in
three sources is in one split; any other file's work is its OpenScore work folder, or its
name without the movement number that ends it (``quartet01-2`` -> ``quartet01``).
"""

from __future__ import annotations

import re
from pathlib import Path

from livearranger.lab.collections.common import (
    CollectionError,
    Skip,
    kern_spines,
    kern_text,
    norm,
    parse_kern,
    parse_score,
    refuse_reserved,
    work_split_files,
)
from livearranger.lab.datasets import (
    MIDI_SUFFIXES,
    QUARTET,
    Piece,
    build_piece,
    piece_from_score,
    read_midi_tracks,
)

NAME = "quartets"
VERSION = 2
SOURCE = ("kern: musedata/humdrum-haydn-quartets, musedata/humdrum-mozart-quartets, "
          "craigsapp/beethoven-string-quartets; OpenScore/StringQuartets; MusicNet MIDI "
          "(as kept in alejandrokennedy/music-viz); commits in ../shared/data/README.md")
LICENSES = {"kern-haydn": "CCARH: rights to derivative editions reserved",
            "kern-mozart": "CCARH: rights to derivative editions reserved",
            "kern-beethoven": "none stated", "openscore": "CC0 1.0",
            "musicnet": "none stated (Beethoven files: Suzuki Software copyright)"}
SPLIT = "by work (a hash of composer and catalogue number, about 8:1:1)"
PARTS = QUARTET
KERN_LAYOUT = ("cello", "viola", "violin2", "violin1")    # four spines, left to right
PROGRAMS = {40: "violin", 41: "viola", 42: "cello"}
# a kern title naming one of these is another ensemble (Mozart's flute and oboe quartets)
WINDS_AND_KEYS = ("flute", "oboe", "clarinet", "horn", "bassoon", "piano", "harpsichord")
SUFFIXES = (".krn", ".mxl", ".musicxml", ".xml", *MIDI_SUFFIXES)
_VIOLIN = re.compile(r"(violino|violine|violin|violn|vln|vn|vl)(ii|i|1|2)?")


def quartet_part(name: str | None) -> str | None:
    """``violin1``, ``violin2``, ``viola``, ``cello``, ``violin`` (which one is not said)
    or None for a part or track name."""
    n = norm(name or "")
    if not n:
        return None
    if "cello" in n or n in ("vc", "vlc"):
        return "cello"
    if n.startswith("viola") or n in ("vla", "va"):
        return "viola"
    m = _VIOLIN.match(n)
    if m is None:
        return None
    number = m.group(2)
    return "violin" if number is None else "violin1" if number in ("1", "i") else "violin2"


def _assign(names: list[str | None], where: Path) -> list[int]:
    """Part indices for parts named ``names`` (top first), bare violins in order."""
    out: list[int] = []
    violins = 0
    for name in names:
        if name == "violin":
            violins += 1
            if violins > 2:
                raise Skip("more than two violins")
            name = f"violin{violins}"
        if name not in PARTS:
            raise Skip(f"a part that is none of {', '.join(PARTS)}")
        out.append(PARTS.index(name))
    missing = [p for k, p in enumerate(PARTS) if k not in out]
    if missing:
        raise Skip(f"no {', '.join(missing)}")
    return out


def _parse_kern(path: Path, data: bytes) -> Piece:
    text = kern_text(data)
    spines, refs = kern_spines(text)
    refuse_reserved(refs.get("COM", ""))
    title = refs.get("OTL", "").lower()
    if any(w in title for w in WINDS_AND_KEYS):
        raise Skip(f"not a string quartet ({refs['OTL']})")
    named = [quartet_part(s.get("I") or s.get("name")) for s in spines]
    if len(spines) == 4 and not all(n in PARTS for n in named):
        labels: list[str | None] = list(KERN_LAYOUT)
    elif all(n in PARTS for n in named):
        labels = list(named)
    else:
        raise Skip(f"{len(spines)} kern spines, not all named by *I records")
    score = parse_kern(text)
    if len(score.parts) != len(spines):
        raise Skip(f"music21 reads {len(score.parts)} parts from {len(spines)} spines")
    part_of = _assign(labels[::-1], path)
    return piece_from_score(score, path.name, PARTS, part_of)


def _parse_xml(path: Path, data: bytes) -> Piece:
    score = parse_score(path)
    names = [p.partName for p in score.parts]
    part_of = _assign([quartet_part(n) for n in names], path)
    return piece_from_score(score, path.name, PARTS, part_of)


def _parse_midi(path: Path, data: bytes) -> Piece:
    tracks = read_midi_tracks(path)
    refuse_reserved(*(t.name for t in tracks))
    names = [quartet_part(t.name) or (PROGRAMS.get(t.program) if t.program is not None
                                      else None) for t in tracks if not t.drums]
    part_of = _assign(names, path)
    rows = [(on, beat, pitch, vel, off, 0.0, k)
            for t, k in zip([t for t in tracks if not t.drums], part_of, strict=True)
            for on, beat, pitch, vel, off in t.notes]
    return build_piece(path.name, PARTS, rows)


def parse(path: Path, data: bytes) -> Piece:
    suffix = path.suffix.lower()
    if suffix == ".krn":
        return _parse_kern(path, data)
    if suffix in MIDI_SUFFIXES:
        return _parse_midi(path, data)
    return _parse_xml(path, data)


def composer_of(rel: str) -> str:
    """The composer of a file by its path: ``kern-haydn/`` -> haydn, ``Haydn,_Joseph/`` ->
    haydn, ``musicnet/Mozart/`` -> mozart."""
    parts = rel.split("/")
    if parts[0].startswith("kern-"):
        return parts[0][len("kern-"):].lower()
    if len(parts) >= 3 and parts[0] in ("openscore", "musicnet"):
        return norm(parts[1].split(",")[0])
    return ""


def work_of(rel: str) -> str:
    """The work a file (relative to the collection folder) belongs to (module docstring)."""
    composer = composer_of(rel)
    parts = rel.split("/")
    text = "/".join(parts[2:-1] or parts[-1:]) if parts[0] == "openscore" else parts[-1]
    low = text.lower()
    if composer == "haydn":
        m = re.search(r"op\.?_?0*(\d+)(?:[,_]*(?:no\.?_?|n)0*(\d+))?", low)
        if m:
            return f"haydn:op{m.group(1)}" + (f"n{m.group(2)}" if m.group(2) else "")
    elif composer == "mozart":
        m = re.search(r"k(?:v_?|\.)?_?0*(\d+)([a-z]?)", low)
        if m:
            digits = m.group(1)
            if m.group(2) and len(digits) >= 4 and len(digits) % 2 == 0:
                digits = digits[: len(digits) // 2]   # K.80/73f written K.8073f
            return f"mozart:k{int(digits)}"
    elif composer == "beethoven":
        if "op.133" in low or "grosse" in low:
            return "beethoven:13"
        m = re.search(r"(?:quartet|qt|no\.?_?)0*(\d+)", low)
        if m:
            return f"beethoven:{int(m.group(1))}"
    if parts[0] == "openscore" and len(parts) >= 3:
        return "/".join(parts[1:-1])
    # a movement's file name ends in its number: the work is the name without it
    return re.sub(r"[-_]\d+[a-z]?$", "", rel.rsplit(".", 1)[0])


def files(root: Path, split: str = "train") -> list[Path]:
    """The files of ``split`` (``train``, ``valid``, ``test`` by work, or ``all``)."""
    return work_split_files(Path(root), split, SUFFIXES, work_of)


__all__ = ["CollectionError", "PARTS", "files", "parse", "quartet_part", "work_of"]
