"""POP909 (``pop909/``): pop songs arranged for piano, one .mid file per song.

Parts, by track name: ``MELODY`` -> ``melody`` (the vocal line), ``BRIDGE`` -> ``bridge``
(the secondary melody), ``PIANO`` -> ``piano`` (the accompaniment), in that order (the
``pop-trio`` preset's).  A file with notes on a track of another name is left out, since
its notes would belong to no part.

Velocity: each track of a POP909 file keeps to its own band of velocities (the
transcriber's setting per track, not a player's touch on one keyboard), so a model would
learn the part from it; every velocity is set to 0, the Piece's "unknown", as for NES-MDB
and for scores, and training and evaluation draw a player's velocities (``humanize``).

Splits: the folders, ``train/`` (songs 001-700) and ``valid/`` (701-800); ``all`` is
every file under the folder.
"""

from __future__ import annotations

from pathlib import Path

from livearranger.lab.collections.common import folder_split_files, midi_piece, named_tracks
from livearranger.lab.datasets import MIDI_SUFFIXES, Piece

NAME = "pop909"
VERSION = 2
SOURCE = ("POP909 (Wang et al., ISMIR 2020), github.com/music-x-lab/POP909-Dataset at "
          "d83e6edba6872a704f5d3b8b32f5cb540088dae6")
LICENSES = {"": "MIT"}        # top-level folder of the collection -> its license
SPLIT = "by song: train/ (001-700) and valid/ (701-800) as the folders hold them"
PARTS = ("melody", "bridge", "piano")
TRACKS = {"MELODY": "melody", "BRIDGE": "bridge", "PIANO": "piano"}


part_of = named_tracks(TRACKS)


def parse(path: Path, data: bytes) -> Piece:
    return midi_piece(path, PARTS, part_of, keep_velocity=False)


def files(root: Path, split: str = "train") -> list[Path]:
    return folder_split_files(Path(root), split, MIDI_SUFFIXES)
