"""Results table: every arranger on the test split of each corpus, both conditions.

    python -m models.evaluate [--dataset bach string-quartet] [--limit N]

Rules come from the registry, the trained checkpoints (``models/checkpoints``) are
wrapped as arrangers here (PyTorch, stepped note by note with the KV cache / LSTM state),
and all are replayed by ``livearranger.evaluate`` exactly as the engine plays notes.
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
from livearranger.arrangers.learned import LearnedArranger
from livearranger.chords import DEFAULT_GRACE, chord_size
from livearranger.constraints import Constraints
from livearranger.datasets import load_pieces, load_split
from livearranger.evaluate import (
    CONDITIONS,
    HUMANIZE_SEED,
    PAPER,
    PRESET_OF,
    Result,
    Unconstrained,
    arranger_options,
    evaluate_assign,
    performance,
    split_unisons,
)
from livearranger.events import NoteEvent
from livearranger.presets import Preset, load_preset
from livearranger.state import PerformanceState
from models.lstm import OnlineLSTM, beat_tokens
from models.model import PartTransformer, load_checkpoint
from models.train import CHECKPOINTS, load_lstm, rollout

ROOT = Path(__file__).resolve().parent.parent
GRACE = DEFAULT_GRACE
RUNS = ([(c, "merge", None) for c in CONDITIONS] + [(c, "merge", GRACE) for c in CONDITIONS]
        + [("score", "split", None)])
RULES = ("most-common:free", "zone:free", "most-common", "zone", "closest-pitch",
         "top-bottom", "voice-leading")


class TorchModelArranger(LearnedArranger):
    """A PartTransformer checkpoint stepped one note at a time (ring-buffer KV cache),
    preset constraints applied to the logits, greedy."""

    name = "model"

    def __init__(self, preset: Preset, model: PartTransformer) -> None:
        super().__init__(preset)
        self.model = model.eval()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._past, self._pos, self._valid = self.model.empty_cache()

    @torch.no_grad()
    def choose(self, note: NoteEvent, state: PerformanceState) -> int:
        logits, kv = self.model.step(torch.from_numpy(self.inputs.features),
                                     torch.from_numpy(self.inputs.tokens), self._past,
                                     self._pos, self._valid)
        p = int(self._pos)
        self._past[:, :, :, p, :] = kv
        self._valid[p] = True
        self._pos = (self._pos + 1) % self.model.window
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


def evaluate_rollout(pieces, model: PartTransformer, preset: Preset, condition: str,
                     unisons: str, grace: float | None = None) -> dict:
    """The checkpoint through ``models.train.rollout``: all pieces stepped together with a
    KV cache, each note decoded as the runtime does; the same choices as replaying the
    stepped arranger note by note (tests/test_train.py checks this), only faster."""
    n = len(preset.parts)
    res = Result(n)
    perfs = []
    for i, p in enumerate(pieces):
        perf = performance(p, condition, i)
        perfs.append(split_unisons(perf) if unisons == "split" else perf)
    reps = rollout(model, perfs, preset, Constraints(preset), grace)
    for perf, rep in zip(perfs, reps, strict=True):
        res.add(perf, rep.chosen)
    out = res.summary()
    out["grace_ms"] = 0.0 if grace is None else round(grace * 1000.0, 3)
    return out


def evaluate_all(dataset: str, arrangers: list[str], limit: int | None = None,
                 split: str = "test", log=print) -> list[dict]:
    torch.set_num_threads(1)
    preset = load_preset(PRESET_OF[dataset])
    n = len(preset.parts)
    pieces = load_pieces(dataset, split, limit)
    train = load_pieces(dataset, "train")
    rows = []
    for name in arrangers:
        if name == "model":
            path = CHECKPOINTS / f"{preset.name}.pt"
            if not path.exists():
                log(f"  model: no checkpoint for {preset.name}, skipped")
                continue
            model = load_checkpoint(path)[0]
            arr = None
        elif name == "model:onnx":
            onnx = ROOT / "models" / "shipped" / f"{preset.name}.onnx"
            if not onnx.exists():
                log(f"  model:onnx: {onnx} not exported, skipped")
                continue
            arr = make_arranger("model", preset, model=str(onnx))
        elif name in ("lstm", "lstm:free"):
            arr = checkpoint_arranger(preset, name)
            if arr is None:
                log(f"  {name}: no checkpoint for {preset.name}, skipped")
                continue
        elif name.endswith(":free"):
            base = name.split(":")[0]
            opts = arranger_options(base, train, n)
            arr = Unconstrained(n, opts.get("boundaries"), opts.get("part", 0))
        else:
            arr = make_arranger(name, preset, **arranger_options(name, train, n))
        for cond, unisons, grace in RUNS:
            t0 = time.monotonic()
            if arr is None:
                r = evaluate_rollout(pieces, model, preset, cond, unisons, grace)
            else:
                r = evaluate_assign(pieces, cond, lambda a=arr: (
                                        a.assign, a.reset, getattr(a, "assign_chord", None)),
                                    n, unisons, grace, chord_size(preset))
            r.update(dataset=dataset, condition=cond, arranger=name, split=split,
                     pieces=len(pieces), parts=preset.part_names, unisons=unisons)
            label = cond + (", unisons split" if unisons == "split" else "") + (
                f", grace {grace * 1000:g} ms" if grace else "")
            rows.append(r)
            log(f"  {dataset:15s} {label:24s} {name:14s} {r['accuracy']:6.2f} %  "
                f"({r['notes']} notes, {time.monotonic() - t0:.0f}s)")
    return rows


SWEEP_MS = (0.0, 5.0, 10.0, 15.0)


def evaluate_sweep(dataset: str, split: str = "test", limit: int | None = None,
                   log=print) -> list[dict]:
    """As-played accuracy of voice-leading and the model against the grace window, with
    how long keys waited (the added latency)."""
    preset = load_preset(PRESET_OF[dataset])
    n, size = len(preset.parts), chord_size(preset)
    pieces = load_pieces(dataset, split, limit)
    path = CHECKPOINTS / f"{preset.name}.pt"
    model = load_checkpoint(path)[0] if path.exists() else None
    rows = []
    for ms in SWEEP_MS:
        grace = ms / 1000.0 if ms else None
        vl = make_arranger("voice-leading", preset)
        r = evaluate_assign(pieces, "as-played",
                            lambda a=vl: (a.assign, a.reset, a.assign_chord), n,
                            grace=grace, size=size)
        # how long keys waited depends on the arrival times only, not on the arranger
        row = {"dataset": dataset, "grace_ms": ms, "voice-leading": r["accuracy"],
               **{k: round(r[k], 2) for k in ("wait_mean_ms", "wait_p99_ms", "wait_max_ms")}}
        if model is not None:
            row["model"] = evaluate_rollout(pieces, model, preset, "as-played", "merge",
                                            grace)["accuracy"]
        rows.append(row)
        log(f"  {dataset:15s} as-played, grace {ms:4.1f} ms: voice-leading "
            f"{row['voice-leading']:.2f}, model {row.get('model', float('nan')):.2f}, "
            f"keys waited {row['wait_mean_ms']:.1f} ms on average")
    return rows


def write_table(rows: list[dict], md: Path, js: Path, sweep: list[dict] | None = None
                ) -> None:
    md.parent.mkdir(parents=True, exist_ok=True)
    splits = {d: {k: len(v) for k, v in load_split(d).items()}
              for d in {r["dataset"] for r in rows}}
    js.write_text(json.dumps({"rows": rows, "sweep": sweep or [], "paper": PAPER,
                              "splits": splits, "humanize_seed": HUMANIZE_SEED}, indent=1))
    out = ["# Results", "",
           "Generated by `python -m models.evaluate` (see models/README.md for the split, ",
           "the training commands and the seeds). Online accuracy (%, micro over all test ",
           "notes), each note assigned when its key goes down, preset constraints applied. ",
           "`score`: notes by onset then pitch (the paper's order); `as-played`: seeded ",
           f"humanisation (seed {HUMANIZE_SEED} + piece index). A unison (two parts on one "
           "key at one onset) is one keyboard note, correct if any of its parts is chosen; "
           "the column `score, unisons split` counts it as the paper does, one note per "
           "part (the key struck once per part, lower part first). ",
           f"`+{GRACE * 1000:g} ms`: with the grace window, a key may wait up to "
           f"{GRACE * 1000:g} ms for the rest of its chord, which is then decided as one "
           "(livearranger/chords.py); how long keys waited is given below each table.",
           ""]
    for d in sorted({r["dataset"] for r in rows}):
        sub = [r for r in rows if r["dataset"] == d]
        g = f"+{GRACE * 1000:g} ms"
        out += [f"## {d} (test split: {splits[d]['test']} files, "
                f"{sub[0]['notes']} notes)", "",
                f"| arranger | score | as-played | score {g} | as-played {g} | score, "
                "unisons split | soundness (score / played) | completeness (score / played) "
                "| recall per part (score) |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name in dict.fromkeys(r["arranger"] for r in sub):
            by = {(r["condition"], r["unisons"], bool(r.get("grace_ms"))): r
                  for r in sub if r["arranger"] == name}
            s, a = by.get(("score", "merge", False)), by.get(("as-played", "merge", False))
            sg, ag = by.get(("score", "merge", True)), by.get(("as-played", "merge", True))
            sp = by.get(("score", "split", False))
            if not s or not a:
                continue

            def acc(r: dict | None) -> str:
                return f"{r['accuracy']:.2f}" if r else "-"
            rec = ", ".join(f"{p} {v}" for p, v in zip(s["parts"], s["recall"], strict=True))
            out.append(f"| {name} | {acc(s)} | {acc(a)} | {acc(sg)} | {acc(ag)} | {acc(sp)} | "
                       f"{s['soundness']:.1f} / {a['soundness']:.1f} | "
                       f"{s['completeness']:.1f} / {a['completeness']:.1f} | {rec} |")
        waits = [r for r in sub if r.get("grace_ms") and "wait_mean_ms" in r]
        if waits:
            w = {r["condition"]: r for r in waits}
            out += ["", f"Grace window {GRACE * 1000:g} ms: keys waited " + ", ".join(
                f"{w[c]['wait_mean_ms']:.1f} ms on average ({c})" for c in CONDITIONS
                if c in w) + f", {max(r['wait_max_ms'] for r in waits):.1f} ms at most."]
        out += ["", "Paper (Dong et al. 2021" + (", MusicNet, not the same data" if
                                                 d == "string-quartet" else "") + "): " +
                ", ".join(f"{k} {v}" for k, v in PAPER[d].items()), ""]
    if sweep:
        out += ["## Accuracy against the grace window (as played, test split)", "",
                "How long a key may wait for the rest of its chord, how long keys really "
                "waited (the latency the window adds; a full chord of a choir is decided "
                "when its last key arrives), and the accuracy it buys.", "",
                "| dataset | grace (ms) | waited: mean / p99 / max (ms) | voice-leading | "
                "model |", "| --- | --- | --- | --- | --- |"]
        for r in sweep:
            model = f"{r['model']:.2f}" if "model" in r else "-"
            out.append(f"| {r['dataset']} | {r['grace_ms']:g} | {r['wait_mean_ms']:.1f} / "
                       f"{r['wait_p99_ms']:.1f} / {r['wait_max_ms']:.1f} | "
                       f"{r['voice-leading']:.2f} | {model} |")
        out.append("")
    md.write_text("\n".join(out) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.evaluate")
    ap.add_argument("--dataset", nargs="+", default=["bach", "string-quartet"])
    ap.add_argument("--arranger", nargs="+",
                    default=[*RULES, "lstm:free", "lstm", "model", "model:onnx"])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results.md")
    ap.add_argument("--no-sweep", action="store_true",
                    help="skip the accuracy-against-grace-window sweep")
    a = ap.parse_args(argv)
    rows: list[dict] = []
    sweep: list[dict] = []
    js = a.out.with_suffix(".json")
    if js.exists():  # keep the other datasets' rows
        old = json.loads(js.read_text())
        rows = [r for r in old.get("rows", []) if r["dataset"] not in a.dataset]
        sweep = [r for r in old.get("sweep", []) if r["dataset"] not in a.dataset]
    log = lambda s: print(s, flush=True)  # noqa: E731
    for d in a.dataset:
        rows += evaluate_all(d, a.arranger, a.limit, a.split, log=log)
        if not a.no_sweep:
            sweep += evaluate_sweep(d, a.split, a.limit, log=log)
    write_table(rows, a.out, a.out.with_suffix(".json"), sweep)
    print(f"wrote {a.out} and {a.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
