"""Re-implementation of the online LSTM of Dong et al. (ISMIR 2021), our baseline.

Per note: embeddings of its pitch, its beat (onset in beats, whole part) and its position
within the beat (twelfths), summed, through a 3-layer unidirectional LSTM of 128 units and
a linear layer to the parts.  It sees no assignments (the paper's online model labels each
note from the notes so far only).  Beats come from the onset in seconds at the nominal
tempo (``SECONDS_PER_BEAT``), since a keyboard knows no score: identical to the score's
beats in the score condition, the played timing in the as-played one.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor, nn

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
