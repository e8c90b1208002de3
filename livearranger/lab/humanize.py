"""Turn a score's note stream into one "as played" on a keyboard, reproducibly.

A player's chord arrives spread over 0-30 ms in any order, the whole performance drifts a
little against the score's clock, legato notes overlap the next by tens of milliseconds,
detached notes leave gaps, and velocities vary.  ``humanize(piece, seed)`` returns a new
``Piece`` with those onsets, releases and velocities, sorted by the new onsets (the order
in which the notes reach the instrument); labels travel with their notes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from livearranger.lab.datasets import Piece

DEFAULT_VELOCITY = 80


def score_velocity(piece: Piece) -> np.ndarray:
    """Velocities for the score condition: the source's, ``DEFAULT_VELOCITY`` where unknown."""
    v = piece.velocity.astype(np.int16)
    return np.where(v > 0, v, DEFAULT_VELOCITY).astype(np.int16)


def scale_tempo(piece: Piece, factor: float) -> Piece:
    """The same piece played ``factor`` times slower (>1) or faster (<1)."""
    return replace(piece, onset=piece.onset * factor, offset=piece.offset * factor)


def humanize(piece: Piece, seed: int, max_spread: float = 0.030, jitter: float = 0.006,
             legato: tuple[float, float] = (0.010, 0.060),
             gap: tuple[float, float] = (0.020, 0.150)) -> Piece:
    """A seeded keyboard performance of ``piece`` (see the module text).

    Each distinct score onset gets a chord spread ``s ~ U(0, max_spread)`` and a shift
    ``~ N(0, jitter)``; its notes arrive at independent ``U(0, s)`` delays (any order).
    Each note is either legato (released ``U(*legato)`` after the next score onset
    would have come, i.e. after its written end) or detached (released ``U(*gap)``
    early, never shorter than half its length); the proportion of legato is drawn per
    piece.  A key struck again is always released first.
    """
    rng = np.random.default_rng(seed)
    n = len(piece)
    if n == 0:
        return piece
    onset = piece.onset
    # one shift and one spread per distinct onset
    groups = np.unique(np.round(onset, 6), return_inverse=True)[1]
    n_groups = int(groups.max()) + 1
    shift = rng.normal(0.0, jitter, n_groups)
    spread = rng.uniform(0.0, max_spread, n_groups)
    delay = rng.uniform(0.0, 1.0, n) * spread[groups]
    new_on = onset + shift[groups] + delay
    new_on = new_on - min(0.0, float(new_on.min()))

    dur = piece.offset - onset
    p_legato = rng.uniform(0.3, 0.8)
    is_legato = rng.uniform(size=n) < p_legato
    over = rng.uniform(*legato, n)
    early = np.minimum(rng.uniform(*gap, n), 0.5 * dur)
    new_off = np.where(is_legato, piece.offset + over, piece.offset - early)
    new_off = new_off + shift[groups]
    new_off = np.maximum(new_off, new_on + 0.01)

    base = rng.uniform(50, 100)
    src = piece.velocity.astype(np.float64)
    vel = np.where(src > 0, src, base) + rng.normal(0.0, 10.0, n)
    vel = np.clip(np.round(vel), 1, 127).astype(np.int16)

    # arrival order; ties broken at random
    order = np.lexsort((rng.uniform(size=n), new_on))
    out = Piece(piece.name, piece.part_names, new_on[order], piece.beat[order],
                piece.pitch[order], vel[order], new_off[order], piece.part[order],
                piece.mask[order])
    # a key struck again must have come up first
    last: dict[int, int] = {}
    for j in range(n):
        k = int(out.pitch[j])
        prev = last.get(k)
        if prev is not None and out.offset[prev] > out.onset[j] - 0.001:
            out.offset[prev] = max(out.onset[prev] + 0.001, out.onset[j] - 0.001)
        last[k] = j
    return out
