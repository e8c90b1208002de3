"""Draw a validation piece as the instrument arranges it, notes off their written part
outlined: ``python scripts/roll_piece.py [--dataset bach] [--index 0] [--arranger model]
-o PICTURE.png`` (needs the corpus cache or music21, and the ``pictures`` extra)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from livearranger.arrangers import make_arranger
from livearranger.lab.datasets import PRESET_OF, load_pieces
from livearranger.lab.evaluate import performance, replay
from livearranger.presets import load_preset
from livearranger.roll import RollNote, check_roll_target, draw_roll


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dataset", default="bach", choices=sorted(PRESET_OF))
    ap.add_argument("--split", default="valid")
    ap.add_argument("--index", type=int, default=0, help="which piece of the split")
    ap.add_argument("--arranger", default="model")
    ap.add_argument("--condition", default="as-played", choices=["score", "as-played"])
    ap.add_argument("-o", "--output", required=True, metavar="PICTURE.png|svg")
    args = ap.parse_args(argv)
    target = check_roll_target(args.output)
    preset = load_preset(PRESET_OF[args.dataset])
    piece = load_pieces(args.dataset, args.split)[args.index]
    played = performance(piece, args.condition, args.index)
    final = replay(played, make_arranger(args.arranger, preset), preset.horizon_ms / 1000)
    parts = [int(p) for p in final.final]
    notes = [RollNote(float(played.onset[i]), float(played.offset[i]), int(played.pitch[i]),
                      part, wrong=not (int(played.mask[i]) >> part) & 1)
             for i, part in enumerate(parts)]
    wrong = sum(n.wrong for n in notes)
    draw_roll(notes, preset.part_names, target,
              title=f"{piece.name} ({args.condition}): {args.arranger}, "
                    f"{1 - wrong / len(notes):.1%} on their written part")
    print(f"drew {target}: {len(notes)} notes, {wrong} off their written part")
    return 0


if __name__ == "__main__":
    sys.exit(main())
