from __future__ import annotations

import numpy as np
import pytest

from livearranger.errors import LiveArrangerError
from livearranger.lab.collections import CollectionError, load_collection, pop909
from livearranger.lab.collections.common import skip_reason
from tests.lab.collections.make import write_midi

SONG = [("MELODY", None, [(0, 1, 72, 100), (1, 1, 74, 101)]),
        ("BRIDGE", None, [(0, 2, 67, 60)]),
        ("PIANO", 0, [(0, 1, 48, 40), (0, 1, 55, 41), (1, 1, 60, 42)])]


def test_tracks_are_the_three_parts_and_velocities_unknown(tmp_path):
    write_midi(tmp_path / "train" / "001.mid", SONG)
    [piece] = load_collection("pop909", tmp_path, "train")
    assert piece.name == "train/001.mid"
    assert piece.part_names == ("melody", "bridge", "piano")
    got = {int(p): (int(k), int(v)) for p, k, v in zip(piece.pitch, piece.part,
                                                          piece.velocity, strict=True)}
    # each track's own velocity band would give its part away: every velocity is unknown
    assert got == {72: (0, 0), 74: (0, 0), 67: (1, 0), 48: (2, 0), 55: (2, 0), 60: (2, 0)}
    assert np.allclose(piece.onset[piece.pitch == 74], 0.5)     # beat 1 at 120 bpm


def test_splits_are_the_folders(tmp_path):
    write_midi(tmp_path / "train" / "001.mid", SONG)
    write_midi(tmp_path / "valid" / "701.mid", SONG)
    assert [p.name for p in load_collection("pop909", tmp_path, "valid")] == ["valid/701.mid"]
    write_midi(tmp_path / "extra" / "song.mid", SONG)      # "all" is every file
    assert [p.name for p in load_collection("pop909", tmp_path, "all")] == [
        "extra/song.mid", "train/001.mid", "valid/701.mid"]
    with pytest.raises(CollectionError, match="no test split"):
        load_collection("pop909", tmp_path, "test")


def test_a_track_of_another_name_leaves_the_file_out(tmp_path):
    write_midi(tmp_path / "train" / "001.mid", SONG)
    write_midi(tmp_path / "train" / "002.mid", [*SONG[:2], ("STRINGS", None, [(0, 1, 50, 50)])])
    assert [p.name for p in load_collection("pop909", tmp_path)] == ["train/001.mid"]
    reason = skip_reason(pop909.NAME, pop909.VERSION, tmp_path / "train" / "002.mid")
    assert reason is not None and "'STRINGS'" in reason


def test_an_unreadable_file_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "train" / "003.mid"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"MThd\x00\x00\x00\x06 not midi")
    with pytest.raises(LiveArrangerError) as err:
        load_collection("pop909", tmp_path)
    assert isinstance(err.value, CollectionError)
    text = str(err.value)
    assert str(bad) in text and "\n" not in text


def test_the_cache_is_read_until_the_file_changes(tmp_path, monkeypatch):
    song = write_midi(tmp_path / "train" / "001.mid", SONG)
    first = load_collection("pop909", tmp_path)[0]
    calls = []
    real = pop909.parse
    monkeypatch.setattr(pop909, "parse", lambda path, data: calls.append(path) or real(path, data))
    again = load_collection("pop909", tmp_path)[0]
    assert calls == [] and np.array_equal(again.pitch, first.pitch)
    assert again.part_names == first.part_names and again.name == first.name
    write_midi(song, [SONG[0], SONG[1], ("PIANO", 0, [(0, 1, 50, 40)])])
    changed = load_collection("pop909", tmp_path)[0]
    assert calls == [song] and 50 in changed.pitch and 48 not in changed.pitch
