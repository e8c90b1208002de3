"""Preset constraints applied to every arranger: part ranges and busy monophonic parts."""

from __future__ import annotations

from livearranger.presets import Preset
from livearranger.state import PerformanceState

CHORD_WINDOW = 0.035  # seconds: notes struck this close together form one chord


class Constraints:
    """Which parts may take a new note, from the preset's ranges and polyphony."""

    __slots__ = ("low", "high", "mono", "n_parts")

    def __init__(self, preset: Preset) -> None:
        self.low = [p.low for p in preset.parts]
        self.high = [p.high for p in preset.parts]
        self.mono = [p.mono for p in preset.parts]
        self.n_parts = len(preset.parts)

    def candidates(self, pitch: int, state: PerformanceState,
                   time: float | None = None) -> list[int]:
        """Parts allowed to take ``pitch`` now, in preset order; never empty.

        Parts whose range holds the pitch (all parts if none does); of those, the
        monophonic parts that are already sounding are dropped unless that leaves none.
        With ``time`` (the note's onset) a monophonic part counts as sounding only while
        it holds a key struck within ``CHORD_WINDOW`` before ``time`` (a note of the same
        chord): a key from an earlier onset may be a legato note about to be let go.
        """
        n = self.n_parts
        in_range = [i for i in range(n) if self.low[i] <= pitch <= self.high[i]]
        if not in_range:
            in_range = list(range(n))
        if time is None:
            free = [i for i in in_range if not (self.mono[i] and state.part_held[i] > 0)]
        else:
            recent = time - CHORD_WINDOW
            free = [i for i in in_range if not (self.mono[i] and state.part_held[i] > 0
                                                and state.last_onset[i] >= recent)]
        return free or in_range

    def mask(self, pitch: int, state: PerformanceState,
             time: float | None = None) -> list[bool]:
        """``candidates`` as one flag per part."""
        allowed = [False] * self.n_parts
        for i in self.candidates(pitch, state, time):
            allowed[i] = True
        return allowed
