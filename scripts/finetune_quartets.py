"""A check of ``livearranger train``: 20 string-quartet files (the quartet train
split, which the ensemble model never saw) fine-tune the shipped ensemble model.

    .venv/bin/python scripts/finetune_quartets.py [--files 20] [--minutes 10]

Writes the files as 4-track .mid (the instrument's own recorder), runs the installed
``livearranger train`` into a temporary preset folder and prints its report: accuracy on
the held-out files for the trained model, the zero-shot model and the rules.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livearranger.lab.datasets import load_pieces
from livearranger.presets import Part, Preset, load_preset
from livearranger.recorder import Recorder


def write(path: Path, piece, preset: Preset) -> None:
    rec = Recorder(Preset("quartet", tuple(Part(p.name, p.program, i)
                                           for i, p in enumerate(preset.parts))))
    for on, off, pitch, part in zip(piece.onset, piece.offset, piece.pitch, piece.part,
                                    strict=True):
        rec.send(int(part), [0x90 | int(part), int(pitch), 80], float(on))
        rec.send(int(part), [0x80 | int(part), int(pitch), 0], float(off))
    rec.save(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=10.0)
    a = ap.parse_args()
    preset = load_preset("string-quartet")
    with tempfile.TemporaryDirectory() as tmp:
        data, presets = Path(tmp) / "quartets", Path(tmp) / "presets"
        data.mkdir()
        for i, piece in enumerate(load_pieces("string-quartet", "train", a.files)):
            write(data / f"quartet{i:02d}.mid", piece, preset)
        t0 = time.monotonic()
        rc = subprocess.call(
            [str(Path(sys.executable).with_name("livearranger")), "train", "--data",
             str(data), "--preset", "string-quartet", "--name", "my-quartet",
             "--minutes", str(a.minutes)],
            env={**os.environ, "LIVEARRANGER_PRESETS": str(presets)})
        print(f"exit {rc} after {time.monotonic() - t0:.0f} s")
        return rc


if __name__ == "__main__":
    sys.exit(main())
