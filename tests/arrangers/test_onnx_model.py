"""The ONNX arranger: parity with PyTorch, metadata checks, constraints, the ring buffer."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest
import torch

from export.parity import (
    TOLERANCE,
    check_performances,
    check_pieces,
    compare,
    note_events,
    piece_from_notes,
    stream_performance,
    stream_piece,
    torch_logits,
)
from livearranger.arrangers import ArrangerError, make_arranger
from livearranger.arrangers.onnx_model import OnnxArranger
from livearranger.engine import WARM_INTERVAL_S
from livearranger.events import Kind, NoteEvent
from livearranger.features import FEATURE_VERSION, feature_dim
from livearranger.lab.export import export_step
from livearranger.lab.model import PartTransformer
from livearranger.state import PerformanceState

WINDOW = 8
torch.set_num_threads(1)


def small_model(n_parts: int = 4, seed: int = 0) -> PartTransformer:
    torch.manual_seed(seed)
    return PartTransformer(feature_dim(n_parts), n_parts, d_model=32, n_layers=2, n_heads=2,
                           window=WINDOW, d_ff=64).eval()


def meta(preset, **over) -> dict:
    m = {"parts": preset.part_names, "feature_version": FEATURE_VERSION,
         "data": "random init (test)", "split": "none", "accuracy": None}
    m.update(over)
    return m


def piece(seed: int, n_onsets: int = 20) -> list[tuple[float, int, int, float]]:
    """Chords and runs with overlaps, spread and gaps, like a player's hands."""
    rng = random.Random(seed)
    notes, t = [], 0.0
    for _ in range(n_onsets):
        size = rng.choice([1, 1, 2, 3, 4])
        base = rng.randint(40, 70)
        for k in range(size):
            pitch = min(84, base + k * rng.randint(3, 8))
            notes.append((t + rng.uniform(0, 0.03), pitch, rng.randint(40, 110),
                          rng.uniform(0.1, 1.2)))
        t += rng.uniform(0.1, 0.6)
    return notes


@pytest.fixture(scope="module")
def exported(tmp_path_factory, satb):
    model = small_model()
    path = export_step(model, tmp_path_factory.mktemp("onnx") / "small.onnx", meta(satb))
    return model, path


@pytest.fixture()
def arranger(exported, satb):
    return OnnxArranger(satb, model=str(exported[1]))


def test_streamed_onnx_equals_pytorch_full_sequence(exported, arranger):
    model, _ = exported
    result = check_pieces(model, arranger, [piece(s) for s in range(3)])
    assert result["notes"] > 3 * WINDOW          # the ring buffer wrapped several times
    assert result["max_abs_diff"] <= TOLERANCE
    assert result["mismatches"] == 0
    assert result["passed"]


def test_streamed_onnx_equals_pytorch_with_corrections(exported, arranger, satb):
    """Chords decided again: the ring takes the first decisions back, and what it finally
    holds (each chord's keys in the order they were settled, each seeing the keys after
    it) still equals the full forward over that history."""
    model, _ = exported
    perfs = [piece_from_notes(piece(s), satb.part_names) for s in range(3)]
    result = check_performances(model, arranger, perfs, horizon=0.030)
    assert result["passed"] and result["notes"] > 3 * WINDOW
    settled = stream_performance(arranger, perfs[0], horizon=0.030)
    assert settled.features[:, 10:12].any()       # some notes saw keys after them
    plain = stream_performance(arranger, perfs[0])
    assert len(settled.choices) == len(plain.choices)   # one step per key kept


def test_keep_warm_changes_nothing(exported, satb):
    """Idle runs of the graph (the engine's keep-warm) leave cache, outputs and choices
    as they were."""
    _model, path = exported
    perf = piece_from_notes(piece(5), satb.part_names)
    plain = stream_performance(OnnxArranger(satb, model=str(path)), perf)
    warmed = OnnxArranger(satb, model=str(path))
    original = warmed.choose

    def choose_after_warming(note, state):
        for _ in range(3):
            warmed.keep_warm()
        return original(note, state)

    warmed.choose = choose_after_warming
    got = stream_performance(warmed, perf)
    assert np.array_equal(plain.logits, got.logits)
    assert np.array_equal(plain.choices, got.choices)


def test_engine_keeps_an_idle_model_warm_without_spinning(exported, satb, engine_rig):
    """An idle engine runs keep-warm again and again, each run at least WARM_INTERVAL_S
    after the previous one ended, on the clock the engine paces it by (a sure bound
    whatever the machine's load, unlike a count in a time)."""
    _model, path = exported
    arr = OnnxArranger(satb, model=str(path))
    runs: list[float] = []
    warmed = threading.Event()

    def keep_warm() -> None:
        runs.append(time.perf_counter())
        if len(runs) == 20:
            warmed.set()
    arr.keep_warm = keep_warm
    engine = engine_rig(satb, arr).engine
    engine.start()
    try:
        assert warmed.wait(60.0), f"only {len(runs)} keep-warm runs while idle"
    finally:
        engine.stop()
    assert min(np.diff(runs)) >= WARM_INTERVAL_S


