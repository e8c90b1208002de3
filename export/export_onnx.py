"""Export a trained PartTransformer to ONNX: the one-note step graph with a bounded KV cache.

Graph ``step`` (opset 17, every shape fixed):

    inputs   features float32[1, F]        causal features of the new note
             tokens   int64[1, 2]          (pitch, previous part or n_parts for none)
             past_kv  float32[L, 2, H, W, Dh]   ring buffer of keys/values, slot t % W
             pos      int64[1]             slot of the new note
             valid    bool[W]              slots holding one of the previous W-1 notes
    outputs  logits     float32[1, P]
             present_kv float32[L, 2, H, Dh]    the new note's keys/values for slot pos

The runtime writes ``present_kv`` into slot ``pos`` of its own buffer, marks it valid and
moves ``pos`` on (``livearranger/arrangers/onnx_model.py``).  ``metadata_props`` carry
parts, feature_version, window, data, split, accuracy and the cache shape; the runtime
refuses a model whose parts or feature version differ from the preset's.

    python -m export.export_onnx models/checkpoints/satb.pt models/shipped/satb.onnx
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import torch

from livearranger.graph import (
    META_ACCURACY,
    META_CACHE_SHAPE,
    META_CONFIG,
    META_DATA,
    META_FEATURE_VERSION,
    META_FORMAT,
    META_N_FEATURES,
    META_N_PARTS,
    META_PARTS,
    META_SPLIT,
    META_WINDOW,
    OPSET,
    STEP,
    WINDOW,
    cache_shape,
    meta_value,
)
from livearranger.lab.onnx_graph import stamp
from models.model import PartTransformer, StepModule, load_checkpoint


def step_metadata(model: PartTransformer, meta: dict[str, Any]) -> dict[str, str]:
    """metadata_props for the step graph: checkpoint metadata plus the graph's shapes."""
    out = {k: meta_value(v) for k, v in meta.items()}
    out.update({
        META_FORMAT: STEP.name,
        META_WINDOW: str(model.window),
        META_N_PARTS: str(model.n_parts),
        META_N_FEATURES: str(model.n_features),
        META_CACHE_SHAPE: meta_value(cache_shape(model.n_layers, model.n_heads,
                                                 model.window, model.d_head)),
        META_CONFIG: meta_value(model.config),
    })
    if META_PARTS not in meta:
        raise ValueError(f"metadata needs {META_PARTS!r} (the preset's part names, "
                         "top to bottom)")
    if META_FEATURE_VERSION not in meta:
        raise ValueError(f"metadata needs {META_FEATURE_VERSION!r}")
    return out


def example_inputs(model: PartTransformer) -> tuple[torch.Tensor, ...]:
    """Inputs of the step graph's shapes (an empty cache)."""
    past, pos, valid = model.empty_cache()
    features = torch.zeros(1, model.n_features)
    tokens = torch.tensor([[60, model.n_parts]], dtype=torch.long)
    return features, tokens, past, pos, valid


def export_step(model: PartTransformer, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write the step graph of ``model`` with ``meta`` as metadata_props; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    props = step_metadata(model, meta)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # the TorchScript exporter
        # the exporter restores the wrapper's mode on every submodule: keep it in eval
        torch.onnx.export(StepModule(model).eval(), example_inputs(model), str(path),
                          input_names=list(STEP.inputs), output_names=list(STEP.outputs),
                          opset_version=OPSET,
                          do_constant_folding=True, dynamo=False)
    stamp(path, props, "LiveArranger part model: one note per step, bounded KV cache")
    return path


def export_full(model: PartTransformer, path: str | Path, meta: dict[str, Any],
                length: int | None = None) -> Path:
    """Write the cache-free graph over ``length`` notes (default W): features [1,T,F],
    tokens [1,T,2] -> logits [1,T,P]; what the bench times as "re-running without a
    cache".  (Only ``model.receptive_field`` notes reproduce the stream exactly.)"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()  # (exporting a module restores its own mode afterwards)
    w = length or model.window
    features = torch.zeros(1, w, model.n_features)
    tokens = torch.zeros(1, w, 2, dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)   # shapes are fixed here
        torch.onnx.export(model, (features, tokens), str(path),
                          input_names=list(WINDOW.inputs), output_names=list(WINDOW.outputs),
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    stamp(path, {**step_metadata(model, meta), META_FORMAT: WINDOW.name})
    return path


def describe_training(meta: dict[str, Any]) -> dict[str, Any]:
    """Fill ``data``, ``split`` and ``accuracy`` from a training checkpoint's metadata."""
    out = dict(meta)
    dataset = meta.get("dataset")
    if dataset and META_DATA not in out:
        out[META_DATA] = f"music21 corpus: {dataset} (livearranger.lab.datasets)"
    if dataset and META_SPLIT not in out:
        out[META_SPLIT] = (f"livearranger/data/splits/{dataset}.json (8:1:1 by file, fixed seed): "
                        "trained on train, early-stopped on valid")
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
    ap.add_argument("checkpoint", help="a checkpoint written by models.model.save_checkpoint")
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
        print(f"{export_full(model, args.full, meta)}: full-window graph")
    return 0


if __name__ == "__main__":
    sys.exit(main())
