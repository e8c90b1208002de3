"""``livearranger bench``: each benchmark runs on a small scale and reports its figures."""

from __future__ import annotations

import json

import pytest
import torch

from livearranger.events import Kind
from livearranger.features import FEATURE_VERSION, feature_dim
from livearranger.lab import bench
from livearranger.lab.export import export_step, export_window
from livearranger.lab.model import PartTransformer
from livearranger.presets import load_preset

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def small_onnx(tmp_path_factory):
    torch.manual_seed(0)
    model = PartTransformer(feature_dim(4), 4, d_model=32, n_layers=2, n_heads=2, window=8,
                            d_ff=64).eval()
    meta = {"parts": load_preset("satb").part_names, "feature_version": FEATURE_VERSION}
    folder = tmp_path_factory.mktemp("bench")
    path = export_step(model, folder / "tiny.onnx", meta)
    return path


def _run(capsys, *argv: str) -> dict:
    assert bench.main(list(argv)) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1                      # one JSON object, nothing else
    return json.loads(out[0])


def test_looped_performance_counts_notes_and_releases_every_key():
    events = list(bench.looped(500))
    ons = [e for e in events if e.is_note_on]
    assert len(ons) == 500
    assert all(e.is_note_on or e.kind is Kind.NOTE_OFF for e in events)
    assert len({id(e) for e in events}) == len(events)     # the engine writes into each
    times = [e.time for e in events]
    assert times == sorted(times)
    down: dict[int, int] = {}
    for e in events:
        down[e.pitch] = down.get(e.pitch, 0) + (1 if e.is_note_on else -1)
        down[e.pitch] = max(down[e.pitch], 0)     # a repeated strike is closed by one off
    assert not any(down.values())


def test_bench_model_reports_step_figures(tmp_path, capsys, small_onnx):
    out = tmp_path / "model.json"
    r = _run(capsys, "model", "--json", "--notes", "1500", "--model", str(small_onnx),
             "--out", str(out))
    assert r["notes"] == 1500
    for key in ("step_p50_ms", "step_p99_ms", "step_max_ms", "first_p50_ms", "last_p50_ms",
                "graph_p50_ms", "nocache_p50_ms", "speedup_p50", "offline_notes_per_s"):
        assert r[key] > 0, key
    assert r["step_p50_ms"] <= r["step_p99_ms"] <= r["step_max_ms"]
    assert r["provider"] == "CPUExecutionProvider"
    assert r["window"] == 8 and "step graph re-run" in r["nocache_method"]
    assert isinstance(r["flat"], bool)
    assert json.loads(out.read_text()) == r


def test_bench_model_times_a_full_window_graph_when_given(tmp_path, capsys, small_onnx):
    torch.manual_seed(0)
    model = PartTransformer(feature_dim(4), 4, d_model=32, n_layers=2, n_heads=2, window=8,
                            d_ff=64).eval()
    meta = {"parts": load_preset("satb").part_names, "feature_version": FEATURE_VERSION}
    full = export_window(model, tmp_path / "tiny.full.onnx", meta)
    r = _run(capsys, "model", "--json", "--notes", "300", "--model", str(small_onnx),
             "--nocache-model", str(full), "--out", str(tmp_path / "m.json"))
    assert r["nocache_method"].startswith("full-window graph over the last 8 notes")
    assert r["nocache_p50_ms"] > 0


def test_bench_memory_reports_growth(tmp_path, capsys, small_onnx):
    r = _run(capsys, "memory", "--json", "--notes", "2000", "--model", str(small_onnx),
             "--out", str(tmp_path / "mem.json"))
    assert r["notes"] == 2000
    assert r["rss_start_mb"] > 0 and r["rss_end_mb"] > 0
    assert r["growth_mb"] == pytest.approx(r["rss_end_mb"] - r["rss_start_mb"], abs=0.02)
    assert r["messages_out"] >= 2 * 2000        # every note on and off went out
    assert r["sounding_after_panic"] == 0


def test_bench_refuses_a_bad_model_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"junk")
    assert bench.main(["model", "--json", "--notes", "10", "--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("livearranger bench: error: bad.onnx: not a usable ONNX model")
    assert "\n" not in err


@pytest.mark.jack
def test_bench_live_measures_both_paths_through_jack(tmp_path, capsys):
    r = _run(capsys, "live", "--json", "--arranger", "closest-pitch", "--notes", "40",
             "--speed", "6", "--out", str(tmp_path / "live.json"))
    assert r["delivered"] is True
    if r["jack_xruns"] == 0:
        assert r["received_model"] == r["received_thru"] == 40
    else:                       # a late JACK cycle loses what it carried, inside JACK
        assert 40 - 2 * r["jack_xruns"] <= min(r["received_model"], r["received_thru"])
    assert r["unmatched_thru"] == 0
    assert r["horizon_ms"] == 30.0                  # satb's: corrected keys move
    assert r["unmatched_model"] == r["moves"]       # each move: one more note-on, no more
    for key in ("model_p99_ms", "thru_p99_ms", "engine_in_to_send_p99_ms"):
        assert r[key] > 0, key
    assert "added_p99_ms" in r and r["arranger"] == "closest-pitch"


@pytest.mark.jack
def test_bench_soak_plays_through_jack_and_leaves_nothing_sounding(tmp_path, capsys):
    r = _run(capsys, "soak", "--json", "--arranger", "closest-pitch", "--notes", "12000",
             "--out", str(tmp_path / "soak.json"))
    assert r["notes_sent"] == 12000 and r["dropped_note_ons"] == 0
    if r["jack_xruns"] == 0:
        assert r["notes_in"] == 12000
    else:                       # a late JACK cycle loses what it carried, inside JACK
        assert 12000 - 50 * r["jack_xruns"] <= r["notes_in"] <= 12000, r["jack_xrun_clients"]
    assert r["sounding_after_stop"] == 0
    assert len(r["windows"]) >= 2
    for key in ("first_windows_p99_ms", "last_windows_p99_ms", "rss_first_mb",
                "rss_last_mb"):
        assert r[key] > 0, key
