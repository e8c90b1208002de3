"""The model card: data with its licenses, training, figures beside the rules."""

from __future__ import annotations

import json

import models.card as card_mod


def _summary(**kw):
    return {"dataset": "quartets + bach", "sources": ["openscore"], "preset": "x",
            "parts": ["a", "b"], "command": "python -m models.train --dataset quartets",
            "seed": 3, "window": 32, "parameters": 1234, "epochs_run": 9, "best_epoch": 7,
            "wall_minutes": 12.5, "hardware": "x86_64 CPU, 2 cores",
            "valid_accuracy": {"epoch": 7, "loss": 0.3, "score": 81.5}, **kw}


def _row(row, acc, cond="score"):
    return {"row": row, "dataset": "quartets", "condition": cond, "accuracy": acc,
            "accuracy_onset": acc - 1, "moves_per_100": 2.0, "link_f1": 0.5,
            "parts": ["a", "b"], "recall": [90.0, 70.0], "horizon_ms": 30}


def test_card_names_licenses_of_the_sources_used_and_figures_beside_rules():
    rows = [_row("model (x)", 80.0), _row("zone", 60.0), _row("voice-leading", 70.0),
            _row("ensemble model", 65.0), _row("zone", 99.0, "as-played")]
    text = card_mod.card("x", _summary(), rows)
    assert "openscore: CC0 1.0" in text and "CCARH" not in text     # only what it learned
    assert "the music is public domain" in text                       # the music21 corpus
    assert "python -m models.train --dataset quartets" in text and "Seed 3" in text
    assert "| quartets | score | 80.00 (79.00) |" in text
    assert "voice-leading 70.00 | 65.00 |" in text          # the best rule of its condition
    assert "score 81.50" in text and "loss" not in text.split("Best epoch")[1].split("\n")[0]


def test_the_command_ships_the_summary_and_refuses_without_one(tmp_path, monkeypatch,
                                                               capsys):
    monkeypatch.setattr(card_mod, "SHIPPED", tmp_path)
    assert card_mod.main(["x", "--results", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    src = tmp_path / "s.json"
    src.write_text(json.dumps(_summary()))
    assert card_mod.main(["x", "--summary", str(src), "--results",
                          str(tmp_path / "none.json")]) == 0
    assert (tmp_path / "x.training.json").exists()
    assert "No results row yet" in (tmp_path / "x.md").read_text()


def test_a_continued_run_names_every_stage_first_to_last():
    first = _summary(command="python -m models.train --out a.pt", wall_minutes=27.0)
    second = _summary(command="python -m models.train --init a.pt --out b.pt",
                      continued_from=first)
    third = _summary(command="python -m models.train --init b.pt --out c.pt",
                     continued_from=second)
    text = card_mod.card("x", third, [])
    training = text.split("## Training")[1]
    one, two, cmd = (training.index(s) for s in ("Stage 1: `python -m models.train --out a.pt`",
                                                 "Stage 2: `python -m models.train --init a.pt",
                                                 "Command: `python -m models.train --init b.pt"))
    assert one < two < cmd and "27.0 minutes" in training
