"""A small ensemble model and a fixed batch of training chunks, the same in every
process (for the torchrun test and its probe)."""

from __future__ import annotations

import numpy as np
import torch

from livearranger.constraints import Constraints
from livearranger.lab.datasets import load_pieces
from livearranger.lab.model import EnsembleTransformer
from livearranger.lab.trainer import Example, examples
from livearranger.lab.training import teacher
from livearranger.presets import load_preset


def small_model() -> EnsembleTransformer:
    torch.manual_seed(0)
    return EnsembleTransformer(d_model=32, n_layers=2, n_heads=2, window=8, d_ff=64,
                               d_part=16, dropout=0.0)


def fixed_batch() -> list[Example]:
    satb = load_preset("satb")
    rng = np.random.default_rng(0)
    reps = [teacher(p, satb, Constraints(satb), rng) for p in load_pieces("bach", "train", 2)]
    return examples(reps, [satb] * len(reps), 8)[:8]
