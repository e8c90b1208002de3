"""MIDI clock in: the tempo and beat of a DAW or drum machine that leads the player.

MIDI beat clock sends 24 timing bytes (0xF8) per quarter note, Start (0xFA: from the
top), Continue (0xFB), Stop (0xFC) and Song Position Pointer (0xF2 + 14 bits, in
sixteenth notes).  ``MidiClock`` turns them into a beat position (quarter notes since
the song's start) at any moment while the clock runs, and a tempo: the time of the last
quarter note's ticks over their count.  Ticks arrive stamped with a driver's period of
jitter each; over a whole beat that jitter is two stamps' worth, where a mean of
successive intervals carried it from every tick.  With no clock, or stopped, there is no
beat: a keyboard alone knows no tempo.  It keeps one beat of tick times in a ring: flat
in time and memory, driven by the engine thread only.
"""

from __future__ import annotations

import math

from livearranger.events import CLOCK, CONTINUE, DATA_MASK, SONG_POSITION, START, STOP

PPQN = 24                  # clock ticks per quarter note
_LOST_TICKS = 3.0          # no tick for this many intervals: the clock is gone


class MidiClock:
    """Beat and tempo from MIDI clock messages (engine thread)."""

    __slots__ = ("running", "ticks", "last_tick", "interval", "_start_pending", "_times",
                 "_n")

    def __init__(self) -> None:
        self.running = False
        self.ticks = 0                  # ticks since the song position 0
        self.last_tick = -math.inf      # performance seconds of the latest tick
        self.interval = 0.0             # seconds per tick over the last beat, 0: unknown
        self._start_pending = False
        self._times = [0.0] * (PPQN + 1)   # the latest ticks' times, a ring
        self._n = 0                     # ticks in the ring since the last pause

    def handle(self, data: list[int], time: float) -> bool:
        """Take one system message at ``time``; True when it was a clock message."""
        status = data[0] if data else 0
        if status == CLOCK:
            if self._start_pending:     # Start: the first tick after it is beat 0
                self._start_pending = False
            elif self.running:
                self.ticks += 1
            dt = time - self.last_tick
            if not 0.0 < dt < 0.25:     # 10..∞ bpm; a longer gap is a pause, not tempo
                self._n = 0
            times, size = self._times, len(self._times)
            times[self._n % size] = time
            self._n += 1
            span = min(self._n, size) - 1       # intervals in the ring
            if span:
                self.interval = (time - times[(self._n - 1 - span) % size]) / span
            self.last_tick = time
            return True
        if status == START:
            self.running, self.ticks, self._start_pending = True, 0, True
            return True
        if status == CONTINUE:          # the next tick is at the song position
            self.running, self._start_pending = True, True
            return True
        if status == STOP:
            self.running = False
            return True
        if status == SONG_POSITION and len(data) == 3:
            self.ticks = ((data[2] & DATA_MASK) << 7 | (data[1] & DATA_MASK)) * (PPQN // 4)
            return True
        return False

    @property
    def tempo_bpm(self) -> float | None:
        """Quarter notes per minute, or None before two ticks."""
        return 60.0 / (self.interval * PPQN) if self.interval > 0.0 else None

    def beat(self, time: float) -> float | None:
        """Quarter notes since the song's start at ``time``, or None when no clock
        runs (stopped, never started, or silent for a few ticks)."""
        if not self.running or self.interval <= 0.0:
            return None
        since = time - self.last_tick
        if since > _LOST_TICKS * self.interval or since < -self.interval:
            return None
        return (self.ticks + max(since, 0.0) / self.interval) / PPQN
