"""The collections' results table: every arranger on a collection folder, merged per
collection into one JSON and one page."""

from __future__ import annotations

import json

import pytest

import models.evaluate_collections as ec
from tests.lab.collections.make import write_pop909


def test_rows_for_each_arranger_and_condition_merged_per_collection(tmp_path):
    data = tmp_path / "data"
    write_pop909(data, train=3, valid_seed=7)
    out = tmp_path / "res"
    kept = {"dataset": "nes", "condition": "score", "row": "zone", "pieces": 1, "notes": 9,
            "preset": "chiptune", "accuracy": 50.0, "accuracy_onset": 50.0,
            "moves_per_100": 0.0, "pair_precision": 50.0, "pair_recall": 50.0,
            "link_f1": 0.5, "parts": ["a"], "recall": [50.0]}
    out.with_suffix(".json").write_text(json.dumps({"rows": [kept]}))
    assert ec.main(["--data", str(data), "--collections", "pop909",
                    "--out", str(out)]) == 0
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    mine = [r for r in rows if r["dataset"] == "pop909"]
    assert {r["condition"] for r in mine} == {"score", "as-played"}
    assert {r["row"] for r in mine} >= {"ensemble model", "zone", "voice-leading"}
    assert all(r["notes"] == 16 + 8 + 48 for r in mine)
    assert rows[0] == kept          # the other collection's row, in the collections' order
    page = out.with_suffix(".md").read_text()
    assert "## pop909, as-played" in page and "| zone |" in page


def test_rows_named_are_run_again_and_the_others_kept(tmp_path):
    data = tmp_path / "data"
    write_pop909(data, train=3, valid_seed=7)
    out = tmp_path / "res"
    stale = {"dataset": "pop909", "condition": "score", "row": "zone", "pieces": 1,
             "notes": 1, "preset": "pop-trio", "accuracy": 1.0, "accuracy_onset": 1.0,
             "moves_per_100": 0.0, "pair_precision": 1.0, "pair_recall": 1.0,
             "link_f1": 0.5, "parts": ["melody"], "recall": [1.0]}
    kept = {**stale, "row": "voice-leading", "accuracy": 2.0}
    out.with_suffix(".json").write_text(json.dumps({"rows": [kept, stale]}))
    assert ec.main(["--data", str(data), "--collections", "pop909", "--rows", "zone",
                    "--out", str(out)]) == 0
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [(r["condition"], r["row"]) for r in rows] == [
        ("score", "zone"), ("score", "voice-leading"), ("as-played", "zone")]
    assert rows[1] == kept
    assert rows[0]["notes"] == 16 + 8 + 48 and rows[0]["accuracy"] != 1.0


def test_a_row_no_arranger_has_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "res"
    with pytest.raises(SystemExit) as stop:
        ec.main(["--data", str(tmp_path), "--collections", "pop909", "--rows", "zonee",
                 "--out", str(out)])
    assert stop.value.code == 2
    assert "no row 'zonee' on pop909" in capsys.readouterr().err
    assert not out.with_suffix(".json").exists()


def test_the_lstm_row_is_the_baseline_trained_on_that_collection(tmp_path, monkeypatch):
    monkeypatch.setattr(ec, "CHECKPOINTS", tmp_path)
    (tmp_path / "pop909-lstm.pt").write_bytes(b"")
    (tmp_path / "pop-trio-lstm.pt").write_bytes(b"")     # named by preset: not this row
    rows = {label: opts for label, _, opts in ec.arrangers("pop909")}
    assert rows["online LSTM"] == {"checkpoint": str(tmp_path / "pop909-lstm.pt")}
    assert "online LSTM" not in {label for label, _, _ in ec.arrangers("nes")}
