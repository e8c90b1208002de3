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


def _ons(mid: mido.MidiFile) -> dict[str, list[int]]:
    return {t.name: [m.note for m in t if m.type == "note_on" and m.velocity]
            for t in mid.tracks[1:]}


def test_journal_holds_the_take_until_saved_and_recover_rebuilds_it(satb, preset, tmp_path):
    import json

    from livearranger.recorder import journal_path, read_journal

    chip = preset("chiptune")
    take = tmp_path / "take.mid"
    rec = Recorder(satb, take, journal=True)
    rec.start_journal()
    rec.send(3, [0x93, 40, 90], 1.0)
    rec.send(0, [0x90, 76, 80], 1.5)
    rec.send(0, [0x80, 76, 0], 2.0)
    rec.preset_changed(chip)
    rec.send(0, [0x90, 79, 80], 2.5)                     # left sounding by the "crash"
    rec.write_journal()                                  # what the thread does
    lines = journal_path(take).read_text().splitlines()
    assert [json.loads(line)[0] for line in lines] == ["take", "e", "e", "e", "p", "e"]
    with journal_path(take).open("a") as f:
        f.write('["e", 3.0, 1, [144, 6')                  # a record a kill cut short
    again = read_journal(take)
    assert [p.name for p in again.parts] == satb.part_names + chip.part_names
    mid = mido.MidiFile(file=__import__("io").BytesIO(again.to_bytes()))
    ons = _ons(mid)
    assert ons["bass"] == [40] and ons["soprano"] == [76] and ons["pulse1"] == [79]
    offs = [m for m in mid.tracks[5] if m.type == "note_off"]
    assert [m.note for m in offs] == [79]                # closed at the journal's end
    rec.close()                                          # a normal save
    assert take.exists() and not journal_path(take).exists()


def test_a_second_take_refuses_to_overwrite_a_journal(satb, tmp_path):
    from livearranger.files import FileProblem
    from livearranger.recorder import journal_path

    take = tmp_path / "take.mid"
    journal_path(take).write_text('["take", 1, "satb", []]\n')
    rec = Recorder(satb, take, journal=True)
    with pytest.raises(FileProblem, match="livearranger recover"):
        rec.start_journal()
    assert journal_path(take).read_text().startswith('["take"')


def test_recover_command(quartet, tmp_path, capsys):
    from livearranger.cli import main
    from livearranger.recorder import journal_path

    take = tmp_path / "take.mid"
    assert main(["recover", str(take)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to recover" in err and str(take) in err
    rec = Recorder(quartet, take, journal=True)
    rec.start_journal()
    for i, p in enumerate((60, 64, 67)):
        rec.send(i, [0x90 | i, p, 80], 0.1 * i)
    rec._journal.stop()                                  # as if killed after a write
    assert not take.exists()
    assert main(["recover", str(take)]) == 0
    assert "recovered 3 notes" in capsys.readouterr().out
    assert sum(len(v) for v in _ons(mido.MidiFile(str(take))).values()) == 3
    assert not journal_path(take).exists()
    journal_path(take).write_text("not json\n")
    assert main(["recover", str(take)]) == 2
    assert "not a LiveArranger journal" in capsys.readouterr().err


def test_a_failed_save_keeps_the_journal_and_says_so(satb, tmp_path):
    from livearranger.recorder import journal_path

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


def test_a_key_moved_after_it_was_journaled_is_recovered_on_its_final_part(satb,
                                                                          tmp_path):
    from livearranger.recorder import read_journal

    take = tmp_path / "take.mid"
    rec = Recorder(satb, take, journal=True)
    rec.start_journal()
    rec.send(0, [0x90, 60, 90], 1.0)                     # sounded on the soprano
    rec.write_journal()                                  # journaled there
    rec.move(0, [0x80, 60, 0], 2, [0x92, 60, 90], 1.0, 1.02)   # moved to the tenor
    rec.send(2, [0x82, 60, 0], 1.5)
    rec.write_journal()
    again = read_journal(take)
    assert again.events == rec.events == [(1.0, 2, [0x92, 60, 90]), (1.5, 2, [0x82, 60, 0])]
    rec.close()


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


def test_a_journal_message_of_the_wrong_length_is_skipped(tmp_path):
    """Only whole channel-voice messages are recovered: a note-on of two bytes or a
    system message in a damaged journal would otherwise break the file written."""
    from livearranger.recorder import journal_path, read_journal

    take = tmp_path / "take.mid"
    records = ['["take", 1, "satb", [{"name": "soprano", "program": 52, "channel": 0}]]',
               '["e", 1.0, 0, [144, 60, 80]]', '["e", 1.1, 0, [144, 62]]',
               '["e", 1.2, 0, [242, 1, 2]]', '["e", 1.3, 0, [192, 5, 5]]',
               '["e", 2.0, 0, [128, 60, 0]]']
    journal_path(take).write_text("\n".join(records) + "\n")
    again = read_journal(take)
    assert [m for _t, _p, m in again.events] == [[144, 60, 80], [128, 60, 0]]
    mid = mido.MidiFile(file=__import__("io").BytesIO(again.to_bytes()))
    assert [(m.type, m.note) for m in mid.tracks[1] if m.type.startswith("note")] == [
        ("note_on", 60), ("note_off", 60)]
