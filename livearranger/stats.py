"""Figures the engine keeps while it plays: latency rings and per-part activity.

Written by the engine thread only (fixed-size numpy rings, no allocation per note),
read by whoever polls (TUI, CLI) through ``snapshot`` copies.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


class LatencyRing:
    """The last ``size`` durations in milliseconds, with a running count and maximum."""

    __slots__ = ("_buf", "_n", "size", "max_ms")

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._buf = np.zeros(size, dtype=np.float64)
        self._n = 0
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        """Record one duration (engine thread)."""
        self._buf[self._n % self.size] = ms
        self._n += 1
        if ms > self.max_ms:
            self.max_ms = ms

    @property
    def count(self) -> int:
        return self._n

    def values(self) -> np.ndarray:
        """A copy of the recorded durations, oldest first (at most ``size``)."""
        n = self._n
        if n <= self.size:
            return self._buf[:n].copy()
        i = n % self.size
        return np.concatenate((self._buf[i:], self._buf[:i]))

    def summary(self) -> dict[str, float]:
        """p50/p99/max (ms) over the ring, and how many were recorded in all."""
        vals = self.values()
        if vals.size == 0:
            return {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        p50, p99 = np.percentile(vals, [50, 99])
        return {"count": self._n, "p50_ms": float(p50), "p99_ms": float(p99),
                "max_ms": float(vals.max())}

    def clear(self) -> None:
        self._n = 0
        self.max_ms = 0.0


@dataclass
class PartActivity:
    """Per part: notes played, keys sounding now, the last few pitches."""

    names: list[str]
    counts: list[int] = field(default_factory=list)
    sounding: list[set[int]] = field(default_factory=list)
    recent: list[deque[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.names)
        self.counts = [0] * n
        self.sounding = [set() for _ in range(n)]
        self.recent = [deque(maxlen=8) for _ in range(n)]

    def on(self, part: int, pitch: int) -> None:
        self.counts[part] += 1
        self.sounding[part].add(pitch)
        self.recent[part].append(pitch)

    def off(self, part: int, pitch: int) -> None:
        self.sounding[part].discard(pitch)

    def moved(self, old_part: int, old_pitch: int, part: int, pitch: int) -> None:
        """A sounding key changed part: it counts for the new part only."""
        self.counts[old_part] -= 1
        self.sounding[old_part].discard(old_pitch)
        self.on(part, pitch)

    def all_off(self) -> None:
        for s in self.sounding:
            s.clear()


@dataclass(frozen=True)
class Snapshot:
    """A copy of the engine's figures at one moment, safe to hand to another thread."""

    part_names: list[str]
    counts: list[int]
    sounding: list[list[int]]
    recent: list[list[int]]
    latency: dict[str, float]      # callback -> sent, ms
    assign: dict[str, float]       # arranger.assign alone, ms
    latency_recent: list[float]    # last values for a sparkline
    notes_in: int
    ignored: int                   # messages with nothing to play (system, program, junk)
    last_input: tuple[int, int] | None  # (pitch, velocity) of the latest note-on
    arranger: str
    preset: str
    errors: list[str]              # the latest errors (up to 10), oldest first
    horizon_ms: float = 0.0        # how long a key's part may still be corrected (0: never)
    moves: int = 0                 # keys moved to another part by a correction
    doubles: int = 0               # keys also sounded on a free part (unisons)
    tempo_bpm: float | None = None # MIDI clock in: quarter notes per minute (None: no clock)
    beat: float | None = None      # quarter notes since the song's start (None: no clock)
    dropped_note_ons: int = 0      # new notes dropped: input came faster than we play
    caught_up: int = 0             # notes placed by the quick rule while behind the input
    notices: list[str] = field(default_factory=list)   # ports lost and back (a session's)
    realtime: bool | None = None   # the engine thread has realtime priority (None: no thread)
    muted: list[int] = field(default_factory=list)    # parts muted (0-based)
    soloed: list[int] = field(default_factory=list)   # parts soloed (0-based)
    errors_total: int = 0          # errors ever reported: which of ``errors`` are new

    def __post_init__(self) -> None:
        if self.errors_total < len(self.errors):      # a snapshot made without a total
            object.__setattr__(self, "errors_total", len(self.errors))
