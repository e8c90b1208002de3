"""The rule arrangers: keyboard zones, closest pitch, top/bottom, one part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livearranger.arrangers import make_arranger
from livearranger.arrangers.heuristics import (
    ClosestPitchArranger,
    MostCommonArranger,
    TopBottomArranger,
    ZoneArranger,
    default_boundaries,
    proximity,
)
from livearranger.events import Kind, NoteEvent
from livearranger.state import PerformanceState

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results.json"


def _on(pitch: int, time: float = 0.0) -> NoteEvent:
    return NoteEvent(Kind.NOTE_ON, time=time, pitch=pitch, velocity=90)


def _play(arranger, state: PerformanceState, pitch: int, time: float = 0.0) -> int:
    part = arranger.assign(_on(pitch, time), state)
    state.note_on(pitch, time, part)
    return part


def test_zones_split_midway_between_range_centres(satb):
    # centres: soprano 70.5, alto 64.5, tenor 57.5, bass 49
    assert default_boundaries(satb) == [68, 61, 53]   # round() halves to even: 67.5 -> 68
    zone, state = ZoneArranger(satb), PerformanceState(4)
    assert [zone.zone(p) for p in (68, 67, 61, 60, 53, 52)] == [0, 1, 1, 2, 2, 3]
    assert zone.assign(_on(62), state) == 1
    with pytest.raises(ValueError, match="zone needs 3 split points, got 1"):
        ZoneArranger(satb, [60])


def test_a_zone_part_that_cannot_take_the_note_gives_it_to_the_nearest_that_can(satb):
    zone, state = ZoneArranger(satb, [80, 79, 78]), PerformanceState(4)   # bass zone < 78
    assert zone.assign(_on(70), state) == 2          # bass's zone, but bass tops at 67


def test_closest_pitch_follows_each_part_and_avoids_busy_ones(satb):
    arr, state = ClosestPitchArranger(satb), PerformanceState(4)
    assert proximity(satb, state, 0, 70) == pytest.approx(0.5)   # from the range centre
    assert _play(arr, state, 71) == 0
    assert proximity(satb, state, 0, 71) == 12.0     # on its own key, but sounding
    assert _play(arr, state, 48) == 3
    state.note_off(71)
    state.note_off(48)
    assert _play(arr, state, 69, 2.0) == 0            # two from the soprano's 71
    assert _play(arr, state, 66, 2.0) == 1            # the soprano is busy now


def test_top_bottom_gives_the_highest_key_the_top_and_the_lowest_the_bottom(satb):
    arr, state = TopBottomArranger(satb), PerformanceState(4)
    assert _play(arr, state, 52) == 3                 # alone: nearer the bass
    assert _play(arr, state, 67) == 0                 # above every key down
    assert _play(arr, state, 60) == 2                 # between: the nearest inner part
    assert _play(arr, state, 45) == 3                 # below all: the bottom, though busy


@pytest.mark.parametrize("name, dataset", [("satb", "bach"),
                                           ("string-quartet", "string-quartet")])
def test_most_common_plays_the_part_its_training_data_has_most(preset, name, dataset):
    # evaluation fits the part on the train split; its unconstrained rows (generated in
    # docs/results.json) put every key there: the live arranger must play that part
    rows = json.loads(RESULTS.read_text())["rows"]
    fitted = {row["parts"][row["recall"].index(100.0)] for row in rows
              if row["dataset"] == dataset and row["arranger"] == "most-common:free"}
    assert len(fitted) == 1
    ensemble = preset(name)
    low = max(p.low for p in ensemble.parts)
    high = min(p.high for p in ensemble.parts)
    assert low <= high                                # a key every part may take
    arr = make_arranger("most-common", ensemble)
    for pitch in range(low, high + 1):
        part = arr.assign(_on(pitch), PerformanceState(len(ensemble.parts)))
        assert {ensemble.part_names[part]} == fitted


def test_most_common_without_training_data_plays_the_top_part(preset):
    band = preset("pop-band")
    arr, state = make_arranger("most-common", band), PerformanceState(len(band.parts))
    top = band.parts[0]
    assert arr.assign(_on((top.low + top.high) // 2), state) == 0


def test_most_common_sends_everything_to_one_part_where_it_may(satb):
    arr, state = MostCommonArranger(satb, part=1), PerformanceState(4)
    assert _play(arr, state, 60) == 1
    assert _play(arr, state, 64) == 0                 # the alto is busy (monophonic)
    assert arr.assign(_on(40), state) == 3            # out of the alto's range
