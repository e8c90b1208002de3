"""The part models: one family of causal sliding-window transformers over notes.

Training-time only (PyTorch).  Both models see one note per step and attend over a
sliding window of ``window`` notes (position t sees t-W+1..t) with an ALiBi bias by
distance and no absolute positions (the blocks of ``livearranger.lab.attention``), so a
performance of any length streams exactly with a bounded KV cache of W slots:
``forward`` (whole sequences, training) and ``step`` (one note against a ring cache, the
graph exported to ONNX by ``livearranger.lab.export``) give the same logits.  What they
share is ``PartModel``: the window, the cache's shape (``empty_cache``), the attention
bias and the reach (``receptive_field``).  They differ in what a part is:

- ``PartTransformer`` (per-ensemble): one output per part of one preset.  Per note its
  causal features (``livearranger.features``) and two tokens, the pitch (0..127) and
  the part chosen for the previous note (``n_parts`` = none; the model's own previous
  choice at run time).
- ``EnsembleTransformer``: the parts are an input (``livearranger.ensemble``): each
  part is scored from a description of it (range, mono, place top to bottom, ensemble
  size) and its state in the note's features, so one graph plays any preset of up to
  16 parts.  Each part's row (its 12 state features, its 5 descriptor numbers, where the
  note lies in its range) goes through a small MLP to a part vector ``e_i``; the note's
  token is its global features, pitch, beat row and the mean and max of the part
  vectors; part i's logit is ``v . GELU(A h + B e_i)``, a pointer over the parts
  present.  With ``hints`` (format ``graph.HINTED``) each part's row also has a flag:
  the player's hint forced this note to that part (``livearranger.hints``; training
  simulates them); the flag tells the notes after it, through the cache, which parts the
  player fixed.  ``forward`` runs padded batches (``part_mask`` marks real parts).

Cache layout: ``past_kv`` float32[n_layers, 2, (B,) n_heads, W, d_head] is a ring buffer;
the note at stream position t lives in slot ``t % W``.  ``pos`` is that slot for the new
note, ``valid`` bool[W] marks slots holding one of the previous W-1 notes.  ``step``
returns the new note's keys/values; the caller writes them into slot ``pos`` and
advances.

Reach: each layer looks back W-1 notes, so a note's logits depend on the previous
``receptive_field - 1`` = n_layers*(W-1) notes.  A cache-free recompute equals the stream
only when it runs ``forward`` over the last ``receptive_field`` notes (not just W).

Files: ``load_model`` reads what either trainer writes: a ``.pt`` checkpoint
(``save_checkpoint``: a per-ensemble model or the LSTM baseline of
``livearranger.lab.lstm``) or ``.npz`` weights (``save_weights``: the ensemble model,
no pickle).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from livearranger.chords import MAX_GROUP
from livearranger.ensemble import MAX_ENSEMBLE, N_BEAT, N_DESC
from livearranger.features import FEATURE_VERSION, N_GLOBAL, N_PER_PART
from livearranger.graph import (
    META_FEATURE_VERSION,
    META_MAX_PARTS,
    META_N_FEATURES,
    META_N_PARTS,
    META_PARTS,
    STEP,
    GraphFormat,
    ensemble_format,
)
from livearranger.lab.attention import Block, alibi_slopes, sequence_bias
from livearranger.lab.lstm import OnlineLSTM

CHECKPOINT_FORMAT = 1
# where the per-ensemble checkpoints of docs/results.md live (gitignored)
CHECKPOINTS = Path(__file__).resolve().parents[2] / "models" / "checkpoints"
N_REL = 3                     # where the note lies in a part's range
NEG = -1e4                    # logit of a padded part


@dataclass
class Inputs:
    """What a part model may read, for one note of B streams (a batched stepper:
    features [B,F], padded to the widest ensemble) or for B padded sequences of T notes
    (training: [B,T,F]): tokens [..,2], beats [..,N_BEAT], parts [B,P,N_DESC], part_mask
    bool [B,P], hints [..,P] (1 where a hint forced the note); for sequences whose notes
    are not one line of history (``PartModel.branches``), each note's position ``pos``
    [B,T] and what it sees, ``visible`` [B,T,T] (``attention.sequence_bias``).  A model
    reads what it has inputs for."""

    features: Tensor
    tokens: Tensor
    beats: Tensor
    parts: Tensor
    part_mask: Tensor
    hints: Tensor
    pos: Tensor | None = None
    visible: Tensor | None = None



class PartModel(nn.Module):
    """What both part models share: a window of W notes, a ring cache of W slots, an
    ALiBi bias by distance and the reach that follows.  A subclass creates its layers
    after calling this ``__init__`` (in its own order, which fixes its seeded initial
    weights and its state-dict keys) and implements the exporter's hooks
    (``livearranger.lab.export.StepExportable``)."""

    slopes: Tensor
    blocks: nn.ModuleList
    graph_doc: str
    config: dict[str, Any]
    branches = False          # trains on sequences that branch (Inputs.pos, visible)
    hints = False             # reads a player's hints

    def __init__(self, d_model: int, n_layers: int, n_heads: int, window: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of n_heads {n_heads}")
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.window = window
        self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)

    @property
    def receptive_field(self) -> int:
        """Notes (this one included) that a note's logits depend on: n_layers*(W-1)+1."""
        return self.n_layers * (self.window - 1) + 1

    def attention_bias(self, t: int) -> Tensor:
        """[H,T,T] additive bias: -slope*(i-j) for 0 <= i-j < W, -inf elsewhere."""
        i = torch.arange(t, device=self.slopes.device)
        dist = (i.view(-1, 1) - i.view(1, -1)).float()
        inside = (dist >= 0) & (dist < self.window)
        bias = -self.slopes.view(-1, 1, 1) * dist
        return bias.masked_fill(~inside, float("-inf"))

    def empty_cache(self, batch: int | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """(past_kv zeros [L,2,H,W,Dh], or [L,2,B,H,W,Dh] for a ``batch`` of streams;
        pos int64 [1] = 0; valid bool [W] all False)."""
        lead = (self.n_layers, 2) + (() if batch is None else (batch,))
        past = torch.zeros(*lead, self.n_heads, self.window, self.d_head)
        return past, torch.zeros(1, dtype=torch.long), torch.zeros(self.window, dtype=torch.bool)

    def forward_args(self, x: Inputs) -> tuple[Tensor | None, ...]:
        """The arguments of ``forward`` for a padded batch of sequences."""
        raise NotImplementedError

    def stepper(self, batch: int) -> Stepper:
        """``step`` for ``batch`` streams, each with its own ring (``Stepper``)."""
        return Stepper(self, batch)

    def step_in(self, inputs: Inputs) -> tuple[Tensor, Any]:
        """One note of B streams into the blocks: (x [B,D], what ``step_out`` needs)."""
        raise NotImplementedError

    def step_out(self, x: Tensor, ctx: Any) -> Tensor:
        """The blocks' output of one note of B streams to logits [B,P]."""
        raise NotImplementedError


class PartTransformer(PartModel):
    """Causal sliding-window transformer over notes; logits over the preset's parts."""

    graph_doc = "LiveArranger part model: one note per step, bounded KV cache"
    branches = True

    def __init__(self, n_features: int, n_parts: int, d_model: int = 128, n_layers: int = 3,
                 n_heads: int = 4, window: int = 64, d_ff: int = 256,
                 dropout: float = 0.1) -> None:
        super().__init__(d_model, n_layers, n_heads, window)
        self.config = dict(n_features=n_features, n_parts=n_parts, d_model=d_model,
                           n_layers=n_layers, n_heads=n_heads, window=window, d_ff=d_ff,
                           dropout=dropout)
        self.n_features = n_features
        self.n_parts = n_parts
        self.feat_in = nn.Linear(n_features, d_model)
        self.pitch_emb = nn.Embedding(128, d_model)
        self.part_emb = nn.Embedding(n_parts + 1, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_ff, dropout)
                                    for _ in range(n_layers))
        self.ln_out = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_parts)

    # ------------------------------------------------------------------ input
    def embed(self, features: Tensor, tokens: Tensor) -> Tensor:
        """features [...,F] float, tokens [...,2] int (pitch, previous part) -> [...,D]."""
        return (self.feat_in(features) + self.pitch_emb(tokens[..., 0])
                + self.part_emb(tokens[..., 1]))

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
            assert isinstance(block, Block)
            x, k, v = block.step(x, cache[2 * i], cache[2 * i + 1], bias)
            present += [k, v]
        return self.head(self.ln_out(x)), torch.cat(present).view(
            n_layers, 2, self.n_heads, self.d_head)

    def forward_args(self, x: Inputs) -> tuple[Tensor | None, ...]:
        return x.features, x.tokens, x.pos, x.visible

    def step_in(self, inputs: Inputs) -> tuple[Tensor, Any]:
        return self.embed(inputs.features, inputs.tokens), None

    def step_out(self, x: Tensor, ctx: Any) -> Tensor:
        out: Tensor = self.head(self.ln_out(x))
        return out

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