def test_parity_check_detects_a_different_model(exported, arranger):
    other = small_model(seed=1)
    result = compare(other, stream_piece(arranger, piece(7)))
    assert result["max_abs_diff"] > TOLERANCE


def test_ring_buffer_wraps_like_a_windowed_recompute(exported, arranger):
    """Past W notes, each step equals the model recomputed from scratch over just the
    notes it can see: L layers of W-note windows reach back L*(W-1) notes."""
    model, _ = exported
    reach = model.n_layers * (WINDOW - 1)
    s = stream_piece(arranger, piece(11, n_onsets=40))
    assert len(s.logits) > reach + 2 * WINDOW        # the ring wrapped many times
    for t in range(reach, len(s.logits)):
        lo = t - reach
        ref = torch_logits(model, s.features[lo:t + 1], s.tokens[lo:t + 1])[-1]
        assert np.abs(ref - s.logits[t]).max() <= TOLERANCE
    # and attention really is bounded: the first note changes nothing beyond the reach
    changed = s.features.copy()
    changed[0] += 1.0
    new = torch_logits(model, changed, s.tokens)
    orig = torch_logits(model, s.features, s.tokens)
    assert np.abs(new[reach + 1:] - orig[reach + 1:]).max() <= 1e-5
    assert np.abs(new[:reach + 1] - orig[:reach + 1]).max() > 1e-3


def test_reset_starts_a_new_performance(arranger):
    first = stream_piece(arranger, piece(3))
    again = stream_piece(arranger, piece(3))     # stream_piece resets first
    np.testing.assert_array_equal(first.logits, again.logits)
    arranger.reset()
    assert not arranger.ring.valid.any() and int(arranger.ring.pos[0]) == 0


def test_parts_mismatch_is_refused_with_one_line(tmp_path, satb):
    path = export_step(small_model(), tmp_path / "wrong.onnx",
                       meta(satb, parts=["violin1", "violin2", "viola", "cello"]))
    with pytest.raises(ArrangerError) as err:
        OnnxArranger(satb, model=str(path))
    msg = str(err.value)
    assert msg.startswith("wrong.onnx: model parts ['violin1', 'violin2', 'viola', 'cello'] "
                          "do not match preset parts ['soprano', 'alto', 'tenor', 'bass']")
    assert "\n" not in msg


def test_feature_version_mismatch_is_refused(tmp_path, satb):
    path = export_step(small_model(), tmp_path / "old.onnx",
                       meta(satb, feature_version=FEATURE_VERSION + 1))
    with pytest.raises(ArrangerError, match="feature version") as err:
        OnnxArranger(satb, model=str(path))
    assert "\n" not in str(err.value)


def test_corrupt_and_missing_files_fail_clearly(tmp_path, satb):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07this is not a protobuf" * 10)
    with pytest.raises(ArrangerError) as err:
        OnnxArranger(satb, model=str(bad))
    assert str(err.value).startswith("broken.onnx: not a usable ONNX model")
    assert "\n" not in str(err.value)
    with pytest.raises(ArrangerError, match="model file not found"):
        OnnxArranger(satb, model=str(tmp_path / "nope.onnx"))
    huge = tmp_path / "huge.onnx"
    with huge.open("wb") as f:                    # sparse: no disk used
        f.truncate(65 * 1024 * 1024)
    with pytest.raises(ArrangerError, match="model too large"):
        OnnxArranger(satb, model=str(huge))


def biased_model(part: int) -> PartTransformer:
    model = small_model()
    with torch.no_grad():
        model.head.bias.zero_()
        model.head.bias[part] = 50.0
    return model


def test_constraints_override_the_model(tmp_path, satb):
    path = export_step(biased_model(0), tmp_path / "soprano.onnx", meta(satb))
    arr = OnnxArranger(satb, model=str(path))
    state = PerformanceState(4)
    # the model wants soprano for everything; 40 is below the soprano's range (57..84)
    part = arr.assign(NoteEvent(Kind.NOTE_ON, 0.0, 40, 80), state)
    assert int(np.argmax(arr._logits[0])) == 0
    assert part != 0 and satb.parts[part].low <= 40 <= satb.parts[part].high
    state.note_on(40, 0.0, part)
    # in range: soprano; while it is sounding (mono), the next note goes elsewhere
    assert arr.assign(NoteEvent(Kind.NOTE_ON, 0.5, 72, 80), state) == 0
    state.note_on(72, 0.5, 0)
    nxt = arr.assign(NoteEvent(Kind.NOTE_ON, 0.51, 76, 80), state)
    assert int(np.argmax(arr._logits[0])) == 0
    assert nxt != 0 and satb.parts[nxt].low <= 76 <= satb.parts[nxt].high


