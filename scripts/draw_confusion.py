"""Draw the confusion matrix of an arranger on a corpus's test split, as the engine plays
it (``livearranger.lab.evaluate``): ``docs/ensemble-confusion.png`` is

    .venv/bin/python scripts/draw_confusion.py -o docs/ensemble-confusion.png

the shipped ensemble model on the Bach test split, score order, 30 ms correction horizon
(needs the corpus cache or music21, and the ``pictures`` extra).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from livearranger.lab.datasets import PRESET_OF
from livearranger.lab.evaluate import CONDITIONS, evaluate_arranger
from livearranger.roll import check_roll_target, draw_confusion

ROOT = Path(__file__).resolve().parent.parent
ENSEMBLE = ROOT / "models" / "shipped" / "ensemble.onnx"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--dataset", default="bach", choices=sorted(PRESET_OF))
    ap.add_argument("--split", default="test")
    ap.add_argument("--condition", default="score", choices=CONDITIONS)
    ap.add_argument("--arranger", default="model")
    ap.add_argument("--model", default=str(ENSEMBLE), help="ONNX model for --arranger model")
    ap.add_argument("--horizon-ms", type=float, default=30.0)
    ap.add_argument("--limit", type=int, default=None, help="first N pieces of the split")
    ap.add_argument("-o", "--output", required=True, metavar="PICTURE.png|svg")
    args = ap.parse_args(argv)
    target = check_roll_target(args.output, "confusion matrix")
    opts = {"model": args.model} if args.arranger == "model" else {}
    r = evaluate_arranger(args.dataset, args.condition, args.arranger, args.split,
                          args.limit, opts, horizon=args.horizon_ms / 1000.0 or None)
    who = Path(args.model).name if args.arranger == "model" else args.arranger
    draw_confusion(r["confusion"], r["parts"], target,
                   title=f"{who} on {args.dataset} {args.split} ({r['pieces']} pieces, "
                         f"{args.condition}, H {args.horizon_ms:g} ms): "
                         f"{r['accuracy']:.2f} %")
    print(f"drew {target}: {r['notes']} notes, accuracy {r['accuracy']:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
