"""What a player types into the TUI, checked: pitches, programs, presets."""

from __future__ import annotations

import dataclasses

import pytest

from livearranger.events import note_name
from livearranger.presets import Preset, PresetError
from livearranger.tui.controls import parse_pitch, parse_program, validated


@pytest.mark.parametrize("text,pitch", [("60", 60), ("C4", 60), ("c4", 60), ("F#3", 54),
                                        ("Bb2", 46), ("C-1", 0), ("G9", 127)])
def test_parse_pitch(text: str, pitch: int) -> None:
    assert parse_pitch(text) == pitch
    assert parse_pitch(note_name(pitch)) == pitch


@pytest.mark.parametrize("text", ["", "H3", "C", "128", "G#9", "-1"])
def test_parse_pitch_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_pitch(text)


def test_parse_program_by_number_or_name() -> None:
    assert parse_program("40") == 40
    assert parse_program("violin") == 40
    with pytest.raises(ValueError, match="unknown GM program"):
        parse_program("kazoo")


def test_a_preset_is_validated_as_its_file_would_be(satb: Preset) -> None:
    assert validated(satb).parts == satb.parts
    upside_down = dataclasses.replace(satb.parts[0], low=90, high=40)
    with pytest.raises(PresetError):
        validated(dataclasses.replace(satb, parts=[upside_down, *satb.parts[1:]]))
