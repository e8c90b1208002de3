"""Raw MIDI bytes to NoteEvent and back."""

from __future__ import annotations

import pytest

from livearranger.events import (
    AFTERTOUCH,
    BEND_CENTRE,
    CHANNEL_MASK,
    CONTROL,
    DATA_BYTES,
    KIND_MASK,
    NOTE_OFF,
    NOTE_ON,
    PITCHBEND,
    POLY_AFTERTOUCH,
    PROGRAM,
    Kind,
    NoteEvent,
    encode,
    parse,
    split_messages,
)


@pytest.mark.parametrize("data", [
    [0x91, 60, 100], [0x80, 0, 0], [0xB3, 64, 127], [0xC0, 5], [0xD2, 77], [0xEF, 0, 64],
    [0xA0, 60, 33],
])
def test_round_trip(data):
    ev = parse(data, 1.5)
    assert ev is not None and ev.time == 1.5
    assert encode(ev.kind, ev.channel, ev.pitch, ev.velocity) == data


@pytest.mark.parametrize("data", [
    [], [0xF8], [0xF0, 1, 2, 0xF7], [0x40, 1, 2], [0x90, 60], [0x90, 60, 128],
    [0x90, 60, 100, 1], [0xC0], [0x90, -1, 3], ["x", 1, 2],
])
def test_garbage_is_none(data):
    assert parse(data) is None


def test_pitchbend_is_14_bit_and_velocity_zero_is_off():
    assert parse([0xE0, 0x7F, 0x7F]).velocity == 16383
    assert NoteEvent(Kind.NOTE_ON, 0, 60, 0).is_note_off
    assert not NoteEvent(Kind.NOTE_ON, 0, 60, 1).is_note_off


@pytest.mark.parametrize(("data", "messages"), [
    ([0x90, 60, 100], [[0x90, 60, 100]]),
    ([0xF0, 0x7E, 1, 0x80, 60, 0, 0xB0, 123, 0, 0xF7], [[0x80, 60, 0], [0xB0, 123, 0]]),
    ([0x90, 60, 100, 62, 0, 64], [[0x90, 60, 100], [0x90, 62, 0]]),     # running status
    ([0x90, 60, 0xF8, 100], [[0x90, 60, 100]]),                         # real-time inside
    ([0x90, 60, 100, 0xF2, 1, 2, 61, 3], [[0x90, 60, 100]]),            # system ends it
    ([0xC0, 5, 6, 0xD1, 7], [[0xC0, 5], [0xC0, 6], [0xD1, 7]]),
    ([1, 2, 0xF0, 3, 0xF7, 4], []),
    ([0x90, 60, 256, 61, 0x80, 60, 0, "x", 1], [[0x80, 60, 0]]),
])
def test_split_messages(data, messages):
    assert split_messages(data) == messages


def test_every_kind_names_its_two_values():
    cc = parse([0xB3, 64, 127])
    assert cc is not None and (cc.channel, cc.control, cc.value) == (3, 64, 127)
    bend = parse([0xE0, 0x00, 0x40])
    assert bend is not None and bend.bend == 8192
    pressure = parse([0xD1, 99])
    assert pressure is not None and pressure.value == 99
    program = parse([0xC2, 41])
    assert program is not None and program.program == 41
    poly = parse([0xA0, 60, 33])
    assert poly is not None and (poly.pitch, poly.value) == (60, 33)


@pytest.mark.parametrize(("made", "data"), [
    (NoteEvent.note_on(1.5, 60, 100, 1), [0x91, 60, 100]),
    (NoteEvent.note_off(1.5, 60, 20, 2), [0x82, 60, 20]),
    (NoteEvent.control_change(1.5, 64, 127, 3), [0xB3, 64, 127]),
    (NoteEvent.pitch_bend(1.5, 10000, 4), [0xE4, 10000 & 0x7F, 10000 >> 7]),
    (NoteEvent.channel_pressure(1.5, 99, 5), [0xD5, 99]),
    (NoteEvent.key_pressure(1.5, 61, 33, 6), [0xA6, 61, 33]),
    (NoteEvent.program_change(1.5, 41, 7), [0xC7, 41]),
])
def test_each_kind_is_made_by_name_as_parse_reads_it(made, data):
    assert made == parse(data, 1.5)
    assert made.message() == data


def test_named_values_are_the_ones_given():
    cc = NoteEvent.control_change(0.0, 11, 90)
    assert (cc.control, cc.value) == (11, 90)
    assert NoteEvent.pitch_bend(0.0, BEND_CENTRE).bend == BEND_CENTRE
    assert NoteEvent.channel_pressure(0.0, 70).value == 70
    poly = NoteEvent.key_pressure(0.0, 64, 12)
    assert (poly.pitch, poly.value) == (64, 12)
    assert NoteEvent.program_change(0.0, 19).program == 19
    on = NoteEvent.note_on(0.0, 60, 0)
    assert on.is_note_off and not on.is_note_on and on.part == -1 and on.hint == -1


def test_kinds_are_the_status_constants():
    assert [int(k) for k in Kind] == [NOTE_OFF, NOTE_ON, POLY_AFTERTOUCH, CONTROL, PROGRAM,
                                      AFTERTOUCH, PITCHBEND]
    assert all(k & KIND_MASK == k and k & CHANNEL_MASK == 0 for k in Kind)
    assert set(DATA_BYTES) == set(Kind)


def test_running_status_is_the_last_channel_status_until_a_system_message():
    from livearranger.events import running_status

    assert running_status([0x90, 60, 100], 0) == 0x90
    assert running_status([60, 0], 0x91) == 0x91           # data bytes keep it
    assert running_status([0xF8], 0x90) == 0x90             # so do real-time bytes
    assert running_status([0xB0, 64, 127, 0xF0, 1, 0xF7], 0x90) == 0
    assert running_status([0xF2, 0, 0, 0x80, 60], 0) == 0x80
    assert running_status(["x", 0x90], 0) == 0x90           # junk is skipped


def test_only_whole_messages_continue_a_running_status():
    from livearranger.events import continues

    assert continues([60, 0], 0x90) and continues([60, 0, 64, 0], 0x91)
    assert continues([5], 0xC0)                              # a program change: one byte
    assert not continues([0x12, 0x34, 0x56], 0x90)           # one and a half note-offs
    assert not continues([60, 200], 0x90) and not continues([], 0x90)


def test_an_inputs_running_status_completes_what_continues_it():
    from livearranger.events import RunningStatus

    rs = RunningStatus()
    assert rs.feed([60, 0]) == [60, 0]                       # no status yet: as it is
    assert rs.feed([0x90, 60, 100]) == [0x90, 60, 100] and rs.status == 0x90
    assert rs.feed([60, 0]) == [0x90, 60, 0]
    assert rs.feed([0xF8]) == [0xF8] and rs.status == 0x90  # real-time: kept
    assert rs.feed([61, 0, 62]) == [61, 0, 62]               # not whole messages
    assert rs.feed([0xF0, 1, 0xF7]) == [0xF0, 1, 0xF7] and rs.status == 0
    assert rs.feed([64, 0]) == [64, 0]
