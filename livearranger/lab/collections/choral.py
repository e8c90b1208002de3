"""Renaissance vocal polyphony (``choral/``): Humdrum kern, ``1520s/<composer code>/`` (the
1520s project) and ``tasso/<genre>/`` (settings of Tasso's poems).

Parts: one per ``**kern`` spine, top voice first (the spines read right to left, as their
files put the lowest voice on the left), each named by its ``*I"`` record lower-cased
(``superius``, ``altus``, ``tenor``, ``bassus``; ``canto``, ``quinto`` ...); a spine
without a name, or whose name another spine shares, is ``part<i>`` (1-based, top first;
see ``datasets.part_labels``).  Works of one voice, or of more than eight (a Piece's mask
has eight bits), are left out.

Refused: the music of Palestrina and Josquin (by ``!!!COM`` and path) is never read; it
is kept for checks.

Splits, by work (see ``common``): a file's work is its name up to the letter that ends
its catalogue code (``Any1001a-Missa...-Kyrie`` -> ``Any1001``: the movements of one mass;
``Tam1020338b-Ho_visto...--Melli_1602`` -> ``Tam1020338``: every setting of one poem), so
that movements and settings that share music or text stay in one split.
"""

from __future__ import annotations

import re
from pathlib import Path

from livearranger.lab.collections.common import (
    check_parts,
    kern_spines,
    kern_text,
    parse_kern,
    refuse_reserved,
    work_split_files,
)
from livearranger.lab.datasets import Piece, part_labels, piece_from_score

NAME = "choral"
VERSION = 1
SOURCE = ("1520s project (benory/1520s-project-scores at 281066fa), Tasso in Music "
          "(TassoInMusicProject/tasso-scores at 8d17271a)")
LICENSES = {"1520s": "CC BY-NC 4.0", "tasso": "none stated (All Rights Reserved)"}
SPLIT = "by work (a hash of the file's work, about 8:1:1)"
_WORK = re.compile(r"^([A-Za-z]+\d+)")


def parse(path: Path, data: bytes) -> Piece:
    text = kern_text(data)
    spines, refs = kern_spines(text)
    refuse_reserved(refs.get("COM", ""), refs.get("COA", ""))
    check_parts(path, len(spines))
    score = parse_kern(text)
    if len(score.parts) != len(spines):
        raise ValueError(f"music21 reads {len(score.parts)} parts from {len(spines)} spines")
    labels = part_labels([s.get("name") for s in spines[::-1]])
    return piece_from_score(score, path.name, labels)


def work_of(rel: str) -> str:
    """The work a file (relative to the collection folder) belongs to (module docstring)."""
    stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    m = _WORK.match(stem)
    return m.group(1) if m else rel.rsplit(".", 1)[0]


def files(root: Path, split: str = "train") -> list[Path]:
    """The files of ``split`` (``train``, ``valid``, ``test`` by work, or ``all``), the
    reserved composers' left out by path."""
    return work_split_files(Path(root), split, (".krn",), work_of)
