"""The one event type that flows through LiveArranger, from MIDI in to every output,
and the numbers MIDI fixes (status bytes, controllers, the drum channel, pitch names),
each named once here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

# Status bytes.  The channel-voice kinds are the high nibble (``status & KIND_MASK``),
# the channel the low one; plain ints, not Kind members, so that the realtime path
# builds and tests messages at the cost of a global lookup.
NOTE_OFF = 0x80
NOTE_ON = 0x90
POLY_AFTERTOUCH = 0xA0
CONTROL = 0xB0
PROGRAM = 0xC0
AFTERTOUCH = 0xD0
PITCHBEND = 0xE0
KIND_MASK = 0xF0
CHANNEL_MASK = 0x0F
DATA_MASK = 0x7F            # a data byte's 7 bits
SYSTEM = 0xF0               # statuses from here on are system messages, no channel
SYSEX = 0xF0
SONG_POSITION = 0xF2
EOX = 0xF7                  # End of Exclusive: ends a SysEx
REALTIME = 0xF8             # real-time statuses from here on, allowed mid-message
CLOCK = 0xF8                # Timing Clock: 24 per quarter note
START = 0xFA
CONTINUE = 0xFB
STOP = 0xFC
META = 0xFF                 # in a Standard MIDI File (a reset on a cable)
# a lone End of Exclusive, as MidiInput sends it into its own input to end a SysEx
LONE_EOX = [EOX]
BEND_CENTRE = 8192          # a 14-bit pitch bend at rest

DRUM_CHANNEL = 9            # channel 10 in the General MIDI count


class Kind(IntEnum):
    """Channel-voice message kinds, valued as their MIDI status high nibble."""

    NOTE_OFF = NOTE_OFF
    NOTE_ON = NOTE_ON
    POLY_AFTERTOUCH = POLY_AFTERTOUCH
    CONTROL = CONTROL
    PROGRAM = PROGRAM
    AFTERTOUCH = AFTERTOUCH
    PITCHBEND = PITCHBEND


# controller numbers
SUSTAIN = 64
ALL_SOUND_OFF = 120
RESET_CONTROLLERS = 121
ALL_NOTES_OFF = 123

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(pitch: int) -> str:
    """Scientific pitch name, MIDI 60 = C4."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


