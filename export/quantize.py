"""Give an exported step graph int8 weights (``livearranger.lab.export.quantize``):
the last step before a graph ships.

    python -m export.quantize models/shipped/satb.onnx [OUT.onnx]   (default: in place)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livearranger.lab.export import quantize


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m export.quantize", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("graph", help="a step graph (.onnx) with float weights")
    ap.add_argument("output", nargs="?", help="where to write it (default: over GRAPH)")
    args = ap.parse_args(argv)
    src = Path(args.graph)
    before = src.stat().st_size
    out = quantize(src, args.output or src)
    print(f"{out}: int8 weights, {before / 1e6:.2f} MB -> {out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
