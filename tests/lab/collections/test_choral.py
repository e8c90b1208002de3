from __future__ import annotations

from livearranger.lab.collections import choral, load_collection
from livearranger.lab.collections.common import SPLITS, rel_name, split_of_work
from tests.lab.collections.make import kern, write_text

NAMES = '*I"Bassus\t*I"Tenor\t*I"Altus\t*I"Superius'
VOICES = [["C", "D"], ["c", "d"], ["e", "f"], ["cc", "dd"]]     # lowest on the left


def test_voices_top_first_named_by_their_records(tmp_path):
    write_text(tmp_path / "1520s" / "Any" / "Any1001a-Missa-Kyrie.krn",
               kern(VOICES, header=[NAMES], refs=["!!!COM: Anonymous"]))
    [piece] = load_collection("choral", tmp_path, "all")
    assert piece.name == "1520s/Any/Any1001a-Missa-Kyrie.krn"
    assert piece.part_names == ("superius", "altus", "tenor", "bassus")
    got = {int(p): int(k) for p, k in zip(piece.pitch, piece.part, strict=True)}
    assert got == {72: 0, 74: 0, 64: 1, 65: 1, 60: 2, 62: 2, 48: 3, 50: 3}
    assert not piece.velocity.any()


def test_unnamed_or_repeated_names_are_numbered(tmp_path):
    write_text(tmp_path / "tasso" / "Tam" / "Tam1a-x.krn",
               kern(VOICES[:3], header=['*\t*I"Canto\t*I"Canto']))
    [piece] = load_collection("choral", tmp_path, "all")
    assert piece.part_names == ("part1", "part2", "part3")


def test_palestrina_and_josquin_are_never_read(tmp_path, monkeypatch):
    write_text(tmp_path / "1520s" / "Any" / "Any2001-x.krn",
               kern(VOICES, refs=["!!!COM: Josquin des Prez"]))
    write_text(tmp_path / "1520s" / "Palestrina" / "Pal1-x.krn", kern(VOICES))
    write_text(tmp_path / "1520s" / "Any" / "Any3001-x.krn", kern(VOICES))
    read = []
    real = choral.parse_kern
    monkeypatch.setattr(choral, "parse_kern", lambda text: read.append(text) or real(text))
    got = load_collection("choral", tmp_path, "all")
    assert [p.name for p in got] == ["1520s/Any/Any3001-x.krn"]
    assert len(read) == 1 and "Josquin" not in read[0]
    assert [rel_name(tmp_path, f) for f in choral.files(tmp_path, "all")] == [
        "1520s/Any/Any2001-x.krn", "1520s/Any/Any3001-x.krn"]


def test_more_voices_than_a_piece_holds_are_left_out(tmp_path):
    write_text(tmp_path / "1520s" / "Any" / "Any4001-x.krn",
               kern([["c"]] * 9))
    assert load_collection("choral", tmp_path, "all") == []


def test_movements_and_settings_are_one_work():
    assert choral.work_of("1520s/Any/Any1001a-Missa_Vulnerasti_cor_meum-Kyrie.krn") == \
        choral.work_of("1520s/Any/Any1001c-Missa_Vulnerasti_cor_meum-Credo.krn") == "Any1001"
    assert choral.work_of("tasso/Tam/Tam1020338b-Ho_visto--Melli_1602.krn") == "Tam1020338"


def test_files_split_by_work(tmp_path):
    rels = [f"1520s/Any/Any{n}{m}-x.krn" for n in range(1000, 1040) for m in "ab"]
    for rel in rels:
        write_text(tmp_path / rel, "")
    seen = []
    for split in SPLITS:
        names = [rel_name(tmp_path, f) for f in choral.files(tmp_path, split)]
        assert names and all(split_of_work(choral.work_of(r)) == split for r in names)
        assert {r.replace("a-x", "b-x") for r in names} == {r for r in names if "b-x" in r}
        seen += names
    assert sorted(seen) == sorted(rels)
