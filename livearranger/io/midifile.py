"""Reading a Standard MIDI File into one timed stream, fast and bounded.

The channel-voice messages of every track, merged by time (at equal times in track
order, as mido merges them) with the tempo map applied, as (seconds, raw bytes).  Meta
events other than tempo and SysEx are skipped unread, so a malformed key signature or
text event cannot stop a file; anything that breaks the file's structure raises
``MidiFileError`` with one line.  Limits: ``MAX_EVENTS`` messages, ``MAX_SECONDS`` long.
"""

from __future__ import annotations

from livearranger.errors import LiveArrangerError

MAX_EVENTS = 2_500_000          # channel messages in one file (~150 bytes each in memory)
MAX_SECONDS = 24 * 3600.0       # a performance longer than a day is not one
DEFAULT_TEMPO = 500_000         # µs per beat
SMPTE_RATES = {24: 24.0, 25: 25.0, 29: 29.97, 30: 30.0}
_DATA_LEN = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
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
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i
    raise MidiFileError("a variable-length number is longer than 4 bytes")


def _track(data: bytes, i: int, end: int, out: list[tuple[int, int, list[int]]],
           limit: int) -> None:
    """Append (tick, status, bytes) of the track in data[i:end] to ``out``: channel
    messages (status 0x80..0xEF) and tempo changes (status ``_TEMPO``, µs per beat)."""
    tick = 0
    running = 0
    append = out.append
    while i < end:
        delta, i = _varlen(data, i, end)
        tick += delta
        if i >= end:
            raise MidiFileError("a track ends after a delta time")
        status = data[i]
        if status < 0x80:
            if not running:
                raise MidiFileError("a data byte where a status byte is needed")
            status = running
        else:
            i += 1
        if status < 0xF0:
            n = _DATA_LEN[status & 0xF0]
            if i + n > end:
                raise MidiFileError("a track ends inside a message")
            msg = [status, *data[i:i + n]]
            if data[i] > 0x7F or (n == 2 and data[i + 1] > 0x7F):
                raise MidiFileError(f"a data byte above 127 in a {status:#04x} message")
            i += n
            running = status
            append((tick, status, msg))
            if len(out) > limit:
                raise MidiFileError(f"more than {limit:,} messages")
        elif status == 0xFF:
            if i >= end:
                raise MidiFileError("a track ends inside a meta event")
            kind = data[i]
            length, i = _varlen(data, i + 1, end)
            if i + length > end:
                raise MidiFileError("a meta event runs past the end of its track")
            if kind == 0x51 and length == 3:
                tempo = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]
                append((tick, _TEMPO, [tempo or DEFAULT_TEMPO]))
            i += length
            if kind == 0x2F:
                return
        elif status in (0xF0, 0xF7):
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
