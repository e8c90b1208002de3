"""Train a per-ensemble part model (PartTransformer) or the LSTM baseline for one preset.

The data: corpora and collections that the preset plays.

    python -m models.train --dataset bach [--arranger model|lstm] [--minutes 25] [--seed 0]
    python -m models.train --dataset pop909 --data ../shared/data [--epoch-items 250]

The command line over the one trainer (``livearranger.lab.trainer``): every piece of the
corpus is an item of its one preset (no range widening, no beat), a fixed head of the
preset's parts.  Every epoch draws a fresh augmentation of each training piece:
transposition within the parts' ranges, tempo scaling, and either the score or a seeded
humanised performance.  Exposure bias: teacher forcing on the true history, a corrupted
history for half the pieces, and DAgger roll-outs from epoch ``--dagger-from`` on.
Validation is the online protocol on the validation split in both conditions, key by
key and chord by chord; the best epoch is kept, training stops after ``--patience``
epochs without improvement or at the time limit.  The LSTM baseline has its own small
fitting loop (``livearranger.lab.lstm.fit``: no teacher, no DAgger).  Checkpoints:
``models/checkpoints/{preset}.pt`` (model) and ``{preset}-lstm.pt``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from livearranger.features import feature_dim
from livearranger.files import FileProblem, check_writable
from livearranger.graph import META_PARTS
from livearranger.lab import lstm
from livearranger.lab.datasets import PRESET_OF, DatasetError
from livearranger.lab.evaluate import COLLECTION_PRESET, PERFORMED
from livearranger.lab.model import CHECKPOINTS, PartTransformer, load_checkpoint
from livearranger.lab.trainer import dataset_items, first_segments
from livearranger.lab.trainer import train as train_model
from livearranger.presets import load_preset


def train(datasets: str | Sequence[str], kind: str = "model", minutes: float = 25.0,
          seed: int = 0, epochs: int = 200, patience: int = 6, batch: int = 32,
          lr: float = 2e-3, window: int | None = None, noise: float = 0.05, dagger_from: int = 3,
          dagger_every: int = 2, train_limit: int | None = None,
          valid_limit: int | None = None, out: Path | None = None, threads: int = 1,
          valid_rollouts: int = 12, dagger_pieces: int = 48, init: Path | None = None,
          chord_share: float = 0.6, onsets: bool = False, data: Path | None = None,
          preset_name: str | None = None, epoch_items: int | None = None,
          sources: Sequence[str] | None = None, command: str = "",
          log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train one model; returns a summary (best validation accuracy, epochs, path).

    ``datasets``: one or more corpora or collections (``dataset_items``), all played by one
    preset (``preset_name``, default the first one's shipped preset).  The transformer
    learns both ways of playing: a share ``chord_share`` of the pieces is decided chord
    by chord (as the engine settles a chord), the rest key by key (as each key first
    sounds); it is validated both ways, in both conditions, on ``valid_rollouts``
    segments of each dataset's validation split.  ``onsets``: the chords' keys are also
    taught as the engine first decides them, on arrival.  Beside the checkpoint, a
    summary ``.json`` for the model card: data, ``command``, seed, time, hardware and
    the best epoch's validation figures."""
    names = [datasets] if isinstance(datasets, str) else list(datasets)
    preset = load_preset(preset_name or PRESET_OF.get(names[0])
                         or str(COLLECTION_PRESET[names[0]]))
    n = len(preset.parts)
    path = out or CHECKPOINTS / (preset.name + ("-lstm" if kind == "lstm" else "") + ".pt")
    check_writable(path, "checkpoint")    # now, not after the data and a first epoch
    items = [it for ds in names
             for it in dataset_items(ds, "train", preset, data, train_limit, sources)]
    valid = [it for ds in names for it in first_segments(
        dataset_items(ds, "valid", preset, data, valid_limit, sources), valid_rollouts)]
    meta = {"dataset": " + ".join(names), "preset": preset.name, "sources": sources,
            META_PARTS: preset.part_names, "kind": kind}
    started = time.time()
    if kind == "lstm":
        r = lstm.fit(" + ".join(names), path, minutes, seed, epochs, patience,
                     threads=threads, valid_rollouts=len(valid), log=log,
                     pieces=([it.piece for it in items], [v.piece for v in valid], preset),
                     epoch_items=epoch_items)
        window = None                     # it reads the whole performance, recurrently
    else:
        torch.manual_seed(seed)
        if init is not None:  # continue from a checkpoint (same shape)
            model = load_checkpoint(init)[0]
            if window is not None:    # ALiBi has no weight per position: a window may widen
                model.window = model.config["window"] = window
        else:
            model = PartTransformer(feature_dim(n), n, window=window or 32)
        r = train_model(items, valid, path, minutes, seed, lr=lr, batch=batch,
                        patience=patience, noise=noise, chord_share=chord_share,
                        beat_share=0.0, dagger_from=dagger_from, dagger_every=dagger_every,
                        dagger_pieces=dagger_pieces, threads=threads, meta=meta, log=log,
                        model=model, onsets=onsets, widen_most=0, epochs=epochs,
                        epoch_items=epoch_items)
        window = model.window
        r["parameters"] = sum(p.numel() for p in model.parameters())
    best = next((h for h in r["history"] if h["epoch"] == r["best_epoch"]), {})
    summary = {**meta, "command": command, "seed": seed, "window": window,
               "parameters": r["parameters"],
               "training_pieces": len(items), "validation_segments": len(valid),
               "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)),
               "wall_minutes": round((time.time() - started) / 60.0, 1),
               "epochs_run": len(r["history"]), "best_epoch": r["best_epoch"],
               "valid_accuracy": best,
               "hardware": f"{platform.machine()} CPU, {os.cpu_count()} cores, {threads} "
                           f"training thread(s), torch {torch.__version__}"}
    if init is not None and init.with_suffix(".json").exists():   # the card names each stage
        summary["continued_from"] = json.loads(init.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.split(
        "\n")[0])
    ap.add_argument("--dataset", nargs="+", required=True,
                    choices=(*PRESET_OF, *(c for c in COLLECTION_PRESET if c not in PERFORMED)),
                    help="corpora and collections, all played by one preset")
    ap.add_argument("--data", type=Path, default=None,
                    help="the folder of the collections (laid out as ../shared/data)")
    ap.add_argument("--preset", default=None,
                    help="the preset the model plays (default: the first dataset's)")
    ap.add_argument("--sources", nargs="+", default=None,
                    help="train only on these top-level folders of a collection (sources "
                         "whose license allows a shipped model: quartets openscore)")
    ap.add_argument("--epoch-items", type=int, default=None,
                    help="training segments replayed per epoch (default: all)")
    ap.add_argument("--valid-rollouts", type=int, default=12,
                    help="validation segments per dataset")
    ap.add_argument("--arranger", choices=("model", "lstm"), default="model")
    ap.add_argument("--minutes", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--window", type=int, default=None,
                    help="notes the model sees (default 32; with --init, the checkpoint's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=None)
    ap.add_argument("--valid-limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--noise", type=float, default=0.05,
                    help="share of corrupted history notes (in half of the pieces)")
    ap.add_argument("--dagger-from", type=int, default=3)
    ap.add_argument("--dagger-every", type=int, default=2)
    ap.add_argument("--dagger-pieces", type=int, default=48)
    ap.add_argument("--init", type=Path, default=None, help="continue from this checkpoint")
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    ap.add_argument("--chord-share", type=float, default=0.6,
                    help="share of pieces decided chord by chord (as the engine settles them)")
    ap.add_argument("--onsets", action="store_true",
                    help="also teach each chord key's first decision, on arrival")
    a = ap.parse_args(argv)
    try:
        r = train(a.dataset, a.arranger, a.minutes, a.seed, a.epochs, a.patience,
                  window=a.window, noise=a.noise, dagger_from=a.dagger_from,
                  dagger_every=a.dagger_every, dagger_pieces=a.dagger_pieces,
                  train_limit=a.train_limit, valid_limit=a.valid_limit, out=a.out,
                  threads=a.threads, init=a.init, chord_share=a.chord_share, lr=a.lr,
                  onsets=a.onsets, data=a.data, preset_name=a.preset,
                  epoch_items=a.epoch_items, sources=a.sources, valid_rollouts=a.valid_rollouts,
                  command="python -m models.train " + " ".join(sys.argv[1:] if argv is None
                                                               else argv),
                  log=lambda s: print(s, flush=True))
    except (DatasetError, FileProblem) as exc:   # data it cannot read, a model it cannot write
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"best validation {r['best_valid']:.2f} at epoch {r['best_epoch']}: {r['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
