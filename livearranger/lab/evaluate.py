"""Offline evaluation: replay test pieces through the live engine itself.

Every piece is played, as one stream of note-ons and note-offs (releases first at equal
times), into a ``Performer`` (``livearranger.performer``) with no outputs: the same code
decides, corrects and moves keys as on stage, so what is measured is what a player
hears.  A note-off whose key was struck again meanwhile is not sent (it belongs to the older note).

Conditions: ``score`` (notes by onset, then pitch: the paper's order; releases at the
written ends) and ``as-played`` (``humanize`` with a seed per piece: spread chords in
random order, overlaps, gaps, varied velocities).

Metrics: ``accuracy`` (final parts, micro, % of all notes; a unison note merged from
several parts is correct when any of them is chosen) and ``accuracy_onset`` (the part
each key sounded on the moment it arrived); ``accuracy_renamed``, the final parts
scored under each piece's best one-to-one renaming of the parts (how well the lines
are told apart whatever they are called: NES-MDB's two pulse channels carry no musical
role a composer-disjoint split would keep); with a correction horizon, ``moves_per_100``
(moves made per 100 keys) and how long a moved key sounded on its first part
(``moved_after_p50_ms`` / ``p99``); (key, part) ``pair_precision`` and
``pair_recall`` (a unison is one key on several true parts, so recall counts what a
doubling would have to add); per-part recall; a confusion matrix (rows: true part,
columns: chosen part; a correct unison counts on the diagonal); the paper's soundness
(of consecutive notes a part was given, the share that truly share a part) and
completeness (of consecutive notes of a true part, the share given one part); and
link-F1 (Karystinaios et al. 2023: links between consecutive notes of one part, found
against true).

Hints (``hints="first"``, ``--hints first``): the paper's entry-hint protocol, through
the instrument's own hint path (``livearranger.hints``): the preset gets a zone of
silent hint keys where the piece has no note, and right before the first note of each
part (in the order the keys are struck) the replay taps that part's hint key (down and
up: a one-shot), so that note is forced to its true part when its range holds it.
Accuracy still counts every note; ``hinted_notes`` says how many were forced.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from livearranger.arrangers.base import Arranger
from livearranger.chords import check_horizon, event_order
from livearranger.events import Kind, NoteEvent
from livearranger.lab.datasets import (
    DATASETS,
    PRESET_OF,
    DatasetError,
    Piece,
    ensemble_of,
    load_pieces,
    piece_preset,
)
from livearranger.lab.humanize import humanize, score_velocity
from livearranger.performer import Observer, Performer
from livearranger.presets import HintSpec, Preset
from livearranger.router import Router
from livearranger.state import PerformanceState

CONDITIONS = ("score", "as-played")          # a score, as written or as if played
PERFORMED_CONDITION = "performed"            # a real performance, as it was played
# the collections read from a data folder (``--data``), and the shipped preset each is
# played with: its parts are the collection's (None: each piece its own ensemble)
COLLECTION_PRESET: dict[str, str | None] = {
    "nes": "chiptune", "pop909": "pop-trio", "quartets": "string-quartet",
    "choral": "satb", "asap-bach": None}
# collections of real performances: ``performed`` plays them as they were played, the
# other conditions play them from their written onsets (``written``)
PERFORMED = ("asap-bach",)
HINTS = ("none", "first")
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
    if condition == PERFORMED_CONDITION:
        return piece
    raise ValueError(f"unknown condition {condition!r} "
                     f"({', '.join((*CONDITIONS, PERFORMED_CONDITION))})")


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


@dataclass
class Replayed:
    """What the engine did with each note of a piece (in the piece's order)."""

    onset: np.ndarray        # part the key sounded on when it arrived
    final: np.ndarray        # part it ended on (after any correction)
    moved_after: np.ndarray  # seconds from its arrival to its move (NaN: never moved)
    double: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # the second part a key also sounded on (a unison), -1: none (empty: none at all)
    hinted: int = 0          # keys a hint forced to a part
    moves: int = 0           # moves made (a key may move twice: ``livearranger.chords``)


def check_hints(hints: str | None) -> str | None:
    """``hints`` as replay takes it: None (none) or "first"; ValueError otherwise."""
    if hints is None or hints == "none":
        return None
    if hints not in HINTS:
        raise ValueError(f"unknown hints {hints!r} (known: {', '.join(HINTS)})")
    return hints


def hint_zone(piece: Piece, n_parts: int) -> int:
    """The lowest key of the lowest ``n_parts`` keys in a row that ``piece`` never
    plays (its hint zone); ValueError when there is none."""
    used = set(piece.pitch.tolist())
    for low in range(0, 128 - n_parts + 1):
        if not any(k in used for k in range(low, low + n_parts)):
            return low
    raise ValueError(f"{piece.name}: no {n_parts} free keys in a row for hint keys")


def first_of_each_part(piece: Piece) -> dict[int, int]:
    """Note index -> its (primary) part, for the first note struck of each part."""
    first: dict[int, int] = {}
    seen: set[int] = set()
    part = piece.part.tolist()
    for _t, kind, j in zip(*event_order(piece.onset, piece.offset), strict=True):
        if kind == 1 and part[j] not in seen:
            seen.add(part[j])
            first[j] = part[j]
    return first


class _Watch(Observer):
    """What the performer did with each note of a piece: the part its key sounded on
    when it arrived, when it first moved, the second part of a unison."""

    def __init__(self, n: int) -> None:
        self.index: dict[int, int] = {}          # id of a note's event -> its index
        self.onset = np.full(n, -1, dtype=np.int64)
        self.moved_after = np.full(n, np.nan)
        self.double = np.full(n, -1, dtype=np.int64)

    def sounded(self, note: NoteEvent, part: int) -> None:
        j = self.index.get(id(note))
        if j is not None:
            self.onset[j] = part

    def moved(self, note: NoteEvent, old: int, part: int, at: float) -> None:
        j = self.index[id(note)]
        if np.isnan(self.moved_after[j]):
            self.moved_after[j] = at - note.time

    def doubled(self, note: NoteEvent, part: int) -> None:
        j = self.index.get(id(note))
        if j is not None:
            self.double[j] = part


def replay(piece: Piece, arranger: Arranger, horizon: float | None = None,
           hints: str | None = None) -> Replayed:
    """Play ``piece`` into a ``Performer`` with ``arranger`` (reset first) and a
    correction ``horizon`` (seconds, None: none); ``hints`` "first": the first note of
    each part hinted to its true part (the module text)."""
    preset = arranger.preset
    hinted: dict[int, int] = {}
    zone = 0
    if check_hints(hints) == "first":
        zone = hint_zone(piece, len(preset.parts))
        preset = replace(preset, hints=HintSpec(zone=(zone, zone + len(preset.parts) - 1)))
        hinted = first_of_each_part(piece)
    arranger.reset()
    performer = Performer(preset, arranger, Router(preset, []), horizon)
    n = len(piece)
    watch = _Watch(n)
    performer.observers.append(watch)
    notes: list[NoteEvent | None] = [None] * n
    owner: dict[int, int] = {}
    pitch, vel = piece.pitch.tolist(), piece.velocity.tolist()
    process = performer.process
    for t, kind, j in zip(*event_order(piece.onset, piece.offset), strict=True):
        p = pitch[j]
        if kind == 0:
            if owner.get(p) != j:
                continue                  # struck again since: that note keeps sounding
            del owner[p]
            process(NoteEvent(Kind.NOTE_OFF, t, p, 0))
        else:
            note = NoteEvent(Kind.NOTE_ON, t, p, max(1, vel[j]))
            notes[j] = note
            watch.index[id(note)] = j
            owner[p] = j
            hint = hinted.get(j)
            if hint is not None:          # tap the part's hint key: a one-shot
                process(NoteEvent(Kind.NOTE_ON, t, zone + hint, 64))
                process(NoteEvent(Kind.NOTE_OFF, t, zone + hint, 0))
            process(note)
    performer.settle()
    final = np.array([nt.part if nt is not None else -1 for nt in notes], dtype=np.int64)
    return Replayed(watch.onset, final, watch.moved_after, watch.double, performer.hinted,
                    performer.moves)


def best_renaming(count: np.ndarray) -> int:
    """The most notes right under one one-to-one renaming of the chosen parts, where
    ``count[t, j]`` notes were given part ``j`` and are played by part ``t``.  Exact, by
    dynamic programming over the sets of true parts already taken (2**n sets: ensembles
    have at most 16 parts)."""
    n = count.shape[0]
    sets = np.arange(1 << n)
    size = sum((sets >> b) & 1 for b in range(n))
    best = np.full(1 << n, -1, dtype=np.int64)
    best[0] = 0
    for j in range(n):              # chosen part j takes a true part no earlier one took
        done = sets[size == j]
        for t in range(n):
            free = done[((done >> t) & 1) == 0]
            to = free | (1 << t)
            best[to] = np.maximum(best[to], best[free] + count[t, j])
    return int(best[-1])


def _links(order: np.ndarray, member: np.ndarray) -> set[tuple[int, int]]:
    """Links between consecutive notes (in ``order``) for which ``member`` is True."""
    got = order[member[order]].tolist()
    return set(zip(got[:-1], got[1:], strict=False))


@dataclass
class Result:
    """Counts accumulated over pieces; see ``summary``."""

    n_parts: int
    notes: int = 0
    correct: int = 0
    correct_onset: int = 0
    true_pairs: int = 0
    pairs: int = 0                # (key, part) pairs sounded: one a key, two when doubled
    correct_pairs: int = 0
    moved: int = 0
    moved_after: list[float] = field(default_factory=list)
    confusion: np.ndarray = field(default=None)  # type: ignore[arg-type]
    sound: list[int] = field(default_factory=lambda: [0, 0])
    complete: list[int] = field(default_factory=lambda: [0, 0])
    links: list[int] = field(default_factory=lambda: [0, 0, 0])   # found, true, both
    unisons: int = 0
    hinted: int = 0
    renamed: int = 0              # right under each piece's best renaming of the parts

    def __post_init__(self) -> None:
        if self.confusion is None:
            self.confusion = np.zeros((self.n_parts, self.n_parts), dtype=np.int64)

    def add(self, piece: Piece, got: Replayed) -> None:
        pred, mask = got.final, piece.mask.astype(np.int64)
        ok = ((mask >> pred) & 1).astype(bool)
        self.notes += len(piece)
        self.hinted += got.hinted
        self.correct += int(ok.sum())
        self.correct_onset += int(((mask >> got.onset) & 1).sum())
        self.true_pairs += int(_POPCOUNT[piece.mask].sum())
        self.pairs += len(piece)
        self.correct_pairs += int(ok.sum())
        if len(got.double):
            second = got.double >= 0
            self.pairs += int(second.sum())
            self.correct_pairs += int(((mask[second] >> got.double[second]) & 1).sum())
        self.unisons += int((_POPCOUNT[piece.mask] > 1).sum())
        moved = ~np.isnan(got.moved_after)
        self.moved += got.moves
        self.moved_after.extend(got.moved_after[moved].tolist())
        true = np.where(ok, pred, piece.part.astype(np.int64))
        np.add.at(self.confusion, (true, pred), 1)
        plays = np.zeros((self.n_parts, self.n_parts), dtype=np.int64)
        for t in range(self.n_parts):
            np.add.at(plays[t], pred, (mask >> t) & 1)
        self.renamed += best_renaming(plays)
        order = np.lexsort((piece.pitch, piece.onset))
        for k in range(self.n_parts):
            got_k = order[pred[order] == k]
            if len(got_k) > 1:
                same = (piece.mask[got_k[:-1]] & piece.mask[got_k[1:]]) > 0
                self.sound[0] += int(same.sum())
                self.sound[1] += len(same)
            mine = order[((mask[order] >> k) & 1) == 1]
            if len(mine) > 1:
                same = pred[mine[:-1]] == pred[mine[1:]]
                self.complete[0] += int(same.sum())
                self.complete[1] += len(same)
            found = _links(order, pred == k)
            truth = _links(order, ((mask >> k) & 1) == 1)
            self.links[0] += len(found)
            self.links[1] += len(truth)
            self.links[2] += len(found & truth)

    def summary(self) -> dict[str, Any]:
        conf = self.confusion
        support = conf.sum(axis=1)
        recall = [round(100.0 * conf[k, k] / support[k], 2) if support[k] else None
                  for k in range(self.n_parts)]
        found, truth, both = self.links
        lp, lr = both / max(found, 1), both / max(truth, 1)
        after = np.asarray(self.moved_after) * 1000.0
        n = max(self.notes, 1)
        return {
            "notes": self.notes,
            "accuracy": round(100.0 * self.correct / n, 2),
            "accuracy_onset": round(100.0 * self.correct_onset / n, 2),
            "accuracy_renamed": round(100.0 * self.renamed / n, 2),
            "moves_per_100": round(100.0 * self.moved / n, 2),
            "moved_after_p50_ms": round(float(np.percentile(after, 50)), 2) if len(after)
            else 0.0,
            "moved_after_p99_ms": round(float(np.percentile(after, 99)), 2) if len(after)
            else 0.0,
            "pair_precision": round(100.0 * self.correct_pairs / max(self.pairs, 1), 2),
            "pair_recall": round(100.0 * self.correct_pairs / max(self.true_pairs, 1), 2),
            "doubled_per_100": round(100.0 * (self.pairs - self.notes) / n, 2),
            "recall": recall,
            "soundness": round(100.0 * self.sound[0] / max(self.sound[1], 1), 2),
            "completeness": round(100.0 * self.complete[0] / max(self.complete[1], 1), 2),
            "link_f1": round(2 * lp * lr / (lp + lr), 4) if lp + lr else 0.0,
            "confusion": conf.tolist(),
            "unison_notes": self.unisons,
            "hinted_notes": self.hinted,
        }


def evaluate_assign(pieces: Sequence[Piece], condition: str, arranger: Arranger,
                    unisons: str = "merge", horizon: float | None = None,
                    hints: str | None = None) -> dict[str, Any]:
    """Replay every piece under ``condition`` through ``arranger`` with an optional
    correction ``horizon`` (seconds).  ``unisons``: "merge" (one key, correct if any of
    its parts) or "split" (one note per part, the paper's count).  ``hints``: None or
    "none", or "first" (the paper's entry hints: the module text)."""
    return evaluate_pieces([(p, arranger) for p in pieces], condition, unisons, horizon,
                           hints)


def evaluate_pieces(items: Sequence[tuple[Piece, Arranger]], condition: str,
                    unisons: str = "merge", horizon: float | None = None,
                    hints: str | None = None) -> dict[str, Any]:
    """``evaluate_assign`` where each piece has its own arranger (and ensemble: the
    per-part figures then run over the largest ensemble's parts)."""
    hints = check_hints(hints)
    res = Result(max((len(a.preset.parts) for _, a in items), default=1))
    for i, (piece, arranger) in enumerate(items):
        perf = performance(piece, condition, i)
        if unisons == "split":
            perf = split_unisons(perf)
        res.add(perf, replay(perf, arranger, horizon, hints))
    out = res.summary()
    out["horizon_ms"] = 0.0 if horizon is None else round(horizon * 1000.0, 3)
    out["hints"] = hints or "none"
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

def arranger_options(name: str, train: Sequence[Piece], n_parts: int) -> dict[str, Any]:
    """Options fitted on the training split for the baselines that need them."""
    if name == "zone":
        return {"boundaries": search_zones(train, n_parts)}
    if name == "most-common":
        return {"part": most_common_part(train, n_parts)}
    return {}


class Unconstrained(Arranger):
    """The paper's versions of the zone and most-common baselines: a fixed pitch-to-part
    map that ignores the preset's constraints (names ``zone:free``, ``most-common:free``)."""

    name = "free"

    def __init__(self, preset: Preset, boundaries: Sequence[int] | None = None,
                 part: int = 0) -> None:
        super().__init__(preset)
        self.bounds = list(boundaries) if boundaries is not None else None
        self.part = part
        self.n = len(preset.parts)

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        if self.bounds is None:
            return self.part
        for i, b in enumerate(self.bounds):
            if note.pitch >= b:
                return i
        return self.n - 1


def written(performed: Piece) -> Piece:
    """A real performance put back on its score's clock, for the simulated conditions on
    the same music: each note at its written onset (its ``beat``) at the performance's
    mean tempo, held as long as the pianist held it, in score order (onset, then
    pitch)."""
    beat = performed.beat.astype(np.float64)
    span = float(beat.max() - beat.min()) if len(performed) else 0.0
    spq = ((float(performed.onset.max() - performed.onset.min()) / span) if span > 0
           else 0.5)                                  # seconds per quarter note
    onset = (beat - float(beat.min())) * spq
    offset = onset + (performed.offset - performed.onset)
    order = np.lexsort((performed.pitch, onset))
    return Piece(performed.name, performed.part_names, onset[order], performed.beat[order],
                 performed.pitch[order], performed.velocity[order], offset[order],
                 performed.part[order], performed.mask[order])


def evaluate_arranger(dataset: str, condition: str, arranger: str, split: str = "test",
                      limit: int | None = None, options: dict[str, Any] | None = None,
                      train_limit: int | None = None, horizon: float | None = None,
                      hints: str | None = None, data: str | None = None) -> dict[str, Any]:
    """Evaluate a registry arranger on a split; returns the JSON-able result.  Corpora
    without one preset (madrigal, trecento) play each piece with its own ensemble
    (``piece_preset``); a collection (``COLLECTION_PRESET``) is read from ``data``."""
    from livearranger.presets import load_preset

    if dataset in COLLECTION_PRESET:
        return _evaluate_collection(dataset, condition, arranger, split, limit, options,
                                    horizon, hints, data, train_limit)
    if condition == PERFORMED_CONDITION:
        raise DatasetError(f"{dataset}: scores, not performances: the performed condition "
                           f"needs one of {', '.join(PERFORMED)}")
    if dataset not in PRESET_OF:
        return _evaluate_ensembles(dataset, condition, arranger, split, limit, options,
                                   horizon, hints)
    preset = load_preset(PRESET_OF[dataset])
    pieces = load_pieces(dataset, split, limit)
    arr, opts = build_arranger(arranger, preset, options,
                               lambda: load_pieces(dataset, "train", train_limit))
    out = {"dataset": dataset, "condition": condition, "arranger": arranger, "split": split,
           "pieces": len(pieces), "preset": preset.name, "parts": preset.part_names}
    out.update(evaluate_assign(pieces, condition, arr, horizon=horizon, hints=hints))
    if "boundaries" in opts:
        out["boundaries"] = list(opts["boundaries"])
    if "part" in opts:
        out["most_common_part"] = preset.part_names[opts["part"]]
    if condition == "as-played":
        out["humanize_seed"] = HUMANIZE_SEED
    return out


def build_arranger(arranger: str, preset: Preset, options: dict[str, Any] | None,
                   train: Callable[[], list[Piece]]) -> tuple[Arranger, dict[str, Any]]:
    """The arranger called ``arranger`` for ``preset``, with its options (``lstm`` and
    ``lstm:free``: the trained baseline, option ``checkpoint``); the rules fitted on
    data (zone, most-common) are fitted on ``train()``'s pieces, and their ``:free``
    variants ignore the preset's constraints (the paper's)."""
    from livearranger.arrangers import make_arranger

    opts = dict(options or {})
    base, _, variant = arranger.partition(":")
    if base == "lstm":          # the paper's baseline, a PyTorch checkpoint (the lab's)
        from livearranger.lab.torch_arrangers import checkpoint_arranger

        path = opts.get("checkpoint")
        lstm = checkpoint_arranger(preset, arranger, None if path is None else Path(path))
        if lstm is None:
            raise DatasetError(f"no LSTM checkpoint for {preset.name} ({path or 'default'})")
        return lstm, opts
    if base in ("zone", "most-common"):
        opts = {**arranger_options(base, train(), len(preset.parts)), **opts}
    if variant == "free" and base in ("zone", "most-common"):
        return Unconstrained(preset, opts.get("boundaries"), opts.get("part", 0)), opts
    return make_arranger(arranger, preset, **opts), opts


def collection_pieces(dataset: str, data: str | None, split: str,
                      limit: int | None, sources: Sequence[str] | None = None,
                      unreadable: list[str] | None = None) -> list[Piece]:
    """The pieces of collection ``dataset`` in the folder ``data`` (the collection's own
    folder, or one that holds it under its name, as the shared data does); ``sources``:
    only those top-level folders of it (``load_collection``)."""
    from livearranger.lab.collections import load_collection

    if data is None:
        raise DatasetError(f"{dataset} is read from a folder: give it with --data DIR")
    root = Path(data)
    if (root / dataset).is_dir():
        root = root / dataset
    if not root.is_dir():
        raise DatasetError(f"{data}: no such folder")
    return load_collection(dataset, root, split, limit, sources=sources,
                           unreadable=unreadable)


def _evaluate_collection(dataset: str, condition: str, arranger: str, split: str,
                         limit: int | None, options: dict[str, Any] | None,
                         horizon: float | None, hints: str | None,
                         data: str | None, train_limit: int | None) -> dict[str, Any]:
    from livearranger.arrangers import make_arranger
    from livearranger.presets import load_preset

    if condition == PERFORMED_CONDITION and dataset not in PERFORMED:
        raise DatasetError(f"{dataset}: the {condition} condition is for real performances "
                           f"({', '.join(PERFORMED)})")
    pieces = collection_pieces(dataset, data, split, limit)
    if dataset in PERFORMED and condition != PERFORMED_CONDITION:
        pieces = [written(p) for p in pieces]     # the same music, simulated
    name = COLLECTION_PRESET[dataset]
    items: list[tuple[Piece, Arranger]] = []
    left_out = 0
    if name is None:
        made: dict[Preset, Arranger] = {}
        for piece in pieces:
            own = ensemble_of(piece, dataset)
            if own not in made:
                made[own] = make_arranger(arranger, own, **dict(options or {}))
            items.append((piece, made[own]))
    else:
        preset = load_preset(name)
        arr, _opts = build_arranger(
            arranger, preset, options,
            lambda: [p for p in collection_pieces(dataset, data, "train", train_limit)
                     if p.n_parts == len(preset.parts)])
        for piece in pieces:
            if piece.n_parts != len(preset.parts):
                left_out += 1            # e.g. a five-voice work, for a four-part choir
                continue
            items.append((replace(piece, part_names=tuple(preset.part_names)), arr))
    if not items:
        raise DatasetError(f"{dataset}: no piece of the {split} split to evaluate")
    out: dict[str, Any] = {
        "dataset": dataset, "condition": condition, "arranger": arranger, "split": split,
        "pieces": len(items), "left_out": left_out,
        "preset": name or "each piece's own parts", "data": data}
    widest = max((a.preset for _p, a in items), key=lambda s: len(s.parts))
    out["parts"] = list(widest.part_names)
    out.update(evaluate_pieces(items, condition, horizon=horizon, hints=hints))
    if condition == "as-played":
        out["humanize_seed"] = HUMANIZE_SEED
    return out


def _evaluate_ensembles(dataset: str, condition: str, arranger: str, split: str,
                        limit: int | None, options: dict[str, Any] | None,
                        horizon: float | None, hints: str | None = None) -> dict[str, Any]:
    from livearranger.arrangers import make_arranger

    pieces = load_pieces(dataset, split, limit)
    made: dict[Preset, Arranger] = {}
    items = []
    for piece in pieces:
        preset = piece_preset(dataset, piece)
        if preset not in made:
            made[preset] = make_arranger(arranger, preset, **dict(options or {}))
        items.append((piece, made[preset]))
    out = {"dataset": dataset, "condition": condition, "arranger": arranger, "split": split,
           "pieces": len(pieces), "preset": "each piece's own parts (piece_preset)",
           "ensembles": len(made)}
    out.update(evaluate_pieces(items, condition, horizon=horizon, hints=hints))
    if condition == "as-played":
        out["humanize_seed"] = HUMANIZE_SEED
    return out


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="livearranger evaluate",
                                          description="Accuracy of an arranger on a corpus.")
    p.add_argument("--dataset", choices=(*DATASETS, *COLLECTION_PRESET), required=True)
    p.add_argument("--data", metavar="DIR", default=None,
                   help="folder of a collection (nes, pop909, quartets, choral, "
                   "asap-bach), laid out as the shared data")
    p.add_argument("--condition", choices=(*CONDITIONS, PERFORMED_CONDITION), default="score")
    p.add_argument("--arranger", required=True,
                   help="most-common, zone, closest-pitch, top-bottom, voice-leading, model; "
                   "zone:free and most-common:free ignore the constraints (the paper's)")
    p.add_argument("--model", default=None, help="ONNX model for --arranger model")
    p.add_argument("--split", default="test", choices=("train", "valid", "test", "all"))
    p.add_argument("--limit", type=int, default=None, help="first N pieces of the split")
    p.add_argument("--train-limit", type=int, default=None,
                   help="fit zone/most-common on the first N training pieces (quick checks)")
    p.add_argument("--horizon-ms", type=float, default=0.0,
                   help="correction horizon: within this many ms of its chord's first key "
                   "a key's part may still be corrected (default 0: never)")
    p.add_argument("--hints", choices=HINTS, default="none",
                   help="first: the paper's entry hints, the first note of each part "
                   "hinted to its true part through the instrument's hint keys")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def format_result(r: dict[str, Any]) -> str:
    lines = [f"{r['arranger']} on {r['dataset']} ({r['split']}, {r['pieces']} pieces, "
             f"{r['notes']} notes), {r['condition']}, horizon {r['horizon_ms']:g} ms: "
             f"accuracy {r['accuracy']:.2f} % (at onset {r['accuracy_onset']:.2f} %)",
             f"  with each piece's parts renamed at best {r['accuracy_renamed']:.2f} %"
             " (how well the lines are told apart, whatever their names)",
             f"  moves {r['moves_per_100']:.2f} per 100 keys, after p50 "
             f"{r['moved_after_p50_ms']:.1f} / p99 {r['moved_after_p99_ms']:.1f} ms;  "
             f"(key, part) precision {r['pair_precision']:.2f} % recall "
             f"{r['pair_recall']:.2f} % ({r['doubled_per_100']:.2f} keys doubled per 100)",
             f"  hints {r.get('hints', 'none')} ({r.get('hinted_notes', 0)} notes hinted);  "
             f"soundness {r['soundness']:.2f} %  completeness {r['completeness']:.2f} %  "
             f"link-F1 {r['link_f1']:.4f}",
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
        horizon = check_horizon(args.horizon_ms / 1000.0)
        r = evaluate_arranger(args.dataset, args.condition, args.arranger, args.split,
                              args.limit, opts, args.train_limit, horizon, args.hints,
                              args.data)
    except (DatasetError, ArrangerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(r) if args.json else format_result(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
