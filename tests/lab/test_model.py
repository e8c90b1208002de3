"""The part model family: one loader for every file a trainer writes, and each model's
batched stepper (what the roll-outs drive) equal to its own one-stream step."""

from __future__ import annotations

import pytest
import torch

from livearranger.ensemble import N_BEAT, N_DESC
from livearranger.features import N_GLOBAL, N_PER_PART, feature_dim
from livearranger.lab.lstm import OnlineLSTM
from livearranger.lab.model import (
    EnsembleTransformer,
    Inputs,
    PartTransformer,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_weights,
)
from livearranger.lab.trainer import train

torch.set_num_threads(1)


def _part() -> PartTransformer:
    torch.manual_seed(0)
    return PartTransformer(feature_dim(3), 3, d_model=16, n_layers=2, n_heads=2, window=4,
                           d_ff=32).eval()


def _ensemble() -> EnsembleTransformer:
    torch.manual_seed(0)
    return EnsembleTransformer(d_model=16, n_layers=2, n_heads=2, window=4, d_ff=32,
                               d_part=8).eval()


def _streams(steps: int, seed: int, p: int = 3) -> tuple[torch.Tensor, ...]:
    """Random inputs of three streams of ``steps`` notes of a ``p``-part ensemble:
    features, tokens, beats, parts, part mask and (no) hints."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(3, steps, N_GLOBAL + p * N_PER_PART, generator=g),
            torch.randint(0, p, (3, steps, 2), generator=g),
            torch.randn(3, steps, N_BEAT, generator=g),
            torch.randn(3, p, N_DESC, generator=g),
            torch.ones(3, p, dtype=torch.bool), torch.zeros(3, p))


def test_load_model_reads_every_kind_of_file(tmp_path):
    part, ens, lstm = _part(), _ensemble(), OnlineLSTM(3, d_model=8, n_layers=2)
    save_checkpoint(tmp_path / "p.pt", part, {"parts": ["a", "b", "c"]})
    save_checkpoint(tmp_path / "l.pt", lstm, {"kind": "lstm"})
    save_weights(tmp_path / "e.npz", ens, {"note": "x"})
    for path, want in (("p.pt", part), ("l.pt", lstm), ("e.npz", ens)):
        got, _meta = load_model(tmp_path / path)
        assert type(got) is type(want) and not got.training
        assert all(torch.equal(a, b) for a, b in zip(got.state_dict().values(),
                                                     want.state_dict().values(), strict=True))
    assert load_model(tmp_path / "p.pt")[1]["window"] == 4
    with pytest.raises(ValueError, match="not a per-ensemble"):
        load_checkpoint(tmp_path / "l.pt")


@torch.no_grad()
@pytest.mark.parametrize("make", [_part, _ensemble])
def test_the_batched_stepper_equals_each_streams_own_step(make):
    """Three streams stepped together, one dropped on the way (a finished piece), past
    the window so the ring wraps: each stream's logits are those of its own step."""
    model = make()
    steps = 11
    f, tok, beat, parts, mask, hints = _streams(steps, seed=1)
    stepper = model.stepper(3)
    rows = [0, 1, 2]
    got: dict[int, list[torch.Tensor]] = {0: [], 1: [], 2: []}
    for t in range(steps):
        if t == 6:
            rows = [0, 2]
            stepper.keep([0, 2])
        out = stepper.step(Inputs(f[rows, t], tok[rows, t], beat[rows, t], parts[rows],
                                  mask[rows], hints[rows]))
        for k, b in enumerate(rows):
            got[b].append(out[k])
    for b in range(3):
        past, pos, valid = model.empty_cache(None if isinstance(model, PartTransformer)
                                             else 1)
        for t in range(len(got[b])):
            if isinstance(model, PartTransformer):
                want, kv = model.step(f[b:b + 1, t], tok[b:b + 1, t], past, pos, valid)
                past[:, :, :, int(pos)] = kv
            else:
                want, kv = model.step(f[b:b + 1, t], tok[b:b + 1, t], beat[b:b + 1, t],
                                      parts[b:b + 1], mask[b:b + 1], past, pos, valid)
                past[:, :, :, :, int(pos)] = kv
            valid[int(pos)] = True
            pos = (pos + 1) % model.window
            assert torch.allclose(got[b][t], want[0], atol=1e-5)


def test_only_a_model_that_branches_is_taught_first_decisions(tmp_path):
    with pytest.raises(ValueError, match="first decisions"):
        train([], [], tmp_path / "e", model=_ensemble(), onsets=True, log=lambda s: None)


@torch.no_grad()
@pytest.mark.parametrize("make", [_part, _ensemble])
def test_each_stream_takes_back_its_own_steps(make):
    """Streams that mark and rewind at different times (a chord decided again), one by
    more steps than the window holds: each stream's logits are those of its own step
    over the history it kept, as the runtime's ring gives it."""
    model = make()
    steps, w = 16, model.window
    f, tok, beat, parts, mask, hints = _streams(steps, seed=2)
    marks = {0: {2: "mark", 5: "rewind", 9: "mark", 11: "rewind"},
             1: {4: "mark", 10: "rewind"}, 2: {}}
    stepper = model.stepper(3)
    history: dict[int, list[torch.Tensor]] = {0: [], 1: [], 2: []}
    marked: dict[int, int] = {}
    for t in range(steps):
        for b in range(3):
            what = marks[b].get(t)
            if what == "mark":
                stepper.mark(b)
                marked[b] = len(history[b])
            elif what == "rewind":
                stepper.rewind(b)
                del history[b][marked.pop(b):]
        out = stepper.step(Inputs(f[:, t], tok[:, t], beat[:, t], parts, mask, hints))
        for b in range(3):
            ens = not isinstance(model, PartTransformer)
            past, pos, valid = model.empty_cache(1 if ens else None)
            n = len(history[b])
            pos[0] = n % w
            for i in range(max(0, n - (w - 1)), n):
                if ens:
                    past[:, :, :, :, i % w] = history[b][i]
                else:
                    past[:, :, :, i % w] = history[b][i]
                valid[i % w] = True
            if ens:
                want, kv = model.step(f[b:b + 1, t], tok[b:b + 1, t], beat[b:b + 1, t],
                                      parts[b:b + 1], mask[b:b + 1], past, pos, valid)
            else:
                want, kv = model.step(f[b:b + 1, t], tok[b:b + 1, t], past, pos, valid)
            history[b].append(kv)
            assert torch.allclose(out[b], want[0], atol=1e-5), (b, t)
