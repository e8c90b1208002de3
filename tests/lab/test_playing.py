"""The measurement of real playing: chord spread, first key, joins, and humanize's
distributions written from it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from livearranger.lab import playing
from livearranger.lab.collections.asap_bach import Aligned
from tests.lab.collections.make import write_text


def _chord(t, spread_ms, pitches, first, score, length=1.0, voice0=1):
    """A chord at score time ``score`` played from ``t``; key ``first`` (an index into
    ``pitches``) first, the others at ``spread_ms``."""
    out = []
    for k, p in enumerate(pitches):
        on = t + (0.0 if k == first else spread_ms / 1000.0)
        out.append(Aligned(on, on + 0.4, score, score + length, p, 64, f"v{voice0 + k}"))
    return out


def test_spreads_first_keys_and_tempo():
    notes = []
    for i in range(9):                                    # a quarter a second: 60 q/min
        notes += _chord(float(i), (10.0, 20.0, 40.0)[i % 3], [60, 64, 67], first=2 if i < 6 else 0,
                        score=float(i))
    fig = playing.measure(playing.observe([notes]))
    assert fig["chords"] == 9
    assert fig["spread_ms"]["p50"] == pytest.approx(20.0)
    assert fig["first_key_share"]["highest"] == pytest.approx(100 * 6 / 9, abs=0.01)
    assert fig["first_key_share"]["lowest"] == pytest.approx(100 * 3 / 9, abs=0.01)
    assert fig["spread_over_30ms"] == pytest.approx(100 / 3, abs=0.01)
    # every chord at about 60 quarter notes a minute: all thirds lie near it
    for row in fig["spread_by_tempo"].values():
        assert 55 < row["range"][0] <= row["range"][1] < 65


def test_joins_are_written_ends_meeting_the_next_start_in_one_voice():
    legato = [Aligned(0.0, 1.05, 0.0, 1.0, 60, 64, "v1"), Aligned(1.0, 1.9, 1.0, 2.0, 62, 64,
                                                                   "v1")]
    gap = [Aligned(3.0, 3.8, 3.0, 4.0, 64, 64, "v1"), Aligned(4.0, 4.5, 4.0, 5.0, 65, 64, "v1")]
    rest = [Aligned(6.0, 6.5, 6.0, 6.5, 67, 64, "v1"), Aligned(7.0, 7.5, 7.0, 8.0, 69, 64,
                                                                "v1")]
    other_voice = [Aligned(8.0, 9.2, 8.0, 9.0, 40, 64, "v2")]
    j = playing.joins(legato + gap + rest + other_voice)
    assert sorted(round(x) for x in j) == [-200, 50]      # the rest and the other voice: none


def test_the_command_writes_figures_and_humanize_params(tmp_path):
    rows = []
    for i in range(12):
        t = i * 0.5
        rows.append(f"snote(n{i}a,[C,n],4,1:1,0,1/4,{i}.0000,{i + 1}.0000,[v1,staff1])"
                    f"-note(m{i}a,{72 + i % 3},{int(t * 960)},{int(t * 960) + 500},60,0,0).")
        rows.append(f"snote(n{i}b,[C,n],3,1:1,0,1/4,{i}.0000,{i + 1}.0000,[v5,staff2])"
                    f"-note(m{i}b,{48 + i % 3},{int(t * 960) + 10},{int(t * 960) + 480},50,0,0).")
    text = ("info(midiClockUnits,480).\ninfo(midiClockRate,500000).\n"
            "scoreprop(timeSignature,4/4,1:1,0,0.0000).\n" + "\n".join(rows) + "\n")
    root = tmp_path / "asap-bach"
    write_text(root / "Bach" / "Fugue" / "bwv_846" / "A.match", text)
    out, params = tmp_path / "fig", tmp_path / "playing.json"
    assert playing.main(["--data", str(tmp_path), "--split", "all", "--out", str(out),
                         "--params", str(params)]) == 0
    fig = json.loads(out.with_suffix(".json").read_text())
    assert fig["chords"] == 12 and fig["first_key_share"]["highest"] == 100.0
    assert fig["spread_ms"]["p50"] == pytest.approx(1000 * 10 / 960, abs=0.01)
    p = json.loads(params.read_text())
    assert len(p["probs"]) == len(p["spread"]["2"]) == len(playing.PROBS)
    assert np.allclose(p["spread"]["2"], 10 / 960, atol=1e-5)
    assert p["first"]["highest"] == 1.0
    assert "chord spread" in out.with_suffix(".md").read_text()


def test_no_match_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert playing.main(["--data", str(tmp_path), "--out", str(tmp_path / "f"),
                         "--params", str(tmp_path / "p.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
