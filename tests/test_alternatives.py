"""`arrange --alternatives N`: sampled arrangements of the shipped model, under the
preset's constraints, reproducible by seed; and how much they differ."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from livearranger.alternatives import alternative_path, difference
from livearranger.cli import main
from livearranger.constraints import CHORD_WINDOW
from livearranger.offline import demo_performance
from livearranger.recorder import TICKS_PER_SECOND


def arrange(out: Path, *extra: str) -> int:
    return main(["arrange", str(demo_performance()), "-o", str(out), *extra])


def notes_of(path: Path) -> list[tuple[float, float, int, int]]:
    """(onset, release seconds, pitch, track from 0) of every note, in order of onset."""
    mid = mido.MidiFile(str(path))
    out = []
    for track, messages in enumerate(mid.tracks[1:]):
        t, held = 0, {}
        for m in messages:
            t += m.time
            if m.type in ("note_on", "note_off") and m.note in held:
                out.append((held.pop(m.note) / TICKS_PER_SECOND, t / TICKS_PER_SECOND,
                            m.note, track))
            if m.type == "note_on" and m.velocity:
                held[m.note] = t
    return sorted(out)


def parts_of(path: Path) -> list[int]:
    """The part of every key: a unison (one key sung by two parts, same onset and
    pitch) counts once, on its higher part."""
    seen: set[tuple[float, int]] = set()
    out = []
    for t, _end, pitch, part in notes_of(path):
        if (t, pitch) not in seen:
            seen.add((t, pitch))
            out.append(part)
    return out


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> tuple[Path, Path]:
    """Three alternatives at T=1.5, seed 7, written twice into two folders."""
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    for folder in (a, b):
        assert arrange(folder / "out.mid", "--alternatives", "3", "--temperature", "1.5",
                       "--seed", "7") == 0
    return a, b


def test_alternatives_differ_from_greedy_and_each_other(sampled, capsys):
    folder = sampled[0]
    greedy = parts_of(folder / "out.mid")
    alts = [parts_of(alternative_path(folder / "out.mid", i)) for i in (1, 2, 3)]
    assert all(len(a) == len(greedy) for a in alts)
    assert all(difference(greedy, a) > 0 for a in alts)
    assert difference(alts[0], alts[1]) > 0 and difference(alts[1], alts[2]) > 0
    assert not (folder / "out-4.mid").exists()


def test_the_same_seed_writes_the_same_files_and_another_seed_does_not(sampled, tmp_path):
    a, b = sampled
    for name in ("out.mid", "out-1.mid", "out-2.mid", "out-3.mid"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert arrange(tmp_path / "out.mid", "--alternatives", "1", "--temperature", "1.5",
                   "--seed", "8") == 0
    assert (tmp_path / "out-1.mid").read_bytes() != (a / "out-1.mid").read_bytes()


def test_alternatives_are_valid_midi_with_the_preset_tracks(satb, sampled):
    played = len(parts_of(sampled[0] / "out.mid"))
    for i in (1, 2, 3):
        mid = mido.MidiFile(str(alternative_path(sampled[0] / "out.mid", i)))
        assert [t.name for t in mid.tracks[1:]] == satb.part_names
        path = alternative_path(sampled[0] / "out.mid", i)
        assert len(parts_of(path)) == played                  # every key, once
        ons = sum(1 for t in mid.tracks[1:] for m in t if m.type == "note_on" and m.velocity)
        notes = notes_of(path)
        assert ons == len(notes)          # every note-on closed (unisons: one more each)


def test_alternatives_obey_the_preset_constraints(satb, sampled):
    """Every note lies in its part's range, and a monophonic part sounds two keys of one
    chord (struck within CHORD_WINDOW) only through the mask's fallback: when one of the
    two was decided, every part whose range holds it already sounded a key of the chord
    (a key must go somewhere; a chord is decided lowest key first, so that one need not
    be the later key).  A key held from an earlier chord may overlap (legato)."""
    parts = satb.parts
    Note = tuple[float, float, int, int]

    def cornered(note: Note, notes: list[Note]) -> bool:
        t, _end, pitch, _part = note
        taken = {q for t2, end2, p2, q in notes
                 if abs(t2 - t) <= CHORD_WINDOW and end2 > t and (t2, p2) != (t, pitch)}
        return all(k in taken for k, p in enumerate(parts) if p.low <= pitch <= p.high)

    doubled = 0
    for i in (1, 2, 3):
        notes = notes_of(alternative_path(sampled[0] / "out.mid", i))
        for a in notes:
            assert parts[a[3]].low <= a[2] <= parts[a[3]].high, (i, a)
        for j, a in enumerate(notes):
            for b in notes[j + 1:]:
                if b[0] - a[0] > CHORD_WINDOW:
                    break
                if a[3] == b[3] and parts[a[3]].mono and a[1] > b[0]:
                    doubled += 1
                    assert cornered(a, notes) or cornered(b, notes), (i, a, b)
    assert doubled < 10        # rare: most chords find a part for every key


def test_the_figure_is_printed_per_file(tmp_path, capsys):
    assert arrange(tmp_path / "x.mid", "--alternatives", "2", "--top-k", "2") == 0
    out = capsys.readouterr().out
    for name in ("x-1.mid", "x-2.mid"):
        line = next(ln for ln in out.splitlines() if name in ln and "vs greedy" in ln)
        assert "%" in line and "vs the other alternatives (mean)" in line
    assert "between alternatives" in out and "top-k 2" in out


def test_a_preset_with_no_model_samples_the_ensemble_model(tmp_path):
    """chiptune names no model: it plays (and samples) the one ensemble model."""
    assert arrange(tmp_path / "c.mid", "--preset", "chiptune", "--alternatives", "2",
                   "--temperature", "2") == 0
    files = [tmp_path / n for n in ("c.mid", "c-1.mid", "c-2.mid")]
    assert all(f.stat().st_size > 0 for f in files)
    assert len({f.read_bytes() for f in files}) > 1


def test_top_k_1_is_greedy(tmp_path):
    assert arrange(tmp_path / "g.mid", "--alternatives", "2", "--top-k", "1",
                   "--temperature", "5") == 0
    greedy = (tmp_path / "g.mid").read_bytes()
    assert (tmp_path / "g-1.mid").read_bytes() == greedy
    assert (tmp_path / "g-2.mid").read_bytes() == greedy


@pytest.mark.parametrize("extra, text", [
    (["--alternatives", "2", "--arranger", "closest-pitch"],
     "arranger 'closest-pitch' is a rule: it has no alternatives"),
    (["--alternatives", "2", "--temperature", "0"], "--temperature must be above 0"),
    (["--alternatives", "0"], "--alternatives must be 1-100"),
    (["--alternatives", "2", "--top-k", "-1"], "--top-k must be 0"),
    (["--temperature", "1"], "add --alternatives N"),
])
def test_what_cannot_be_sampled_is_refused_in_one_line(extra, text, tmp_path, capsys):
    assert arrange(tmp_path / "out.mid", *extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err
    assert not list(tmp_path.iterdir())           # refused before any work
