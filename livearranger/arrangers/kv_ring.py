"""The model's key/value cache as a fixed ring of W notes, undoable for a few steps.

One stacked array in ``livearranger.graph``'s cache layout, ``[layers, 2, heads, W,
d_head]``, with a validity flag per slot and a write position: each step writes its
note's keys/values into slot ``pos`` and moves on, so cost and memory stay flat over an
hours-long performance.  Between ``mark`` and
``rewind`` every overwritten slot is kept first, so that the steps since the mark can be
taken back exactly (a chord decided again, ``livearranger.chords``).
"""

from __future__ import annotations

import numpy as np

from livearranger.chords import MAX_GROUP
from livearranger.graph import CACHE_WINDOW_AXIS, present_shape


class KVRing:
    """A ring of ``shape[3]`` cache slots; every array is allocated once."""

    __slots__ = ("cache", "pos", "valid", "window", "_undo", "_undo_valid", "_undo_n",
                 "_mark_pos", "_marked")

    def __init__(self, shape: tuple[int, ...], undo: int = MAX_GROUP) -> None:
        self.window = int(shape[CACHE_WINDOW_AXIS])
        self.cache = np.zeros(shape, dtype=np.float32)
        self.pos = np.zeros(1, dtype=np.int64)
        self.valid = np.zeros(self.window, dtype=np.bool_)
        self._undo = np.zeros((undo, *present_shape(shape)), dtype=np.float32)
        self._undo_valid = np.zeros(undo, dtype=np.bool_)
        self._undo_n = 0
        self._mark_pos = 0
        self._marked = False

    def reset(self) -> None:
        """Empty: the next note starts a new performance."""
        self.cache.fill(0.0)
        self.valid.fill(False)
        self.pos[0] = 0
        self._marked = False

    def write(self, present: np.ndarray) -> None:
        """Store one note's keys/values ``[layers, 2, heads, d_head]`` and advance."""
        pos = int(self.pos[0])
        if self._marked:
            n = self._undo_n
            if n < len(self._undo):
                self._undo[n] = self.cache[:, :, :, pos, :]
                self._undo_valid[n] = self.valid[pos]
                self._undo_n = n + 1
            else:                       # more steps than can be undone: forget the mark
                self._marked = False
        self.cache[:, :, :, pos, :] = present
        self.valid[pos] = True
        self.pos[0] = pos + 1 if pos + 1 < self.window else 0

    def mark(self) -> None:
        """Remember this point; later writes can be taken back by ``rewind``."""
        self._marked = True
        self._undo_n = 0
        self._mark_pos = int(self.pos[0])

    def rewind(self) -> bool:
        """Take back every write since ``mark`` (False when there is no usable mark)."""
        if not self._marked:
            return False
        pos = self._mark_pos
        for i in reversed(range(self._undo_n)):   # a slot written twice: its oldest last
            slot = (pos + i) % self.window
            self.cache[:, :, :, slot, :] = self._undo[i]
            self.valid[slot] = self._undo_valid[i]
        self.pos[0] = pos
        self._marked = False
        return True
