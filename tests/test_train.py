"""Training smoke runs (a few steps on real chorales) and the batched rollout used for
validation and DAgger, checked against the engine-order evaluation of the same model."""

from __future__ import annotations

import json

import numpy as np
import torch

from livearranger.constraints import Constraints
from livearranger.features import feature_dim
from livearranger.lab.datasets import load_pieces
from livearranger.lab.evaluate import performance, replay
from livearranger.lab.lstm import rollout_lstm
from livearranger.lab.model import PartTransformer, load_checkpoint, load_lstm
from livearranger.lab.rollout import rollout
from livearranger.lab.torch_arrangers import TorchLSTMArranger, TorchModelArranger
from livearranger.lab.trainer import collate, examples
from livearranger.lab.training import CHORD_GROUP, chunks, masked_nll, teacher
from livearranger.presets import load_preset
from models.train import train


def test_chunks_cover_every_note_once():
    for n in (5, 96, 97, 500):
        seen = []
        for s, e, first in chunks(n, 128, 96):
            assert 0 <= s <= first < e <= n and e - s <= 128
            seen += list(range(first, e))
        assert seen == list(range(n))


def test_masked_nll_accepts_any_part_of_a_unison():
    logits = torch.tensor([[[5.0, 5.0, -5.0]]])
    both = torch.tensor([[[True, True, False]]])
    one = torch.tensor([[[True, False, False]]])
    assert masked_nll(logits, both) < 0.01 < masked_nll(logits, one)


def test_model_smoke_and_rollout_matches_engine_replay(tmp_path):
    out = tmp_path / "satb.pt"
    r = train("bach", "model", minutes=5, epochs=2, patience=5, train_limit=6,
              valid_limit=2, window=8, dagger_from=1, dagger_pieces=3, out=out,
              log=lambda s: None)
    assert out.exists() and len(r["history"]) == 2
    assert r["history"][1]["loss"] < r["history"][0]["loss"] * 1.5
    model, meta = load_checkpoint(out)
    assert meta["parts"] == ["soprano", "alto", "tenor", "bass"] and model.window == 8
    preset = load_preset("satb")
    piece = performance(load_pieces("bach", "valid", 1)[0], "as-played")
    (rep,) = rollout(model, [piece], [preset])
    arr = TorchModelArranger(preset, model)
    pred = replay(piece, arr).final
    assert np.array_equal(rep.chosen, pred)
    # chords decided again, streams stepped together: each stream's history follows its
    # own chords' marks and rewinds, so every final part is the engine's
    pieces = [performance(p, "as-played", i)
              for i, p in enumerate(load_pieces("bach", "valid", 3))]
    groups = [CHORD_GROUP, None, CHORD_GROUP]
    reps = rollout(model, pieces, [preset] * 3, groups)
    for got, one, group in zip(reps, pieces, groups, strict=True):
        engine = replay(one, TorchModelArranger(preset, model), group)
        assert np.array_equal(got.chosen, engine.final)
        if group is not None:
            assert engine.moves > 0 and len(got.history()) == len(one)


def test_lstm_smoke(tmp_path):
    out = tmp_path / "satb-lstm.pt"
    r = train("bach", "lstm", minutes=5, epochs=1, train_limit=4, valid_limit=1, out=out,
              log=lambda s: None)
    assert out.exists() and r["best_epoch"] == 0
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["kind"] == "lstm" and summary["window"] is None
    assert summary["parameters"] > 0 and summary["epochs_run"] == 1
    model, _ = load_lstm(out)
    preset = load_preset("satb")
    piece = performance(load_pieces("bach", "valid", 1)[0], "score")
    (rep,) = rollout_lstm(model, [piece], preset, Constraints(preset))
    arr = TorchLSTMArranger(preset, model)
    assert np.array_equal(rep.chosen, replay(piece, arr).final)


