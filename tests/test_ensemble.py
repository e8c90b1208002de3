"""What the ensemble model is told: each part as a row of numbers, and the beat."""

from __future__ import annotations

import numpy as np

from livearranger.ensemble import N_BEAT, N_DESC, beat_features, part_descriptors


def test_descriptors_and_beat_rows(satb):
    parts = satb.parts
    d = part_descriptors(parts)
    assert d.shape == (4, N_DESC) and d[0, 3] == 0.0 and d[3, 3] == 1.0
    assert (d[:, 1] > d[:, 0]).all() and (d[:, 2] == 1.0).all()
    row = np.zeros(N_BEAT, dtype=np.float32)
    assert not beat_features(None, row).any()
    assert beat_features(2.0, row)[0] == 1.0 and abs(row[2] - 1.0) < 1e-6   # on the beat
    assert abs(beat_features(2.5, row)[2] + 1.0) < 1e-6                    # off the beat
