from __future__ import annotations

import pytest

from livearranger.errors import LiveArrangerError
from livearranger.lab.collections import COLLECTIONS, load_collection, nes
from livearranger.lab.collections.common import (
    CollectionError,
    is_reserved_text,
    read_cached,
    split_of_work,
)
from tests.lab.collections.make import write_midi, write_text


def test_the_split_of_a_work_is_fixed_and_roughly_eight_one_one():
    works = [f"w{k}" for k in range(2000)]
    splits = [split_of_work(w) for w in works]
    assert splits == [split_of_work(w) for w in works]
    share = {s: splits.count(s) / len(works) for s in ("train", "valid", "test")}
    assert 0.75 < share["train"] < 0.85 and 0.07 < share["valid"] < 0.13
    assert 0.07 < share["test"] < 0.13


def test_reserved_composers_by_any_text():
    assert is_reserved_text("1520s/x.krn", "Josquin des Prez")
    assert is_reserved_text("choral/Palestrina/Missa.krn")
    assert not is_reserved_text("choral/1520s/Any/x.krn", "Anonymous")


def test_unknown_collection_split_and_folder_are_our_errors(tmp_path):
    with pytest.raises(LiveArrangerError, match="unknown collection 'bach'"):
        load_collection("bach", tmp_path)
    with pytest.raises(CollectionError, match="unknown split 'dev'"):
        load_collection("choral", tmp_path, "dev")
    with pytest.raises(CollectionError, match="no such collection folder"):
        load_collection("quartets", tmp_path / "none", "all")
    assert set(COLLECTIONS) == {"pop909", "nes", "quartets", "choral", "asap-bach"}


def test_a_score_music21_cannot_read_is_one_line_naming_it(tmp_path):
    bad = write_text(tmp_path / "openscore" / "Haydn,_Joseph" / "Op.1_No.1" / "sq1.mxl",
                     "not a zip of MusicXML")
    with pytest.raises(CollectionError) as err:
        load_collection("quartets", tmp_path, "all")
    assert str(err.value).startswith(f"{bad}: cannot be read (") and "\n" not in str(err.value)


def test_a_malformed_match_file_is_one_line_naming_it(tmp_path):
    bad = write_text(tmp_path / "Bach" / "Fugue" / "bwv_846" / "x.match",
                     "snote(n1,[C,n],4,1:1,0,1/8,zero,1.0,[v1,staff1])-note(n0,60,0,10,50,0,0).\n")
    with pytest.raises(CollectionError, match="line 1: not a note pair") as err:
        load_collection("asap-bach", tmp_path, "all")
    assert str(err.value).startswith(f"{bad}: cannot be read (")


def test_a_new_reader_version_parses_every_file_again(tmp_path):
    path = write_midi(tmp_path / "a.mid", [("p1", None, [(0, 1, 70, 9)])])
    calls = []

    def parse(p, data):
        calls.append(p)
        return nes.parse(p, data)

    for version in (1, 1, 2, 2):
        assert read_cached("nes", version, path, "a.mid", parse) is not None
    assert calls == [path, path]


def test_an_unreadable_file_stops_a_load_unless_its_reason_is_collected(tmp_path):
    from livearranger.lab.collections import CollectionError, load_collection
    from tests.lab.collections.make import write_midi

    song = [("MELODY", None, [(0, 1, 72, 90)]), ("PIANO", 0, [(0, 1, 48, 60)])]
    write_midi(tmp_path / "train" / "001.mid", song)
    (tmp_path / "train" / "002.mid").write_bytes(b"MThd not a midi file")
    with pytest.raises(CollectionError, match="002.mid"):
        load_collection("pop909", tmp_path, "train")
    why: list[str] = []
    [piece] = load_collection("pop909", tmp_path, "train", unreadable=why)
    assert piece.name == "train/001.mid"
    assert len(why) == 1 and "002.mid" in why[0] and "\n" not in why[0]
