from __future__ import annotations

from livearranger.lab.collections import load_collection
from tests.lab.collections.make import write_midi


def test_pulses_and_triangle_are_the_parts_and_noise_is_dropped(tmp_path):
    write_midi(tmp_path / "train" / "000_Game_00_01Start.mid", [
        ("p1", None, [(0, 1, 76, 15), (1, 1, 77, 9)]),
        ("p2", None, [(0, 1, 64, 13)]),
        ("tr", None, [(0, 2, 45, 1)]),
        ("no", None, [(0, 1, 5, 15), (1, 1, 6, 15)]),
    ], drums=3)
    [piece] = load_collection("nes", tmp_path, "train")
    assert piece.part_names == ("pulse1", "pulse2", "triangle")
    got = {int(p): int(k) for p, k in zip(piece.pitch, piece.part, strict=True)}
    assert got == {76: 0, 77: 0, 64: 1, 45: 2}


def test_the_chips_volume_is_not_a_velocity(tmp_path):
    write_midi(tmp_path / "valid" / "a.mid", [
        ("p1", None, [(0, 1, 76, 15)]), ("p2", None, [(0, 1, 64, 3)]),
        ("tr", None, [(0, 1, 45, 1)])])
    [piece] = load_collection("nes", tmp_path, "valid")
    assert len(piece) == 3 and not piece.velocity.any()     # 0: unknown, as in a score


def test_a_file_with_only_noise_is_left_out(tmp_path):
    write_midi(tmp_path / "train" / "a.mid", [
        ("p1", None, []), ("p2", None, []), ("tr", None, []), ("no", None, [(0, 1, 5, 9)])],
        drums=3)
    write_midi(tmp_path / "train" / "b.mid", [("p1", None, [(0, 1, 70, 9)])])
    assert [p.name for p in load_collection("nes", tmp_path, "all")] == ["train/b.mid"]
