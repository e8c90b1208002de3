"""The shipped ensemble model: any preset naming no model plays it, including ensembles
it never saw, within the preset's ranges and monophony, through the engine."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np

from livearranger.arrangers import make_arranger
from livearranger.arrangers.onnx_model import ENSEMBLE_MODEL, OnnxArranger
from livearranger.constraints import CHORD_WINDOW
from livearranger.lab.datasets import Piece, load_pieces
from livearranger.lab.evaluate import performance, replay
from livearranger.presets import Part, Preset, load_preset

BRASS = Preset("brass-sextet", tuple(
    Part(name, 56, ch, lo, hi, mono=True) for name, ch, lo, hi in (
        ("trumpet1", 0, 58, 84), ("trumpet2", 1, 55, 81), ("horn1", 2, 48, 77),
        ("horn2", 3, 43, 72), ("trombone", 4, 40, 70), ("tuba", 5, 28, 58))),
    arranger="model", horizon_ms=30.0)


def test_a_preset_naming_no_model_plays_the_ensemble_model():
    for preset in (BRASS, load_preset("pop-band")):
        arr = make_arranger("model", preset)
        assert isinstance(arr, OnnxArranger) and arr.ensemble
        assert arr.path.name == ENSEMBLE_MODEL and ENSEMBLE_MODEL in arr.describe()
    # the presets trained on their own music play their own models
    for name in ("chiptune", "pop-trio"):
        arr = make_arranger("model", load_preset(name))
        assert isinstance(arr, OnnxArranger) and not arr.ensemble
        assert arr.path.name == f"{name}.onnx"


def brass_chords(n: int, seed: int = 0) -> Piece:
    """Four-voice chords a brass section can take, each spread over 12 ms in any order."""
    rng = random.Random(seed)
    onset, pitch = [], []
    for c in range(n):
        top = rng.randint(64, 78)
        keys = [top, top - rng.randint(3, 5), top - rng.randint(7, 10),
                top - rng.randint(12, 19)]
        for i, k in enumerate(rng.sample(keys, 4)):
            onset.append(0.5 * c + 0.004 * i)
            pitch.append(k)
    on = np.array(onset)
    m = len(on)
    return Piece("brass", BRASS.part_names, on, on * 2, np.array(pitch, dtype=np.int16),
                 np.full(m, 80, dtype=np.int16), on + 0.45, np.zeros(m, dtype=np.int8),
                 np.ones(m, dtype=np.uint8))


def test_an_unseen_ensemble_gets_ranges_and_one_key_per_mono_part_per_chord():
    piece = brass_chords(60)
    got = replay(piece, make_arranger("model", BRASS), BRASS.horizon_ms / 1000)
    parts = got.final.reshape(-1, 4)
    for c, row in enumerate(parts):
        assert len(set(row.tolist())) == 4, row          # mono: one key per part
        for k, part in enumerate(row):
            assert BRASS.parts[part].in_range(int(piece.pitch[4 * c + k]))
    assert len(set(got.final.tolist())) >= 4             # the section is used


def test_the_ensemble_model_beats_chance_on_music_it_never_saw():
    """The quartets are not in its training data; 4 parts at random would be ~25 %."""
    quartet = load_preset("string-quartet")
    arr = OnnxArranger(quartet, model=ENSEMBLE_MODEL)
    piece = performance(load_pieces("string-quartet", "test", 1)[0], "score")
    head = slice(0, 1500)
    short = replace(piece, **{k: getattr(piece, k)[head] for k in
                              ("onset", "beat", "pitch", "velocity", "offset", "part", "mask")})
    final = replay(short, arr, CHORD_WINDOW).final
    ok = ((short.mask.astype(np.int64) >> final) & 1).mean()
    assert ok > 0.45
