"""The recorder writes one named track per part with its program and channel."""

from __future__ import annotations

import mido

from livearranger.presets import load_preset
from livearranger.recorder import Recorder


def test_tracks_in_preset_order_with_programs_and_timing(tmp_path):
    preset = load_preset("string-quartet")
    rec = Recorder(preset, tmp_path / "take.mid")
    rec.send(3, [0x93, 40, 90], 1.0)
    rec.send(0, [0x90, 76, 80], 1.5)
    rec.send(3, [0x83, 40, 0], 2.0)
    rec.send(0, [0x80, 76, 0], 2.5)
    rec.close()
    mid = mido.MidiFile(str(tmp_path / "take.mid"))
    assert [t.name for t in mid.tracks[1:]] == preset.part_names
    for track, part in zip(mid.tracks[1:], preset.parts, strict=True):
        progs = [m for m in track if m.type == "program_change"]
        assert progs[0].program == part.program and progs[0].channel == part.channel
    cello = [m for m in mid.tracks[4] if m.type in ("note_on", "note_off")]
    assert [(m.type, m.note, m.channel) for m in cello] == [("note_on", 40, 3),
                                                            ("note_off", 40, 3)]
    # times are relative to the first event; violin I starts 0.5 s after the cello
    starts = {}
    for i in (1, 4):
        t = 0.0
        for m in mido.MidiFile(str(tmp_path / "take.mid")).tracks[i]:
            t += m.time
            if m.type == "note_on":
                starts[i] = t
                break
    assert starts[4] == 0 and abs(starts[1] - 0.5 * 960) <= 1
