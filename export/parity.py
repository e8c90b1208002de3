"""Parity: the streamed ONNX step graph equals the PyTorch model over whole pieces.

Each piece is replayed note by note through the runtime's ``OnnxArranger`` exactly as
``livearranger evaluate`` replays it (its own choices fed back, the preset's constraints
applied); the features and tokens it fed to the graph are recorded, then the PyTorch
model runs once over the whole recorded sequence (``forward``, sliding-window attention,
no cache).  Parity means max |logit difference|
<= 1e-4 and the same constrained choice for every note.

With ``--accuracy`` it also checks that the ONNX arranger's accuracy from
``livearranger evaluate`` equals that of the PyTorch model stepped the same way.

    python -m export.parity models/checkpoints/satb.pt models/shipped/satb.onnx \
        --dataset bach --split test --accuracy [--horizon-ms 30]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from livearranger.arrangers.onnx_model import OnnxArranger
from livearranger.chords import check_horizon
from livearranger.events import NoteEvent
from livearranger.lab.datasets import PRESET_OF, Piece, load_pieces
from livearranger.lab.evaluate import (
    CONDITIONS,
    evaluate_arranger,
    evaluate_assign,
    performance,
    replay,
)
from livearranger.lab.model import PartTransformer, load_checkpoint
from livearranger.lab.torch_arrangers import TorchModelArranger as TorchArranger
from livearranger.presets import load_preset
from livearranger.state import PerformanceState

TOLERANCE = 1e-4

# (time s, pitch, velocity, duration s): a note as a test writes it
Note = tuple[float, int, int, float]


@dataclass
class Streamed:
    """What the runtime computed over one piece, note-on by note-on."""

    features: np.ndarray     # [T, F]
    tokens: np.ndarray       # [T, 2]
    logits: np.ndarray       # [T, P]
    masks: np.ndarray        # [T, P] bool: parts the constraints allowed
    choices: np.ndarray      # [T]


def piece_from_notes(notes: Sequence[Note], part_names: Sequence[str],
                     name: str = "notes") -> Piece:
    """A ``Piece`` (sorted by onset, then pitch) from (time, pitch, velocity, duration)."""
    rows = sorted(notes, key=lambda n: (n[0], n[1]))
    onset = np.array([r[0] for r in rows], dtype=np.float64)
    return Piece(name, tuple(part_names), onset, onset * 2.0,
                 np.array([r[1] for r in rows], dtype=np.int16),
                 np.array([r[2] for r in rows], dtype=np.int16),
                 onset + np.array([max(r[3], 0.0) for r in rows]),
                 np.zeros(len(rows), dtype=np.int8), np.ones(len(rows), dtype=np.uint8))


def note_events(notes: Iterable[Note]) -> list[tuple[float, int, int, int]]:
    """(time, 1 = on | 0 = off, pitch, velocity) events, note-offs first at equal times."""
    events = []
    for t, pitch, vel, dur in notes:
        events.append((t, 1, pitch, max(1, vel)))
        events.append((t + max(dur, 0.0), 0, pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def stream_performance(arranger: OnnxArranger, perf: Piece,
                       horizon: float | None = None) -> Streamed:
    """Replay ``perf`` through ``arranger`` exactly as ``livearranger evaluate`` does
    (with an optional correction horizon), recording what the graph was fed and what it
    answered, in the order the notes were decided; steps taken back by a correction
    (``rewind``) are dropped, so the record is the history the cache finally holds."""
    feats: list[np.ndarray] = []
    toks: list[np.ndarray] = []
    logits: list[np.ndarray] = []
    masks: list[list[bool]] = []
    choices: list[int] = []
    marked = [0]
    choose, mark, rewind = arranger.choose, arranger.mark, arranger.rewind

    def recording_choose(note: NoteEvent, state: PerformanceState) -> int:
        part = choose(note, state)
        feats.append(arranger.inputs.features[0].copy())
        toks.append(arranger.inputs.tokens[0].copy())
        logits.append(arranger.last_logits.copy())
        masks.append(list(arranger.last_allowed))
        choices.append(part)
        return part

    def recording_mark() -> None:
        mark()
        marked[0] = len(choices)

    def recording_rewind() -> None:
        rewind()
        for rows in (feats, toks, logits, masks, choices):
            del rows[marked[0]:]

    patched = {"choose": recording_choose, "mark": recording_mark,
               "rewind": recording_rewind}
    for name, fn in patched.items():
        setattr(arranger, name, fn)
    try:
        replay(perf, arranger, horizon)
    finally:
        for name in patched:
            delattr(arranger, name)
    return Streamed(np.array(feats), np.array(toks), np.array(logits),
                    np.array(masks, dtype=bool), np.array(choices))


def stream_piece(arranger: OnnxArranger, notes: Sequence[Note]) -> Streamed:
    """``stream_performance`` over notes written as (time, pitch, velocity, duration)."""
    return stream_performance(arranger, piece_from_notes(notes, arranger.preset.part_names))


@torch.no_grad()
def torch_logits(model: PartTransformer, features: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """The PyTorch model's logits over a whole sequence at once [T, P]."""
    out = model(torch.from_numpy(features)[None], torch.from_numpy(tokens)[None])
    return out[0].numpy()


