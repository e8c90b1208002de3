"""Standard MIDI Files: what write_smf writes, read_smf reads back, tick for tick; every
channel message of every track read at the time mido (an independent reader) gives it;
malformed files refused with a reason."""

from __future__ import annotations

import io

import mido
import pytest

from livearranger.io.midifile import DEFAULT_TEMPO, MidiFileError, read_smf, write_smf

TICKS_PER_BEAT = 480
SECONDS_PER_TICK = DEFAULT_TEMPO / 1e6 / TICKS_PER_BEAT


def test_written_tracks_read_back_merged_in_time_then_track_order():
    tracks = [("sopr\u00e1n", [(0, [0xC0, 52]), (0, [0x90, 72, 90]), (481, [0x80, 72, 0])]),
              ("bass", [(0, [0xC1, 32]), (0, [0x91, 40, 70]), (481, [0x81, 40, 0]),
                        (1000, [0xE1, 0, 64]), (1000, [0xD1, 30])])]
    data = write_smf("chor", tracks, TICKS_PER_BEAT)
    got = read_smf(data)
    want = sorted(((tick, i, n, msg) for i, (_name, msgs) in enumerate(tracks)
                   for n, (tick, msg) in enumerate(msgs)))
    assert [m for _t, m in got] == [msg for _tick, _i, _n, msg in want]
    assert [t for t, _m in got] == pytest.approx(
        [tick * SECONDS_PER_TICK for tick, _i, _n, _msg in want], abs=1e-12)
    mid = mido.MidiFile(file=io.BytesIO(data))
    assert (mid.type, mid.ticks_per_beat) == (1, TICKS_PER_BEAT)
    assert [t.name for t in mid.tracks] == ["chor", "sopr\u00e1n", "bass"]
    assert [m.tempo for m in mid.tracks[0] if m.type == "set_tempo"] == [DEFAULT_TEMPO]


def test_names_outside_latin1_are_written_in_the_charset_given():
    data = write_smf("\u05de\u05e7\u05d4\u05dc\u05d4", [("\U0001f3bb", [(0, [0x90, 60, 1])])],
                     TICKS_PER_BEAT, charset="utf-8")
    mid = mido.MidiFile(file=io.BytesIO(data), charset="utf-8")
    assert [t.name for t in mid.tracks] == ["\u05de\u05e7\u05d4\u05dc\u05d4", "\U0001f3bb"]


def test_a_message_that_is_not_one_is_refused_not_written():
    with pytest.raises(ValueError):
        write_smf("x", [("a", [(0, [0x90, 60])])], TICKS_PER_BEAT)


def _smf(ticks_per_beat: int = 480) -> bytes:
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    meta, upper, lower = mido.MidiTrack(), mido.MidiTrack(), mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=400_000, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=800_000, time=960))   # after 2 beats
    upper += [mido.Message("note_on", note=72, velocity=90, time=240),
              mido.Message("control_change", control=64, value=127, channel=1, time=0),
              mido.Message("note_off", note=72, velocity=0, time=1200),
              mido.Message("pitchwheel", pitch=-200, channel=2, time=10)]
    lower += [mido.Message("program_change", program=40, channel=3, time=0),
              mido.Message("note_on", note=48, velocity=70, channel=3, time=960),
              mido.Message("note_on", note=48, velocity=0, channel=3, time=480)]
    mid.tracks += [meta, upper, lower]
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def test_messages_of_all_tracks_merge_at_the_times_mido_reads():
    data = _smf()
    expected, now = [], 0.0
    for msg in mido.MidiFile(file=io.BytesIO(data)):
        now += msg.time
        if not msg.is_meta:
            expected.append((now, msg.bytes()))
    got = read_smf(data)
    assert [m for _t, m in got] == [m for _t, m in expected]
    assert [t for t, _m in got] == pytest.approx([t for t, _m in expected], abs=1e-9)
    # the last at tick 1450: two beats at 0.4 s, then 490 ticks at 0.8 s a beat
    assert got[-1] == (pytest.approx(0.8 + 490 / 480 * 0.8, abs=1e-9), [0xE2, 0x38, 0x3E])


@pytest.mark.parametrize(("data", "reason"), [
    (b"RIFF" + bytes(20), "no MIDI header"),
    (_smf(ticks_per_beat=1)[:12] + b"\x00\x00" + _smf()[14:], "ticks_per_beat is 0"),
    (_smf()[:-3], "runs past the end"),
])
def test_a_malformed_file_is_refused_saying_why(data, reason):
    with pytest.raises(MidiFileError, match=reason):
        read_smf(data)


def test_too_many_messages_or_too_long_is_refused():
    with pytest.raises(MidiFileError):
        read_smf(_smf(), max_events=3)
    with pytest.raises(MidiFileError, match="longer than"):
        read_smf(_smf(), max_seconds=1.0)
