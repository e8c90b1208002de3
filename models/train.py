"""Train the part model (PartTransformer) or the LSTM baseline on one corpus, on CPU.

    python -m models.train --dataset bach [--arranger model|lstm] [--minutes 25] [--seed 0]

Every epoch draws a fresh augmentation of each training piece: transposition within the
parts' ranges, tempo scaling, and either the score (quantised, notes in pitch order) or a
seeded humanised performance (spread chords, overlaps, gaps, velocities).  Features come
from ``livearranger.features`` replayed exactly as the engine replays them.

Exposure bias: the transformer is trained with teacher forcing on (1) the true history,
(2) a corrupted history (a share of earlier notes given to a wrong allowed part, the
targets staying true, so it learns to recover), and (3) DAgger rollouts: from epoch
``--dagger-from`` on, every few epochs the current model plays the training pieces
itself (its own choices build the held-key state and the fed-back part), and those
trajectories, labelled with the true parts, join the training data.

Validation is the real online protocol (the model's own choices, preset constraints) on
the validation split in both conditions; the best epoch is kept, training stops after
``--patience`` epochs without improvement or at the time limit.  Checkpoints:
``models/checkpoints/{preset}.pt`` (model) and ``{preset}-lstm.pt``.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from livearranger.constraints import Constraints
from livearranger.features import FEATURE_VERSION, feature_dim
from livearranger.graph import META_FEATURE_VERSION, META_PARTS
from livearranger.lab.datasets import PRESET_OF, Piece, load_pieces
from livearranger.lab.evaluate import performance
from livearranger.lab.lstm import OnlineLSTM, lstm_tokens
from livearranger.lab.model import CHECKPOINTS, PartTransformer, save_checkpoint
from livearranger.lab.rollout import rollout
from livearranger.lab.training import (
    CHORD_GROUP,
    Replayer,
    accuracy,
    augment,
    chunks,
    masked_nll,
    segments,
    teacher,
)
from livearranger.presets import Preset, load_preset


@torch.no_grad()
def rollout_lstm(model: OnlineLSTM, perfs: list[Piece], preset: Preset,
                 cons: Constraints) -> list[Replayer]:
    """The LSTM's online choices (it sees no assignments; constraints at decoding)."""
    model.eval()
    reps = []
    for perf in perfs:
        logits = model(torch.from_numpy(lstm_tokens(perf.pitch, perf.onset))[None])[0][0]
        r = Replayer(perf, preset)
        while r.next_note():
            allowed = cons.mask(int(perf.pitch[r.j]), r.state, r.time)
            row = np.where(allowed, logits[r.j].numpy(), -np.inf)
            r.commit(int(row.argmax()))
        reps.append(r)
    return reps


# ------------------------------------------------------------------ batches

def make_examples(reps: list[Replayer], length: int, stride: int, kind: str) -> list:
    """Training chunks: ``length`` decisions of each replay's history with the loss on
    the last ``stride``.  For the transformer each chunk also holds, after them, the
    first decisions of the chords settled in its loss span (``Replayer.onsets``), each
    at the position it had then and seeing what it saw (``visibility``)."""
    ex = []
    for r in reps:
        perf = r.perf
        if kind == "lstm":
            mask = perf.mask.astype(np.int64)
            lt = lstm_tokens(perf.pitch, perf.onset)
            for s, e, first in chunks(r.n, length, stride):
                ex.append((lt[s:e], None, mask[s:e], first - s, None))
            continue
        order = r.history()          # the model's history: notes as they were decided
        mask = perf.mask.astype(np.int64)[order]
        feats, toks = r.features[order], r.tokens[order]
        on = r.onsets
        start, k = on.start[:on.count], on.k[:on.count]
        for s, e, first in chunks(len(order), length, stride):
            sel = np.flatnonzero((start >= first) & (start < e))
            line = np.arange(e - s)
            where = (np.concatenate([line, start[sel] - s + k[sel]]),           # position
                     np.concatenate([line, start[sel] - s - 1]),                # last seen
                     np.concatenate([np.full(e - s, -1), on.group[sel]]))       # chord
            ex.append((np.concatenate([feats[s:e], on.features[sel]]),
                       np.concatenate([toks[s:e], on.tokens[sel]]),
                       np.concatenate([mask[s:e], perf.mask[on.note[sel]].astype(np.int64)]),
                       first - s, where))
    return ex