class EnsembleTransformer(PartModel):
    """Causal sliding-window transformer over notes; a pointer over described parts."""

    graph_doc = "LiveArranger ensemble model: any parts, one note per step"

    def __init__(self, d_model: int = 128, n_layers: int = 3, n_heads: int = 4,
                 window: int = 32, d_ff: int = 256, d_part: int = 64,
                 dropout: float = 0.1, hints: bool = False) -> None:
        super().__init__(d_model, n_layers, n_heads, window)
        self.config: dict[str, Any] = dict(
            d_model=d_model, n_layers=n_layers, n_heads=n_heads, window=window, d_ff=d_ff,
            d_part=d_part, dropout=dropout)
        if hints:
            self.config["hints"] = True
        self.hints = hints
        self.part_enc = nn.Sequential(
            nn.Linear(N_PER_PART + N_DESC + N_REL + int(hints), d_part),
            nn.GELU(), nn.Linear(d_part, d_part))
        self.glob_in = nn.Linear(N_GLOBAL + N_BEAT + 2 * d_part, d_model)
        self.pitch_emb = nn.Embedding(128, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_ff, dropout)
                                    for _ in range(n_layers))
        self.ln_out = nn.LayerNorm(d_model)
        self.head_h = nn.Linear(d_model, d_part)
        self.head_e = nn.Linear(d_part, d_part, bias=False)
        self.head_v = nn.Linear(d_part, 1)

    # ------------------------------------------------------------------ input
    def parts_of(self, features: Tensor, parts: Tensor, hint: Tensor | None = None
                 ) -> Tensor:
        """Part vectors [..., P, d_part] from features [..., N_GLOBAL + P*N_PER_PART]
        and descriptors [..., P, N_DESC] (broadcast over the time axis when given
        [B, P, N_DESC] with features [B, T, F]); ``hint`` [..., P]: 1 where a hint forced
        the note (read only by a model with ``hints``; None: no hint)."""
        n = parts.shape[-2]
        state = features[..., N_GLOBAL:N_GLOBAL + n * N_PER_PART]
        state = state.reshape(*features.shape[:-1], n, N_PER_PART)
        if parts.dim() < state.dim():
            parts = parts.unsqueeze(-3).expand(*state.shape[:-1], N_DESC)
        pitch = features[..., 0:1] * 2.0          # (p - 60) / 12
        low, high = parts[..., 0] * 2.0, parts[..., 1] * 2.0
        rel = torch.stack((torch.clamp(pitch - low, -4.0, 4.0),
                           torch.clamp(high - pitch, -4.0, 4.0),
                           ((pitch >= low) & (pitch <= high)).to(features.dtype)), dim=-1)
        rows = [state, parts, rel]
        if self.hints:
            rows.append((torch.zeros_like(rel[..., 0]) if hint is None else hint
                         ).unsqueeze(-1))
        return self.part_enc(torch.cat(rows, dim=-1))

    def embed(self, features: Tensor, tokens: Tensor, beat: Tensor, e: Tensor,
              part_mask: Tensor) -> Tensor:
        """The note token [..., D] from its inputs and part vectors e [..., P, d_part]."""
        m = part_mask.unsqueeze(-1).to(e.dtype)
        if m.dim() < e.dim():
            m = m.unsqueeze(-3)
        mean = (e * m).sum(-2) / m.sum(-2).clamp(min=1.0)
        mx = e.masked_fill(m == 0, -1e4).amax(-2)
        g = torch.cat((features[..., :N_GLOBAL], beat, mean, mx), dim=-1)
        return self.glob_in(g) + self.pitch_emb(tokens[..., 0])

    def head(self, x: Tensor, e: Tensor, part_mask: Tensor) -> Tensor:
        """Logits [..., P] from hidden states [..., D] and part vectors [..., P, d_part]."""
        h = self.head_h(self.ln_out(x)).unsqueeze(-2)
        logits = self.head_v(torch.nn.functional.gelu(h + self.head_e(e))).squeeze(-1)
        mask = part_mask if part_mask.dim() == logits.dim() else part_mask.unsqueeze(-2)
        return logits.masked_fill(~mask, NEG)

    # ------------------------------------------------------------- sequences
    def forward(self, features: Tensor, tokens: Tensor, beat: Tensor, parts: Tensor,
                part_mask: Tensor, hint: Tensor | None = None) -> Tensor:
        """features [B,T,F], tokens [B,T,2], beat [B,T,N_BEAT], parts [B,P,N_DESC],
        part_mask bool [B,P], hint [B,T,P] or None -> logits [B,T,P] (NEG where a part
        is padding)."""
        e = self.parts_of(features, parts, hint)
        x = self.drop(self.embed(features, tokens, beat, e, part_mask))
        bias = self.attention_bias(features.shape[1])
        for block in self.blocks:
            x = block(x, bias)
        return self.head(x, e, part_mask)

    # ------------------------------------------------------------- streaming
    def step(self, features: Tensor, tokens: Tensor, beat: Tensor, parts: Tensor,
             part_mask: Tensor, past_kv: Tensor, pos: Tensor, valid: Tensor,
             hint: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One note of B streams in lockstep: features [B,F], tokens [B,2], beat
        [B,N_BEAT], parts [B,P,N_DESC], part_mask [B,P], past_kv [L,2,B,H,W,Dh], pos
        int64 [1] (this note's slot), valid bool [W] (slots of the previous W-1 notes),
        hint [B,P] or None.

        Returns (logits [B,P], present_kv [L,2,B,H,Dh]); the caller writes present_kv
        into slot ``pos``, marks it valid and moves ``pos`` on modulo W."""
        w, h, dh = self.window, self.n_heads, self.d_head
        slots = torch.arange(w)
        dist = pos - slots
        dist = torch.where(dist < 0, dist + w, dist).float()
        keep = valid & (slots != pos)
        bias = torch.cat((-self.slopes.view(-1, 1) * dist.view(1, w),
                          torch.zeros(h, 1)), dim=-1)                   # [H, W+1]
        bias = bias.masked_fill(~torch.cat((keep, torch.ones(1, dtype=torch.bool))
                                           ).view(1, w + 1), float("-inf"))
        e = self.parts_of(features, parts, hint)
        x = self.embed(features, tokens, beat, e, part_mask)
        b = x.shape[0]
        present = []
        for i, blk in enumerate(self.blocks):
            assert isinstance(blk, Block)
            q, k, v = blk.qkv(blk.ln1(x)).view(b, 3, h, dh).unbind(1)   # [B,H,Dh]
            kp, vp = past_kv[i, 0], past_kv[i, 1]                        # [B,H,W,Dh]
            scores = torch.cat((torch.einsum("bhd,bhwd->bhw", q, kp),
                                (q * k).sum(-1, keepdim=True)), dim=-1) / math.sqrt(dh)
            p = torch.softmax(scores + bias, dim=-1)
            att = torch.einsum("bhw,bhwd->bhd", p[..., :w], vp) + p[..., w:] * v
            x = x + blk.proj(att.reshape(b, h * dh))
            x = x + blk.ff(blk.ln2(x))
            present += [k, v]
        return self.head(x, e, part_mask), torch.stack(present).view(
            self.n_layers, 2, b, h, dh)

    def forward_args(self, x: Inputs) -> tuple[Tensor | None, ...]:
        return x.features, x.tokens, x.beats, x.parts, x.part_mask, x.hints

    def step_in(self, inputs: Inputs) -> tuple[Tensor, Any]:
        assert inputs.beats is not None and inputs.parts is not None \
            and inputs.part_mask is not None
        e = self.parts_of(inputs.features, inputs.parts, inputs.hints)
        x = self.embed(inputs.features, inputs.tokens, inputs.beats, e, inputs.part_mask)
        return x, (e, inputs.part_mask)

    def step_out(self, x: Tensor, ctx: Any) -> Tensor:
        e, part_mask = ctx
        return self.head(x, e, part_mask)

    # ------------------------------------------------------------- export
    @property
    def graph_format(self) -> GraphFormat:
        """``graph.ENSEMBLE``, or ``graph.HINTED`` for a model with ``hints``: the parts
        axis dynamic (1..``MAX_ENSEMBLE``)."""
        return ensemble_format(self.hints)

    def step_module(self) -> nn.Module:
        return _StepGraph(self)

    def step_example(self) -> tuple[Tensor, ...]:
        n = 4
        past, pos, valid = self.empty_cache()
        example: tuple[Tensor, ...] = (
            torch.zeros(1, N_GLOBAL + n * N_PER_PART), torch.tensor([[60, n]]),
            torch.zeros(1, N_BEAT), torch.zeros(n, N_DESC), past, pos, valid)
        return example + (torch.zeros(1, n),) if self.hints else example

    def graph_metadata(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The feature version it reads (this program's) and the most parts it plays."""
        return {META_FEATURE_VERSION: str(FEATURE_VERSION),
                META_MAX_PARTS: str(MAX_ENSEMBLE)}


class _StepGraph(nn.Module):
    """``step`` for one stream, all parts real: the exported graph's signature."""

    def __init__(self, model: EnsembleTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: Tensor, tokens: Tensor, beat: Tensor, parts: Tensor,
                past_kv: Tensor, pos: Tensor, valid: Tensor, hint: Tensor | None = None
                ) -> tuple[Tensor, Tensor]:
        mask = torch.ones_like(parts[:, 0], dtype=torch.bool).unsqueeze(0)
        logits, present = self.model.step(features, tokens, beat, parts.unsqueeze(0), mask,
                                          past_kv.unsqueeze(2), pos, valid, hint)
        return logits, present.squeeze(2)


class Stepper:
    """A model's ``step`` for B streams at once, each with its own ring of W slots: its
    write position, which slots hold notes, and an undo log, so that a stream whose
    chord is decided again takes back its own steps (``mark``, ``rewind``) exactly as the
    runtime's ``KVRing`` does for one.  What the roll-outs drive."""

    def __init__(self, model: PartModel, batch: int) -> None:
        self.m = model
        m = model
        lhd = (m.n_layers, 2, m.n_heads, m.d_head)
        self.cache = torch.zeros(m.n_layers, 2, batch, m.n_heads, m.window, m.d_head)
        self.pos = torch.zeros(batch, dtype=torch.long)
        self.valid = torch.zeros(batch, m.window, dtype=torch.bool)
        self.undo = torch.zeros(batch, MAX_GROUP, *lhd)
        self.undo_valid = torch.zeros(batch, MAX_GROUP, dtype=torch.bool)
        self.undo_n = torch.zeros(batch, dtype=torch.long)
        self.mark_pos = torch.zeros(batch, dtype=torch.long)
        self.marked = torch.zeros(batch, dtype=torch.bool)

    def keep(self, rows: list[int]) -> None:
        """Drop the streams not listed in ``rows`` (finished pieces)."""
        self.cache = self.cache[:, :, rows]
        for name in ("pos", "valid", "undo", "undo_valid", "undo_n", "mark_pos", "marked"):
            setattr(self, name, getattr(self, name)[rows])

    def mark(self, row: int) -> None:
        """Stream ``row``'s later steps can be taken back by ``rewind``."""
        self.marked[row] = True
        self.undo_n[row] = 0
        self.mark_pos[row] = self.pos[row]

    def rewind(self, row: int) -> None:
        """Take back stream ``row``'s steps since its ``mark`` (none without one)."""
        if not self.marked[row]:
            return
        w = self.m.window
        start = int(self.mark_pos[row])
        for i in reversed(range(int(self.undo_n[row]))):   # the oldest value of a slot last
            slot = (start + i) % w
            self.cache[:, :, row, :, slot] = self.undo[row, i]
            self.valid[row, slot] = self.undo_valid[row, i]
        self.pos[row] = start
        self.marked[row] = False

    @torch.no_grad()
    def step(self, inputs: Inputs) -> Tensor:
        """Logits [B,P] for the next note of every stream still kept."""
        m = self.m
        w, rows = m.window, torch.arange(self.pos.shape[0])
        slots = torch.arange(w)
        pos = self.pos.view(-1, 1)
        dist = ((pos - slots) % w).float()                                # [B,W]
        keep = self.valid & (slots != pos)
        bias = torch.cat((-m.slopes.view(1, -1, 1) * dist.unsqueeze(1),
                          torch.zeros(len(rows), m.n_heads, 1)), dim=-1)   # [B,H,W+1]
        bias = bias.masked_fill(~torch.cat((keep, torch.ones(len(rows), 1, dtype=torch.bool)),
                                           dim=-1).unsqueeze(1), float("-inf"))
        x, ctx = m.step_in(inputs)
        present = []
        for i, blk in enumerate(m.blocks):
            assert isinstance(blk, Block)
            x, k, v = blk.step_streams(x, self.cache[i, 0], self.cache[i, 1], bias)
            present.append((k, v))
        logits = m.step_out(x, ctx)
        full = self.marked & (self.undo_n >= MAX_GROUP)   # more steps than can be undone
        self.marked &= ~full
        saving = torch.nonzero(self.marked).flatten()
        if len(saving):
            at = self.pos[saving]
            n = self.undo_n[saving]
            self.undo[saving, n] = self.cache[:, :, saving, :, at]   # [n,L,2,H,Dh]
            self.undo_valid[saving, n] = self.valid[saving, at]
            self.undo_n[saving] += 1
        for i, (k, v) in enumerate(present):
            self.cache[i, 0, rows, :, self.pos] = k
            self.cache[i, 1, rows, :, self.pos] = v
        self.valid[rows, self.pos] = True
        self.pos = (self.pos + 1) % w
        return logits


# ------------------------------------------------------------------ files
def save_checkpoint(path: str | Path, model: PartTransformer | OnlineLSTM,
                    meta: dict[str, Any]) -> None:
    """Write config + state_dict + metadata (parts, feature_version, window, data, split,
    accuracy, ...) to ``path``; an LSTM's checkpoint says ``kind`` = lstm."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(model, OnlineLSTM):
        torch.save({"format": CHECKPOINT_FORMAT, "kind": "lstm", "config": dict(model.config),
                    "state_dict": model.state_dict(), "meta": meta}, path)
        return
    meta = dict(meta)
    meta.setdefault("window", model.window)
    torch.save({"format": CHECKPOINT_FORMAT, "config": dict(model.config),
                "state_dict": model.state_dict(), "meta": meta}, path)


def load_checkpoint(path: str | Path, map_location: str = "cpu"
                    ) -> tuple[PartTransformer, dict[str, Any]]:
    """(model in eval mode, metadata) from a per-ensemble model's ``save_checkpoint``."""
    model, meta = load_model(path, map_location)
    if not isinstance(model, PartTransformer):
        raise ValueError(f"{path}: not a per-ensemble model's checkpoint")
    return model, meta


def load_lstm(path: str | Path) -> tuple[OnlineLSTM, dict[str, Any]]:
    """(model in eval mode, metadata) from an LSTM baseline's ``save_checkpoint``."""
    model, meta = load_model(path)
    if not isinstance(model, OnlineLSTM):
        raise ValueError(f"{path}: not an LSTM baseline's checkpoint")
    return model, meta


def load_model(path: str | Path, map_location: str = "cpu"
               ) -> tuple[PartTransformer | EnsembleTransformer | OnlineLSTM, dict[str, Any]]:
    """(model in eval mode, metadata) from any file a trainer writes: ``.npz`` weights
    (``save_weights``) or a ``.pt`` checkpoint (``save_checkpoint``)."""
    path = Path(path)
    if path.suffix == ".npz":
        return load_weights(path)
    blob = torch.load(path, map_location=map_location, weights_only=False)
    model: PartTransformer | OnlineLSTM
    if blob.get("kind") == "lstm":
        model = OnlineLSTM(**blob["config"])
    else:
        model = PartTransformer(**blob["config"])
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, dict(blob.get("meta", {}))


def save_weights(path: str | Path, model: EnsembleTransformer, meta: dict[str, Any]) -> Path:
    """Weights as a plain .npz (no pickle: safe to load from anywhere) with the config and
    metadata as JSON; what ``livearranger train`` fine-tunes from."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"w.{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    info = json.dumps({"config": model.config, "meta": meta})
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        np.savez(fh, info=np.array(info), **arrays)
    tmp.replace(path)
    return path


def load_weights(path: str | Path) -> tuple[EnsembleTransformer, dict[str, Any]]:
    """(model in eval mode, metadata) from ``save_weights``'s file."""
    with np.load(Path(path), allow_pickle=False) as z:
        info = json.loads(str(z["info"]))
        state = {k[2:]: torch.from_numpy(z[k].copy()) for k in z.files if k.startswith("w.")}
    model = EnsembleTransformer(**info["config"])
    model.load_state_dict(state)
    model.eval()
    return model, dict(info.get("meta", {}))


def with_hint_input(model: EnsembleTransformer) -> EnsembleTransformer:
    """A model with ``hints`` that plays exactly as ``model`` while no hint is given (the
    flag's weights start at zero): where a fine-tuning with simulated hints starts."""
    if model.hints:
        return model
    config = {**model.config, "hints": True}
    out = EnsembleTransformer(**config)
    state = model.state_dict()
    first = state["part_enc.0.weight"]
    state["part_enc.0.weight"] = torch.cat((first, torch.zeros(first.shape[0], 1)), dim=1)
    out.load_state_dict(state)
    return out.train(model.training)
