"""The ensemble model's command line on collections and corpora, and its balanced draw."""

from __future__ import annotations

import numpy as np

from livearranger.lab import ensemble_train
from livearranger.lab.datasets import Piece
from livearranger.lab.trainer import Item, epoch_draw
from livearranger.presets import load_preset
from tests.lab.collections.make import write_pop909


def _items(counts: dict[str, int]) -> list[Item]:
    preset = load_preset("satb")
    empty = Piece.__new__(Piece)
    return [Item(empty, preset, src) for src, n in counts.items() for _ in range(n)]


def test_a_draw_from_several_sources_gives_each_an_equal_share():
    items = _items({"nes": 300, "bach": 30})
    drawn = epoch_draw(items, 30, np.random.default_rng(3))
    assert len(set(drawn)) == 30 and drawn == sorted(drawn)
    small = sum(items[i].source == "bach" for i in drawn)
    assert 8 <= small <= 22          # uniform over items would give about 3


def test_a_draw_from_one_source_is_the_uniform_draw_it_always_was():
    items = _items({"nes": 50})
    got = epoch_draw(items, 7, np.random.default_rng(5))
    assert got == sorted(int(i) for i in np.random.default_rng(5).permutation(50)[:7])


def test_the_ensemble_model_trains_on_a_collection_folder(tmp_path, capsys):
    data = tmp_path / "data"
    write_pop909(data, train=3, valid_seed=7)
    out = tmp_path / "ens"
    assert ensemble_train.main(["--datasets", "pop909", "--data", str(data),
                                "--minutes", "0.05", "--epoch-items", "2",
                                "--valid-limit", "1", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "3 training segments, 1 valid" in said     # each song one segment
    assert out.with_suffix(".npz").stat().st_size > 0
    assert out.with_suffix(".onnx").stat().st_size > 0
    valid = ensemble_train.valid_items(["pop909"], 1, data)
    assert [it.preset.name for it in valid] == ["pop-trio"]
    assert valid[0].piece.part_names == ("melody", "bridge", "piano")


def test_a_missing_data_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert ensemble_train.main(["--datasets", "nes", "--data", str(tmp_path / "none"),
                                "--out", str(tmp_path / "ens")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none: no such folder" in err
    assert not (tmp_path / "ens.npz").exists()


def test_sources_keep_one_collection_to_its_folders(tmp_path):
    data = tmp_path / "data"
    write_pop909(data, train=3, valid_seed=7)
    assert ensemble_train.corpus_items(["pop909"], "train", None, data,
                                       {"pop909": ["valid"]}) == []
    assert len(ensemble_train.corpus_items(["pop909"], "train", None, data,
                                           {"nes": ["x"]})) == 3


def test_a_model_it_cannot_write_is_said_before_any_data_is_read(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "ens"          # a folder that is a file
    assert ensemble_train.main(["--datasets", "nes", "--data", str(tmp_path / "none"),
                                "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ens.npz: cannot write the model there" in err