def visibility(pos: np.ndarray, last: np.ndarray, group: np.ndarray, window: int
               ) -> np.ndarray:
    """[B,T,T] which notes each note sees: within the window behind it, the settled
    history up to its ``last`` position, and the earlier first decisions of its own
    chord (``group`` >= 0; -1 on the settled line).  Every note sees itself."""
    dist = pos[:, :, None] - pos[:, None, :]
    near = (dist >= 0) & (dist < window)
    line = (group[:, None, :] < 0) & (pos[:, None, :] <= last[:, :, None])
    same = (group[:, None, :] >= 0) & (group[:, None, :] == group[:, :, None])
    eye = np.eye(pos.shape[1], dtype=bool)[None]
    return (near & (line | same)) | eye


def collate(batch: list, n_parts: int, window: int = 0):
    t = max(len(b[2]) for b in batch)
    bsz = len(batch)
    a0 = batch[0][0]
    x = np.zeros((bsz, t) + a0.shape[1:], dtype=a0.dtype)
    tok = np.zeros((bsz, t, 2), dtype=np.int64) if batch[0][1] is not None else None
    m = np.zeros((bsz, t, n_parts), dtype=bool)
    pos = np.full((bsz, t), -(1 << 20), dtype=np.int64)      # padding: seen by none
    last = np.full((bsz, t), -(1 << 21), dtype=np.int64)
    group = np.full((bsz, t), -2, dtype=np.int64)
    bits = np.arange(n_parts)
    for i, (a, b, mask, first, where) in enumerate(batch):
        n = len(mask)
        x[i, :n] = a
        if tok is not None:
            tok[i, :n] = b
            tok[i, n:, 1] = n_parts
        if where is not None:
            pos[i, :n], last[i, :n], group[i, :n] = where
        m[i, first:n] = ((mask[first:n, None] >> bits) & 1).astype(bool)
    if tok is None:
        return torch.from_numpy(x), None, torch.from_numpy(m), None, None
    return (torch.from_numpy(x), torch.from_numpy(tok), torch.from_numpy(m),
            torch.from_numpy(pos), torch.from_numpy(visibility(pos, last, group, window)))


# ------------------------------------------------------------------ training

