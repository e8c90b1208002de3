"""Rule-based arrangers: zone splits, closest pitch, top/bottom, most common part."""

from __future__ import annotations

from collections.abc import Sequence

from livearranger.arrangers.base import Arranger
from livearranger.events import NoteEvent
from livearranger.presets import Preset
from livearranger.state import PerformanceState


def _centre(preset: Preset, part: int) -> float:
    p = preset.parts[part]
    return (p.low + p.high) / 2.0


def proximity(preset: Preset, state: PerformanceState, part: int, pitch: int) -> float:
    """How far ``pitch`` is from ``part``'s last pitch (its range centre before it has
    played), plus an octave's penalty while the part is sounding."""
    last = state.last_pitch[part]
    ref = last if last >= 0 else _centre(preset, part)
    return abs(pitch - ref) + (12.0 if state.part_held[part] > 0 else 0.0)


def default_boundaries(preset: Preset) -> list[int]:
    """Split points between neighbouring parts: midway between their range centres."""
    return [round((_centre(preset, i) + _centre(preset, i + 1)) / 2)
            for i in range(len(preset.parts) - 1)]


class ZoneArranger(Arranger):
    """Keyboard split: part i takes pitches from ``boundaries[i]`` up to the split above.

    ``boundaries`` are n-1 descending split points (part 0 on top); by default midway
    between neighbouring parts' range centres.
    """

    name = "zone"

    def __init__(self, preset: Preset, boundaries: Sequence[int] | None = None) -> None:
        super().__init__(preset)
        bounds = list(boundaries) if boundaries is not None else default_boundaries(preset)
        if len(bounds) != len(preset.parts) - 1:
            raise ValueError(f"zone needs {len(preset.parts) - 1} split points, got {len(bounds)}")
        self.boundaries = bounds

    def zone(self, pitch: int) -> int:
        """The part whose zone holds ``pitch``, ignoring constraints."""
        for i, b in enumerate(self.boundaries):
            if pitch >= b:
                return i
        return len(self.boundaries)

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        want = self.zone(note.pitch)
        options = self.constraints.candidates(note.pitch, state)
        return min(options, key=lambda i: (abs(i - want), i))


class ClosestPitchArranger(Arranger):
    """Voice-leading by proximity: the part whose last pitch is nearest wins.

    A part that has not played yet is measured from the centre of its range; free
    parts are preferred to parts already sounding (constraints already drop busy
    monophonic parts while another part is free).
    """

    name = "closest-pitch"

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        options = self.constraints.candidates(note.pitch, state)
        return min(options, key=lambda i: proximity(self.preset, state, i, note.pitch))


class TopBottomArranger(Arranger):
    """Arranger-keyboard style: the highest key down goes to the top part, the lowest to
    the bottom part, notes in between to the inner parts by closest pitch.

    A note alone (no other key down) goes to whichever of top and bottom it is nearer to.
    """

    name = "top-bottom"

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        n = len(self.preset.parts)
        options = self.constraints.candidates(note.pitch, state)
        if n == 1:
            return options[0]
        top, bottom = 0, n - 1
        others = [p for p in state.held if p != note.pitch]
        if not others:
            near_top = proximity(self.preset, state, top, note.pitch)
            want = top if near_top <= proximity(self.preset, state, bottom, note.pitch) else bottom
        elif note.pitch > max(others):
            want = top
        elif note.pitch < min(others):
            want = bottom
        else:
            inner = [i for i in options if top < i < bottom]
            if inner:
                return min(inner, key=lambda i: proximity(self.preset, state, i, note.pitch))
            want = top if abs(note.pitch - max(others)) < abs(note.pitch - min(others)) else bottom
        if want in options:
            return want
        return min(options, key=lambda i: (abs(i - want), i))


# The part most common in the training data of each preset trained on a corpus of its
# own, as evaluation fits it (``livearranger.lab.evaluate.most_common_part`` over the
# train split; the most-common rows of docs/results.json play it).  Kept here because
# the runtime has no corpus to count.
TRAINED_PART: dict[str, str] = {"satb": "bass", "string-quartet": "violin1"}


def trained_part(preset: Preset) -> int:
    """The part most common in ``preset``'s training data; the top part for a preset
    trained on no corpus of its own (or one whose parts are not the trained ones)."""
    names = preset.part_names
    name = TRAINED_PART.get(preset.name, names[0])
    return names.index(name) if name in names else 0


class MostCommonArranger(Arranger):
    """Every note to one part where the constraints allow it, else the nearest allowed
    part; a baseline.  ``part``: that part (default: the one most common in the preset's
    training data, ``trained_part``)."""

    name = "most-common"

    def __init__(self, preset: Preset, part: int | None = None) -> None:
        super().__init__(preset)
        self.part = trained_part(preset) if part is None else part

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        options = self.constraints.candidates(note.pitch, state)
        if self.part in options:
            return self.part
        return min(options, key=lambda i: (abs(i - self.part), i))
