"""Re-implementation of the online LSTM of Dong et al. (ISMIR 2021), our baseline.

Per note: embeddings of its pitch, its beat (onset in beats, whole part) and its position
within the beat (twelfths), summed, through a 3-layer unidirectional LSTM of 128 units and
a linear layer to the parts.  It sees no assignments (the paper's online model labels each
note from the notes so far only).  Beats come from the onset in seconds at the nominal
tempo (``SECONDS_PER_BEAT``), since a keyboard knows no score: identical to the score's
beats in the score condition, the played timing in the as-played one.  ``fit`` trains
it (``python -m models.train --arranger lstm``) with the part models' augmentation and
validation.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from livearranger.constraints import Constraints
from livearranger.features import FEATURE_VERSION
from livearranger.graph import META_FEATURE_VERSION, META_PARTS
from livearranger.lab.datasets import PRESET_OF, Piece, load_pieces
from livearranger.lab.evaluate import performance
from livearranger.lab.training import Replayer, accuracy, augment, chunks, masked_nll, segments
from livearranger.presets import Preset, load_preset

SECONDS_PER_BEAT = 0.5
MAX_BEAT = 1024
POSITIONS = 12


def beat_tokens(onset_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(beat index clipped to MAX_BEAT-1, position within the beat 0..11) per note."""
    beats = np.asarray(onset_s, dtype=np.float64) / SECONDS_PER_BEAT
    whole = np.floor(beats)
    pos = np.round((beats - whole) * POSITIONS).astype(np.int64)
    whole = whole + (pos == POSITIONS)
    pos = pos % POSITIONS
    return np.clip(whole, 0, MAX_BEAT - 1).astype(np.int64), pos


def lstm_tokens(pitch: np.ndarray, onset_s: np.ndarray) -> np.ndarray:
    """[T,3] (pitch, beat, position) per note: the LSTM's whole input."""
    beat, pos = beat_tokens(onset_s)
    return np.stack([np.asarray(pitch).astype(np.int64), beat, pos], axis=1)


