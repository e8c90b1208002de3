"""Seeded humanisation: spread chords in random order, overlaps and gaps, varied velocity."""

from __future__ import annotations

import numpy as np

from livearranger.lab.datasets import load_corpus
from livearranger.lab.humanize import humanize, score_velocity


def _piece():
    return load_corpus("bach", ["bach/bwv10.7.mxl"])[0]


def test_seeded_and_label_preserving():
    p = _piece()
    a, b, c = humanize(p, 1), humanize(p, 1), humanize(p, 2)
    assert np.array_equal(a.onset, b.onset) and np.array_equal(a.velocity, b.velocity)
    assert not np.array_equal(a.onset, c.onset)
    assert sorted(zip(a.pitch.tolist(), a.part.tolist(), a.mask.tolist(), strict=True)) == \
        sorted(zip(p.pitch.tolist(), p.part.tolist(), p.mask.tolist(), strict=True))
    assert np.all(np.diff(a.onset) >= 0)                      # sorted by arrival


def test_chords_spread_in_any_order_with_overlaps_and_gaps():
    p = _piece()
    h = humanize(p, 7)
    # map each played note back to its score note by (pitch, part, beat)
    key = {(int(pt), int(pa), float(bt)): i for i, (pt, pa, bt) in
           enumerate(zip(p.pitch, p.part, p.beat, strict=True))}
    src = np.array([key[(int(pt), int(pa), float(bt))]
                    for pt, pa, bt in zip(h.pitch, h.part, h.beat, strict=True)])
    spreads, descending = [], 0
    for t in np.unique(p.onset):
        idx = np.nonzero(p.onset[src] == t)[0]
        if len(idx) > 1:
            spreads.append(np.ptp(h.onset[idx]))
            descending += int(h.pitch[idx[0]] > h.pitch[idx[-1]])
    spreads = np.array(spreads)
    assert spreads.max() <= 0.030 + 1e-9
    assert spreads.mean() > 0.005
    assert descending > 0                                      # not always low to high
    delta = h.offset - p.offset[src]
    assert (delta > 0.009).sum() > 20                          # legato overlaps
    assert (delta < -0.019).sum() > 20                         # gaps
    assert np.std(h.velocity) > 5
    assert np.all(score_velocity(p) > 0)


def test_restruck_key_is_released_first():
    p = _piece()
    h = humanize(p, 3)
    for k in np.unique(h.pitch):
        idx = np.nonzero(h.pitch == k)[0]
        assert np.all(h.offset[idx[:-1]] <= h.onset[idx[1:]])
