"""Corpus loaders on the real music21 corpus (a few files), keyboard merging, splits, MIDI."""

from __future__ import annotations

import mido
import numpy as np

from livearranger.lab.datasets import (
    build_piece,
    corpus_files,
    load_corpus,
    load_midi_folder,
    load_split,
    make_split,
)

CHORALES = ["bach/bwv10.7.mxl", "bach/bwv101.7.mxl"]


def test_chorales_have_four_voices_in_order():
    pieces = load_corpus("bach", CHORALES)
    assert [p.name for p in pieces] == CHORALES
    for p in pieces:
        assert p.part_names == ("soprano", "alto", "tenor", "bass")
        assert len(p) > 100
        assert set(np.unique(p.part)) == {0, 1, 2, 3}
        order = np.lexsort((p.pitch, p.onset))
        assert np.array_equal(order, np.arange(len(p)))       # by onset, then pitch
        assert np.all(p.offset > p.onset)
        assert np.all((p.mask >> p.part) & 1)                 # the label is in the mask
        # per voice, the soprano lies above the bass on average
        assert p.pitch[p.part == 0].mean() > p.pitch[p.part == 3].mean() + 12


def test_non_satb_scores_are_left_out():
    # bwv1.6 has a horn part besides S/A/T/B
    assert load_corpus("bach", ["bach/bwv1.6.mxl"], use_cache=False) == []


def test_quartets_each_work_once():
    files = corpus_files("string-quartet")
    assert files and all(f.split("/")[0] in ("haydn", "mozart", "beethoven") for f in files)
    stems = [f.rsplit(".", 1)[0] for f in files]
    assert len(stems) == len(set(stems))                      # no .krn twin of a .mxl
    assert "beethoven/opus18no1/movement1.mxl" in files


def test_unisons_merge_and_restruck_keys_cut():
    rows = [(0.0, 0.0, 60, 0, 1.0, 0.0, 1), (0.0, 0.0, 60, 0, 2.0, 0.0, 2),
            (0.0, 0.0, 67, 0, 1.0, 0.0, 0), (0.5, 1.0, 67, 0, 1.0, 0.0, 1)]
    p = build_piece("x", ("s", "a", "t"), rows)
    assert len(p) == 3
    assert p.pitch.tolist() == [60, 67, 67]
    assert p.mask[0] == 0b110 and p.part[0] == 1 and p.offset[0] == 2.0
    assert p.offset[1] == 0.5                                 # cut by the re-strike


def test_split_is_committed_disjoint_and_reproducible():
    sp = load_split("bach")
    names = sp["train"] + sp["valid"] + sp["test"]
    assert len(names) == len(set(names))
    assert abs(len(sp["test"]) - len(names) / 10) <= 1
    assert make_split(names) == sp


def test_midi_folder(tmp_path):
    mid = mido.MidiFile(ticks_per_beat=480)
    for name, notes in (("Flute", [72, 74]), ("Cello", [48, 50])):
        tr = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        for n in notes:
            tr += [mido.Message("note_on", note=n, velocity=90, time=0),
                   mido.Message("note_off", note=n, velocity=0, time=480)]
        mid.tracks.append(tr)
    mid.save(tmp_path / "duo.mid")
    (piece,) = load_midi_folder(tmp_path)
    assert piece.part_names == ("Flute", "Cello")              # top part first
    assert sorted(piece.pitch.tolist()) == [48, 50, 72, 74]
    assert {(int(a), int(b)) for a, b in zip(piece.pitch, piece.part, strict=True)} == {
        (72, 0), (74, 0), (48, 1), (50, 1)}
    assert np.allclose(sorted(set(piece.onset.tolist())), [0.0, 0.5])
    assert piece.velocity.tolist() == [90] * 4
    (named,) = load_midi_folder(tmp_path, ["cello", "flute"])
    assert named.part[named.pitch == 72][0] == 1