@dataclass(slots=True)
class NoteEvent:
    """One performance event: a channel-voice message with its time and, once decided,
    its part.

    Each kind's values have names: a note's ``pitch`` and ``velocity``; CONTROL's
    ``control`` and ``value``; PITCHBEND's ``bend`` (14 bits, 0..16383, centre
    ``BEND_CENTRE``); AFTERTOUCH's ``value`` (the pressure); POLY_AFTERTOUCH's ``pitch``
    and ``value``; PROGRAM's ``program``.  Make events with the constructor of their kind
    (``note_on``, ``control_change``, ``pitch_bend`` ...).  The names share two stored
    fields, ``pitch`` (the first data value) and ``velocity`` (the second, or the only
    one of AFTERTOUCH and PITCHBEND), so that an event stays eight slots and parsing one
    allocates nothing else.  ``time`` is seconds on the performance clock; ``stamp`` is
    ``time.perf_counter_ns()`` at arrival (0 when replayed), used for latency figures.
    ``part`` is the assigned part index (-1 before assignment); ``hint`` the part a
    player's hint forced a note-on to (-1: none; ``livearranger.hints``).
    """

    kind: Kind
    time: float = 0.0
    pitch: int = 0
    velocity: int = 0
    channel: int = 0
    part: int = -1
    stamp: int = 0
    hint: int = -1

    @classmethod
    def note_on(cls, time: float, pitch: int, velocity: int, channel: int = 0,
                stamp: int = 0) -> NoteEvent:
        """A key struck (velocity 0 is a release, as MIDI has it)."""
        return cls(Kind.NOTE_ON, time, pitch, velocity, channel, -1, stamp)

    @classmethod
    def note_off(cls, time: float, pitch: int, velocity: int = 0, channel: int = 0,
                 stamp: int = 0) -> NoteEvent:
        """A key released, with its release velocity."""
        return cls(Kind.NOTE_OFF, time, pitch, velocity, channel, -1, stamp)

    @classmethod
    def control_change(cls, time: float, control: int, value: int, channel: int = 0,
                       stamp: int = 0) -> NoteEvent:
        """Controller ``control`` (SUSTAIN, a hint's CC ...) set to ``value``."""
        return cls(Kind.CONTROL, time, control, value, channel, -1, stamp)

    @classmethod
    def pitch_bend(cls, time: float, bend: int, channel: int = 0,
                   stamp: int = 0) -> NoteEvent:
        """The bend wheel at ``bend`` (0..16383, ``BEND_CENTRE`` at rest)."""
        return cls(Kind.PITCHBEND, time, 0, bend, channel, -1, stamp)

    @classmethod
    def channel_pressure(cls, time: float, pressure: int, channel: int = 0,
                         stamp: int = 0) -> NoteEvent:
        """AFTERTOUCH: the pressure on the whole keyboard."""
        return cls(Kind.AFTERTOUCH, time, 0, pressure, channel, -1, stamp)

    @classmethod
    def key_pressure(cls, time: float, pitch: int, pressure: int, channel: int = 0,
                     stamp: int = 0) -> NoteEvent:
        """POLY_AFTERTOUCH: the pressure on one held key."""
        return cls(Kind.POLY_AFTERTOUCH, time, pitch, pressure, channel, -1, stamp)

    @classmethod
    def program_change(cls, time: float, program: int, channel: int = 0,
                       stamp: int = 0) -> NoteEvent:
        """A program (sound) chosen on the keyboard."""
        return cls(Kind.PROGRAM, time, program, 0, channel, -1, stamp)

    def message(self) -> list[int]:
        """The raw bytes of this event's message."""
        return encode(self.kind, self.channel, self.pitch, self.velocity)

    # each kind's values by name (stored in ``pitch`` and ``velocity``, see above)
    @property
    def control(self) -> int:
        """CONTROL: the controller number."""
        return self.pitch

    @property
    def value(self) -> int:
        """CONTROL: the controller's value; AFTERTOUCH and POLY_AFTERTOUCH: the
        pressure."""
        return self.velocity

    @property
    def bend(self) -> int:
        """PITCHBEND: the 14-bit bend, 0..16383, centre 8192."""
        return self.velocity

    @property
    def program(self) -> int:
        """PROGRAM: the program number."""
        return self.pitch

    @property
    def is_note_on(self) -> bool:
        """A note-on with velocity > 0 (velocity 0 is a note-off by MIDI convention)."""
        return self.kind is Kind.NOTE_ON and self.velocity > 0

    @property
    def is_note_off(self) -> bool:
        """A note-off, or a note-on with velocity 0."""
        return self.kind is Kind.NOTE_OFF or (self.kind is Kind.NOTE_ON and self.velocity == 0)


# data bytes after each channel-voice status (by its kind)
DATA_BYTES = {
    NOTE_OFF: 2,
    NOTE_ON: 2,
    POLY_AFTERTOUCH: 2,
    CONTROL: 2,
    PROGRAM: 1,
    AFTERTOUCH: 1,
    PITCHBEND: 2,
}


_KIND_OF = {int(k): k for k in Kind}


def _byte(b: object) -> bool:
    return isinstance(b, int) and 0 <= b <= DATA_MASK


