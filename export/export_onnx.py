"""Export a trained per-ensemble PartTransformer checkpoint to its ONNX step graph.

The graph (one note per run, every shape fixed, a bounded KV cache) is the contract in
``livearranger/graph.py``; ``livearranger.lab.export`` writes it, for this model as for
the ensemble model.  The checkpoint's metadata (parts, feature_version, window, data,
split, accuracy) go into the graph's; the runtime refuses a model whose parts or feature
version differ from the preset's.

    python -m export.export_onnx models/checkpoints/satb.pt models/shipped/satb.onnx
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch

from livearranger.graph import META_ACCURACY, META_DATA, META_PARTS, META_SPLIT
from livearranger.lab.collections import provenance
from livearranger.lab.export import export_step, export_window
from livearranger.lab.model import load_checkpoint


def describe_training(meta: dict[str, Any]) -> dict[str, Any]:
    """Fill ``data``, ``split`` and ``accuracy`` from a training checkpoint's metadata."""
    out = dict(meta)
    learned = provenance(str(meta.get("dataset") or ""), meta.get("sources"))
    if learned and META_DATA not in out:
        out[META_DATA] = "; ".join(
            p.name + (f" ({', '.join(p.sources)})" if p.sources else "") + f": {p.source}"
            for p in learned)
    if learned and META_SPLIT not in out:
        out[META_SPLIT] = ("; ".join(f"{p.name}: {p.split}" for p in learned)
                           + ": trained on train, early-stopped on valid")
    if META_ACCURACY not in out and "valid_accuracy" in meta:
        out[META_ACCURACY] = {"valid": meta["valid_accuracy"]}
    return out


def _parse_meta(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--meta expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m export.export_onnx", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint",
                    help="a checkpoint written by livearranger.lab.model.save_checkpoint")
    ap.add_argument("output", help="the .onnx file to write")
    ap.add_argument("--full", metavar="PATH",
                    help="also write the cache-free full-window graph (for bench --nocache)")
    ap.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                    help="extra or replaced metadata (VALUE as JSON when it parses)")
    args = ap.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model, meta = load_checkpoint(args.checkpoint)
    meta = {**describe_training(meta), **_parse_meta(args.meta)}
    out = export_step(model, args.output, meta)
    size = out.stat().st_size / 1e6
    print(f"{out}: step graph, {size:.2f} MB, parts {meta.get(META_PARTS)}, "
          f"window {model.window}")
    if args.full:
        print(f"{export_window(model, args.full, meta)}: full-window graph")
    return 0


if __name__ == "__main__":
    sys.exit(main())
