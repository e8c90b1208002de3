"""The part-conditioned ensemble model: stream = sequence, padding changes nothing, the
ONNX step graph equals PyTorch for any number of parts, and training's roll-out decides
exactly what the engine decides with the exported graph."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnxruntime as ort
import pytest
import torch

from livearranger.arrangers.onnx_model import OnnxArranger
from livearranger.ensemble import N_BEAT, N_DESC
from livearranger.events import Kind, NoteEvent
from livearranger.features import N_GLOBAL, N_PER_PART
from livearranger.lab.datasets import load_pieces
from livearranger.lab.evaluate import first_of_each_part, performance, replay
from livearranger.lab.export import export_step
from livearranger.lab.model import (
    EnsembleTransformer,
    load_weights,
    save_weights,
    with_hint_input,
)
from livearranger.lab.rollout import rollout
from livearranger.lab.trainer import Item, train, widen
from livearranger.lab.training import simulate_hints
from livearranger.presets import Part, Preset, load_preset
from livearranger.state import PerformanceState

torch.set_num_threads(1)


def small(seed: int = 0) -> EnsembleTransformer:
    torch.manual_seed(seed)
    return EnsembleTransformer(d_model=32, n_layers=2, n_heads=2, window=8, d_ff=64,
                               d_part=16).eval()


def inputs(b: int, t: int, p: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    f = torch.randn(b, t, N_GLOBAL + p * N_PER_PART, generator=g)
    tok = torch.randint(0, 128, (b, t, 2), generator=g)
    beat = torch.randn(b, t, N_BEAT, generator=g)
    parts = torch.randn(b, p, N_DESC, generator=g)
    return f, tok, beat, parts


@torch.no_grad()
def test_streaming_equals_the_sequence_and_padding_changes_nothing():
    m = small()
    f, tok, beat, parts = inputs(2, 40, 5)
    mask = torch.ones(2, 5, dtype=torch.bool)
    mask[1, 3:] = False
    f[1, :, N_GLOBAL + 3 * N_PER_PART:] = 0.0
    full = m(f, tok, beat, parts, mask)
    assert (full[1, :, 3:] < -1e3).all()                 # padded parts never win
    alone = m(f[1:, :, :N_GLOBAL + 3 * N_PER_PART], tok[1:], beat[1:], parts[1:, :3],
              mask[1:, :3])
    assert torch.allclose(alone, full[1:, :, :3], atol=1e-5)
    past, pos, valid = m.empty_cache(2)
    for t in range(40):                                  # 5 windows: the ring wraps
        logits, kv = m.step(f[:, t], tok[:, t], beat[:, t], parts, mask, past, pos, valid)
        assert torch.allclose(logits, full[:, t], atol=1e-4)
        past[:, :, :, :, int(pos)] = kv
        valid[int(pos)] = True
        pos = (pos + 1) % m.window


@torch.no_grad()
def test_the_onnx_step_graph_equals_torch_for_any_number_of_parts(tmp_path):
    m = small(1)
    path = export_step(m, tmp_path / "e.onnx", {"data": "test"})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    assert meta["format"] == "livearranger-ensemble-1" and meta["max_parts"] == "16"
    for n in (1, 2, 5, 16):
        f, tok, beat, parts = inputs(1, 1, n, seed=n)
        past = torch.randn(2, 2, 1, 2, 8, 16)
        pos, valid = torch.tensor([3]), torch.rand(8) > 0.3
        want, kv = m.step(f[:, 0], tok[:, 0], beat[:, 0], parts, torch.ones(1, n, dtype=bool),
                          past, pos, valid)
        got, got_kv = sess.run(None, {
            "features": f[:, 0].numpy(), "tokens": tok[:, 0].numpy(),
            "beat": beat[:, 0].numpy(), "parts": parts[0].numpy(),
            "past_kv": past[:, :, 0].numpy(), "pos": pos.numpy(), "valid": valid.numpy()})
        assert got.shape == (1, n)
        assert np.abs(got - want.numpy()).max() < 1e-4
        assert np.abs(got_kv - kv[:, :, 0].numpy()).max() < 1e-4


def test_weights_round_trip_without_pickle(tmp_path):
    m = small(2)
    path = save_weights(tmp_path / "w.npz", m, {"note": "x"})
    back, meta = load_weights(path)
    assert meta == {"note": "x"}
    for (k, a), (_, b) in zip(m.state_dict().items(), back.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    with np.load(path, allow_pickle=False) as z:          # plain arrays only
        assert all(z[k].dtype != object for k in z.files)


def test_training_runs_and_its_rollout_is_the_engines_decision(tmp_path):
    satb = load_preset("satb")
    items = [Item(p, satb, "bach") for p in load_pieces("bach", "train", 4)]
    valid = [Item(p, satb, "bach") for p in load_pieces("bach", "valid", 1)]
    r = train(items, valid, tmp_path / "e", minutes=5, patience=1, dagger_from=0,
              dagger_pieces=2, log=lambda s: None)
    assert len(r["history"]) >= 2 and 0.0 < r["best_valid"] <= 100.0
    model, meta = load_weights(tmp_path / "e.npz")
    assert meta["feature_version"] and not (tmp_path / "e.state.pt").exists()
    # a three-part ensemble the model never saw: the torch roll-out and the engine
    # stepping the exported graph decide the same part for every key
    trio = Preset("trio", tuple(Part(n, 0, c, lo, hi, mono=True) for n, c, lo, hi in
                                (("top", 0, 60, 84), ("mid", 1, 50, 74), ("low", 2, 36, 60))),
                  arranger="model")
    piece = load_pieces("bach", "valid", 1)[0]
    keep = piece.part < 3
    sub = dataclasses.replace(piece, part_names=piece.part_names[:3],
                              **{k: getattr(piece, k)[keep] for k in
                                 ("onset", "beat", "pitch", "velocity", "offset", "part",
                                  "mask")})
    perf = performance(sub, "as-played")
    (rep,) = rollout(model, [perf], [trio], [None])
    arr = OnnxArranger(trio, model=str(tmp_path / "e.onnx"))
    assert np.array_equal(rep.chosen, replay(perf, arr).final)


def test_widen_only_widens():
    rng = np.random.default_rng(0)
    satb = load_preset("satb")
    for _ in range(20):
        w = widen(satb, rng)
        for a, b in zip(satb.parts, w.parts, strict=True):
            assert b.low <= a.low and b.high >= a.high and b.high - a.high <= 4


@pytest.mark.parametrize("n", [1, 16])
def test_the_arranger_takes_one_to_sixteen_parts(tmp_path, n):
    path = export_step(small(3), tmp_path / "e.onnx", {"data": "test"})
    preset = Preset("many", tuple(Part(f"p{i}", 0, i, 30 + 3 * i, 60 + 3 * i)
                                  for i in range(n)), arranger="model")
    arr = OnnxArranger(preset, model=str(path))
    state = PerformanceState(n)
    for i in range(30):
        note = NoteEvent(Kind.NOTE_ON, 0.05 * i, 40 + i, 90)
        part = arr.assign(note, state)
        assert 0 <= part < n and (preset.parts[part].in_range(note.pitch)
                                  or not any(p.in_range(note.pitch) for p in preset.parts))
        state.note_on(note.pitch, note.time, part)


@torch.no_grad()
def test_a_model_given_the_hint_input_plays_the_same_until_a_hint_comes():
    m = small(4)
    h = with_hint_input(m).eval()
    assert h.hints and h.config["hints"] and not m.hints
    f, tok, beat, parts = inputs(1, 12, 4, seed=4)
    mask = torch.ones(1, 4, dtype=torch.bool)
    none = torch.zeros(1, 12, 4)
    assert torch.allclose(h(f, tok, beat, parts, mask, none), m(f, tok, beat, parts, mask))
    h.part_enc[0].weight[:, -1] = 1.0          # once trained, the flag is read
    hinted = none.clone()
    hinted[0, 3, 2] = 1.0
    assert not torch.allclose(h(f, tok, beat, parts, mask, hinted)[0, 3:],
                              h(f, tok, beat, parts, mask, none)[0, 3:])


@torch.no_grad()
def test_the_hint_graph_equals_torch_and_the_engine_decides_as_the_rollout(tmp_path):
    m = with_hint_input(small(5)).eval()
    m.part_enc[0].weight[:, -1] = 0.5
    path = export_step(m, tmp_path / "h.onnx", {"data": "test"})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sess.get_modelmeta().custom_metadata_map["format"] == "livearranger-ensemble-2"
    f, tok, beat, parts = inputs(1, 1, 3, seed=5)
    hint = torch.tensor([[0.0, 1.0, 0.0]])
    past, pos, valid = m.empty_cache(1)
    want, _ = m.step(f[:, 0], tok[:, 0], beat[:, 0], parts, torch.ones(1, 3, dtype=bool),
                     past, pos, valid, hint)
    got, _ = sess.run(None, {
        "features": f[:, 0].numpy(), "tokens": tok[:, 0].numpy(), "beat": beat[:, 0].numpy(),
        "parts": parts[0].numpy(), "past_kv": past[:, :, 0].numpy(), "pos": pos.numpy(),
        "valid": valid.numpy(), "hint": hint.numpy()})
    assert np.abs(got - want.numpy()).max() < 1e-4
    # the paper's entry hints, given by the engine through hint keys and by the training
    # roll-out as note hints: the same part for every key
    satb = load_preset("satb")
    piece = load_pieces("bach", "valid", 1)[0]
    perf = performance(piece, "as-played")
    hints = np.full(len(perf), -1, dtype=np.int64)
    for j, part in first_of_each_part(perf).items():
        hints[j] = part
    (rep,) = rollout(m, [perf], [satb], [None], hints=[hints])
    arr = OnnxArranger(satb, model=str(path))
    assert arr.reads_hints
    assert np.array_equal(rep.chosen, replay(perf, arr, hints="first").final)
    (plain,) = rollout(m, [perf], [satb], [None])
    assert not np.array_equal(plain.chosen, rep.chosen)      # the hints were heard
    seen = []
    for hint in (-1, 1):                                     # the graph reads the flag
        arr.reset()
        note = NoteEvent(Kind.NOTE_ON, 0.0, 60, 80, hint=hint)
        arr.decide(note, PerformanceState(4))
        seen.append(arr.last_logits.copy())
    assert not np.allclose(seen[0], seen[1])


def test_simulated_hints_give_true_parts():
    piece = load_pieces("bach", "valid", 1)[0]
    kinds = set()
    for seed in range(12):
        h = simulate_hints(piece, np.random.default_rng(seed))
        if h is None:
            kinds.add("none")
            continue
        at = h >= 0
        assert np.array_equal(h[at], piece.part[at])
        kinds.add("entry" if at.sum() == len(np.unique(piece.part)) else "taps")
    assert kinds == {"none", "entry", "taps"}
