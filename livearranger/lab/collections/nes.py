"""NES-MDB (``nes/``): music of NES games, one .mid file per piece, as in Dong et al. 2021.

Parts, by track name: ``p1`` -> ``pulse1``, ``p2`` -> ``pulse2``, ``tr`` -> ``triangle``
(the ``chiptune`` preset's order); the noise track ``no`` is dropped, as the paper dropped
it (it is a drum, not a pitch).  A file holds only the voices it uses; a file with notes
on a track of another name is left out.

Velocity: NES-MDB's note velocity is the chip's volume register (always 1 on the
triangle), not a player's touch, so every velocity is set to 0, the Piece's "unknown",
as for scores: training then treats these notes as it treats a score's, and no model
learns a part from the chip's volume.

Splits: the folders, ``train/`` and ``valid/`` (NES-MDB's composer-disjoint split);
``all`` is every file under the folder.
"""

from __future__ import annotations

from pathlib import Path

from livearranger.lab.collections.common import folder_split_files, midi_piece, named_tracks
from livearranger.lab.datasets import MIDI_SUFFIXES, Piece

NAME = "nes"
VERSION = 1
SOURCE = ("NES-MDB (Donahue et al., ISMIR 2018) as split in github.com/rubensolv/NES-VMDB at "
          "246be9b1eac10520d0524c918a7e21efc34d50aa")
# NES-VMDB states none; the dataset's own repository (chrisdonahue/nesmdb) is MIT and asks
# for the paper to be cited; the compositions are the games' publishers'
LICENSES = {"": "MIT (nesmdb); the music is the games' publishers'"}
SPLIT = "NES-MDB's own composer-disjoint split: the train/ and valid/ folders"
PARTS = ("pulse1", "pulse2", "triangle")
TRACKS = {"p1": "pulse1", "p2": "pulse2", "tr": "triangle"}
DROPPED = ("no",)


part_of = named_tracks(TRACKS, DROPPED)


def parse(path: Path, data: bytes) -> Piece:
    return midi_piece(path, PARTS, part_of, keep_velocity=False)


def files(root: Path, split: str = "train") -> list[Path]:
    return folder_split_files(Path(root), split, MIDI_SUFFIXES)
