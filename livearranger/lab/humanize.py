"""Turn a score's note stream into one "as played" on a keyboard, reproducibly, the way
pianists really play.

The distributions come from real performances aligned to their scores
(``livearranger.lab.playing``, which writes ``livearranger/data/playing.json`` from
(n)ASAP's Bach): how far a chord of 2, 3 or 4+ keys is spread, which key comes first
(the highest, the lowest, rarely an inner one), how much of a performance is legato, how
far a legato note overlaps the next and how early a detached one lets go, and how much
the touch varies.  The performance also drifts a little against the score's clock.
``humanize(piece, seed)`` returns a new ``Piece`` with those onsets, releases and
velocities, sorted by the new onsets (the order in which the notes reach the
instrument); labels travel with their notes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import numpy as np

from livearranger.lab.datasets import Piece

DEFAULT_VELOCITY = 80


@dataclass(frozen=True)
class Playing:
    """Quantiles (at ``probs``) of what pianists do (see the module text)."""

    probs: np.ndarray
    spread: dict[int, np.ndarray]       # s, by chord size 2, 3, 4 (4: four or more)
    first_lowest: float                 # share of chords whose lowest key comes first
    first_highest: float
    legato_overlap: np.ndarray          # s after the written end
    detached_gap: np.ndarray            # s before it
    legato_share: np.ndarray            # share of legato joins in one performance
    velocity_sd: np.ndarray

    def draw(self, rng: np.random.Generator, quantiles: np.ndarray, n: int) -> np.ndarray:
        """``n`` draws from the distribution given by its quantiles (above the last
        quantile kept, its value)."""
        return np.interp(rng.uniform(0.0, 1.0, n), self.probs, quantiles)


@cache
def playing() -> Playing:
    """The measured distributions (package data ``playing.json``)."""
    d = json.loads(resources.files("livearranger.data").joinpath("playing.json").read_text())
    q = {k: np.asarray(v, dtype=np.float64) for k, v in d.items()
         if k not in ("spread", "first")}
    return Playing(q["probs"], {int(k): np.asarray(v) for k, v in d["spread"].items()},
                   float(d["first"]["lowest"]), float(d["first"]["highest"]),
                   q["legato_overlap"], q["detached_gap"], q["legato_share"],
                   q["velocity_sd"])


def score_velocity(piece: Piece) -> np.ndarray:
    """Velocities for the score condition: the source's, ``DEFAULT_VELOCITY`` where unknown."""
    v = piece.velocity.astype(np.int16)
    return np.where(v > 0, v, DEFAULT_VELOCITY).astype(np.int16)


def scale_tempo(piece: Piece, factor: float) -> Piece:
    """The same piece played ``factor`` times slower (>1) or faster (<1)."""
    return replace(piece, onset=piece.onset * factor, offset=piece.offset * factor)


def humanize(piece: Piece, seed: int, jitter: float = 0.006,
             play: Playing | None = None) -> Piece:
    """A seeded keyboard performance of ``piece`` (see the module text).

    Each distinct score onset is a chord: it is shifted by ``~ N(0, jitter)`` and spread
    as a real chord of its size is; its first key is the highest, the lowest or an inner
    one as often as pianists play them so, another key comes last, at the spread, and the
    rest arrive in between.  Each note is legato (released a measured overlap after its
    written end) with the piece's legato share, drawn per piece, or detached (released
    a measured gap early, never shorter than half its length).  A key struck again is
    always released first.
    """
    pl = play or playing()
    rng = np.random.default_rng(seed)
    n = len(piece)
    if n == 0:
        return piece
    onset = piece.onset
    groups = np.unique(np.round(onset, 6), return_inverse=True)[1]
    n_groups = int(groups.max()) + 1
    shift = rng.normal(0.0, jitter, n_groups)
    size = np.bincount(groups, minlength=n_groups)
    spread = np.zeros(n_groups)
    for k, q in pl.spread.items():
        at = np.flatnonzero(np.minimum(size, 4) == k)
        spread[at] = pl.draw(rng, q, len(at))
    # within a chord: 0 for its first key, 1 for its last, between for the rest
    frac = rng.uniform(0.0, 1.0, n)
    members = np.argsort(groups, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(size)])
    lead_pick = rng.uniform(size=n_groups)
    for g in np.flatnonzero(size > 1):
        idx = members[bounds[g]:bounds[g + 1]]
        by_pitch = idx[np.argsort(piece.pitch[idx], kind="stable")]
        u = lead_pick[g]
        if u < pl.first_highest:
            lead = by_pitch[-1]
        elif u < pl.first_highest + pl.first_lowest or len(idx) < 3:
            lead = by_pitch[0]
        else:
            lead = by_pitch[1 + int(rng.integers(len(idx) - 2))]
        rest = idx[idx != lead]
        frac[lead] = 0.0
        frac[rest[int(rng.integers(len(rest)))]] = 1.0
    delay = np.where(size[groups] > 1, frac * spread[groups], 0.0)
    new_on = onset + shift[groups] + delay
    new_on = new_on - min(0.0, float(new_on.min()))

    dur = piece.offset - onset
    p_legato = float(pl.draw(rng, pl.legato_share, 1)[0])
    is_legato = rng.uniform(size=n) < p_legato
    over = pl.draw(rng, pl.legato_overlap, n)
    early = np.minimum(pl.draw(rng, pl.detached_gap, n), 0.5 * dur)
    new_off = np.where(is_legato, piece.offset + over, piece.offset - early)
    new_off = new_off + shift[groups]
    new_off = np.maximum(new_off, new_on + 0.01)

    base = rng.uniform(50, 100)
    sd = float(pl.draw(rng, pl.velocity_sd, 1)[0])
    src = piece.velocity.astype(np.float64)
    vel = np.where(src > 0, src, base) + rng.normal(0.0, sd, n)
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
