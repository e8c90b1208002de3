"""Corpus loaders on the real music21 corpus (a few files), keyboard merging, splits, MIDI."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from livearranger.lab.datasets import (
    DATASETS,
    DatasetError,
    build_piece,
    corpus_files,
    is_reserved,
    load_corpus,
    load_midi_folder,
    load_split,
    make_split,
    overlapping_notes,
    part_labels,
    piece_preset,
)

CHORALES = ["bach/bwv10.7.mxl", "bach/bwv101.7.mxl"]
MADRIGALS = ["monteverdi/madrigal.3.1.mxl", "monteverdi/madrigal.4.2.mxl"]
TRECENTO = ["trecento/Fava_Dicant_nunc_iudei.xml", "trecento/PMFC_04-Cara mi donna.xml"]


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


def test_voice_datasets_each_work_once_scores_only():
    madrigals, trecento = corpus_files("madrigal"), corpus_files("trecento")
    assert len(madrigals) == 48 and all(f.endswith(".mxl") for f in madrigals)
    assert "monteverdi/madrigal.3.1_old.mxl" not in madrigals   # madrigal.3.1 again
    stems = [f.rsplit(".", 1)[0] for f in trecento]
    assert len(stems) == len(set(stems)) and set(TRECENTO) <= set(trecento)
    assert "trecento/PMFC_13_02-Kyrie-Questa-fanciulla.mxl" in trecento   # no .xml twin


@pytest.mark.parametrize(("dataset", "files", "counts"), [
    ("madrigal", MADRIGALS, [5, 5]), ("trecento", TRECENTO, [2, 3])])
def test_voice_pieces_fit_their_own_presets(dataset, files, counts):
    pieces = load_corpus(dataset, files, use_cache=False)
    assert [p.name for p in pieces] == files
    assert [p.n_parts for p in pieces] == counts
    for p in pieces:
        assert len(set(p.part_names)) == p.n_parts and all(p.part_names)
        assert set(np.unique(p.part)) == set(range(p.n_parts))
        assert np.array_equal(np.lexsort((p.pitch, p.onset)), np.arange(len(p)))
        preset = piece_preset(dataset, p)
        assert preset.part_names == list(p.part_names)
        assert [q.channel for q in preset.parts] == list(range(p.n_parts))
        assert all(q.mono and q.program == 52 for q in preset.parts)
        for k, q in enumerate(preset.parts):                # its notes, 2 semitones wider
            own = p.pitch[((p.mask >> k) & 1).astype(bool)]
            assert (q.low, q.high) == (own.min() - 2, own.max() + 2)
        assert all(preset.parts[k].in_range(x) for x, k in zip(p.pitch, p.part, strict=True))
        assert overlapping_notes(p).sum() <= 2              # one note at a time, nearly
    assert pieces[0].part_names[0] == ("canto" if dataset == "madrigal" else "part1")


def test_part_labels_and_presets_of_odd_pieces():
    assert part_labels(["Cantus ", None, "Tenor"]) == ("cantus", "part2", "tenor")
    assert part_labels(["MusicXML Part", "MusicXML Part"]) == ("part1", "part2")
    assert part_labels(["part2", ""]) == ("part1", "part2")
    rows = [(0.0, 0.0, 70, 0, 1.0, 0.0, 0), (0.0, 0.0, 50, 0, 1.0, 0.0, 2)]
    p = build_piece("x", [f"v{i}" for i in range(11)], rows)
    preset = piece_preset("trecento", p)
    assert (preset.parts[0].low, preset.parts[0].high) == (68, 72)
    assert (preset.parts[1].low, preset.parts[1].high) == (48, 72)   # empty: the span
    assert [q.channel for q in preset.parts][8:] == [8, 10, 11]       # 9 is the drums
    assert piece_preset("bach", load_corpus("bach", CHORALES[:1])[0]).name == "satb"


def test_overlapping_notes_break_mono():
    rows = [(0.0, 0.0, 60, 0, 1.0, 0.0, 0), (0.0, 0.0, 64, 0, 1.0, 0.0, 0),   # a chord
            (1.0, 2.0, 62, 0, 2.0, 0.0, 0),                                   # legato
            (2.0, 4.0, 55, 0, 4.0, 0.0, 1), (2.0, 4.0, 55, 0, 2.5, 0.0, 0),   # a unison
            (2.5, 5.0, 57, 0, 3.0, 0.0, 0),                                   # s moves on
            (4.0, 8.0, 50, 0, 6.0, 0.0, 1), (5.0, 10.0, 43, 0, 6.0, 0.0, 1)]  # b overlaps
    p = build_piece("x", ("s", "b"), rows)
    assert p.pitch[overlapping_notes(p)].tolist() == [64, 43]


def test_reserved_composers_are_in_no_dataset():
    for dataset in DATASETS:
        files = corpus_files(dataset)
        assert files and not any(f.split("/")[0] in ("palestrina", "josquin") for f in files)
    assert is_reserved("josquin/adieuMesAmours.abc")
    assert is_reserved("monteverdi/../palestrina/Agnus_01.krn")
    assert not is_reserved("monteverdi/madrigal.3.1.mxl")
    with pytest.raises(DatasetError, match="palestrina"):
        load_corpus("madrigal", ["palestrina/Agnus_01.krn"], use_cache=False)


def test_unisons_merge_and_restruck_keys_cut():
    rows = [(0.0, 0.0, 60, 0, 1.0, 0.0, 1), (0.0, 0.0, 60, 0, 2.0, 0.0, 2),
            (0.0, 0.0, 67, 0, 1.0, 0.0, 0), (0.5, 1.0, 67, 0, 1.0, 0.0, 1)]
    p = build_piece("x", ("s", "a", "t"), rows)
    assert len(p) == 3
    assert p.pitch.tolist() == [60, 67, 67]
    assert p.mask[0] == 0b110 and p.part[0] == 1 and p.offset[0] == 2.0
    assert p.offset[1] == 0.5                                 # cut by the re-strike


@pytest.mark.parametrize("dataset", DATASETS)
def test_split_is_committed_disjoint_and_reproducible(dataset):
    sp = load_split(dataset)
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
