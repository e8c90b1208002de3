"""Results of the one ensemble model beside the rules and the per-ensemble models.

    python -m models.evaluate_ensemble [--model models/shipped/ensemble.onnx] [--limit N]

Every corpus's test split, score and as played, with a 30 ms correction horizon, all
replayed through the engine by ``livearranger.lab.evaluate``.  The string quartets'
test split shares works with the OpenScore quartets the models learned from: their
figures there are not held-out ones.  Writes
``docs/ensemble-results.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from livearranger.lab.evaluate import CONDITIONS, evaluate_arranger

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ("bach", "string-quartet", "madrigal", "trecento")
PER_ENSEMBLE = {"bach": "satb.onnx", "string-quartet": "string-quartet.onnx"}
RULES = ("voice-leading", "closest-pitch")
HORIZON = 0.030
CONFUSION_LINE = ("The ensemble model's confusion matrix on the Bach test split (score, 30 ms): "
                  "[ensemble-confusion.png](ensemble-confusion.png), drawn by "
                  "`python scripts/draw_confusion.py -o docs/ensemble-confusion.png`.")


def rows(model: str, limit: int | None, log=print) -> list[dict]:
    """One result per (corpus, condition, arranger)."""
    out = []
    for ds in CORPORA:
        arrangers = [("ensemble model", "model", {"model": model})]
        if ds in PER_ENSEMBLE:
            arrangers.append(("per-ensemble model", "model", {"model": PER_ENSEMBLE[ds]}))
        arrangers += [(r, r, {}) for r in RULES]
        for cond in CONDITIONS:
            for label, name, opts in arrangers:
                t0 = time.monotonic()
                r = evaluate_arranger(ds, cond, name, "test", limit, opts, horizon=HORIZON)
                r["label"] = label
                out.append(r)
                log(f"{ds:15s} {cond:10s} {label:20s} {r['accuracy']:6.2f} "
                    f"(onset {r['accuracy_onset']:6.2f}, {r['notes']} notes, "
                    f"{time.monotonic() - t0:.0f}s)")
    return out


def write(results: list[dict], model: str, md: Path, js: Path) -> None:
    js.write_text(json.dumps({"model": model, "horizon_ms": HORIZON * 1000,
                              "results": results}, indent=1) + "\n")
    labels = ["ensemble model", "per-ensemble model", *RULES]
    lines = ["# The ensemble model beside the rules and the per-ensemble models", "",
             f"Test splits, correction horizon {HORIZON * 1000:.0f} ms; final accuracy "
             "(accuracy of what sounds at onset), percent of keys.  String quartets: the "
             "ensemble and per-ensemble models learned from the OpenScore quartets, which "
             "hold works of this test split (docs/data-and-models.md): not held-out "
             "figures.  Written by `python -m models.evaluate_ensemble`.", "",
             "| corpus | condition | notes | " + " | ".join(labels) + " |",
             "|---" * (3 + len(labels)) + "|"]
    for ds in CORPORA:
        for cond in CONDITIONS:
            got = {r["label"]: r for r in results
                   if r["dataset"] == ds and r["condition"] == cond}
            if not got:
                continue
            notes = next(iter(got.values()))["notes"]
            cells = [f"{got[k]['accuracy']:.2f} ({got[k]['accuracy_onset']:.2f})"
                     if k in got else "–" for k in labels]
            lines.append(f"| {ds} | {cond} | {notes} | " + " | ".join(cells) + " |")
    lines += ["", CONFUSION_LINE]
    md.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.evaluate_ensemble",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "shipped" / "ensemble.onnx"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "ensemble-results")
    a = ap.parse_args(argv)
    res = rows(a.model, a.limit)
    write(res, Path(a.model).name, a.out.with_suffix(".md"), a.out.with_suffix(".json"))
    print(f"wrote {a.out.with_suffix('.md')} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
