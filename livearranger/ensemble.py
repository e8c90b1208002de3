"""What the one part-conditioned model is told about an ensemble and about the beat.

The ensemble model (``livearranger/lab/model.py``) has no fixed list of parts:
each part of the preset is given to it as a row of numbers, so one graph plays any
ensemble of up to ``MAX_ENSEMBLE`` parts, including ones it never saw.  A part's row
holds its range, whether it is monophonic, its place from top to bottom and the size of
the ensemble.  Instrument families are deliberately not an input: the training corpora
hold voices and strings only, so a family input would be untrained for every other one.

The beat row tells the model where a note falls in the beat when a tempo is known (a
DAW's MIDI clock, ``livearranger/clock.py``; a score's beats in training), and that no
beat is known otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from livearranger.presets import Part

N_DESC = 5           # numbers per part
N_BEAT = 5           # numbers for the beat
MAX_ENSEMBLE = 16    # parts the ensemble model takes at most


def part_descriptors(parts: Sequence[Part]) -> np.ndarray:
    """float32 [n, N_DESC]: per part (top to bottom) its lowest and highest pitch as
    (p - 60) / 24, 1 if monophonic, its rank from the top (0 .. 1; 0.5 alone) and the
    ensemble's size / 8."""
    n = len(parts)
    out = np.zeros((n, N_DESC), dtype=np.float32)
    for i, part in enumerate(parts):
        out[i] = ((part.low - 60) / 24.0, (part.high - 60) / 24.0,
                  1.0 if part.mono else 0.0, i / (n - 1) if n > 1 else 0.5, n / 8.0)
    return out


def beat_features(beat: float | None, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (float32, N_BEAT) for a note at ``beat`` quarter notes (None: no
    tempo known): 1 when known, then the phase in the quarter note and in the half note
    as sine and cosine (all 0 when unknown)."""
    if beat is None or not math.isfinite(beat):
        out.fill(0.0)
        return out
    q = 2.0 * math.pi * beat
    out[0] = 1.0
    out[1] = math.sin(q)
    out[2] = math.cos(q)
    out[3] = math.sin(0.5 * q)
    out[4] = math.cos(0.5 * q)
    return out
