"""Each part's range in a collection of multitrack .mid files: the lowest and highest
note of every named track over a folder (what the shipped presets' ranges are set
from), with the 0.5th and 99.5th percentiles beside them.

    .venv/bin/python scripts/part_ranges.py DATA/nes/train p1 p2 tr
    .venv/bin/python scripts/part_ranges.py DATA/pop909/train MELODY BRIDGE PIANO
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import mido
import numpy as np


def ranges(folder: Path, tracks: list[str]) -> dict[str, np.ndarray]:
    """Every note-on's key, by track name, over the .mid files in ``folder``; a file
    that cannot be read is skipped and named on stderr."""
    keys: dict[str, list[int]] = {t: [] for t in tracks}
    for path in sorted(folder.glob("*.mid")):
        try:
            midi = mido.MidiFile(path)
        except (OSError, ValueError, EOFError) as exc:
            print(f"{path}: skipped: {exc}", file=sys.stderr)
            continue
        for track in midi.tracks:
            if track.name in keys:
                keys[track.name] += [m.note for m in track
                                     if m.type == "note_on" and m.velocity > 0]
    return {t: np.asarray(v) for t, v in keys.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("tracks", nargs="+")
    args = parser.parse_args()
    for name, keys in ranges(args.folder, args.tracks).items():
        if not len(keys):
            print(f"{name}: no notes")
            continue
        low, high = np.percentile(keys, [0.5, 99.5])
        print(f"{name}: {len(keys)} notes, range [{keys.min()}, {keys.max()}], "
              f"99% within [{low:g}, {high:g}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