class OnlineLSTM(nn.Module):
    """3 x 128 LSTM over (pitch, beat, position) embeddings -> logits over parts."""

    def __init__(self, n_parts: int, d_model: int = 128, n_layers: int = 3,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.config = dict(n_parts=n_parts, d_model=d_model, n_layers=n_layers,
                           dropout=dropout)
        self.n_parts = n_parts
        self.pitch_emb = nn.Embedding(128, d_model)
        self.beat_emb = nn.Embedding(MAX_BEAT, d_model)
        self.pos_emb = nn.Embedding(POSITIONS, d_model)
        self.lstm = nn.LSTM(d_model, d_model, n_layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(d_model, n_parts)

    def forward(self, tokens: Tensor, hidden: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """tokens [B,T,3] (pitch, beat, position) -> (logits [B,T,n_parts], hidden)."""
        x = (self.pitch_emb(tokens[..., 0]) + self.beat_emb(tokens[..., 1])
             + self.pos_emb(tokens[..., 2]))
        y, hidden = self.lstm(x, hidden)
        return self.head(y), hidden


# ------------------------------------------------------------------ fitting
# (no teacher, no DAgger: the LSTM sees no assignments, so its input is the piece alone)

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


def _collate(batch: list[tuple[np.ndarray, np.ndarray, int]], n_parts: int
             ) -> tuple[Tensor, Tensor]:
    t = max(len(b[1]) for b in batch)
    x = np.zeros((len(batch), t, 3), dtype=np.int64)
    m = np.zeros((len(batch), t, n_parts), dtype=bool)
    bits = np.arange(n_parts)
    for i, (tokens, mask, first) in enumerate(batch):
        x[i, :len(mask)] = tokens
        m[i, first:len(mask)] = ((mask[first:, None] >> bits) & 1).astype(bool)
    return torch.from_numpy(x), torch.from_numpy(m)


def fit(dataset: str, out: Path, minutes: float = 25.0, seed: int = 0, epochs: int = 200,
        patience: int = 6, train_limit: int | None = None, valid_limit: int | None = None,
        threads: int = 1, valid_rollouts: int = 12, log: Callable[[str], None] = print,
        pieces: tuple[Sequence[Piece], Sequence[Piece], Preset] | None = None,
        epoch_items: int | None = None) -> dict[str, Any]:
    """Train the LSTM baseline on ``dataset`` with the part models' augmentation and
    validation (the online protocol, both conditions, key by key), keeping the best
    epoch as the checkpoint ``out``; returns a summary.  ``pieces``: the (training,
    validation) pieces and their preset, for data that is not a corpus (a collection);
    ``epoch_items``: training segments per epoch, a fresh draw each (default all)."""
    from livearranger.lab.model import save_checkpoint

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    rng = np.random.default_rng(seed)
    if pieces is None:
        preset = load_preset(PRESET_OF[dataset])
        pieces = (load_pieces(dataset, "train", train_limit),
                  load_pieces(dataset, "valid", valid_limit), preset)
    preset = pieces[2]
    n = len(preset.parts)
    cons = Constraints(preset)
    train_p = [s for p in pieces[0] for s in segments(p)]
    valid_p = [s for p in pieces[1] for s in segments(p)]
    valid_perf = {c: [performance(p, c, i) for i, p in enumerate(valid_p[:valid_rollouts])]
                  for c in ("score", "as-played")}
    model = OnlineLSTM(n)
    length = stride = 256
    batch, lr = 4, 3e-3
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    start = time.monotonic()
    deadline = start + minutes * 60.0
    best, best_epoch, history = -1.0, -1, []
    log(f"lstm on {dataset}: {len(train_p)} training segments, {len(valid_p)} valid, "
        f"{sum(p.numel() for p in model.parameters())} parameters, limit {minutes} min")
    step = 0
    for epoch in range(epochs):
        t0 = time.monotonic()
        ex = []
        drawn = (train_p if epoch_items is None or epoch_items >= len(train_p) else
                 [train_p[i] for i in sorted(rng.permutation(len(train_p))[:epoch_items])])
        for perf in (augment(p, preset, rng) for p in drawn):
            tokens, mask = lstm_tokens(perf.pitch, perf.onset), perf.mask.astype(np.int64)
            ex += [(tokens[s:e], mask[s:e], first - s)
                   for s, e, first in chunks(len(perf), length, stride)]
        model.train()
        order = rng.permutation(len(ex))
        loss_sum, nb = 0.0, 0
        for b0 in range(0, len(order), batch):
            x, target = _collate([ex[i] for i in order[b0:b0 + batch]], n)
            loss = masked_nll(model(x)[0], target)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            frac = min(1.0, (time.monotonic() - start) / (minutes * 60))
            for g in opt.param_groups:
                g["lr"] = lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5
                                                              * (1 + math.cos(math.pi * frac)))
            opt.step()
            step += 1
            loss_sum += loss.item()
            nb += 1
        acc = {c: accuracy(rollout_lstm(model, perfs, preset, cons))
               for c, perfs in valid_perf.items()}
        score = sum(acc.values()) / len(acc)
        history.append({"epoch": epoch, "loss": loss_sum / max(nb, 1), **acc})
        mark = ""
        if score > best:
            best, best_epoch, mark = score, epoch, " *"
            save_checkpoint(out, model, {
                "dataset": dataset, "preset": preset.name, META_PARTS: preset.part_names,
                META_FEATURE_VERSION: FEATURE_VERSION, "epoch": epoch, "seed": seed,
                "valid_accuracy": acc, "kind": "lstm"})
        log(f"epoch {epoch:3d}  loss {loss_sum / max(nb, 1):.4f}  valid "
            + "  ".join(f"{k} {v:.2f}" for k, v in acc.items())
            + f"  ({time.monotonic() - t0:.0f}s){mark}")
        if epoch - best_epoch >= patience:
            log(f"early stop: no improvement for {patience} epochs")
            break
        if time.monotonic() > deadline:
            log("time limit reached")
            break
    return {"path": str(out), "best_epoch": best_epoch, "best_valid": best,
            "history": history, "parameters": sum(p.numel() for p in model.parameters())}
