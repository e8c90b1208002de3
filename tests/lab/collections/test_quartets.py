from __future__ import annotations

import pytest

from livearranger.lab.collections import load_collection, quartets
from livearranger.lab.collections.common import SPLITS, rel_name, split_of_work
from tests.lab.collections.make import kern, write_midi, write_text

# left to right cello, viola, violin 2, violin 1: one pitch range each
CELLO, VIOLA, VN2, VN1 = ["C", "D"], ["c", "d"], ["e", "f"], ["cc", "dd"]
PITCH_PART = {48: 3, 50: 3, 60: 2, 62: 2, 64: 1, 65: 1, 72: 0, 74: 0}


def _labels(piece) -> dict[int, int]:
    return {int(p): int(k) for p, k in zip(piece.pitch, piece.part, strict=True)}


def test_four_unnamed_spines_are_cello_viola_violin2_violin1(tmp_path):
    write_text(tmp_path / "kern-haydn" / "op01n0-01.krn", kern(
        [CELLO, VIOLA, VN2, VN1], header=["*clefF4\t*clefC3\t*clefF\t*clefF"],
        refs=["!!!COM: Haydn, Franz Joseph"]))
    [piece] = load_collection("quartets", tmp_path, "all")
    assert piece.part_names == ("violin1", "violin2", "viola", "cello")
    assert _labels(piece) == PITCH_PART


def test_named_spines_with_dynamics_spines_between(tmp_path):
    # the spines named out of the usual order: the names decide
    kinds = ["**kern", "**dynam", "**kern", "**kern", "**kern"]
    head = "*I:Violoncello\t*I:Violoncello\t*I:Violino I\t*I:Viola\t*I:Violino II"
    write_text(tmp_path / "kern-mozart" / "k080-01.krn",
               kern([CELLO, VN1, VIOLA, VN2], header=[head], kinds=kinds))
    [piece] = load_collection("quartets", tmp_path, "all")
    assert _labels(piece) == PITCH_PART


def test_five_unnamed_spines_are_left_out(tmp_path):
    write_text(tmp_path / "kern-haydn" / "op01n0-03.krn",
               kern([CELLO, VIOLA, VN2, VN2, VN1]))
    assert load_collection("quartets", tmp_path, "all") == []


def test_a_quartet_for_oboe_and_strings_is_left_out(tmp_path):
    write_text(tmp_path / "kern-mozart" / "k370-01.krn", kern(
        [CELLO, VIOLA, VN2, VN1],
        refs=["!!!OTL: Quartet in F Major for oboe, violin, viola and cello"]))
    write_text(tmp_path / "kern-mozart" / "k080-01.krn", kern([CELLO, VIOLA, VN2, VN1]))
    got = load_collection("quartets", tmp_path, "all")
    assert [p.name for p in got] == ["kern-mozart/k080-01.krn"]


def test_musicxml_parts_by_name_and_a_repeated_cello_is_one_part(tmp_path):
    import music21

    score = music21.stream.Score()
    for name, pitch in (("Violin 1", 72), ("Violin 2", 64), ("Viola", 60),
                        ("Violoncello", 48), ("Violoncello", 43)):
        part = music21.stream.Part()
        part.partName = name
        part.append(music21.note.Note(pitch, quarterLength=1))
        score.insert(0, part)
    path = tmp_path / "openscore" / "Janáček,_Leoš" / "String_Quartet_No.1" / "sq1.musicxml"
    path.parent.mkdir(parents=True)
    score.write("musicxml", fp=str(path))
    [piece] = load_collection("quartets", tmp_path, "all")
    assert _labels(piece) == {72: 0, 64: 1, 60: 2, 48: 3, 43: 3}


