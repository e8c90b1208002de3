"""The journal keeps a take on disk as it plays; recover rebuilds it, and only it."""

from __future__ import annotations

import mido
import pytest

from livearranger.recorder import Recorder


def _ons(mid: mido.MidiFile) -> dict[str, list[int]]:
    return {t.name: [m.note for m in t if m.type == "note_on" and m.velocity]
            for t in mid.tracks[1:]}


def test_journal_holds_the_take_until_saved_and_recover_rebuilds_it(satb, preset, tmp_path):
    import json

    from livearranger.journal import journal_path, read_journal

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
    again, _skipped = read_journal(take)
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
    from livearranger.journal import journal_path

    take = tmp_path / "take.mid"
    journal_path(take).write_text('["take", 1, "satb", []]\n')
    rec = Recorder(satb, take, journal=True)
    with pytest.raises(FileProblem, match="livearranger recover"):
        rec.start_journal()
    assert journal_path(take).read_text().startswith('["take"')


def test_recover_command(quartet, tmp_path, capsys):
    from livearranger.cli import main
    from livearranger.journal import journal_path

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


def test_a_key_moved_after_it_was_journaled_is_recovered_on_its_final_part(satb,
                                                                          tmp_path):
    from livearranger.journal import read_journal

    take = tmp_path / "take.mid"
    rec = Recorder(satb, take, journal=True)
    rec.start_journal()
    rec.send(0, [0x90, 60, 90], 1.0)                     # sounded on the soprano
    rec.write_journal()                                  # journaled there
    rec.move(0, [0x80, 60, 0], 2, [0x92, 60, 90], 1.0, 1.02)   # moved to the tenor
    rec.send(2, [0x82, 60, 0], 1.5)
    rec.write_journal()
    again, _skipped = read_journal(take)
    assert again.events == rec.events == [(1.0, 2, [0x92, 60, 90]), (1.5, 2, [0x82, 60, 0])]
    rec.close()


def test_a_journal_message_of_the_wrong_length_is_skipped(tmp_path):
    """Only whole channel-voice messages are recovered: a note-on of two bytes or a
    system message in a damaged journal would otherwise break the file written."""
    from livearranger.journal import journal_path, read_journal

    take = tmp_path / "take.mid"
    records = ['["take", 1, "satb", [{"name": "soprano", "program": 52, "channel": 0}]]',
               '["e", 1.0, 0, [144, 60, 80]]', '["e", 1.1, 0, [144, 62]]',
               '["e", 1.2, 0, [242, 1, 2]]', '["e", 1.3, 0, [192, 5, 5]]',
               '["e", 2.0, 0, [128, 60, 0]]']
    journal_path(take).write_text("\n".join(records) + "\n")
    again, _skipped = read_journal(take)
    assert [m for _t, _p, m in again.events] == [[144, 60, 80], [128, 60, 0]]
    mid = mido.MidiFile(file=__import__("io").BytesIO(again.to_bytes()))
    assert [(m.type, m.note) for m in mid.tracks[1] if m.type.startswith("note")] == [
        ("note_on", 60), ("note_off", 60)]


_HEAD = ('["take", 1, "duo", [{"name": "soprano", "program": 52, "channel": 0}, '
         '{"name": "alto", "program": 53, "channel": 1}]]')
_MANY = [{"name": f"p{i}", "program": 0, "channel": 2} for i in range(70_000)]


@pytest.mark.parametrize("bad", [
    '["e", Infinity, 0, [144, 61, 80]]', '["e", 1e308, 0, [144, 61, 80]]',
    '["e", NaN, 0, [144, 61, 80]]', '["e", 1.5, true, [144, 61, 80]]',
    '["e", 1.5, 0, [144, true, 80]]', '["r", 0, 1e308, 0, [144, 60, 80]]',
    '["p", [{"name": 5, "program": 1, "channel": 2}]]',
    '["p", [{"name": "x", "program": 1, "channel": "2"}]]',
    '["p", [{"name": "x", "program": 1.5, "channel": 2}]]',
    '["p", ' + __import__("json").dumps(_MANY) + "]",
    "[" * 100_000 + "]" * 100_000,
], ids=["inf", "1e308", "nan", "bool-track", "bool-byte", "r-1e308", "name", "channel",
        "program", "70000-parts", "deep"])
