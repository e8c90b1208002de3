"""What is known of a performance at the moment a key goes down.

One ``PerformanceState`` is kept by the live engine, and the same class is replayed by
training and offline evaluation, so an arranger can never see more than a player's
instrument could know: keys still down and the parts they went to, each part's last
pitch and onset, the previous note's time, pitch and part, and (while a chord is
decided again as one, ``livearranger.chords``) the keys of it still to be decided.
"""

from __future__ import annotations

import math


class PerformanceState:
    """Causal state of one performance, updated after each assignment and release."""

    __slots__ = (
        "n_parts", "held", "part_held", "last_pitch", "last_onset", "prev_onset",
        "prev_pitch", "prev_part", "n_notes", "part_counts", "pending", "beat", "_mark",
    )

    def __init__(self, n_parts: int) -> None:
        self.n_parts = n_parts
        self.reset()

    def reset(self) -> None:
        """Forget everything (new piece, preset change)."""
        n = self.n_parts
        self.held: dict[int, int] = {}          # key down -> part it went to
        self.part_held: list[int] = [0] * n     # keys down per part
        self.last_pitch: list[int] = [-1] * n   # last pitch given to each part
        self.last_onset: list[float] = [-math.inf] * n
        self.part_counts: list[int] = [0] * n   # notes given to each part so far
        self.prev_onset: float = -math.inf      # time of the previous note-on
        self.prev_pitch: int = -1
        self.prev_part: int = -1
        self.n_notes: int = 0
        # keys of the chord being decided again that have no part yet (see
        # livearranger.chords)
        self.pending: list[int] = []
        # quarter notes since the song's start when the key went down, from the MIDI
        # clock (livearranger.clock); None when no clock runs
        self.beat: float | None = None
        self._mark = _Mark(n)

    def note_on(self, pitch: int, time: float, part: int) -> None:
        """Record that key ``pitch`` went down at ``time`` and was given to ``part``."""
        old = self.held.get(pitch)
        if old is not None:
            self.part_held[old] -= 1
        self.held[pitch] = part
        self.part_held[part] += 1
        self.last_pitch[part] = pitch
        self.last_onset[part] = time
        self.part_counts[part] += 1
        self.prev_onset = time
        self.prev_pitch = pitch
        self.prev_part = part
        self.n_notes += 1

    def regive(self, pitch: int, time: float, part: int) -> None:
        """Key ``pitch``, struck at ``time`` and still down, now sounds on ``part``
        (a correction between ``mark`` and ``rewind``: counts and history are left)."""
        old = self.held.get(pitch)
        if old is None:
            return
        self.part_held[old] -= 1
        self.held[pitch] = part
        self.part_held[part] += 1
        self.last_pitch[part] = pitch
        self.last_onset[part] = time

    def note_off(self, pitch: int) -> int | None:
        """Record that key ``pitch`` came up; return the part it had, or None."""
        part = self.held.pop(pitch, None)
        if part is not None:
            self.part_held[part] -= 1
        return part

    def sounding(self, part: int) -> bool:
        """True while a key given to ``part`` is still down."""
        return self.part_held[part] > 0

    def held_pitches(self, part: int) -> list[int]:
        """Keys still down that went to ``part``."""
        return [p for p, q in self.held.items() if q == part]

    def mark(self) -> None:
        """Remember the state before a group of keys, so that ``rewind`` can take them
        back (one mark at a time; no allocation)."""
        m = self._mark
        m.last_pitch[:] = self.last_pitch
        m.last_onset[:] = self.last_onset
        m.part_counts[:] = self.part_counts
        m.prev = (self.prev_onset, self.prev_pitch, self.prev_part, self.n_notes)

    def rewind(self, keys: list[int]) -> None:
        """Take back the note-ons of ``keys`` made since ``mark``; releases of other keys
        since then stay (they happened)."""
        for key in keys:
            self.note_off(key)
        m = self._mark
        self.last_pitch[:] = m.last_pitch
        self.last_onset[:] = m.last_onset
        self.part_counts[:] = m.part_counts
        self.prev_onset, self.prev_pitch, self.prev_part, self.n_notes = m.prev


class _Mark:
    """What ``PerformanceState.mark`` keeps."""

    __slots__ = ("last_pitch", "last_onset", "part_counts", "prev")

    def __init__(self, n: int) -> None:
        self.last_pitch = [-1] * n
        self.last_onset = [-math.inf] * n
        self.part_counts = [0] * n
        self.prev: tuple[float, int, int, int] = (-math.inf, -1, -1, 0)