def test_midi_tracks_by_name_else_by_program(tmp_path):
    write_midi(tmp_path / "musicnet" / "Mozart" / "1788_kv_465_1.mid", [
        ("Violino I", 40, [(0, 1, 72, 80)]),
        ("Violino II", 40, [(0, 1, 64, 80)]),
        ("", 41, [(0, 1, 60, 80)]),          # unnamed: the viola by its program
        ("Cello", 42, [(0, 1, 48, 80)])])
    [piece] = load_collection("quartets", tmp_path, "all")
    assert _labels(piece) == {72: 0, 64: 1, 60: 2, 48: 3}
    assert piece.velocity.tolist() == [80, 80, 80, 80]


@pytest.mark.parametrize("name, part", [
    ("Violin1", "violin1"), ("Violino I", "violin1"), ("Violin 2", "violin2"),
    ("Violine II", "violin2"), ("Violin1 Sub", "violin1"), ("vioLn", "violin"),
    ("Violoncello", "cello"), ("Violonecello", "cello"), ("Viola", "viola"), ("Piano", None)])
def test_part_names(name, part):
    assert quartets.quartet_part(name) == part


def test_one_work_in_three_sources_is_one_work():
    same = ["kern-mozart/k465-01.krn", "musicnet/Mozart/1788_kv_465_1.mid",
            "openscore/Mozart,_Wolfgang_Amadeus/String_Quartet_No.19_in_C_major,"
            "_K.465_(Op._10,_No._6)/sq1.mxl"]
    assert {quartets.work_of(r) for r in same} == {"mozart:k465"}
    assert quartets.work_of("openscore/Mozart,_Wolfgang_Amadeus/"
                            "String_Quartet_No.1_in_G_major,_K.8073f/sq2.mxl") == "mozart:k80"
    assert {quartets.work_of(r) for r in ("kern-haydn/op64n5-02.krn",
                                          "musicnet/Haydn/2104_op64n5_1.mid")} == {
        "haydn:op64n5"}
    assert {quartets.work_of(r) for r in ("kern-beethoven/quartet13-6.krn",
                                          "musicnet/Beethoven/2384_qt13_4.mid",
                                          "openscore/Beethoven,_Ludwig_van/Grosse_Fuge_in_"
                                          "B-flat_major,_Op.133/sq9.mxl")} == {"beethoven:13"}
    assert quartets.work_of("kern-haydn/op42-01.krn") == quartets.work_of(
        "kern-haydn/op42-04.krn")


def test_the_split_is_by_work_and_covers_every_file(tmp_path):
    rels = [f"kern-mozart/k{k}-0{m}.krn" for k in range(150, 190) for m in (1, 2)]
    for rel in rels:
        write_text(tmp_path / rel, "")
    by_split = {s: {rel_name(tmp_path, f) for f in quartets.files(tmp_path, s)}
                for s in SPLITS}
    assert set().union(*by_split.values()) == set(rels)
    assert sum(len(v) for v in by_split.values()) == len(rels)
    for rel in rels:
        assert rel in by_split[split_of_work(quartets.work_of(rel))]
    # both movements of each work in one split, and every split has some
    for names in by_split.values():
        assert names and all(r.replace("-01", "-02") in names for r in names)


def test_sources_take_only_the_files_under_those_folders(tmp_path):
    tracks = [("Violino I", 40, [(0, 1, 72, 80)]), ("Violino II", 40, [(0, 1, 64, 80)]),
              ("Viola", 41, [(0, 1, 60, 80)]), ("Cello", 42, [(0, 1, 48, 80)])]
    write_midi(tmp_path / "musicnet" / "Mozart" / "1788_kv_465_1.mid", tracks)
    write_midi(tmp_path / "openscore" / "Haydn" / "Op1" / "sq1.mid", tracks)
    assert len(load_collection("quartets", tmp_path, "all")) == 2
    [piece] = load_collection("quartets", tmp_path, "all", sources=["openscore"])
    assert piece.name.startswith("openscore/")
    assert load_collection("quartets", tmp_path, "all", sources=["kern-haydn"]) == []
