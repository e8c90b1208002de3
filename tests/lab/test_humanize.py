"""Seeded humanisation as pianists play: measured chord spreads and first keys, overlaps
and gaps, varied velocity."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from livearranger.lab.datasets import load_corpus
from livearranger.lab.humanize import humanize, playing, score_velocity


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


def _spread_chords(p, h):
    """Per score chord of 2+ keys: (its played onsets, its pitches), mapped back by
    (pitch, part, beat)."""
    key = {(int(pt), int(pa), float(bt)): i for i, (pt, pa, bt) in
           enumerate(zip(p.pitch, p.part, p.beat, strict=True))}
    src = np.array([key[(int(pt), int(pa), float(bt))]
                    for pt, pa, bt in zip(h.pitch, h.part, h.beat, strict=True)])
    out = []
    for t in np.unique(p.onset):
        idx = np.nonzero(p.onset[src] == t)[0]
        if len(idx) > 1:
            out.append((h.onset[idx], h.pitch[idx]))
    return src, out


def test_chords_spread_as_measured_with_overlaps_and_gaps():
    p = _piece()
    h = humanize(p, 7)
    src, chords = _spread_chords(p, h)
    spreads = np.array([np.ptp(on) for on, _ in chords])
    top = max(float(q[-1]) for q in playing().spread.values())
    assert spreads.max() <= top + 0.02                          # the shift is per chord
    assert np.median(spreads) > 0.004                           # real chords are spread
    firsts = [int(pitch[np.argmin(on)] == pitch.max()) for on, pitch in chords]
    assert 0 < sum(firsts) < len(firsts)        # the top first in some chords, not all
    delta = h.offset - p.offset[src]
    assert (delta > 0.004).sum() > 10                           # legato overlaps
    assert (delta < -0.008).sum() > 10                          # gaps
    assert np.std(h.velocity) > 5
    assert np.all(score_velocity(p) > 0)


def _fixed(first_highest, first_lowest, spread=0.025):
    base = playing()
    return replace(base, spread={k: np.full(len(base.probs), spread) for k in (2, 3, 4)},
                   first_highest=first_highest, first_lowest=first_lowest)


def test_first_key_and_spread_follow_the_distributions():
    p = _piece()
    for hi, lo, want in ((1.0, 0.0, "max"), (0.0, 1.0, "min")):
        h = humanize(p, 5, jitter=0.0, play=_fixed(hi, lo))
        _src, chords = _spread_chords(p, h)
        for on, pitch in chords:
            first = pitch[np.argmin(on)]
            assert first == (pitch.max() if want == "max" else pitch.min())
            assert np.isclose(np.ptp(on), 0.025)                # the last at the spread
    # neither highest nor lowest: an inner key leads every chord of three or more keys
    h = humanize(p, 5, jitter=0.0, play=_fixed(0.0, 0.0))
    for on, pitch in _spread_chords(p, h)[1]:
        if len(pitch) >= 3 and len(set(pitch.tolist())) == len(pitch):
            assert pitch.min() < pitch[np.argmin(on)] < pitch.max()


def test_restruck_key_is_released_first():
    p = _piece()
    h = humanize(p, 3)
    for k in np.unique(h.pitch):
        idx = np.nonzero(h.pitch == k)[0]
        assert np.all(h.offset[idx[:-1]] <= h.onset[idx[1:]])
