"""Standard MIDI Files: reading one into a single timed stream, fast and bounded, and
writing a multitrack file through mido.

Reading gives the channel-voice messages of every track, merged by time (at equal times
in track order, as mido merges them) with the tempo map applied, as (seconds, raw
bytes).  Meta events other than tempo and SysEx are skipped unread, so a malformed key
signature or text event cannot stop a file; anything that breaks the file's structure
raises ``MidiFileError`` with one line.  Limits: ``MAX_EVENTS`` messages, ``MAX_SECONDS``
long.  The reader is not mido's because mido decodes every meta event (one malformed
key signature refuses the whole file) and builds every message of a file before a
limit could stop it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import mido

from livearranger.errors import LiveArrangerError
from livearranger.events import DATA_BYTES, DATA_MASK, EOX, KIND_MASK, META, SYSEX, SYSTEM

MAX_FILE_BYTES = 64 * 1024 * 1024   # a .mid to read (4 MB holds ~500,000 notes)

MAX_EVENTS = 2_500_000          # channel messages in one file (~150 bytes each in memory)
MAX_SECONDS = 24 * 3600.0       # a performance longer than a day is not one
DEFAULT_TEMPO = 500_000         # µs per beat (120 bpm), what a file without a tempo has
SMPTE_RATES = {24: 24.0, 25: 25.0, 29: 29.97, 30: 30.0}
_META_TEMPO = 0x51
_META_END_OF_TRACK = 0x2F
_TEMPO = -1                     # pseudo-status of a tempo change in the merged list


class MidiFileError(LiveArrangerError, ValueError):
    """Not a readable Standard MIDI File (or over a limit); one line, no file name."""


def _varlen(data: bytes, i: int, end: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        if i >= end:
            raise MidiFileError("a track ends inside a number")
        b = data[i]
        i += 1
        value = (value << 7) | (b & DATA_MASK)
        if b <= DATA_MASK:
            return value, i
    raise MidiFileError("a variable-length number is longer than 4 bytes")


def _track(data: bytes, i: int, end: int, out: list[tuple[int, int, list[int]]],
           limit: int) -> None:
    """Append (tick, status, bytes) of the track in data[i:end] to ``out``: channel
    messages and tempo changes (status ``_TEMPO``, µs per beat)."""
    tick = 0
    running = 0
    append = out.append
    while i < end:
        delta, i = _varlen(data, i, end)
        tick += delta
        if i >= end:
            raise MidiFileError("a track ends after a delta time")
        status = data[i]
        if status <= DATA_MASK:
            if not running:
                raise MidiFileError("a data byte where a status byte is needed")
            status = running
        else:
            i += 1
        if status < SYSTEM:
            n = DATA_BYTES[status & KIND_MASK]
            if i + n > end:
                raise MidiFileError("a track ends inside a message")
            msg = [status, *data[i:i + n]]
            if data[i] > DATA_MASK or (n == 2 and data[i + 1] > DATA_MASK):
                raise MidiFileError(f"a data byte above 127 in a {status:#04x} message")
            i += n
            running = status
            append((tick, status, msg))
            if len(out) > limit:
                raise MidiFileError(f"more than {limit:,} messages")
        elif status == META:
            if i >= end:
                raise MidiFileError("a track ends inside a meta event")
            kind = data[i]
            length, i = _varlen(data, i + 1, end)
            if i + length > end:
                raise MidiFileError("a meta event runs past the end of its track")
            if kind == _META_TEMPO and length == 3:
                tempo = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]
                append((tick, _TEMPO, [tempo or DEFAULT_TEMPO]))
            i += length
            if kind == _META_END_OF_TRACK:
                return
        elif status in (SYSEX, EOX):
            length, i = _varlen(data, i, end)
            if i + length > end:
                raise MidiFileError("a SysEx runs past the end of its track")
            i += length
        else:
            raise MidiFileError(f"status byte {status:#04x} is not allowed in a file")


def read_smf(data: bytes, max_events: int = MAX_EVENTS,
             max_seconds: float = MAX_SECONDS) -> list[tuple[float, list[int]]]:
    """Every channel-voice message of the file ``data`` as (seconds, raw bytes), all
    tracks merged.  Raises MidiFileError."""
    if len(data) < 14 or data[:4] != b"MThd":
        raise MidiFileError("no MIDI header (MThd)")
    hlen = int.from_bytes(data[4:8], "big")
    if hlen < 6 or 8 + hlen > len(data):
        raise MidiFileError(f"bad header length {hlen}")
    division = int.from_bytes(data[12:14], "big")
    if division & 0x8000:
        fps = 256 - (division >> 8)
        per_frame = division & 0xFF
        if fps not in SMPTE_RATES or per_frame == 0:
            raise MidiFileError(f"bad SMPTE time division ({fps} fps, {per_frame} ticks)")
        smpte = 1.0 / (SMPTE_RATES[fps] * per_frame)
        per_beat = 0
    else:
        if division == 0:
            raise MidiFileError("ticks_per_beat is 0")
        smpte = 0.0
        per_beat = division
    events: list[tuple[int, int, list[int]]] = []
    i = 8 + hlen
    while i + 8 <= len(data):
        kind, length = data[i:i + 4], int.from_bytes(data[i + 4:i + 8], "big")
        start, i = i + 8, i + 8 + length
        if i > len(data):
            raise MidiFileError("a chunk runs past the end of the file")
        if kind == b"MTrk":
            run: list[tuple[int, int, list[int]]] = []
            _track(data, start, i, run, max_events - len(events))
            events.extend(run)
    events.sort(key=_tick)              # stable: at one tick, track order then file order
    out: list[tuple[float, list[int]]] = []
    seconds, last, tempo = 0.0, 0, DEFAULT_TEMPO
    scale = smpte or tempo * 1e-6 / per_beat
    for tick, status, msg in events:
        if tick != last:
            seconds += (tick - last) * scale
            last = tick
            if seconds > max_seconds:
                raise MidiFileError(f"longer than {max_seconds / 3600:g} hours")
        if status == _TEMPO:
            if not smpte:
                scale = msg[0] * 1e-6 / per_beat
            continue
        out.append((seconds, msg))
    return out


def _tick(event: tuple[int, int, list[int]]) -> int:
    return event[0]


def write_smf(title: str, tracks: Sequence[tuple[str, Iterable[tuple[int, Sequence[int]]]]],
              ticks_per_beat: int, tempo: int = DEFAULT_TEMPO,
              charset: str = "latin1") -> bytes:
    """A type-1 Standard MIDI File: a first track named ``title`` holding the tempo
    (µs per beat), then one track per (name, messages), each message (tick, raw bytes)
    with ticks from the start in time order.  Names are written in ``charset``."""
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat, charset=charset)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("track_name", name=title),
                                      mido.MetaMessage("set_tempo", tempo=tempo)]))
    from_bytes = mido.Message.from_bytes
    for name, messages in tracks:
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        now = 0
        for tick, msg in messages:
            track.append(from_bytes(msg, time=max(tick - now, 0)))
            now = max(tick, now)
        mid.tracks.append(track)
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()
