"""The recorder writes one named track per part with its program and channel."""

from __future__ import annotations

import mido
import pytest

from livearranger.recorder import Recorder


def test_tracks_in_preset_order_with_programs_and_timing(quartet, tmp_path):
    rec = Recorder(quartet, tmp_path / "take.mid")
    rec.send(3, [0x93, 40, 90], 1.0)
    rec.send(0, [0x90, 76, 80], 1.5)
    rec.send(3, [0x83, 40, 0], 2.0)
    rec.send(0, [0x80, 76, 0], 2.5)
    rec.close()
    mid = mido.MidiFile(str(tmp_path / "take.mid"))
    assert [t.name for t in mid.tracks[1:]] == quartet.part_names
    for track, part in zip(mid.tracks[1:], quartet.parts, strict=True):
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


def test_preset_switch_mid_recording_keeps_both_ensembles(satb, preset, driven_clock,
                                                          tmp_path):
    """Satb, then chiptune (fewer parts, same channels): nothing is lost, each part has
    its own track, the new programs come at the switch."""
    from livearranger.arrangers import make_arranger
    from livearranger.engine import Engine
    from livearranger.events import Kind, NoteEvent
    from livearranger.router import Router

    chip = preset("chiptune")
    rec = Recorder(satb, tmp_path / "take.mid")
    # built by hand: the recorder, the only output, hears the engine's set-up too
    engine = Engine(satb, make_arranger("closest-pitch", satb), Router(satb, [rec]),
                    clock_ns=driven_clock)
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


def test_a_failed_save_keeps_the_journal_and_says_so(satb, tmp_path):
    from livearranger.journal import journal_path

    take = tmp_path / "sub" / "take.mid"
    rec = Recorder(satb, take, journal=True)
    rec.start_journal()
    rec.send(0, [0x90, 70, 80], 0.0)
    take.mkdir()                                         # the target became a folder
    with pytest.raises(OSError):
        rec.close()
    assert rec.error and "cannot write" in rec.error and "recover" in rec.error
    assert journal_path(take).exists()


def test_names_outside_latin1_are_utf8(satb, tmp_path):
    from dataclasses import replace

    parts = (replace(satb.parts[0], name="סופרן"), replace(satb.parts[1], name="alto 🎶"),
             *satb.parts[2:])
    rec = Recorder(replace(satb, name="chœur", parts=parts), tmp_path / "t.mid")
    rec.send(0, [0x90, 70, 80], 0.0)
    rec.close()
    mid = mido.MidiFile(str(tmp_path / "t.mid"), charset="utf-8")
    assert [t.name for t in mid.tracks] == ["chœur", "סופרן", "alto 🎶", "tenor", "bass"]
    latin = Recorder(replace(satb, name="à quatre"), tmp_path / "l.mid")
    latin.close()
    assert mido.MidiFile(str(tmp_path / "l.mid")).tracks[0].name == "à quatre"  # Latin-1


def test_fresh_take_names_never_overwrite_a_take(tmp_path):
    import time

    from livearranger.recorder import fresh_take_path

    when = time.mktime((2026, 12, 2, 1, 2, 3, 0, 0, -1))
    first = fresh_take_path(tmp_path, when)
    assert first == tmp_path / "livearranger-20261202-010203.mid"
    first.write_bytes(b"")
    second = fresh_take_path(tmp_path, when)
    assert second == tmp_path / "livearranger-20261202-010203-1.mid"
    second.write_bytes(b"")
    assert fresh_take_path(tmp_path, when).name == "livearranger-20261202-010203-2.mid"


def test_a_part_that_returns_after_a_switch_reuses_its_track(satb, preset, tmp_path):
    """Thousands of switches between two presets: one track per part name, the
    returning part's notes on its first track, the file written."""
    chip = preset("chiptune")
    take = tmp_path / "take.mid"
    rec = Recorder(satb, take, journal=True)
    rec.start_journal()
    t = 0.0
    for _ in range(10_000):
        for ensemble in (chip, satb):
            rec.preset_changed(ensemble)
            rec.send(0, [0x90 | ensemble.parts[0].channel, 60, 80], t)
            rec.send(0, [0x80 | ensemble.parts[0].channel, 60, 0], t + 0.5)
            t += 1.0                           # whole seconds: the journal keeps them
    assert [p.name for p in rec.parts] == satb.part_names + chip.part_names
    rec.write_journal()
    from livearranger.journal import read_journal

    again, skipped = read_journal(take)
    assert skipped == 0 and again.events == rec.events
    assert [p.name for p in again.parts] == [p.name for p in rec.parts]
    rec.close()
    ons = {t.name: sum(1 for m in t if m.type == "note_on" and m.velocity)
           for t in mido.MidiFile(str(take)).tracks[1:]}
    assert ons["soprano"] == ons["pulse1"] == 10_000


def test_a_take_too_big_for_a_file_is_an_error_naming_it(satb, tmp_path):
    from dataclasses import replace

    from livearranger.files import FileProblem
    from livearranger.journal import journal_path
    from livearranger.output_set import RecorderTap

    take = tmp_path / "take.mid"
    rec = Recorder(satb, take, journal=True)
    rec.start_journal()
    for n in range(4_400):                        # 15 parts of new names each time
        parts = tuple(replace(satb.parts[0], name=f"p{n}-{i}") for i in range(15))
        rec.preset_changed(replace(satb, parts=parts))
    rec.send(0, [0x90, 60, 80], 1.0)
    tap = RecorderTap()
    tap.inner = rec
    tap.close()
    assert tap.error and str(take) in tap.error and "\n" not in tap.error
    assert not take.exists() and journal_path(take).exists()
    with pytest.raises(FileProblem):
        rec.save()