def train(dataset: str, kind: str = "model", minutes: float = 25.0, seed: int = 0,
          epochs: int = 200, patience: int = 6, batch: int = 32, lr: float = 2e-3,
          window: int = 32, noise: float = 0.05, dagger_from: int = 3, dagger_every: int = 2,
          train_limit: int | None = None, valid_limit: int | None = None,
          out: Path | None = None, threads: int = 1, valid_rollouts: int = 12,
          dagger_pieces: int = 48, init: Path | None = None, chord_share: float = 0.6,
          onsets: bool = False, log=print) -> dict:
    """Train one model; returns a summary (best validation accuracy, epochs, path).

    The transformer learns both ways of playing: a share ``chord_share`` of the pieces
    is decided chord by chord (keys gathered over ``CHORD_GROUP``, as the engine settles
    a chord), the rest key by key (as each key first sounds); it is validated both ways,
    in both conditions.  ``onsets``: the chords' keys are also taught as the engine first
    decides them, on arrival (``Replayer`` with ``sound``), in the teacher-forced pieces."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    rng = np.random.default_rng(seed)
    preset = load_preset(PRESET_OF[dataset])
    n = len(preset.parts)
    cons = Constraints(preset)
    train_p = [s for p in load_pieces(dataset, "train", train_limit) for s in segments(p)]
    valid_p = [s for p in load_pieces(dataset, "valid", valid_limit) for s in segments(p)]
    valid_perf = {c: [performance(p, c, i) for i, p in enumerate(valid_p[:valid_rollouts])]
                  for c in ("score", "as-played")}
    modes: list[tuple[str, float | None]] = [(c, None) for c in valid_perf]
    if kind != "lstm":
        modes += [(c, CHORD_GROUP) for c in valid_perf]

    def groups(count: int) -> list[float | None]:
        return [CHORD_GROUP if rng.random() < chord_share else None for _ in range(count)]
    if kind == "lstm":
        model = OnlineLSTM(n)
        length, stride = 256, 256
        batch, lr = 4, 3e-3
    else:
        model = PartTransformer(feature_dim(n), n, window=window)
        if init is not None:  # continue from a checkpoint (same shape)
            blob = torch.load(init, map_location="cpu", weights_only=False)
            model = PartTransformer(**blob["config"])
            model.load_state_dict(blob["state_dict"])
            window = model.window
        length, stride = 4 * window, 3 * window
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    path = out or CHECKPOINTS / (preset.name + ("-lstm" if kind == "lstm" else "") + ".pt")
    deadline = time.monotonic() + minutes * 60.0
    best, best_epoch, history = -1.0, -1, []
    dagger: list = []
    log(f"{kind} on {dataset}: {len(train_p)} training segments, {len(valid_p)} valid, "
        f"{sum(p.numel() for p in model.parameters())} parameters, limit {minutes} min")
    total_steps = None
    step = 0
    for epoch in range(epochs):
        t0 = time.monotonic()
        perfs = [augment(p, preset, rng) for p in train_p]
        if kind == "lstm":
            reps = [Replayer(p, preset) for p in perfs]
            for r in reps:
                r.chosen[:] = r.perf.part
            ex = make_examples(reps, length, stride, kind)
        else:
            reps = [teacher(p, preset, cons, rng, noise if i % 2 else 0.0, g, sound=onsets)
                    for i, (p, g) in enumerate(zip(perfs, groups(len(perfs)), strict=True))]
            ex = make_examples(reps, length, stride, kind)
            if epoch >= dagger_from and (epoch - dagger_from) % dagger_every == 0:
                pick = rng.permutation(len(train_p))[:dagger_pieces]
                fresh = [augment(train_p[i], preset, rng) for i in pick]
                dagger = make_examples(rollout(model, fresh, [preset] * len(fresh),
                                               groups(len(fresh))), length, stride, kind)
                log(f"  dagger: {len(fresh)} rollouts, {len(dagger)} chunks")
            ex = ex + dagger
        prep = time.monotonic() - t0
        if total_steps is None:
            total_steps = max(1, int(epochs * math.ceil(len(ex) / batch)))
        model.train()
        order = rng.permutation(len(ex))
        loss_sum, nb = 0.0, 0
        for b0 in range(0, len(order), batch):
            x, tok, target, pos, seen = collate([ex[i] for i in order[b0:b0 + batch]], n,
                                                window)
            logits = model(x)[0] if kind == "lstm" else model(x, tok, pos, seen)
            loss = masked_nll(logits, target)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            frac = min(1.0, (time.monotonic() - (deadline - minutes * 60)) / (minutes * 60))
            for g in opt.param_groups:
                g["lr"] = lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5
                                                              * (1 + math.cos(math.pi * frac)))
            opt.step()
            step += 1
            loss_sum += loss.item()
            nb += 1
        acc = {}
        for c, g in modes:
            reps = (rollout_lstm(model, valid_perf[c], preset, cons) if kind == "lstm"
                    else rollout(model, valid_perf[c], [preset] * len(valid_perf[c]),
                                 [g] * len(valid_perf[c])))
            acc[c if g is None else f"{c}+chords"] = accuracy(reps)
        score = sum(acc.values()) / len(acc)
        history.append({"epoch": epoch, "loss": loss_sum / max(nb, 1), **acc})
        mark = ""
        if score > best:
            best, best_epoch, mark = score, epoch, " *"
            save_checkpoint(path, model, {
                "dataset": dataset, "preset": preset.name, META_PARTS: preset.part_names,
                META_FEATURE_VERSION: FEATURE_VERSION, "epoch": epoch, "seed": seed,
                "valid_accuracy": acc, "kind": kind})
        log(f"epoch {epoch:3d}  loss {loss_sum / max(nb, 1):.4f}  valid "
            + "  ".join(f"{k} {v:.2f}" for k, v in acc.items())
            + f"  ({prep:.0f}s data, {time.monotonic() - t0:.0f}s){mark}")
        if epoch - best_epoch >= patience:
            log(f"early stop: no improvement for {patience} epochs")
            break
        if time.monotonic() > deadline:
            log("time limit reached")
            break
    return {"path": str(path), "best_epoch": best_epoch, "best_valid": best,
            "history": history}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.split(
        "\n")[0])
    ap.add_argument("--dataset", choices=("bach", "string-quartet"), required=True)
    ap.add_argument("--arranger", choices=("model", "lstm"), default="model")
    ap.add_argument("--minutes", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--window", type=int, default=32)
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
    r = train(a.dataset, a.arranger, a.minutes, a.seed, a.epochs, a.patience,
              window=a.window, noise=a.noise, dagger_from=a.dagger_from,
              dagger_every=a.dagger_every, dagger_pieces=a.dagger_pieces,
              train_limit=a.train_limit, valid_limit=a.valid_limit, out=a.out,
              threads=a.threads, init=a.init, chord_share=a.chord_share, lr=a.lr,
              onsets=a.onsets,
              log=lambda s: print(s, flush=True))
    print(f"best validation {r['best_valid']:.2f} at epoch {r['best_epoch']}: {r['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
