"""Unisons: a key that also sounds on a second part (two voices singing one key).

After a chord is decided, the arranger may ask for some of its keys to be doubled onto a
part that got no key of the chord (``Arranger.doublings``).  ``Unisons`` keeps those
second voices for the performer: which key sings on which second part, whether a new
doubling is possible, and which second voice ends when its part is given a key of its
own (a part is one voice: the unison yields).  The arranger never sees the second parts:
its view of the performance stays the one it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence

from livearranger.events import NoteEvent
from livearranger.presets import Preset


class Unisons:
    """The second voices of one performance: key -> (second part, pitch it sounds)."""

    __slots__ = ("_parts", "_second")

    def __init__(self, preset: Preset) -> None:
        self._parts = preset.parts
        # key -> (second part, pitch it sounds, the key's onset: where records begin it)
        self._second: dict[int, tuple[int, int, float]] = {}

    def __bool__(self) -> bool:
        return bool(self._second)

    def allowed(self, note: NoteEvent, part: int, chord: Sequence[NoteEvent],
                held_part: int | None, part_busy: bool) -> bool:
        """True when ``note``'s key may also sound on ``part``: the key is still down on
        its own part (``held_part``), ``part`` is another monophonic part whose range
        holds the key, no key of ``chord`` went to it, nothing sounds on it
        (``part_busy``) and no unison sings there already."""
        key = note.pitch
        parts = self._parts
        if held_part is None or held_part != note.part or part == note.part:
            return False
        if not 0 <= part < len(parts):
            return False
        spec = parts[part]
        if not spec.mono or not spec.low <= key <= spec.high or part_busy:
            return False
        if key in self._second or any(n.part == part for n in chord):
            return False
        return all(p != part for p, _, _ in self._second.values())

    def add(self, key: int, part: int, pitch: int, onset: float) -> None:
        """``key`` (down since ``onset``) now also sounds ``pitch`` on ``part``."""
        self._second[key] = (part, pitch, onset)

    def yield_part(self, part: int) -> tuple[int, int, float] | None:
        """``part`` is given a key of its own: the unison singing there ends; returns its
        (part, pitch, onset) to stop, or None."""
        for key, (p, pitch, onset) in self._second.items():
            if p == part:
                del self._second[key]
                return p, pitch, onset
        return None

    def release(self, key: int) -> tuple[int, int] | None:
        """``key`` came up: its second voice, if any, (part, pitch) to stop."""
        second = self._second.pop(key, None)
        return None if second is None else (second[0], second[1])

    def clear(self) -> None:
        """Forget every second voice (the router stops what they sound: panic)."""
        self._second.clear()
