"""Train the one part-conditioned model (``EnsembleTransformer``) on many ensembles.

    python -m livearranger.lab.ensemble_train --datasets bach madrigal trecento \\
        pop909 nes quartets --data ../shared/data --sources quartets:openscore \\
        --epoch-items 400 --minutes 45 --out /tmp/ens/ensemble   # models/README.md

The command line over the one trainer (``livearranger.lab.trainer``): each corpus's or
collection's pieces with the ensemble that plays them (a corpus piece its own parts, a
collection its preset), ranges widened, beats known for half the pieces, each dataset an
equal share of an epoch's draw.  ``--nproc N`` starts ``torchrun`` (gloo) with N
processes on this machine; several machines start this module with torchrun's own
rendezvous options.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from livearranger.files import FileProblem, check_writable
from livearranger.lab.datasets import DatasetError
from livearranger.lab.evaluate import COLLECTION_PRESET
from livearranger.lab.trainer import (
    Item,
    dataset_items,
    first_segments,
    leave_torchrun,
    train,
    world,
)

# ------------------------------------------------------------------ corpora
Sources = Mapping[str, Sequence[str]]


def corpus_items(datasets: Sequence[str], split: str, limit: int | None = None,
                 data: Path | None = None, sources: Sources | None = None) -> list[Item]:
    """The pieces of ``split`` of each corpus or collection with the ensemble that plays
    them (``dataset_items``; ``limit``: the first pieces of each; ``sources``: a
    collection's top-level folders to keep, by collection)."""
    return [it for ds in datasets
            for it in dataset_items(ds, split, None, data, limit, (sources or {}).get(ds))]


def valid_items(datasets: Sequence[str], limit: int, data: Path | None = None,
                sources: Sources | None = None) -> list[Item]:
    """The validation pieces: the first ``limit`` of each corpus, and of each collection
    ``limit`` spread through it, cut to their first segment (``first_segments``)."""
    out: list[Item] = []
    for ds in datasets:
        if ds in COLLECTION_PRESET:
            out += first_segments(dataset_items(ds, "valid", None, data, None,
                                                (sources or {}).get(ds)), limit)
        else:
            out += dataset_items(ds, "valid", None, data, limit)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m livearranger.lab.ensemble_train",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["bach", "madrigal", "trecento"],
                    help="music21 corpora, and collections read from --data (nes, pop909, "
                         "quartets, choral)")
    ap.add_argument("--data", type=Path, default=None,
                    help="the folder of the collections (laid out as ../shared/data)")
    ap.add_argument("--sources", nargs="+", default=[], metavar="COLLECTION:FOLDER",
                    help="keep a collection to these top-level folders of it "
                         "(quartets:openscore)")
    ap.add_argument("--epoch-items", type=int, default=None,
                    help="training pieces replayed per epoch, each dataset an equal share "
                         "(default: all)")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=None)
    ap.add_argument("--valid-limit", type=int, default=6,
                    help="validation pieces per corpus (online roll-outs are slow)")
    ap.add_argument("--init", type=Path, default=None, help="fine-tune these weights (.npz)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--dagger-from", type=int, default=3)
    ap.add_argument("--dagger-every", type=int, default=2)
    ap.add_argument("--dagger-pieces", type=int, default=48,
                    help="pieces the model plays itself per DAgger round")
    ap.add_argument("--nproc", type=int, default=1,
                    help="processes on this machine (torchrun, gloo); several machines: "
                         "start this module with torchrun's own rendezvous options")
    ap.add_argument("--hints", action="store_true",
                    help="the model reads a player's hints (trained with simulated ones; "
                         "--init weights without them gain the input, starting at zero)")
    ap.add_argument("--out", type=Path, default=Path("models/shipped/ensemble"))
    a = ap.parse_args(argv)
    args = sys.argv[1:] if argv is None else list(argv)
    if a.nproc > 1 and "WORLD_SIZE" not in os.environ:  # start torchrun, which runs us
        rest = [x for i, x in enumerate(args) if x != "--nproc"
                and not (i and args[i - 1] == "--nproc") and not x.startswith("--nproc=")]
        return subprocess.call([sys.executable, "-m", "torch.distributed.run", "--standalone",
                                f"--nproc-per-node={a.nproc}", "-m",
                                "livearranger.lab.ensemble_train", *rest])
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:      # started by torchrun
        torch.distributed.init_process_group("gloo")
    sources: dict[str, list[str]] = {}
    for kept in a.sources:
        ds, _, folder = kept.partition(":")
        if ds not in a.datasets or not folder:
            ap.error(f"--sources {kept}: give COLLECTION:FOLDER of a collection trained on")
        sources.setdefault(ds, []).append(folder)
    try:
        check_writable(a.out.with_suffix(".npz"), "model")   # now, not after the data
        items = corpus_items(a.datasets, "train", a.train_limit, a.data, sources)
        valid = valid_items(a.datasets, a.valid_limit, a.data, sources)
    except (DatasetError, FileProblem) as exc:   # data it cannot read, a model it cannot write
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = {"data": ", ".join(a.datasets) + "".join(f" ({ds}: {', '.join(f)} only)"
                                                     for ds, f in sources.items())
            + " (music21 corpora: livearranger.lab.datasets; collections: "
            "livearranger.lab.collections; Palestrina and Josquin never used)",
            "split": "corpora: livearranger/data/splits/*.json (8:1:1 by file, seed 0); "
                     "collections: their own (docs/data.md); trained on train, "
                     "early-stopped on valid",
            "command": "python -m livearranger.lab.ensemble_train " + " ".join(args)}
    r = train(items, valid, a.out, a.minutes, a.seed, a.init, a.lr, threads=a.threads,
              patience=a.patience, dagger_from=a.dagger_from, dagger_every=a.dagger_every,
              dagger_pieces=a.dagger_pieces, meta=meta,
              log=lambda s: print(s, flush=True), hint_input=a.hints,
              epoch_items=a.epoch_items)
    if world()[0] == 0:
        print(f"best validation {r['best_valid']:.2f} at epoch {r['best_epoch']}: "
              f"{r['weights']}, {r['graph']}")
    if world()[1] > 1:
        # every process waits for the others first: one that tore its group down while
        # another still worked (rank 0 writing files) died in gloo's threads (abort,
        # "terminate called without an active exception"), measured 1 run in 3-6
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
        leave_torchrun()
    return 0


if __name__ == "__main__":
    sys.exit(main())
