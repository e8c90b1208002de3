"""Windowed causal self-attention with ALiBi: the block both transformers are built from.

Training-time only (PyTorch).  ``Block.forward`` runs whole sequences under an additive
bias (ALiBi by distance, -inf outside the causal window); ``Block.step`` runs one new
note against a ring-buffer cache and gives the same result.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def alibi_slopes(n_heads: int) -> Tensor:
    """ALiBi head slopes 2^(-8(h+1)/H): steep heads look at recent notes, flat ones further."""
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / n_heads) for h in range(n_heads)])


def sequence_bias(slopes: Tensor, pos: Tensor, visible: Tensor) -> Tensor:
    """[B,H,T,T] additive bias for sequences whose notes are not one line of history:
    ALiBi by the distance between the notes' positions ``pos`` [B,T], -inf where
    ``visible`` [B,T,T] (query, key) is False."""
    dist = (pos.unsqueeze(2) - pos.unsqueeze(1)).float()               # [B,T,T]
    bias = -slopes.view(1, -1, 1, 1) * dist.unsqueeze(1)
    return bias.masked_fill(~visible.unsqueeze(1), float("-inf"))


class Block(nn.Module):
    """Pre-norm transformer block: windowed self-attention with ALiBi, then a GELU MLP."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)
        self.attn_dropout = dropout

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        """x [B,T,D]; bias [H,T,T] or [B,H,T,T] additive (ALiBi + window/causal mask as
        -inf)."""
        b, t, d = x.shape
        h, dh = self.n_heads, self.d_head
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, h, dh).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias if bias.dim() == 4 else bias.unsqueeze(0),
            dropout_p=self.attn_dropout if self.training else 0.0)
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.ff(self.ln2(x)))

    def step(self, x: Tensor, k_past: Tensor, v_past: Tensor, bias: Tensor
             ) -> tuple[Tensor, Tensor, Tensor]:
        """One note. x [1,D]; k_past, v_past [1,H,W,Dh] (the ring buffer, read only);
        bias [1,H,1,W+1]: ALiBi for the W slots (-inf where invalid or about to be
        overwritten) and 0 for the note itself, last.  Returns (x, k, v), k/v [1,H,1,Dh].

        The cache is never copied: scores against it and against the new key are joined.
        """
        h, dh = self.n_heads, self.d_head
        q, k, v = self.qkv(self.ln1(x)).view(3, h, 1, dh).split(1, dim=0)
        q = q * (1.0 / math.sqrt(dh))
        scores = torch.cat((torch.matmul(q, k_past.transpose(2, 3)),
                            torch.matmul(q, k.transpose(2, 3))), dim=-1) + bias
        p_past, p_new = torch.softmax(scores, dim=-1).split([k_past.shape[2], 1], dim=-1)
        att = torch.matmul(p_past, v_past) + p_new * v                  # [1,H,1,Dh]
        x = x + self.proj(att.reshape(1, h * dh))
        x = x + self.ff(self.ln2(x))
        return x, k, v

    def step_streams(self, x: Tensor, k_past: Tensor, v_past: Tensor, bias: Tensor
                     ) -> tuple[Tensor, Tensor, Tensor]:
        """One note of each of B streams, each against its own ring: x [B,D]; k_past,
        v_past [B,H,W,Dh]; bias [B,H,W+1] (as ``step``'s, a row per stream).  Returns
        (x, k, v), k/v [B,H,Dh]."""
        b = x.shape[0]
        h, dh = self.n_heads, self.d_head
        q, k, v = self.qkv(self.ln1(x)).view(b, 3, h, dh).unbind(1)       # [B,H,Dh]
        scores = torch.cat((torch.einsum("bhd,bhwd->bhw", q, k_past),
                            (q * k).sum(-1, keepdim=True)), dim=-1) / math.sqrt(dh)
        p = torch.softmax(scores + bias, dim=-1)
        w = k_past.shape[2]
        att = torch.einsum("bhw,bhwd->bhd", p[..., :w], v_past) + p[..., w:] * v
        x = x + self.proj(att.reshape(b, h * dh))
        x = x + self.ff(self.ln2(x))
        return x, k, v