def test_first_decisions_are_taught_on_the_history_they_had():
    """A chunk holds the settled line and, after it, each chord key's first decision;
    the one forward over the chunk gives every note the logits of the line of history
    the engine's ring held when that note was decided."""
    torch.manual_seed(0)
    preset = load_preset("satb")
    piece = performance(load_pieces("bach", "valid", 1)[0], "as-played")
    r = teacher(piece, preset, Constraints(preset), np.random.default_rng(0),
                group=CHORD_GROUP, sound=True)
    model = PartTransformer(feature_dim(4), 4, window=8).eval()
    (ex,) = examples([r], [preset], 10**6, onsets=True)       # one chunk: the whole piece
    x, _target = collate([ex], model.window)
    with torch.no_grad():
        got = model(*model.forward_args(x))[0]
        order = r.history()
        line = model(torch.from_numpy(r.features[order])[None],
                     torch.from_numpy(r.tokens[order])[None])[0]
        assert torch.allclose(got[:len(order)], line, atol=1e-5)   # untouched by branches
        on = r.onsets
        rows = range(len(order), len(order) + on.count)
        for row, b in zip(rows, range(on.count), strict=True):
            if b % 7:
                continue
            start, g = on.start[b], on.group[b]
            mine = np.flatnonzero((on.group[:on.count] == g) & (on.k[:on.count] <= on.k[b]))
            f = np.concatenate([r.features[order[:start]], on.features[mine]])
            t = np.concatenate([r.tokens[order[:start]], on.tokens[mine]])
            ref = model(torch.from_numpy(f)[None], torch.from_numpy(t)[None])[0, -1]
            assert torch.allclose(got[row], ref, atol=1e-5)


def test_train_on_a_collection_folder(tmp_path):
    from tests.lab.collections.make import write_pop909

    data = tmp_path / "data"
    write_pop909(data, train=4, valid_seed=9)
    out = tmp_path / "pop.pt"
    r = train(["pop909"], minutes=5, epochs=2, window=8, dagger_from=5, out=out,
              data=data, epoch_items=2, valid_rollouts=1, log=lambda s: None)
    assert len(r["history"]) == 2 and out.exists()
    model, meta = load_checkpoint(out)
    assert meta["parts"] == ["melody", "bridge", "piano"] and meta["dataset"] == "pop909"
    assert set(r["history"][0]) >= {"pop909 score", "pop909 as-played"}
    card = json.loads(out.with_suffix(".json").read_text())     # what the model card reads
    assert card["dataset"] == "pop909" and card["epochs_run"] == 2 and card["seed"] == 0
    assert card["valid_accuracy"]["epoch"] == r["best_epoch"]
    assert card["training_pieces"] == 4 and "cores" in card["hardware"]
    # a continuation keeps the checkpoint's window, or widens it when asked
    for asked, got in ((None, 8), (16, 16)):
        more = tmp_path / f"more-{asked}.pt"
        train(["pop909"], minutes=5, epochs=1, window=asked, init=out, dagger_from=5,
              out=more, data=data, epoch_items=1, valid_rollouts=1, log=lambda s: None)
        assert load_checkpoint(more)[0].window == got
        summary = json.loads(more.with_suffix(".json").read_text())
        assert summary["window"] == got
        assert summary["continued_from"] == card          # its first stage, for the card


def test_an_epoch_replays_its_own_draw_of_segments(monkeypatch, tmp_path):
    import livearranger.lab.trainer as trainer
    from livearranger.lab.trainer import Item
    from livearranger.lab.trainer import train as train_items

    preset = load_preset("satb")
    items = [Item(p, preset, "bach") for p in load_pieces("bach", "train", 6)]
    seen: list[list[str]] = []
    real = trainer.teacher

    def counting(perf, *a, **k):
        seen[-1].append(perf.name)
        return real(perf, *a, **k)

    def validate(model, valid):
        seen.append([])
        return {"score": 0.0}

    seen.append([])
    monkeypatch.setattr(trainer, "teacher", counting)
    monkeypatch.setattr(trainer, "validate", validate)
    model = PartTransformer(feature_dim(4), 4, window=8)
    train_items(items, [], tmp_path / "m.pt", minutes=5, epochs=3, dagger_from=9,
                epoch_items=2, model=model, widen_most=0, patience=9, log=lambda s: None)
    drawn = [sorted(s) for s in seen[:3]]
    assert all(len(s) == 2 for s in drawn)                    # two segments an epoch
    assert len({tuple(s) for s in drawn}) > 1                 # a fresh draw each epoch


def test_a_missing_data_folder_is_one_line_and_exit_2(tmp_path, capsys):
    from models.train import main
    assert main(["--dataset", "pop909", "--data", str(tmp_path / "none"),
                 "--out", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none: no such folder" in err
    assert not (tmp_path / "m.pt").exists()


def test_a_checkpoint_it_cannot_write_is_said_before_any_data_is_read(tmp_path, capsys):
    from models.train import main
    (tmp_path / "file").write_text("")
    assert main(["--dataset", "pop909", "--data", str(tmp_path / "none"),
                 "--out", str(tmp_path / "file" / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "m.pt: cannot write the checkpoint there" in err
