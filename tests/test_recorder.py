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


def test_preset_switch_mid_recording_keeps_both_ensembles(tmp_path):
    """Satb, then chiptune (fewer parts, same channels): nothing is lost, each part has
    its own track, the new programs come at the switch."""
    from livearranger.arrangers import make_arranger
    from livearranger.engine import Engine
    from livearranger.events import Kind, NoteEvent
    from livearranger.router import Router

    satb, chip = load_preset("satb"), load_preset("chiptune")
    rec = Recorder(satb, tmp_path / "take.mid")
    engine = Engine(satb, make_arranger("closest-pitch", satb), Router(satb, [rec]))
    engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 40, 90))          # bass (part 3)
    engine.process(NoteEvent(Kind.NOTE_ON, 0.5, 72, 90))
    engine.set_preset(chip, make_arranger("top-bottom", chip))   # stopped by the panic
    engine.process(NoteEvent(Kind.NOTE_ON, 1.0, 76, 90))
    engine.process(NoteEvent(Kind.NOTE_OFF, 2.0, 76, 0))
    engine.stop(time_s=3.0)
    mid = mido.MidiFile(str(tmp_path / "take.mid"))
    assert [t.name for t in mid.tracks[1:]] == satb.part_names + chip.part_names
    ons = {t.name: [m.note for m in t if m.type == "note_on" and m.velocity]
           for t in mid.tracks[1:]}
    assert ons["bass"] == [40] and ons["pulse1"] == [76]
    for track in mid.tracks[1:]:
        sounding = set()
        for m in track:
            if m.type == "note_on" and m.velocity:
                sounding.add(m.note)
            elif m.type in ("note_on", "note_off"):
                sounding.discard(m.note)
        assert not sounding, track.name
    pulse1 = mid.tracks[5]
    tick, first_prog = 0, None
    for m in pulse1:
        tick += m.time
        if m.type == "program_change":
            first_prog = (tick, m.program, m.channel)
            break
    assert first_prog is not None and first_prog[1:] == (80, 0) and first_prog[0] > 0
