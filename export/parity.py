"""Parity: the streamed ONNX step graph equals the PyTorch model over whole pieces.

Each piece is played note by note through the runtime's ``OnnxArranger`` (its own choices
fed back, the preset's constraints applied); the features and tokens it fed to the graph
are recorded, then the PyTorch model runs once over the whole recorded sequence
(``forward``, sliding-window attention, no cache).  Parity means max |logit difference|
<= 1e-4 and the same constrained choice for every note.

    python -m export.parity models/checkpoints/satb.pt models/shipped/satb.onnx \
        --preset satb --dataset bach --split test
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from livearranger.arrangers.onnx_model import OnnxArranger
from livearranger.events import Kind, NoteEvent
from livearranger.state import PerformanceState
from models.model import PartTransformer

TOLERANCE = 1e-4

# (time s, pitch, velocity, duration s): the part of a note the live engine may see,
# plus its duration to schedule the note-off.
Note = tuple[float, int, int, float]


@dataclass
class Streamed:
    """What the runtime computed over one piece."""

    features: np.ndarray     # [T, F]
    tokens: np.ndarray       # [T, 2]
    logits: np.ndarray       # [T, P]
    masks: np.ndarray        # [T, P] bool: parts allowed by the constraints
    choices: np.ndarray      # [T]


def note_events(notes: Iterable[Note]) -> list[tuple[float, int, int, int]]:
    """(time, order, pitch, velocity) on/off events, note-offs first at equal times;
    a note-on has order 1, a note-off order 0 and velocity 0."""
    events = []
    for t, pitch, vel, dur in notes:
        events.append((t, 1, pitch, max(1, vel)))
        events.append((t + max(dur, 0.0), 0, pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def stream_piece(arranger: OnnxArranger, notes: Sequence[Note]) -> Streamed:
    """Play ``notes`` through ``arranger`` from a reset, as the engine would."""
    arranger.reset()
    state = PerformanceState(len(arranger.preset.parts))
    feats, toks, logits, masks, choices = [], [], [], [], []
    for t, on, pitch, vel in note_events(notes):
        if not on:
            state.note_off(pitch)
            continue
        masks.append(arranger.constraints.mask(pitch, state))
        part = arranger.assign(NoteEvent(Kind.NOTE_ON, t, pitch, vel), state)
        feats.append(arranger._feat[0].copy())
        toks.append(arranger._tok[0].copy())
        logits.append(arranger._logits[0].copy())
        choices.append(part)
        state.note_on(pitch, t, part)
    return Streamed(np.array(feats), np.array(toks), np.array(logits),
                    np.array(masks, dtype=bool), np.array(choices))


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


def check_pieces(model: PartTransformer, arranger: OnnxArranger,
                 pieces: Iterable[Sequence[Note]]) -> dict[str, float]:
    """Parity over many pieces: totals, worst difference, and whether it passes."""
    notes = mismatches = n_pieces = 0
    worst = 0.0
    for piece in pieces:
        r = compare(model, stream_piece(arranger, piece))
        notes += r["notes"]
        mismatches += r["mismatches"]
        worst = max(worst, r["max_abs_diff"])
        n_pieces += 1
    return {"pieces": n_pieces, "notes": notes, "max_abs_diff": worst,
            "mismatches": mismatches,
            "passed": bool(worst <= TOLERANCE and mismatches == 0)}


def dataset_pieces(dataset: str, split: str, condition: str = "score",
                   limit: int | None = None) -> list[list[Note]]:
    """Test pieces from the training data module (issue 3) as Note lists."""
    from models import data  # noqa: PLC0415 - training extra, imported on use

    return data.parity_pieces(dataset, split, condition, limit)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m export.parity", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("onnx")
    ap.add_argument("--preset", required=True)
    ap.add_argument("--dataset", required=True, help="bach | string-quartet")
    ap.add_argument("--split", default="test")
    ap.add_argument("--condition", default="score", help="score | as-played")
    ap.add_argument("--limit", type=int, default=None, help="at most this many pieces")
    args = ap.parse_args(argv)
    from livearranger.presets import load_preset
    from models.model import load_checkpoint

    torch.set_num_threads(min(2, torch.get_num_threads()))
    model, _meta = load_checkpoint(args.checkpoint)
    arranger = OnnxArranger(load_preset(args.preset), model=args.onnx)
    pieces = dataset_pieces(args.dataset, args.split, args.condition, args.limit)
    result = check_pieces(model, arranger, pieces)
    result.update(dataset=args.dataset, split=args.split, condition=args.condition,
                  tolerance=TOLERANCE)
    print(json.dumps(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
