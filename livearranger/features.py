"""The one causal feature function: what is known of a note the moment its key goes down.

Used unchanged by training, offline evaluation and the live engine.  The features of a
note depend only on its pitch, its velocity, its onset time and the ``PerformanceState``
built from earlier notes (keys still down and their parts, each part's last pitch and
onset, the previous note).  Never the note's duration, never a later note.

Layout of the float32 vector (``feature_dim(n)`` = ``N_GLOBAL + n * N_PER_PART``):

global
    0  pitch, (p - 60) / 24
    1  velocity / 127
    2  log-scaled time since the previous onset (0 .. 1, 4 s and more -> 1)
    3  1 if that time is under ``CHORD_WINDOW`` (same chord as the previous note)
    4  keys down (this key excluded) / 4
    5  keys down above this pitch / 4
    6  keys down below this pitch / 4
    7  parts that took a note in the current onset / 4
    8  1 for the first note of a performance
    9  1 if this key is still down (a repeated strike)
   10  keys of this chord still to be decided above this pitch / 4 (a chord decided again)
   11  keys of this chord still to be decided below this pitch / 4
   12  nearest of those above minus this pitch, / 12, clipped to 3 (0 when none)
   13  nearest of those below minus this pitch, likewise (negative)
per part i (block of ``N_PER_PART`` at ``N_GLOBAL + i * N_PER_PART``)
    0  1 while part i has a key down
    1  its keys down / 2 (clipped at 1)
    2  its highest key down minus this pitch, / 12, clipped to +-3 (0 when none)
    3  its lowest key down minus this pitch, likewise
    4  its last pitch minus this pitch, / 12, clipped to +-4 (0 before it played)
    5  1 once part i has played
    6  log-scaled time since its last onset (1 before it played)
    7  1 if it took a note within ``CHORD_WINDOW`` of now (same chord)
    8  1 if it holds a key above this pitch
    9  1 if it holds a key below this pitch
   10  1 if it was the previous note's part
   11  1 if the voice-leading rule proposes part i for this note (``proposal``)
"""

from __future__ import annotations

import math

import numpy as np

from livearranger.constraints import CHORD_WINDOW
from livearranger.state import PerformanceState

FEATURE_VERSION = 3
N_GLOBAL = 14
N_PER_PART = 12
_DT_UNIT = 0.005              # seconds; log scale resolution of time gaps
_DT_NORM = math.log1p(4.0 / _DT_UNIT)


def feature_dim(n_parts: int) -> int:
    """Length of the feature vector for an ensemble of ``n_parts`` parts."""
    return N_GLOBAL + n_parts * N_PER_PART


def _log_dt(dt: float) -> float:
    if dt <= 0.0:
        return 0.0
    if dt >= 4.0:
        return 1.0
    return math.log1p(dt / _DT_UNIT) / _DT_NORM


def _clip(x: float, lim: float) -> float:
    return lim if x > lim else (-lim if x < -lim else x)


def note_features(pitch: int, velocity: int, time: float, state: PerformanceState,
                  out: np.ndarray | None = None, proposal: int = -1) -> np.ndarray:
    """Features of a note-on (key ``pitch`` at ``time``) given the state before it.

    Fills ``out`` (float32, length ``feature_dim(state.n_parts)``) in place when given,
    else returns a new array.  Only state.held / part_held / last_pitch / last_onset /
    prev_onset / prev_part / n_notes / pending are read.  ``proposal``: the part the
    voice-leading rule proposes (``VoiceLeadingArranger.propose``, itself a function of
    the same past), -1 for none.
    """
    n = state.n_parts
    if out is None:
        out = np.zeros(feature_dim(n), dtype=np.float32)
    else:
        out.fill(0.0)
    out[0] = (pitch - 60) / 24.0
    out[1] = velocity / 127.0
    first = state.n_notes == 0
    dt = time - state.prev_onset if not first else 4.0
    out[2] = _log_dt(dt)
    out[3] = 1.0 if dt < CHORD_WINDOW else 0.0
    out[8] = 1.0 if first else 0.0
    recent = time - CHORD_WINDOW
    above = below = 0
    for key, part in state.held.items():
        base = N_GLOBAL + part * N_PER_PART
        if key == pitch:
            out[9] = 1.0
            continue
        rel = (key - pitch) / 12.0
        if key > pitch:
            above += 1
            out[base + 8] = 1.0
        else:
            below += 1
            out[base + 9] = 1.0
        if out[base] == 0.0:
            out[base] = 1.0
            out[base + 2] = _clip(rel, 3.0)
            out[base + 3] = _clip(rel, 3.0)
        else:
            if rel > out[base + 2]:
                out[base + 2] = _clip(rel, 3.0)
            if rel < out[base + 3]:
                out[base + 3] = _clip(rel, 3.0)
    held = above + below
    out[4] = held / 4.0
    out[5] = above / 4.0
    out[6] = below / 4.0
    in_onset = 0
    for i in range(n):
        base = N_GLOBAL + i * N_PER_PART
        out[base + 1] = min(state.part_held[i] / 2.0, 1.0)
        last = state.last_pitch[i]
        if last >= 0:
            out[base + 4] = _clip((last - pitch) / 12.0, 4.0)
            out[base + 5] = 1.0
            onset = state.last_onset[i]
            out[base + 6] = _log_dt(time - onset)
            if onset >= recent:
                out[base + 7] = 1.0
                in_onset += 1
        else:
            out[base + 6] = 1.0
        if i == state.prev_part:
            out[base + 10] = 1.0
        if i == proposal:
            out[base + 11] = 1.0
    out[7] = in_onset / 4.0
    if state.pending:
        up = down = 0
        near_up, near_down = 99, -99
        for key in state.pending:
            if key > pitch:
                up += 1
                if key - pitch < near_up:
                    near_up = key - pitch
            elif key < pitch:
                down += 1
                if key - pitch > near_down:
                    near_down = key - pitch
        out[10] = up / 4.0
        out[11] = down / 4.0
        out[12] = _clip(near_up / 12.0, 3.0) if up else 0.0
        out[13] = _clip(near_down / 12.0, 3.0) if down else 0.0
    return out


def model_tokens(pitch: int, state: PerformanceState) -> tuple[int, int]:
    """The model's integer inputs for a note: (pitch 0..127, previous part index, or
    ``n_parts`` before the first note)."""
    prev = state.prev_part
    return int(pitch), int(prev if prev >= 0 else state.n_parts)