def parse(data: Sequence[int], time: float = 0.0, stamp: int = 0) -> NoteEvent | None:
    """Parse one raw MIDI message; return None for anything that is not a well-formed
    channel-voice message (system messages, running status, garbage bytes)."""
    n = len(data)
    if n == 3:                        # notes, controllers, bend: nearly everything
        status, a, b = data
        if not (isinstance(status, int) and NOTE_OFF <= status < SYSTEM and _byte(a)
                and _byte(b)):
            return None
        kind = _KIND_OF[status & KIND_MASK]
        if DATA_BYTES[kind] != 2:
            return None
        if kind is Kind.PITCHBEND:
            return NoteEvent(kind, time, 0, a | (b << 7), status & CHANNEL_MASK, -1, stamp)
        return NoteEvent(kind, time, a, b, status & CHANNEL_MASK, -1, stamp)
    if n == 2:
        status, a = data
        if not (isinstance(status, int) and NOTE_OFF <= status < SYSTEM and _byte(a)):
            return None
        kind = _KIND_OF[status & KIND_MASK]
        if DATA_BYTES[kind] != 1:
            return None
        if kind is Kind.AFTERTOUCH:
            return NoteEvent(kind, time, 0, a, status & CHANNEL_MASK, -1, stamp)
        return NoteEvent(kind, time, a, 0, status & CHANNEL_MASK, -1, stamp)
    return None


def split_messages(data: Sequence[int]) -> list[list[int]]:
    """The channel-voice messages in raw bytes that may hold several: a SysEx with what
    rtmidi caught in it (see ``midi_io.MidiInput``), running status, real-time bytes in
    between.  As on a MIDI cable, any status byte but a real-time one ends a SysEx, and
    system messages cancel running status; data bytes with no status, incomplete
    messages and values that are not bytes are skipped."""
    out: list[list[int]] = []
    status = need = 0
    got: list[int] = []
    for b in data:
        if not isinstance(b, int) or b < 0 or b > 0xFF:
            status = 0
            continue
        if b >= REALTIME:                # real-time: may come anywhere, even mid-message
            continue
        if b >= NOTE_OFF:               # a status byte
            status = b if b < SYSTEM else 0
            need = DATA_BYTES[b & KIND_MASK] if status else 0
            got = []
            continue
        if status:
            got.append(b)
            if len(got) == need:
                out.append([status, *got])
                got = []                 # running status: the next data bytes reuse it
    return out


def continues(data: Sequence[int], status: int) -> bool:
    """True when ``data`` is nothing but whole messages' data bytes for ``status``
    (running status): anything else is not read as a continuation."""
    need = DATA_BYTES[status & KIND_MASK]
    return bool(data) and len(data) % need == 0 and all(
        isinstance(b, int) and 0 <= b < NOTE_OFF for b in data)


def running_status(data: Sequence[int], status: int) -> int:
    """The running status after ``data`` that began with ``status`` (0: none): the last
    channel-voice status in it, cancelled by a system message after it; real-time bytes
    and data bytes leave it as it is."""
    for b in data:
        if not isinstance(b, int) or b < NOTE_OFF or b >= REALTIME:
            continue
        status = b if b < SYSTEM else 0
    return status


class RunningStatus:
    """One input's running status across its events: whole messages' data bytes alone
    (``continues``) take the status of the message before them, as on a cable.  JACK
    asks for whole messages; bridges and some programs send running status across
    events all the same."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status = 0

    def feed(self, data: list[int]) -> list[int]:
        """``data`` with the running status put before it where it continues one; the
        status after it is kept for the next event."""
        status = self.status
        first = data[0] if data else -1
        if not isinstance(first, int):
            return data
        if NOTE_OFF <= first < SYSTEM and len(data) == 1 + DATA_BYTES[first & KIND_MASK]:
            self.status = first           # one whole message: the common case
            return data
        if 0 <= first < NOTE_OFF and status and continues(data, status):
            data = [status, *data]
        self.status = running_status(data, status)
        return data


def encode(kind: Kind, channel: int, a: int = 0, b: int = 0) -> list[int]:
    """Raw bytes of a channel-voice message: ``a`` and ``b`` are what a NoteEvent of
    ``kind`` stores in ``pitch`` and ``velocity``."""
    status = int(kind) | (channel & CHANNEL_MASK)
    if kind is Kind.PITCHBEND:
        return [status, b & DATA_MASK, (b >> 7) & DATA_MASK]
    if kind is Kind.PROGRAM:
        return [status, a & DATA_MASK]
    if kind is Kind.AFTERTOUCH:
        return [status, b & DATA_MASK]
    return [status, a & DATA_MASK, b & DATA_MASK]
