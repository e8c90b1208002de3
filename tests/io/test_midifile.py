"""Standard MIDI Files: what write_smf writes, read_smf reads back, tick for tick."""

from __future__ import annotations

import io

import mido
import pytest

from livearranger.io.midifile import DEFAULT_TEMPO, read_smf, write_smf

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

