"""PartTransformer: a decoder-only transformer that gives each note, as it arrives, a part.

Per step the model sees one note: its causal features (``livearranger.features``) and two
tokens, the pitch (0..127) and the part chosen for the previous note (``n_parts`` = none;
the model's own previous choice at run time).  Attention is causal over a sliding window
of ``window`` notes (position t sees t-W+1..t) with an ALiBi bias by distance and no
absolute positions, so a performance of any length streams exactly with a bounded KV cache
of W slots: ``forward`` (whole sequences, training) and ``step`` (one note, ring-buffer
cache, the graph exported to ONNX) compute the same logits.

Cache layout (``step``): ``past_kv`` float32[n_layers, 2, n_heads, W, d_head] is a ring
buffer; the note at stream position t lives in slot ``t % W``.  ``pos`` is that slot for the
new note, ``valid`` bool[W] marks slots holding one of the previous W-1 notes.  ``step``
returns the new note's keys/values ``present_kv`` [n_layers, 2, n_heads, d_head]; the
caller writes them into slot ``pos`` and advances.

Reach: each layer looks back W-1 notes, so a note's logits depend on the previous
``receptive_field - 1`` = n_layers*(W-1) notes.  A cache-free recompute equals the stream
only when it runs ``forward`` over the last ``receptive_field`` notes (not just W).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from livearranger.graph import (
    META_FEATURE_VERSION,
    META_N_FEATURES,
    META_N_PARTS,
    META_PARTS,
    STEP,
    GraphFormat,
)
from livearranger.lab.attention import Block, alibi_slopes, sequence_bias

CHECKPOINT_FORMAT = 1


class PartTransformer(nn.Module):
    """Causal sliding-window transformer over notes; logits over the preset's parts."""

    graph_doc = "LiveArranger part model: one note per step, bounded KV cache"

    def __init__(self, n_features: int, n_parts: int, d_model: int = 128, n_layers: int = 3,
                 n_heads: int = 4, window: int = 64, d_ff: int = 256,
                 dropout: float = 0.1) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of n_heads {n_heads}")
        self.config = dict(n_features=n_features, n_parts=n_parts, d_model=d_model,
                           n_layers=n_layers, n_heads=n_heads, window=window, d_ff=d_ff,
                           dropout=dropout)
        self.n_features = n_features
        self.n_parts = n_parts
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.window = window
        self.feat_in = nn.Linear(n_features, d_model)
        self.pitch_emb = nn.Embedding(128, d_model)
        self.part_emb = nn.Embedding(n_parts + 1, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_ff, dropout)
                                    for _ in range(n_layers))
        self.ln_out = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_parts)
        self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)

    @property
    def receptive_field(self) -> int:
        """Notes (this one included) that a note's logits depend on: n_layers*(W-1)+1."""
        return self.n_layers * (self.window - 1) + 1

    # ------------------------------------------------------------------ input
    def embed(self, features: Tensor, tokens: Tensor) -> Tensor:
        """features [...,F] float, tokens [...,2] int (pitch, previous part) -> [...,D]."""
        return (self.feat_in(features) + self.pitch_emb(tokens[..., 0])
                + self.part_emb(tokens[..., 1]))

    def attention_bias(self, t: int) -> Tensor:
        """[H,T,T] additive bias: -slope*(i-j) for 0 <= i-j < W, -inf elsewhere."""
        i = torch.arange(t, device=self.slopes.device)
        dist = (i.view(-1, 1) - i.view(1, -1)).float()
        inside = (dist >= 0) & (dist < self.window)
        bias = -self.slopes.view(-1, 1, 1) * dist
        return bias.masked_fill(~inside, float("-inf"))

    # ------------------------------------------------------------- sequences
    def forward(self, features: Tensor, tokens: Tensor, pos: Tensor | None = None,
                visible: Tensor | None = None) -> Tensor:
        """features [B,T,F], tokens [B,T,2] -> logits [B,T,n_parts]: one line of history,
        or, with ``pos`` [B,T] and ``visible`` [B,T,T], notes at those positions seeing
        only the notes ``visible`` allows (``sequence_bias``)."""
        x = self.drop(self.embed(features, tokens))
        if pos is None or visible is None:
            bias = self.attention_bias(features.shape[1])
        else:
            bias = sequence_bias(self.slopes, pos, visible)
        for block in self.blocks:
            x = block(x, bias)
        return self.head(self.ln_out(x))

    # ------------------------------------------------------------- streaming
    def empty_cache(self) -> tuple[Tensor, Tensor, Tensor]:
        """(past_kv zeros [L,2,H,W,Dh], pos int64 [1] = 0, valid bool [W] all False)."""
        past = torch.zeros(self.n_layers, 2, self.n_heads, self.window, self.d_head)
        return past, torch.zeros(1, dtype=torch.long), torch.zeros(self.window, dtype=torch.bool)

    def step(self, features: Tensor, tokens: Tensor, past_kv: Tensor, pos: Tensor,
             valid: Tensor) -> tuple[Tensor, Tensor]:
        """One note: features [1,F], tokens int64 [1,2], past_kv [L,2,H,W,Dh], pos int64 [1]
        (slot of this note), valid bool [W] (slots holding the previous W-1 notes).

        Returns (logits [1,n_parts], present_kv [L,2,H,Dh]); write present_kv into slot
        ``pos`` of the cache, mark it valid, and move ``pos`` on by one modulo W.
        """
        w, n_layers = self.window, self.n_layers
        slots = torch.arange(w, device=past_kv.device)
        dist = pos - slots
        dist = torch.where(dist < 0, dist + w, dist).float()       # age of each slot
        keep = valid & (slots != pos)                              # slot pos: note t-W
        bias = torch.cat((-self.slopes.view(-1, 1, 1) * dist.view(1, 1, w),
                          torch.zeros(self.n_heads, 1, 1, device=past_kv.device)), dim=-1)
        bias = bias.masked_fill(~torch.cat((keep, torch.ones(1, dtype=torch.bool,
                                                             device=keep.device))
                                           ).view(1, 1, w + 1), float("-inf")).unsqueeze(0)
        cache = past_kv.view(2 * n_layers, self.n_heads, w, self.d_head).split(1, dim=0)
        x = self.embed(features, tokens)
        present = []
        for i, block in enumerate(self.blocks):
            x, k, v = block.step(x, cache[2 * i], cache[2 * i + 1], bias)
            present += [k, v]
        return self.head(self.ln_out(x)), torch.cat(present).view(
            n_layers, 2, self.n_heads, self.d_head)

    # ------------------------------------------------------------- export
    @property
    def graph_format(self) -> GraphFormat:
        return STEP

    def step_module(self) -> nn.Module:
        return StepModule(self)

    def step_example(self) -> tuple[Tensor, ...]:
        past, pos, valid = self.empty_cache()
        tokens = torch.tensor([[60, self.n_parts]], dtype=torch.long)
        return torch.zeros(1, self.n_features), tokens, past, pos, valid

    def graph_metadata(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The parts and feature version it was trained for (``meta`` must name them) and
        its sizes."""
        if META_PARTS not in meta:
            raise ValueError(f"metadata needs {META_PARTS!r} (the preset's part names, "
                             "top to bottom)")
        if META_FEATURE_VERSION not in meta:
            raise ValueError(f"metadata needs {META_FEATURE_VERSION!r}")
        return {META_N_PARTS: str(self.n_parts), META_N_FEATURES: str(self.n_features)}

    def window_module(self) -> nn.Module:
        return self

    def window_example(self, length: int) -> tuple[Tensor, ...]:
        return (torch.zeros(1, length, self.n_features),
                torch.zeros(1, length, 2, dtype=torch.long))


class StepModule(nn.Module):
    """``model.step`` as a module's forward, for tracing/export."""

    def __init__(self, model: PartTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: Tensor, tokens: Tensor, past_kv: Tensor, pos: Tensor,
                valid: Tensor) -> tuple[Tensor, Tensor]:
        return self.model.step(features, tokens, past_kv, pos, valid)


@torch.no_grad()
def stream(model: PartTransformer, features: Tensor, tokens: Tensor) -> Tensor:
    """Logits for one sequence (features [T,F], tokens [T,2]) note by note through ``step``."""
    past, pos, valid = model.empty_cache()
    out = []
    for t in range(features.shape[0]):
        logits, kv = model.step(features[t:t + 1], tokens[t:t + 1], past, pos, valid)
        p = int(pos)
        past[:, :, :, p, :] = kv
        valid[p] = True
        pos = (pos + 1) % model.window
        out.append(logits[0])
    return torch.stack(out)


# ------------------------------------------------------------------ checkpoints
def save_checkpoint(path: str | Path, model: PartTransformer, meta: dict[str, Any]) -> None:
    """Write config + state_dict + metadata (parts, feature_version, window, data, split,
    accuracy, ...) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(meta)
    meta.setdefault("window", model.window)
    torch.save({"format": CHECKPOINT_FORMAT, "config": dict(model.config),
                "state_dict": model.state_dict(), "meta": meta}, path)


def load_checkpoint(path: str | Path, map_location: str = "cpu"
                    ) -> tuple[PartTransformer, dict[str, Any]]:
    """(model in eval mode, metadata) from a checkpoint written by ``save_checkpoint``."""
    blob = torch.load(Path(path), map_location=map_location, weights_only=False)
    model = PartTransformer(**blob["config"])
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, dict(blob.get("meta", {}))
