"""Offline evaluation: replay test pieces through an arranger exactly as the engine would.

Notes are decided in the engine's order (``livearranger.chords.schedule``): key by key,
``part = arranger.assign(event, state)`` then ``state.note_on(pitch, time, part)``, or
with a grace window chord by chord (``arranger.assign_chord``); note-offs call
``state.note_off(pitch)``; a key struck again while down is released first.  At equal
times note-offs come first.

Conditions: ``score`` (notes by onset, then pitch: the paper's order; releases at the
written ends) and ``as-played`` (``humanize`` with a seed per piece: spread chords in
random order, overlaps, gaps, varied velocities).

Metrics: accuracy (micro, % of all notes; a unison note merged from several parts is
correct when any of them is chosen), per-part recall, confusion matrix (rows: true part,
columns: chosen part; a correct unison counts on the diagonal), and the paper's
soundness (of consecutive notes a part was given, the share that truly share a part)
and completeness (of consecutive notes of a true part, the share given one part).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from livearranger.chords import check_grace, chord_size, decide_in_order, schedule
from livearranger.datasets import DATASETS, DatasetError, Piece, load_pieces
from livearranger.events import Kind, NoteEvent
from livearranger.humanize import humanize, score_velocity
from livearranger.state import PerformanceState

CONDITIONS = ("score", "as-played")
PRESET_OF = {"bach": "satb", "string-quartet": "string-quartet"}
HUMANIZE_SEED = 1234
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
PAPER = {  # Dong et al. 2021, accuracy %: Bach chorales / string quartets (MusicNet)
    "bach": {"zone": 73.14, "online LSTM": 93.02, "online Transformer-Dec": 91.51,
             "offline BiLSTM": 97.13},
    "string-quartet": {"zone": 58.85, "online LSTM": 67.43, "online Transformer-Dec": 57.03,
                       "offline BiLSTM": 74.38},
}


def performance(piece: Piece, condition: str, index: int = 0,
                seed: int = HUMANIZE_SEED) -> Piece:
    """The piece as the instrument receives it under ``condition``."""
    if condition == "score":
        return Piece(piece.name, piece.part_names, piece.onset, piece.beat, piece.pitch,
                     score_velocity(piece), piece.offset, piece.part, piece.mask)
    if condition == "as-played":
        return humanize(piece, seed + index)
    raise ValueError(f"unknown condition {condition!r} (score, as-played)")


def split_unisons(piece: Piece) -> Piece:
    """The paper's count: a unison note becomes one note per part (lower part first), all
    on the same key, so the replay strikes the key again for each."""
    counts = _POPCOUNT[piece.mask]
    if not (counts > 1).any():
        return piece
    idx, parts = [], []
    for j, m in enumerate(piece.mask.tolist()):
        for k in range(7, -1, -1):
            if (m >> k) & 1:
                idx.append(j)
                parts.append(k)
    idx_a = np.array(idx)
    part = np.array(parts, dtype=np.int8)
    return Piece(piece.name, piece.part_names, piece.onset[idx_a], piece.beat[idx_a],
                 piece.pitch[idx_a], piece.velocity[idx_a], piece.offset[idx_a], part,
                 (1 << part.astype(np.int64)).astype(np.uint8))


def replay(piece: Piece, assign: Callable[[NoteEvent, PerformanceState], int],
           n_parts: int, reset: Callable[[], None] | None = None,
           grace: float | None = None, assign_chord: Callable | None = None,
           waits: list[float] | None = None, size: int | None = None) -> np.ndarray:
    """Parts chosen for every note of ``piece`` (in the piece's order), decided as the
    engine decides them (``livearranger.chords.schedule``): by ``assign`` one key at a
    time, or with a ``grace`` window chord by chord through ``assign_chord(notes, state,
    commit)`` (default: ``decide_in_order`` with ``assign``).  ``waits`` collects how
    long each key waited for its chord (seconds); ``size``: ``chords.chord_size``."""
    state = PerformanceState(n_parts)
    if reset is not None:
        reset()
    pred = np.full(len(piece), -1, dtype=np.int64)
    owner: dict[int, int] = {}
    pitch, vel, onset = piece.pitch, piece.velocity, piece.onset
    index: dict[int, int] = {}    # id(note) -> its index, for the chord being decided

    def commit(note: NoteEvent, part: int) -> None:
        j = index[id(note)]
        p = note.pitch
        note.part = part
        state.note_on(p, note.time, part)
        owner[p] = j
        pred[j] = part

    def decide(notes: list[NoteEvent]) -> None:
        if grace is None:
            commit(notes[0], assign(notes[0], state))
        elif assign_chord is not None:
            assign_chord(notes, state, commit)
        else:
            decide_in_order(assign, notes, state, commit)

    chord: list[NoteEvent] = []
    for kind, j, pending, t in schedule(onset, piece.offset, pitch, grace, size):
        p = int(pitch[j])
        if kind == 0:
            if owner.get(p) == j:
                del owner[p]
                state.note_off(p)
            continue
        if p in state.held:               # struck again while down: released first
            state.note_off(p)
            owner.pop(p, None)
        ev = NoteEvent(Kind.NOTE_ON, float(onset[j]), p, int(vel[j]))
        index[id(ev)] = j
        chord.append(ev)
        if waits is not None:
            waits.append(t - float(onset[j]))
        if not pending:
            decide(chord)
            chord = []
            index.clear()
    return pred


@dataclass
class Result:
    """Counts accumulated over pieces; see ``summary``."""

    n_parts: int
    notes: int = 0
    correct: int = 0
    confusion: np.ndarray = field(default=None)  # type: ignore[assignment]
    sound: list[int] = field(default_factory=lambda: [0, 0])
    complete: list[int] = field(default_factory=lambda: [0, 0])
    unisons: int = 0

    def __post_init__(self) -> None:
        if self.confusion is None:
            self.confusion = np.zeros((self.n_parts, self.n_parts), dtype=np.int64)

    def add(self, piece: Piece, pred: np.ndarray) -> None:
        ok = ((piece.mask.astype(np.int64) >> pred) & 1).astype(bool)
        self.notes += len(piece)
        self.correct += int(ok.sum())
        self.unisons += int((_POPCOUNT[piece.mask] > 1).sum())
        true = np.where(ok, pred, piece.part.astype(np.int64))
        np.add.at(self.confusion, (true, pred), 1)
        order = np.lexsort((piece.pitch, piece.onset))
        for k in range(self.n_parts):
            got = order[pred[order] == k]
            if len(got) > 1:
                same = (piece.mask[got[:-1]] & piece.mask[got[1:]]) > 0
                self.sound[0] += int(same.sum())
                self.sound[1] += len(same)
            mine = order[((piece.mask[order].astype(np.int64) >> k) & 1) == 1]
            if len(mine) > 1:
                same = pred[mine[:-1]] == pred[mine[1:]]
                self.complete[0] += int(same.sum())
                self.complete[1] += len(same)

    def summary(self) -> dict:
        conf = self.confusion
        support = conf.sum(axis=1)
        recall = [round(100.0 * conf[k, k] / support[k], 2) if support[k] else None
                  for k in range(self.n_parts)]
        return {
            "notes": self.notes,
            "accuracy": round(100.0 * self.correct / max(self.notes, 1), 2),
            "recall": recall,
            "soundness": round(100.0 * self.sound[0] / max(self.sound[1], 1), 2),
            "completeness": round(100.0 * self.complete[0] / max(self.complete[1], 1), 2),
            "confusion": conf.tolist(),
            "unison_notes": self.unisons,
        }


def evaluate_assign(pieces: Sequence[Piece], condition: str,
                    make: Callable[[], tuple], n_parts: int, unisons: str = "merge",
                    grace: float | None = None, size: int | None = None) -> dict:
    """Replay every piece under ``condition`` through ``make()`` -> (assign, reset) or
    (assign, reset, assign_chord), with an optional ``grace`` window (seconds) closing
    early at ``size`` keys.
    ``unisons``: "merge" (one key, correct if any of its parts) or "split" (one note per
    part, the paper's count).  With a grace window the result tells how long keys
    waited for their chords (``wait_mean_ms``, ``wait_p99_ms``, ``wait_max_ms``)."""
    res = Result(n_parts)
    made = make()
    assign, reset = made[0], made[1]
    assign_chord = made[2] if len(made) > 2 else None
    waits: list[float] = []
    for i, piece in enumerate(pieces):
        perf = performance(piece, condition, i)
        if unisons == "split":
            perf = split_unisons(perf)
        res.add(perf, replay(perf, assign, n_parts, reset, grace, assign_chord, waits,
                             size))
    out = res.summary()
    out["grace_ms"] = 0.0 if grace is None else round(grace * 1000.0, 3)
    w = np.asarray(waits) * 1000.0
    out["wait_mean_ms"] = round(float(w.mean()), 3) if len(w) else 0.0
    out["wait_p99_ms"] = round(float(np.percentile(w, 99)), 3) if len(w) else 0.0
    out["wait_max_ms"] = round(float(w.max()), 3) if len(w) else 0.0
    return out


# ------------------------------------------------------------------ baselines' data

def part_histogram(pieces: Sequence[Piece], n_parts: int) -> np.ndarray:
    """[128, n_parts] note counts by pitch and (primary) part."""
    h = np.zeros((128, n_parts), dtype=np.int64)
    for p in pieces:
        np.add.at(h, (p.pitch.astype(np.int64), p.part.astype(np.int64)), 1)
    return h


def most_common_part(pieces: Sequence[Piece], n_parts: int) -> int:
    return int(part_histogram(pieces, n_parts).sum(axis=0).argmax())


def search_zones(pieces: Sequence[Piece], n_parts: int) -> list[int]:
    """Descending split points maximising zone accuracy on ``pieces`` (exact, by DP):
    part 0 (top) takes pitches >= b[0], part i pitches in [b[i], b[i-1])."""
    h = part_histogram(pieces, n_parts)
    cum = np.vstack([np.zeros((1, n_parts), np.int64), np.cumsum(h, axis=0)])  # [129, n]
    # best[k][lo] = best count for parts k..n-1 (bottom block) covering pitches 0..lo-1
    # Build from the bottom part upward: part n-1 covers [0, b), part n-2 [b, b2) ...
    n_pitch = 128
    neg = -1
    best = np.full((n_parts, n_pitch + 1), neg, dtype=np.int64)
    back = np.zeros((n_parts, n_pitch + 1), dtype=np.int64)
    bottom = n_parts - 1
    for hi in range(n_pitch + 1):
        best[bottom, hi] = cum[hi, bottom]
    for k in range(bottom - 1, -1, -1):
        for hi in range(n_pitch + 1):
            # part k covers [lo, hi); parts below cover [0, lo)
            los = np.arange(hi + 1)
            vals = best[k + 1, los] + (cum[hi, k] - cum[los, k])
            j = int(vals.argmax())
            best[k, hi], back[k, hi] = vals[j], los[j]
    bounds, hi = [], n_pitch
    for k in range(n_parts - 1):
        lo = int(back[k, hi])
        bounds.append(lo)
        hi = lo
    return bounds


# ------------------------------------------------------------------ CLI

def arranger_options(name: str, train: Sequence[Piece], n_parts: int) -> dict:
    """Options fitted on the training split for the baselines that need them."""
    if name == "zone":
        return {"boundaries": search_zones(train, n_parts)}
    if name == "most-common":
        return {"part": most_common_part(train, n_parts)}
    return {}


class Unconstrained:
    """The paper's versions of the zone and most-common baselines: a fixed pitch-to-part
    map that ignores the preset's constraints (names ``zone:free``, ``most-common:free``)."""

    def __init__(self, n_parts: int, boundaries: Sequence[int] | None = None,
                 part: int = 0) -> None:
        self.bounds = list(boundaries) if boundaries is not None else None
        self.part = part
        self.n = n_parts

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        if self.bounds is None:
            return self.part
        for i, b in enumerate(self.bounds):
            if note.pitch >= b:
                return i
        return self.n - 1

    def reset(self) -> None:
        pass


def evaluate_arranger(dataset: str, condition: str, arranger: str, split: str = "test",
                      limit: int | None = None, options: dict | None = None,
                      train_limit: int | None = None, grace: float | None = None) -> dict:
    """Evaluate a registry arranger on a split; returns the JSON-able result."""
    from livearranger.arrangers import make_arranger
    from livearranger.presets import load_preset

    preset = load_preset(PRESET_OF[dataset])
    n = len(preset.parts)
    pieces = load_pieces(dataset, split, limit)
    opts = dict(options or {})
    base, _, variant = arranger.partition(":")
    if base in ("zone", "most-common"):
        train = load_pieces(dataset, "train", train_limit)
        opts = {**arranger_options(base, train, n), **opts}
    if variant == "free" and base in ("zone", "most-common"):
        arr = Unconstrained(n, opts.get("boundaries"), opts.get("part", 0))
    else:
        arr = make_arranger(arranger, preset, **opts)
    out = {"dataset": dataset, "condition": condition, "arranger": arranger, "split": split,
           "pieces": len(pieces), "preset": preset.name, "parts": preset.part_names}
    chord = getattr(arr, "assign_chord", None)
    out.update(evaluate_assign(pieces, condition, lambda: (arr.assign, arr.reset, chord), n,
                               grace=grace, size=chord_size(preset)))
    if "boundaries" in opts:
        out["boundaries"] = list(opts["boundaries"])
    if "part" in opts:
        out["most_common_part"] = preset.part_names[opts["part"]]
    if condition == "as-played":
        out["humanize_seed"] = HUMANIZE_SEED
    return out


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="livearranger evaluate",
                                          description="Accuracy of an arranger on a corpus.")
    p.add_argument("--dataset", choices=DATASETS, required=True)
    p.add_argument("--condition", choices=CONDITIONS, default="score")
    p.add_argument("--arranger", required=True,
                   help="most-common, zone, closest-pitch, top-bottom, voice-leading, model; "
                   "zone:free and most-common:free ignore the constraints (the paper's)")
    p.add_argument("--model", default=None, help="ONNX model for --arranger model")
    p.add_argument("--split", default="test", choices=("train", "valid", "test", "all"))
    p.add_argument("--limit", type=int, default=None, help="first N pieces of the split")
    p.add_argument("--train-limit", type=int, default=None,
                   help="fit zone/most-common on the first N training pieces (quick checks)")
    p.add_argument("--grace-ms", type=float, default=0.0,
                   help="grace window: a key may wait up to this long (0-15 ms) for the "
                   "rest of its chord (default 0: every key decided on arrival)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def format_result(r: dict) -> str:
    lines = [f"{r['arranger']} on {r['dataset']} ({r['split']}, {r['pieces']} pieces, "
             f"{r['notes']} notes), {r['condition']}: accuracy {r['accuracy']:.2f} %"
             + (f" (grace {r['grace_ms']:g} ms: keys waited {r['wait_mean_ms']:.1f} ms on "
                f"average, {r['wait_max_ms']:.1f} at most)" if r.get("grace_ms") else ""),
             f"  soundness {r['soundness']:.2f} %  completeness {r['completeness']:.2f} %",
             "  recall: " + ", ".join(f"{n} {v if v is not None else '-'}"
                                      for n, v in zip(r["parts"], r["recall"], strict=True)),
             "  confusion (rows true, columns chosen):"]
    for name, row in zip(r["parts"], r["confusion"], strict=True):
        lines.append(f"    {name:>10} " + " ".join(f"{v:6d}" for v in row))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``livearranger evaluate`` (see ``build_parser``)."""
    args = build_parser().parse_args(argv)
    if args.arranger == "lstm":
        print("error: the lstm baseline needs PyTorch: python -m models.evaluate", file=sys.stderr)
        return 2
    opts = {"model": args.model} if args.model else {}
    try:
        from livearranger.arrangers import ArrangerError
        grace = check_grace(args.grace_ms / 1000.0)
        r = evaluate_arranger(args.dataset, args.condition, args.arranger, args.split,
                              args.limit, opts, args.train_limit, grace)
    except (DatasetError, ArrangerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(r) if args.json else format_result(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
