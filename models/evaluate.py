"""Results table: every arranger on the test split of each corpus, both conditions.

    python -m models.evaluate [--dataset bach string-quartet] [--limit N]

Rules come from the registry, the shipped ONNX model plays as it does on stage, the
trained checkpoints (``models/checkpoints``) are wrapped as arrangers here (PyTorch,
stepped note by note with the KV cache / LSTM state), and all are replayed through the
engine by ``livearranger.lab.evaluate``, with every correction horizon of ``HORIZONS_MS``.
Writes ``docs/results.md`` and ``docs/results.json`` with the paper's numbers beside ours.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from livearranger.arrangers import make_arranger
from livearranger.arrangers.base import Arranger
from livearranger.arrangers.kv_ring import KVRing
from livearranger.arrangers.learned import LearnedArranger
from livearranger.events import NoteEvent
from livearranger.lab.datasets import PRESET_OF, load_pieces, load_split
from livearranger.lab.evaluate import (
    CONDITIONS,
    HUMANIZE_SEED,
    PAPER,
    Unconstrained,
    arranger_options,
    evaluate_assign,
)
from livearranger.presets import Preset, load_preset
from livearranger.state import PerformanceState
from models.lstm import OnlineLSTM, beat_tokens
from models.model import PartTransformer, load_checkpoint
from models.train import CHECKPOINTS, load_lstm

ROOT = Path(__file__).resolve().parent.parent
RULES = ("most-common:free", "zone:free", "most-common", "zone", "closest-pitch",
         "top-bottom", "voice-leading")


class TorchModelArranger(LearnedArranger):
    """A PartTransformer checkpoint stepped one note at a time (ring-buffer KV cache),
    preset constraints applied to the logits, greedy."""

    name = "model"

    def __init__(self, preset: Preset, model: PartTransformer) -> None:
        super().__init__(preset)
        self.model = model.eval()
        past, _, _ = model.empty_cache()
        # the engine's own ring (KVRing), seen by torch through shared memory
        self.ring = KVRing(tuple(past.shape))
        self._past = torch.from_numpy(self.ring.cache)
        self._pos = torch.from_numpy(self.ring.pos)
        self._valid = torch.from_numpy(self.ring.valid)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.ring.reset()

    def mark(self) -> None:
        super().mark()
        self.ring.mark()

    def rewind(self) -> None:
        super().rewind()
        self.ring.rewind()

    @torch.no_grad()
    def choose(self, note: NoteEvent, state: PerformanceState) -> int:
        logits, kv = self.model.step(torch.from_numpy(self.inputs.features),
                                     torch.from_numpy(self.inputs.tokens), self._past,
                                     self._pos, self._valid)
        self.ring.write(kv.numpy())
        allowed = self.constraints.mask(note.pitch, state, note.time)
        row = np.where(allowed, logits[0].numpy(), -np.inf)
        return int(row.argmax())


class TorchLSTMArranger(Arranger):
    """The online LSTM baseline stepped note by note; preset constraints at decoding."""

    name = "lstm"

    def __init__(self, preset: Preset, model: OnlineLSTM, free: bool = False) -> None:
        super().__init__(preset)
        self.model = model.eval()
        self.free = free      # the paper's model: plain argmax, no preset constraints
        self.reset()

    def reset(self) -> None:
        self._hidden = None
        self._saved: tuple | None = None

    def mark(self) -> None:
        self._saved = (self._hidden,)   # the LSTM returns new state tensors each step

    def rewind(self) -> None:
        if self._saved is not None:
            self._hidden = self._saved[0]
            self._saved = None

    @torch.no_grad()
    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        beat, pos = beat_tokens(np.array([note.time]))
        tok = torch.tensor([[[note.pitch, int(beat[0]), int(pos[0])]]], dtype=torch.long)
        logits, self._hidden = self.model(tok, self._hidden)
        if self.free:
            return int(logits[0, 0].argmax())
        allowed = self.constraints.mask(note.pitch, state, note.time)
        row = np.where(allowed, logits[0, 0].numpy(), -np.inf)
        return int(row.argmax())


def checkpoint_arranger(preset: Preset, name: str, path: Path | None = None) -> Arranger | None:
    """The trained arranger ``model`` or ``lstm`` for ``preset``, or None if not trained."""
    suffix = "-lstm" if name.startswith("lstm") else ""
    path = path or CHECKPOINTS / f"{preset.name}{suffix}.pt"
    if not path.exists():
        return None
    if name.startswith("lstm"):
        return TorchLSTMArranger(preset, load_lstm(path)[0], free=name == "lstm:free")
    return TorchModelArranger(preset, load_checkpoint(path)[0])


HORIZONS_MS = (0.0, 10.0, 20.0, 30.0)
RUNS = ([(c, "merge", h) for c in CONDITIONS for h in HORIZONS_MS] + [("score", "split", 0.0)])
METRICS = ("accuracy", "accuracy_onset", "moves_per_100", "moved_after_p50_ms",
           "moved_after_p99_ms", "pair_precision", "pair_recall", "soundness",
           "completeness", "link_f1")


def evaluate_all(dataset: str, arrangers: list[str], limit: int | None = None,
                 split: str = "test", log=print) -> list[dict]:
    """Every arranger on ``dataset`` in every run of ``RUNS`` (condition, unisons,
    horizon), replayed through the engine (``livearranger.lab.evaluate``)."""
    torch.set_num_threads(1)
    preset = load_preset(PRESET_OF[dataset])
    n = len(preset.parts)
    pieces = load_pieces(dataset, split, limit)
    train = load_pieces(dataset, "train")
    rows = []
    for name in arrangers:
        arr: Arranger | None
        if name == "model:onnx":
            onnx = ROOT / "models" / "shipped" / f"{preset.name}.onnx"
            if not onnx.exists():
                log(f"  model:onnx: {onnx} not exported, skipped")
                continue
            arr = make_arranger("model", preset, model=str(onnx))
        elif name in ("model", "lstm", "lstm:free"):
            arr = checkpoint_arranger(preset, name)
            if arr is None:
                log(f"  {name}: no checkpoint for {preset.name}, skipped")
                continue
        elif name.endswith(":free"):
            base = name.split(":")[0]
            opts = arranger_options(base, train, n)
            arr = Unconstrained(preset, opts.get("boundaries"), opts.get("part", 0))
        else:
            arr = make_arranger(name, preset, **arranger_options(name, train, n))
        for cond, unisons, ms in RUNS:
            t0 = time.monotonic()
            r = evaluate_assign(pieces, cond, arr, unisons, ms / 1000.0 if ms else None)
            r.update(dataset=dataset, condition=cond, arranger=name, split=split,
                     pieces=len(pieces), parts=preset.part_names, unisons=unisons)
            rows.append(r)
            label = f"{cond}{', unisons split' if unisons == 'split' else ''}, H {ms:g} ms"
            log(f"  {dataset:15s} {label:28s} {name:16s} final {r['accuracy']:6.2f} %  "
                f"onset {r['accuracy_onset']:6.2f} %  moves {r['moves_per_100']:5.2f}/100 "
                f"({r['notes']} notes, {time.monotonic() - t0:.0f}s)")
    return rows


def write_table(rows: list[dict], md: Path, js: Path) -> None:
    md.parent.mkdir(parents=True, exist_ok=True)
    splits = {d: {k: len(v) for k, v in load_split(d).items()}
              for d in {r["dataset"] for r in rows}}
    js.write_text(json.dumps({"rows": rows, "paper": PAPER, "splits": splits,
                              "humanize_seed": HUMANIZE_SEED}, indent=1))
    out = ["# Results", "",
           "Generated by `python -m models.evaluate` (see models/README.md for the split, ",
           "the training commands and the seeds): every piece of the test split played "
           "into the live engine (`livearranger/lab/evaluate.py`), preset constraints applied. "
           "`score`: notes by onset then pitch (the paper's order); `as played`: seeded "
           f"humanisation (seed {HUMANIZE_SEED} + piece index: chords spread over 0-30 ms "
           "in random order, legato overlaps, gaps, varied velocities). Every key sounds "
           "the moment it arrives (**onset**: % of keys on a right part then); with a "
           "correction horizon H the keys of a chord are decided again as one when it is "
           "complete or H after its first key, and a key whose part changed moves "
           "(**final**: % right in the end, what records and `arrange` keep). Every "
           "arranger gets the same horizon. A unison (two parts on one key at one onset) "
           "is one keyboard key, right if any of its parts is chosen; (key, part) "
           "precision/recall count it as several pairs, so a doubling could not buy points; "
           "`score, unisons split` counts it as the paper does, one note per part.", ""]
    for d in sorted({r["dataset"] for r in rows}):
        sub = [r for r in rows if r["dataset"] == d]
        out += [f"## {d} (test split: {splits[d]['test']} files, "
                f"{sub[0]['notes']} notes)", "",
                "Accuracy %, final (onset) by horizon H:", "",
                "| arranger | score H 0 | score H 10 | score H 20 | score H 30 | "
                "as played H 0 | as played H 10 | as played H 20 | as played H 30 | "
                "score, unisons split |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        names = list(dict.fromkeys(r["arranger"] for r in sub))
        by = {(r["arranger"], r["condition"], r["unisons"], r["horizon_ms"]): r for r in sub}

        def cell(name: str, cond: str, ms: float, unisons: str = "merge",
                 by: dict = by) -> str:
            r = by.get((name, cond, unisons, ms))
            if r is None:
                return "-"
            if not ms:
                return f"{r['accuracy']:.2f}"
            return f"{r['accuracy']:.2f} ({r['accuracy_onset']:.2f})"
        for name in names:
            cells = [cell(name, c, ms) for c in CONDITIONS for ms in HORIZONS_MS]
            out.append(f"| {name} | " + " | ".join(cells) + f" | "
                       f"{cell(name, 'score', 0.0, 'split')} |")
        out += ["", "With H = 30 ms: moves per 100 keys, how long a moved key had sounded "
                "on its first part (p50 / p99 ms), (key, part) precision / recall, the "
                "paper's soundness / completeness and link-F1 (Karystinaios et al. 2023), "
                "score · as played:", "",
                "| arranger | moves / 100 | moved after (ms) | pair P / R | soundness / "
                "completeness | link-F1 |", "| --- | --- | --- | --- | --- | --- |"]
        for name in names:
            s, a = by.get((name, "score", "merge", 30.0)), by.get((name, "as-played",
                                                                   "merge", 30.0))
            if not s or not a:
                continue
            out.append(
                f"| {name} | {s['moves_per_100']:.1f} · {a['moves_per_100']:.1f} | "
                f"{s['moved_after_p50_ms']:.0f} / {s['moved_after_p99_ms']:.0f} · "
                f"{a['moved_after_p50_ms']:.0f} / {a['moved_after_p99_ms']:.0f} | "
                f"{s['pair_precision']:.1f} / {s['pair_recall']:.1f} · "
                f"{a['pair_precision']:.1f} / {a['pair_recall']:.1f} | "
                f"{s['soundness']:.1f} / {s['completeness']:.1f} · "
                f"{a['soundness']:.1f} / {a['completeness']:.1f} | "
                f"{s['link_f1']:.3f} · {a['link_f1']:.3f} |")
        out += ["", "Paper (Dong et al. 2021" + (", MusicNet, not the same data" if
                                                 d == "string-quartet" else "") + "): " +
                ", ".join(f"{k} {v}" for k, v in PAPER[d].items()) + "." +
                (" Link-F1 on Haydn quartets (Karystinaios et al. 2023, not the same "
                 "pieces): offline graph network 0.872, McLeod & Steedman's incremental "
                 "HMM 0.781." if d == "string-quartet" else ""), ""]
    md.write_text("\n".join(out) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.evaluate")
    ap.add_argument("--dataset", nargs="+", default=["bach", "string-quartet"])
    ap.add_argument("--arranger", nargs="+",
                    default=[*RULES, "lstm:free", "lstm", "model:onnx"])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results.md")
    a = ap.parse_args(argv)
    rows: list[dict] = []
    js = a.out.with_suffix(".json")
    if js.exists():  # keep the rows of the other datasets and arrangers
        old = json.loads(js.read_text())
        rows = [r for r in old.get("rows", []) if "accuracy_onset" in r and not (
                r["dataset"] in a.dataset and r["arranger"] in a.arranger)]
    log = lambda s: print(s, flush=True)  # noqa: E731
    for d in a.dataset:
        rows += evaluate_all(d, a.arranger, a.limit, a.split, log=log)
    write_table(rows, a.out, a.out.with_suffix(".json"))
    print(f"wrote {a.out} and {a.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
