"""Re-rolling a take (the TUI's re-roll key, outside the TUI): the keys as played are
rebuilt from the recorder and arranged again by the sampling model into
TAKE-reroll-K.mid, through the offline code that ``arrange --alternatives`` uses."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import mido
import pytest

from livearranger.alternatives import (
    final_parts,
    reroll_path,
    reroll_take,
    take_performance,
)
from livearranger.arrangers import ArrangerError
from livearranger.offline import arrange_performance
from livearranger.presets import Preset
from livearranger.recorder import Recorder


def chords() -> list[tuple[float, list[int]]]:
    """Four four-note chords, half a second each, as one keyboard plays them."""
    out: list[tuple[float, list[int]]] = []
    for i, chord in enumerate(((48, 55, 64, 72), (50, 57, 65, 74), (52, 59, 67, 76),
                               (48, 55, 64, 72))):
        t = 0.5 * i
        for j, pitch in enumerate(chord):
            out.append((t + 0.003 * j, [0x90, pitch, 80 + j]))
        for pitch in chord:
            out.append((t + 0.45, [0x80, pitch, 0]))
    return out


def keys_of(path: Path) -> list[tuple[int, int]]:
    """(onset tick, pitch) of every key in a file, a unison (two parts) counted once."""
    mid = mido.MidiFile(str(path))
    keys = set()
    for track in mid.tracks[1:]:
        t = 0
        for m in track:
            t += m.time
            if m.type == "note_on" and m.velocity:
                keys.add((t, m.note))
    return sorted(keys)


def test_take_performance_undoes_parts_transpose_and_unisons(satb: Preset,
                                                             tmp_path: Path) -> None:
    """A recorder holding a transposed part and a unison gives the keys back once each,
    as played, with their releases; a key still down is released at the last time."""
    parts = list(satb.parts)
    parts[3] = replace(parts[3], transpose=-12, velocity_offset=10)
    preset = replace(satb, parts=tuple(parts))
    rec = Recorder(preset, tmp_path / "take.mid")
    rec.send(0, [0x90, 72, 90], 1.0)
    rec.late_note_on(1, [0x91, 72, 90], 1.0, 1.01)      # the unison's second part
    rec.send(3, [0x93, 36, 70], 1.02)                  # key 48, transposed down, +10
    rec.send(0, [0x80, 72, 0], 2.0)
    rec.send(1, [0x81, 72, 0], 2.0)
    rec.send(3, [0x83, 36, 0], 2.5)
    rec.send(2, [0x92, 60, 64], 2.6)                   # still held at the end
    rec.send(2, [0xB2, 64, 127], 2.7)                  # the pedal: not a key
    performance, names = take_performance(rec)
    expected = [(1.0, [0x90, 72, 90]), (1.02, [0x90, 48, 60]), (2.0, [0x80, 72, 0]),
                (2.5, [0x80, 48, 0]), (2.6, [0x90, 60, 64]), (2.7, [0x80, 60, 0])]
    assert [m for _t, m in performance] == [m for _t, m in expected]
    assert [t for t, _m in performance] == pytest.approx([t - 1.0 for t, _m in expected])
    assert names == ["soprano", "bass", "tenor"]


def test_a_take_arranged_live_gives_back_what_was_played(satb: Preset,
                                                         tmp_path: Path) -> None:
    played = chords()
    take = arrange_performance(played, tmp_path / "take.mid", satb, "closest-pitch").recorder
    performance, names = take_performance(take)
    ons = [(t, m) for t, m in performance if m[0] == 0x90]
    assert ons == [(t, m) for t, m in played if m[0] == 0x90]
    assert sorted(performance) == sorted(played)
    assert len(names) == len(final_parts(take)) == 16


@pytest.fixture()
def take(satb: Preset, tmp_path: Path) -> Recorder:
    """A saved take of ``chords`` (played with a rule: quick)."""
    result = arrange_performance(chords(), tmp_path / "take.mid", satb, "closest-pitch")
    assert (tmp_path / "take.mid").exists()
    return result.recorder


def test_reroll_writes_numbered_files_with_the_same_keys(satb: Preset, take: Recorder,
                                                         tmp_path: Path) -> None:
    first = reroll_take(take, satb, temperature=1.5, seed=3)
    assert first.path == tmp_path / "take-reroll-1.mid" and first.path.exists()
    assert keys_of(first.path) == keys_of(tmp_path / "take.mid")
    assert first.notes == 16 and 0 <= first.differ <= 16
    assert f"wrote {first.path}, {first.differ} of 16 notes" in first.summary()
    # every note within its part's range
    mid = mido.MidiFile(str(first.path))
    for part, track in zip(satb.parts, mid.tracks[1:], strict=True):
        assert all(part.in_range(m.note) for m in track if m.type == "note_on")
    # the next one goes beside it, never over it; the same seed, the same parts
    second = reroll_take(take, satb, temperature=1.5, seed=3)
    assert second.path == tmp_path / "take-reroll-2.mid"
    assert final_parts(second.result.recorder) == final_parts(first.result.recorder)
    assert reroll_path(take.path) == tmp_path / "take-reroll-3.mid"


def test_reroll_differs_from_the_take_when_sampling_hot(satb: Preset, take: Recorder) -> None:
    """At a high temperature some keys land on another part in some of a few tries."""
    assert any(reroll_take(take, satb, temperature=2.0, seed=s).differ > 0
               for s in range(4))


def test_reroll_needs_a_sampling_temperature_and_notes(satb: Preset, take: Recorder,
                                                       tmp_path: Path) -> None:
    with pytest.raises(ArrangerError, match="above 0"):
        reroll_take(take, satb, temperature=0.0)
    with pytest.raises(ValueError, match="no notes"):
        reroll_take(Recorder(satb, tmp_path / "empty.mid"), satb)
    assert not list(tmp_path.glob("*-reroll-*"))
