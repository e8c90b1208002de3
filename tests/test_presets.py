"""Presets: the shipped ones load; broken ones fail with one line naming file and key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from livearranger.presets import (
    PresetError,
    list_presets,
    load_preset,
    load_preset_file,
    save_user_preset,
)

GOOD_PART = 'name = "lead"\nprogram = 80\nchannel = 1\nrange = [60, 90]\n'


@pytest.mark.parametrize("name", ["satb", "string-quartet", "pop-band", "chiptune"])
def test_shipped_presets_load(name, user_presets):
    preset = load_preset(name)
    assert preset.name == name
    assert len({p.channel for p in preset.parts}) == len(preset.parts)
    assert all(p.low <= p.high for p in preset.parts)


def test_satb_parts_are_a_choir(user_presets):
    preset = load_preset("satb")
    assert preset.part_names == ["soprano", "alto", "tenor", "bass"]
    assert all(p.program in (52, 53) and p.mono for p in preset.parts)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, key, problem", [
    ('name = "x"\ncolour = 1\n[[parts]]\n' + GOOD_PART, "colour", "unknown key"),
    ('name = "x"\n[[parts]]\n' + GOOD_PART + 'wobble = 2\n', "parts[0]", "unknown key 'wobble'"),
    ('name = "x"\n[[parts]]\n' + GOOD_PART + '[[parts]]\nname = "b"\nprogram = 1\nchannel = 1\n',
     "parts[1].channel", "already used"),
    ('name = "x"\n[[parts]]\nname = "a"\nprogram = 1\nchannel = 2\nrange = [80, 60]\n',
     "parts[0].range", "low 80 is above high 60"),
    ('name = "x"\n[[parts]]\nname = "a"\nprogram = "Kazoo"\nchannel = 2\n',
     "parts[0].program", "unknown GM program name"),
    ('name = "x"\n[[parts]]\nname = "a"\nprogram = 130\nchannel = 2\n',
     "parts[0].program", "outside 0..127"),
    ('name = "x"\n[[parts]]\nname = "a"\nprogram = 1\nchannel = 17\n',
     "parts[0].channel", "outside 1..16"),
    ('name = "x"\n[[parts]]\nname = "a"\nprogram = 1\nchannel = 10\n',
     "parts[0].channel", "drum channel"),
    ('name = "x"\narranger = "magic"\n[[parts]]\n' + GOOD_PART, "arranger", "unknown arranger"),
    ('name = "x"\n', "parts", "at least one"),
    ('name = "x"\n[[parts]\n', "", "not valid TOML"),
    ('name = "x"\n[[parts]]\nname = "a"\nchannel = 2\n', "parts[0]", "missing key 'program'"),
    ('name = "x"\nhorizon_ms = 99\n[[parts]]\n' + GOOD_PART, "horizon_ms", "from 0 to 50"),
    ('name = "x"\nhorizon_ms = "soon"\n[[parts]]\n' + GOOD_PART, "horizon_ms",
     "milliseconds"),
    ('name = "x"\ngrace_ms = 15\n[[parts]]\n' + GOOD_PART, "grace_ms", "use horizon_ms"),
])
def test_broken_presets_name_file_key_and_problem(tmp_path, text, key, problem):
    path = _write(tmp_path, text)
    with pytest.raises(PresetError) as err:
        load_preset_file(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert key in message and problem in message


def test_unknown_preset_lists_the_known_ones(user_presets):
    with pytest.raises(PresetError, match="known: .*satb"):
        load_preset("no-such-ensemble")


def test_user_preset_saved_is_listed_and_reloads_equal(user_presets):
    satb = load_preset("satb")
    parts = list(satb.parts)
    parts[0] = replace(parts[0], program=40, transpose=12, low=60, high=96)
    mine = replace(satb, parts=tuple(parts))
    path = save_user_preset(mine, "my-choir")
    assert Path(path).parent == Path(user_presets)
    assert "my-choir" in dict(list_presets())
    again = load_preset("my-choir")
    assert again.parts == mine.parts and again.name == "my-choir"
    assert again.horizon_ms == mine.horizon_ms == 30.0


def test_user_preset_overrides_shipped_one(user_presets):
    satb = load_preset("satb")
    save_user_preset(replace(satb, description="mine"), "satb")
    assert load_preset("satb").description == "mine"