def test_temperature_samples_allowed_parts_reproducibly(exported, satb):
    path = str(exported[1])

    def run(seed: int) -> list[int]:
        arr = OnnxArranger(satb, model=path, temperature=5.0, seed=seed)
        return list(stream_piece(arr, piece(5)).choices)

    a, b = run(1), run(1)
    assert a == b
    assert len({tuple(run(s)) for s in range(2, 5)} | {tuple(a)}) > 1
    greedy = OnnxArranger(satb, model=path)
    s = stream_piece(greedy, piece(5))
    assert all(s.masks[i, c] for i, c in enumerate(s.choices))
    with pytest.raises(ArrangerError):
        OnnxArranger(satb, model=path, temperature=-1)
    retuned = OnnxArranger(satb, model=path, seed=1)     # greedy, then told to sample
    retuned.set_temperature(5.0)
    sampled = stream_piece(retuned, piece(5))
    assert list(sampled.choices) != list(s.choices)
    assert all(sampled.masks[i, c] for i, c in enumerate(sampled.choices))
    with pytest.raises(ArrangerError):
        retuned.set_temperature(float("nan"))
    assert retuned.temperature == 5.0


def test_describe_reports_the_provider(exported, satb):
    arr = make_arranger("model", satb, model=str(exported[1]))
    assert isinstance(arr, OnnxArranger)
    assert arr.describe() == "model small.onnx (CPUExecutionProvider)"
    cuda = OnnxArranger(satb, model=str(exported[1]), provider="cuda")
    assert cuda.provider in cuda._session.get_providers()
    assert cuda.provider in cuda.describe()
    with pytest.raises(ArrangerError, match="unknown provider"):
        OnnxArranger(satb, model=str(exported[1]), provider="tpu")


def test_engine_plays_with_the_model_and_leaves_nothing_sounding(exported, satb,
                                                                 engine_rig):
    rig = engine_rig(satb, OnnxArranger(satb, model=str(exported[1])))
    engine = rig.engine
    for t, on, pitch, vel in note_events(piece(9)):
        engine.process(NoteEvent(Kind.NOTE_ON if on else Kind.NOTE_OFF, t, pitch, vel))
    channels = {p.channel for p in satb.parts}
    ons = [m for m in rig.sent(0x90) if m[2] > 0]
    offs = rig.sent(0x80)
    assert len(ons) == len(piece(9)) and len(offs) == len(ons)
    assert {m[0] & 0x0F for m in ons} <= channels
    assert sorted((m[0], m[1]) for m in ons) == sorted((m[0] + 0x10, m[1]) for m in offs)
    assert engine.router.sounding == set()


def test_pytorch_stepped_and_onnx_choose_the_same_parts_in_evaluation(exported, arranger,
                                                                       satb):
    from export.parity import TorchArranger, piece_from_notes
    from livearranger.lab.evaluate import replay

    model, _ = exported
    torch_arr = TorchArranger(satb, model)
    for seed in range(3):
        perf = piece_from_notes(piece(seed), satb.part_names)
        for horizon in (None, 0.030):
            ours = replay(perf, arranger, horizon)
            ref = replay(perf, torch_arr, horizon)
            assert (ours.final >= 0).all()
            np.testing.assert_array_equal(ours.onset, ref.onset)
            np.testing.assert_array_equal(ours.final, ref.final)


def test_deciding_quickly_leaves_the_model_as_it_was(arranger, satb):
    """Behind the input the model does not step (its cache stays), the rule obeys the
    preset's ranges and a hint is kept."""
    state = PerformanceState(len(satb.parts))
    first = NoteEvent(Kind.NOTE_ON, 0.0, 60, 80)
    state.note_on(60, 0.0, arranger.assign(first, state))
    pos, valid = int(arranger.ring.pos[0]), arranger.ring.valid.copy()
    bass = satb.parts[3]
    for pitch in range(bass.low, satb.parts[0].high + 1):
        note = NoteEvent(Kind.NOTE_ON, 0.001, pitch, 80)
        part = arranger.decide_quickly(note, state)
        assert satb.parts[part].low <= pitch <= satb.parts[part].high
    hinted = NoteEvent(Kind.NOTE_ON, 0.002, 50, 80, hint=1)
    assert arranger.decide_quickly(hinted, state) == 1
    assert int(arranger.ring.pos[0]) == pos and np.array_equal(arranger.ring.valid, valid)