def constrained_argmax(logits: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per note, the allowed part with the highest logit."""
    return np.where(masks, logits, -np.inf).argmax(axis=-1)


def compare(model: PartTransformer, streamed: Streamed) -> dict[str, float]:
    """max |diff| and prediction mismatches between streamed ONNX and PyTorch forward."""
    ref = torch_logits(model, streamed.features, streamed.tokens)
    diff = float(np.abs(ref - streamed.logits).max()) if len(ref) else 0.0
    pred = constrained_argmax(ref, streamed.masks)
    return {"notes": len(ref), "max_abs_diff": diff,
            "mismatches": int((pred != streamed.choices).sum())}


def check_performances(model: PartTransformer, arranger: OnnxArranger,
                       perfs: Iterable[Piece], horizon: float | None = None
                       ) -> dict[str, float]:
    """Parity over many performances: totals, worst difference, and whether it passes."""
    notes = mismatches = n_pieces = 0
    worst = 0.0
    for perf in perfs:
        r = compare(model, stream_performance(arranger, perf, horizon))
        notes += r["notes"]
        mismatches += r["mismatches"]
        worst = max(worst, r["max_abs_diff"])
        n_pieces += 1
    return {"pieces": n_pieces, "notes": notes, "max_abs_diff": worst,
            "mismatches": mismatches,
            "passed": bool(worst <= TOLERANCE and mismatches == 0)}


def check_pieces(model: PartTransformer, arranger: OnnxArranger,
                 pieces: Iterable[Sequence[Note]]) -> dict[str, float]:
    """``check_performances`` over pieces written as note tuples."""
    names = arranger.preset.part_names
    return check_performances(model, arranger, (piece_from_notes(p, names) for p in pieces))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m export.parity", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("onnx")
    ap.add_argument("--dataset", required=True, choices=sorted(PRESET_OF))
    ap.add_argument("--split", default="test")
    ap.add_argument("--condition", default="score", choices=CONDITIONS)
    ap.add_argument("--limit", type=int, default=None, help="first N pieces of the split")
    ap.add_argument("--horizon-ms", type=float, default=0.0,
                    help="correct chords within this horizon (0: key by key)")
    ap.add_argument("--accuracy", action="store_true",
                    help="also the accuracy of the ONNX arranger (livearranger evaluate) and "
                         "of the PyTorch model stepped the same way")
    args = ap.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model, _meta = load_checkpoint(args.checkpoint)
    preset = load_preset(PRESET_OF[args.dataset])
    arranger = OnnxArranger(preset, model=args.onnx)
    pieces = load_pieces(args.dataset, args.split, args.limit)
    perfs = [performance(p, args.condition, i) for i, p in enumerate(pieces)]
    horizon = check_horizon(args.horizon_ms / 1000.0)
    result: dict[str, object] = dict(check_performances(model, arranger, perfs, horizon))
    result.update(dataset=args.dataset, split=args.split, condition=args.condition,
                  horizon_ms=args.horizon_ms, tolerance=TOLERANCE, onnx=Path(args.onnx).name)
    if args.accuracy:
        onnx_eval = evaluate_arranger(args.dataset, args.condition, "model", args.split,
                                      args.limit, {"model": args.onnx}, horizon=horizon)
        torch_eval = evaluate_assign(pieces, args.condition, TorchArranger(preset, model),
                                     horizon=horizon)
        result.update(onnx_accuracy=onnx_eval["accuracy"],
                      torch_accuracy=torch_eval["accuracy"], notes_evaluated=onnx_eval["notes"])
        result["passed"] = bool(result["passed"]
                                and onnx_eval["accuracy"] == torch_eval["accuracy"])
    print(json.dumps(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
