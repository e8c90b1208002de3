"""Write the model card beside a shipped model: what it learned from, under which
licenses, how it was trained, and what it reaches on the validation splits.

    python -m models.card NAME [--summary models/checkpoints/NAME.json]

``--summary`` (the file ``python -m models.train`` writes beside its checkpoint) is copied
to ``models/shipped/NAME.training.json``, which travels with the model; the figures come
from the generated results (``docs/collections-results.json``).  Writes
``models/shipped/NAME.md``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from livearranger.lab.collections import provenance
from models.evaluate_collections import RULES

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "shipped"
RESULTS = ROOT / "docs" / "collections-results.json"
# Which licenses a shipped model may learn from: one that lets anyone use, adapt and sell
# what is made from the data (a public-domain dedication, a permissive license).  Not
# "non-commercial", not "rights reserved", not a source that states none: a model is
# made from its data, and this instrument may be sold.
POLICY = ("A shipped model learns only from sources whose license lets anyone use and adapt "
          "the data, commercially too: public-domain dedications (CC0) and permissive "
          "licenses (MIT, BSD). Sources under a non-commercial license (CC BY-NC, CC "
          "BY-NC-SA), with rights reserved, or with no license stated are used to measure "
          "and evaluate, never to train what ships.")


def data_lines(summary: dict[str, Any]) -> list[str]:
    """One bullet per dataset the model learned from: source, licenses, split."""
    out = []
    for p in provenance(str(summary.get("dataset", "")), summary.get("sources")):
        if not p.licenses:                               # a music21 corpus
            out.append(f"- **{p.name}**: {p.source}. Split: {p.split}.")
            continue
        used = ", ".join(f"{k or 'all'}: {v}" for k, v in p.licenses.items())
        only = f" (only {', '.join(p.sources)})" if p.sources else ""
        out.append(f"- **{p.name}**{only}: {p.source}. License: {used}. Split: "
                   f"{p.split}; trained on train, the best epoch chosen on valid.")
    return out


def figure_lines(name: str, results: list[dict[str, Any]]) -> list[str]:
    """Every results row played by this model, beside the best rule and the ensemble."""
    mine = [r for r in results if r.get("row") == f"model ({name})"]
    out = []
    for r in mine:
        same = [o for o in results if o["dataset"] == r["dataset"]
                and o["condition"] == r["condition"]]
        rules = [o for o in same if o["row"] in RULES]
        best = max(rules, key=lambda o: o["accuracy"]) if rules else None
        ens = next((o for o in same if o["row"] == "ensemble model"), None)
        rec = ", ".join(f"{p} {v}" for p, v in zip(r["parts"], r["recall"], strict=False))
        line = (f"| {r['dataset']} | {r['condition']} | {r['accuracy']:.2f} "
                f"({r['accuracy_onset']:.2f}) | {r['moves_per_100']:.2f} | "
                f"{r['link_f1']:.4f} | {rec} | ")
        lstm = next((o for o in same if o["row"] == "online LSTM"), None)
        line += f"{best['row']} {best['accuracy']:.2f}" if best else "-"
        line += f" | {ens['accuracy']:.2f} |" if ens else " | - |"
        line += f" {lstm['accuracy']:.2f} |" if lstm else " - |"
        out.append(line)
    if not out:
        return ["No results row yet: run `python -m models.evaluate_collections`."]
    h = results[0].get("horizon_ms", 30)
    return [f"Validation split, played through the engine with a {h:g} ms correction "
            "horizon (`docs/collections-results.md` has every arranger):", "",
            "| collection | condition | accuracy (at onset) | moves /100 | link-F1 | "
            "recall per part | best rule | ensemble model | online LSTM |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |", *out]


def earlier_stages(summary: dict[str, Any]) -> list[str]:
    """A line for each run this one continued from (``--init``), the first first."""
    stages = []
    prev = summary.get("continued_from")
    while isinstance(prev, dict):
        stages.append(prev)
        prev = prev.get("continued_from")
    return [f"- Stage {k}: `{s.get('command', '?')}` (seed {s.get('seed', '?')}, "
            f"{s.get('wall_minutes', '?')} minutes, {s.get('epochs_run', '?')} epochs, "
            f"the best at epoch {s.get('best_epoch', '?')}); then:"
            for k, s in enumerate(reversed(stages), 1)]


def card(name: str, summary: dict[str, Any], results: list[dict[str, Any]]) -> str:
    graph = SHIPPED / f"{name}.onnx"
    size = f"{graph.stat().st_size / 1e6:.2f} MB" if graph.exists() else "not exported"
    out = re.search(r"--out\s+(\S+)", str(summary.get("command", "")))
    checkpoint = out.group(1) if out else f"models/checkpoints/{name}.pt"
    va = summary.get("valid_accuracy", {})
    vtext = ", ".join(f"{k} {v:.2f}" for k, v in va.items()
                      if isinstance(v, float) and k != "loss")
    lines = [f"# Model card: `{name}.onnx` (preset `{summary.get('preset', name)}`)", "",
             "Generated by `python -m models.card`. The per-ensemble part model "
             "(`livearranger/lab/model.py` PartTransformer: "
             f"{summary.get('parameters', '?')} parameters, a window of "
             f"{summary.get('window', '?')} notes, KV-cached step graph with int8 weights, "
             f"{size}); parts: {', '.join(summary.get('parts', []))}.", "",
             "## Data", "", *data_lines(summary), "",
             f"Licenses: {POLICY}", "",
             "## Training", "", *earlier_stages(summary),
             f"- Command: `{summary.get('command', '?')}`",
             f"- Seed {summary.get('seed', '?')}; started {summary.get('started_utc', '?')} "
             f"UTC; {summary.get('wall_minutes', '?')} minutes of wall time, "
             f"{summary.get('epochs_run', '?')} epochs, the best at epoch "
             f"{summary.get('best_epoch', '?')}; {summary.get('training_pieces', '?')} "
             "training pieces.",
             f"- Hardware: {summary.get('hardware', '?')}.",
             *([f"- Note: {summary['note']}"] if summary.get("note") else []),
             f"- Best epoch on its validation segments: {vtext}.",
             f"- Then: `python -m export.export_onnx {checkpoint} models/shipped/{name}.onnx` "
             f"and `python -m export.quantize models/shipped/{name}.onnx`.", "",
             "## Figures", "", *figure_lines(name, results), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.card",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("name", help="the shipped model's name (models/shipped/NAME.onnx)")
    ap.add_argument("--summary", type=Path, default=None,
                    help="the training summary to ship with it (models.train writes it)")
    ap.add_argument("--results", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    kept = SHIPPED / f"{a.name}.training.json"
    if a.summary is not None:
        shutil.copyfile(a.summary, kept)
    if not kept.exists():
        print(f"error: {kept}: no training summary (give --summary)", file=sys.stderr)
        return 2
    summary = json.loads(kept.read_text())
    results = json.loads(a.results.read_text())["rows"] if a.results.exists() else []
    out = SHIPPED / f"{a.name}.md"
    out.write_text(card(a.name, summary, results))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