def test_a_corrupt_record_costs_that_record_only(bad, tmp_path, capsys):
    from livearranger.cli import main
    from livearranger.journal import journal_path

    take = tmp_path / "take.mid"
    records = [_HEAD, '["e", 1.0, 0, [144, 60, 80]]', bad, '["e", 2.0, 1, [145, 64, 80]]',
               '["e", 3.0, 0, [128, 60, 0]]', '["e", 3.0, 1, [129, 64, 0]]']
    journal_path(take).write_text("\n".join(records) + "\n")
    assert main(["recover", str(take)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "recovered 2 notes" in out and "skipped 1 " in out
    assert _ons(mido.MidiFile(str(take))) == {"soprano": [60], "alto": [64]}
    assert not journal_path(take).exists()


@pytest.mark.parametrize("part", [
    '{"name": 5, "program": 1, "channel": 2}', '{"name": "x", "program": 1, "channel": "2"}',
    '{"name": "x", "program": 1.5, "channel": 2}', '{"name": "x", "program": 1}'])
def test_a_corrupt_first_line_is_one_line_and_keeps_the_journal(part, tmp_path, capsys):
    from livearranger.cli import main
    from livearranger.journal import journal_path

    take = tmp_path / "take.mid"
    journal_path(take).write_text(f'["take", 1, "x", [{part}]]\n["e", 1.0, 0, [144, 60, 80]]\n')
    assert main(["recover", str(take)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a LiveArranger journal" in err
    assert journal_path(take).exists() and not take.exists()
    head = '["take", 1, "x", ' + __import__("json").dumps(_MANY) + "]"
    journal_path(take).write_text(head + "\n")
    assert main(["recover", str(take)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("damage", ["garbage", "infinity"])
def test_a_corrupt_early_line_leaves_every_later_message_unchanged(damage, satb, tmp_path):
    """Messages recorded after a damaged line, and the moves rewriting them, are
    recovered exactly: no record depends on counting the ones before it."""
    import json

    from livearranger.journal import journal_path, read_journal

    take = tmp_path / "take.mid"
    rec = Recorder(satb, take, journal=True)
    rec.start_journal()
    keys = list(range(60, 72))
    for i, key in enumerate(keys):
        rec.send(i % 4, [0x90 | i % 4, key, 80], float(i))
    rec.write_journal()
    rec.move(0, [0x80, 68, 0], 1, [0x91, 68, 80], 8.0, 8.01)      # key 8 to the alto
    rec.move(1, [0x81, 69, 0], 2, [0x92, 69, 80], 9.0, 9.01)      # key 9 to the tenor
    for i, key in enumerate(keys):
        part = {68: 1, 69: 2}.get(key, i % 4)
        rec.send(part, [0x80 | part, key, 0], 20.0 + i)
    rec.write_journal()
    rec._journal.stop()                                  # as if killed after a write
    lines = journal_path(take).read_text().splitlines()
    assert json.loads(lines[1])[:3] == ["e", 0.0, 0]
    lines[1] = '["e", 0.0, 0, [144, 6' if damage == "garbage" else lines[1].replace(
        "0.0", "Infinity", 1)
    journal_path(take).write_text("\n".join(lines) + "\n")
    again, skipped = read_journal(take)
    assert skipped == 1
    ons_offs = rec.events[1:]
    first_off = [m for _t, _p, m in ons_offs].index([0x80, 60, 0])
    del ons_offs[first_off]          # the note-on's off stays: closed as the take has it
    assert [e for e in again.events if e[2] != [0x80, 60, 0]] == ons_offs


@pytest.fixture
def small_disk(tmp_path):
    """A real 64 KiB filesystem (a tmpfs, unmounted after); ``_fill`` fills it."""
    import subprocess

    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                   check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True)  # even if held open


def _fill(disk):
    with open(disk / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"x" * 512)
        except OSError:
            pass


@pytest.fixture
def full_disk(small_disk):
    """A real filesystem with no space left."""
    _fill(small_disk)
    return small_disk


def test_a_full_disk_at_start_names_the_take_and_leaves_no_journal(satb, full_disk,
                                                                   capsys):
    from livearranger.cli import main
    from livearranger.files import FileProblem, check_writable
    from livearranger.journal import journal_path

    take = full_disk / "take.mid"
    check_writable(take, "recording")                 # an empty file still fits
    rec = Recorder(satb, take, journal=True)
    with pytest.raises(FileProblem) as caught:
        rec.start_journal()
    assert str(take) in str(caught.value) and "No space left" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]
    journal_path(take).write_bytes(b"")               # what an older version left
    assert main(["recover", str(take)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(take) in err and "empty" in err
    assert not journal_path(take).exists()
    (full_disk / "filler").unlink()                   # space freed: the take starts
    rec.start_journal()
    rec.close()
    assert take.exists() and not journal_path(take).exists()


def test_a_journal_write_that_fails_is_said_at_once_and_never_claimed_whole(small_disk):
    """The disk fills while playing: the session's error log says so at the failing
    write, and the exit's error does not send the player to a journal that is not the
    whole take."""
    from livearranger.journal import journal_path
    from livearranger.session import Session, SessionConfig

    take = small_disk / "take.mid"
    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", input=None,
                                    outputs=[], horizon_ms=0))
    session.start()
    try:
        session.start_recording(take)
        _fill(small_disk)
        for key in list(range(40, 90)) * 4:          # past the page the journal has
            session.engine.feed([0x90, key, 90])
            session.engine.feed([0x80, key, 0])
        assert session.engine.wait_idle()
        rec = session.take
        assert rec is not None
        rec.write_journal()                          # what its thread does
        assert session.engine.wait_idle()
        errors = session.snapshot().errors
        assert len(errors) == 1 and str(journal_path(take)) in errors[0]
        assert "No space left" in errors[0] and "\n" not in errors[0]
        rec.write_journal()                          # said once, not at every period
        assert session.engine.wait_idle()
        assert len(session.snapshot().errors) == 1
    finally:
        session.stop()
    error = session.record_error
    assert error and str(take) in error and "\n" not in error
    assert "kept in" not in error and "only" in error


def test_a_take_saved_whole_after_its_journal_failed_is_still_an_error(satb, small_disk):
    from livearranger.files import FileProblem

    take = small_disk / "take.mid"
    rec = Recorder(satb, take, journal=True)
    said: list[str] = []
    rec.on_journal_error = said.append
    rec.start_journal()
    _fill(small_disk)
    for i in range(200):                             # past the page the journal has
        rec.send(0, [0x90, 60, 80], 1.0 + i)
        rec.send(0, [0x80, 60, 0], 1.5 + i)
    rec.write_journal()
    assert len(said) == 1
    (small_disk / "filler").unlink()                 # space again by the time it stops
    with pytest.raises(FileProblem):
        rec.close()
    assert take.exists() and rec.error and "saved whole" in rec.error


def test_a_version_1_journal_still_reads(tmp_path):
    """Version 1 wrote "e" records without their index and "p" records without tracks:
    its messages are counted, its switched-to parts all new tracks."""
    from livearranger.journal import journal_path, read_journal

    take = tmp_path / "take.mid"
    records = ['["take", 1, "duo", [{"name": "soprano", "program": 52, "channel": 0}]]',
               '["e", 1.0, 0, [144, 60, 80]]', '["e", 1.5, 0, [144, 62, 80]]',
               '["p", [{"name": "soprano", "program": 80, "channel": 0}]]',
               '["e", 2.0, 1, [144, 64, 80]]', '["r", 1, 1.5, 1, [144, 62, 80]]',
               '["e", 3.0, 0, [128, 60, 0]]', '["e", 3.0, 1, [128, 62, 0]]',
               '["e", 3.0, 1, [128, 64, 0]]']
    journal_path(take).write_text("\n".join(records) + "\n")
    again, skipped = read_journal(take)
    assert skipped == 0 and [p.program for p in again.parts] == [52, 80]
    assert again.events == [(1.0, 0, [144, 60, 80]), (1.5, 1, [144, 62, 80]),
                            (2.0, 1, [144, 64, 80]), (3.0, 0, [128, 60, 0]),
                            (3.0, 1, [128, 62, 0]), (3.0, 1, [128, 64, 0])]
