"""`arrange --roll`: the arrangement drawn as a piano roll coloured by part."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.image import imread

from livearranger.cli import main
from livearranger.offline import arrange_file, demo_performance, read_performance
from livearranger.roll import RollError, RollNote, draw_confusion, draw_roll, recorded_notes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def arrange(out: Path, *extra: str) -> int:
    return main(["arrange", str(demo_performance()), "-o", str(out), *extra])


def test_png_roll_shows_every_part_in_its_colour(satb, tmp_path, capsys):
    roll = tmp_path / "roll.png"
    assert arrange(tmp_path / "out.mid", "--roll", str(roll)) == 0
    assert f"drew {roll}" in capsys.readouterr().out
    data = roll.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and 5_000 < len(data) < 200_000
    image = imread(str(roll))[..., :3]
    assert image.shape[0] >= 300 and image.shape[1] >= 800
    for part in range(len(satb.parts)):          # each part's notes are on the picture
        colour = np.array(colormaps["tab10"](part)[:3])
        close = np.abs(image - colour).max(axis=-1) < 0.02
        assert close.sum() > 200, satb.parts[part].name


def test_svg_roll_is_xml_with_the_part_names(satb, tmp_path):
    roll = tmp_path / "roll.svg"
    assert arrange(tmp_path / "out.mid", "--roll", str(roll), "--arranger",
                   "closest-pitch") == 0
    root = ET.parse(roll).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    for name in satb.part_names:
        assert name in text
    assert "closest-pitch" in text                   # the title names the arranger


def test_recorded_notes_are_the_keys_on_their_final_parts(satb, tmp_path):
    result = arrange_file(demo_performance(), tmp_path / "out.mid", satb)
    notes = recorded_notes(result.recorder)
    played = [m[1] for _t, m in read_performance(demo_performance())
              if m[0] & 0xF0 == 0x90 and m[2]]
    assert result.snapshot.moves > 0                   # some keys moved: drawn once each
    rec = result.recorder
    unisons = [rec.events[i][2][1] for i in rec.doubled]   # keys sung by a second part
    assert len(notes) == len(played) + len(unisons)
    assert sorted(n.pitch for n in notes) == sorted(played + unisons)
    assert all(n.end >= n.start for n in notes)
    assert all(satb.parts[n.part].in_range(n.pitch) for n in notes)


def test_a_roll_of_no_notes_still_names_the_parts(tmp_path):
    path = draw_roll([], ["left", "right"], tmp_path / "empty.svg")
    assert "right" in path.read_text()
    marked = draw_roll([RollNote(0.0, 1.0, 60, 0, wrong=True)], ["a"], tmp_path / "m.svg")
    assert "not its written part" in marked.read_text()


def test_alternatives_get_a_roll_each(tmp_path):
    assert arrange(tmp_path / "out.mid", "--alternatives", "2", "--roll",
                   str(tmp_path / "r.png")) == 0
    for name in ("r.png", "r-1.png", "r-2.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("roll, text", [
    ("roll.jpg", "a piano roll is drawn as .png or .svg, not .jpg"),
    ("roll", "not a file without an extension"),
    ("/proc/nope/roll.png", "/proc/nope/roll.png: cannot write the piano roll there"),
    (".", "a piano roll is drawn as .png or .svg"),
])
def test_a_bad_roll_path_is_refused_before_any_work(roll, text, tmp_path, capsys,
                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert arrange(tmp_path / "out.mid", "--roll", roll) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err
    assert not (tmp_path / "out.mid").exists()


def test_without_matplotlib_roll_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # `import matplotlib` fails
    assert arrange(tmp_path / "out.mid", "--roll", str(tmp_path / "r.png")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "needs matplotlib" in err and "livearranger[pictures]" in err
    assert not list(tmp_path.iterdir())
    assert arrange(tmp_path / "out.mid") == 0               # the instrument runs without it


def test_confusion_matrix_is_drawn_with_the_part_names(satb, tmp_path):
    counts = np.array([[90, 10, 0, 0], [5, 80, 15, 0], [0, 0, 0, 0], [0, 1, 2, 97]])
    png = draw_confusion(counts, satb.part_names, tmp_path / "c.png", title="mine")
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and 5_000 < len(data) < 100_000
    svg = draw_confusion(counts, satb.part_names, tmp_path / "c.svg", title="mine")
    texts = [t.strip() for t in ET.parse(svg).getroot().itertext()]
    assert set(satb.part_names) <= set(texts)
    assert {"90.0%", "15.0%", "97.0%", "80", "97"} <= set(texts)   # per row, and counts
    assert {"true part", "chosen part", "mine"} <= set(texts)
    assert texts.count("–") == 4                         # the row of a part with no notes
    big = np.eye(12, dtype=np.int64) * 7
    assert draw_confusion(big, [f"p{i}" for i in range(12)], tmp_path / "b.png").stat().st_size


@pytest.mark.parametrize("target, counts, text", [
    ("c.jpg", np.eye(2), "a confusion matrix is drawn as .png or .svg, not .jpg"),
    ("c.png", np.eye(3), "a confusion matrix of 2 parts is 2 x 2, not 3 x 3"),
    ("/proc/nope/c.png", np.eye(2), "/proc/nope/c.png: cannot save the confusion matrix"),
])
def test_a_bad_confusion_target_is_one_line(target, counts, text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RollError) as err:
        draw_confusion(counts, ["a", "b"], target)
    assert text in str(err.value) and "\n" not in str(err.value)
    assert not list(tmp_path.iterdir())
