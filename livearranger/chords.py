"""The correction horizon: every key sounds at once, and its chord is decided again as
one when the chord is complete.

A player's chord reaches the instrument spread over up to 30 ms, in any order, and the
first key of a chord is the hard one.  No key waits: each is given the best part known
the moment it arrives and sounds.  With a horizon of ``h`` seconds (at most
``MAX_HORIZON``) the first key of a chord opens a *group*; every key that arrives within
``h`` of it joins.  When the group closes, its keys are decided again together, lowest
first, each seeing the ones after it (``PerformanceState.pending``) and the releases of
older keys meanwhile (legato overlaps); a key whose part changed *moves* (note-off on the
old part, note-on on the new one); a lone key is decided again only when an older key
came up meanwhile.  A group closes at its deadline (first key + ``h``),
as soon as it holds as many keys as the ensemble can take at once (``chord_size``), at
``MAX_GROUP`` keys, and before a key in it is released or struck again.  The key that
completes a group is not decided alone: it is decided with the group at once, so it
sounds on its final part and never moves (the first key heard alone is the hardest to
place; the last one, with its chord known, the easiest).
Where every part is monophonic (a choir, a quartet: ``chord_size``) a key that arrives
crossing a key of its group (higher than it, given a lower part: the first key guessed
too high or too low) puts the group's keys back in pitch order on the parts they hold
(``HorizonGroup.uncross``): the earlier keys move there and then, the new key sounds in
its place.  It changes no final part: the settle decides from the state as it was
before the chord.
So each key is decided at most twice and moves at most twice, within ``h`` of its
chord's first key: once when a later key of its chord shows it crossed, once when the
chord settles.  More would be a stutter a listener hears, and after the chord is whole
there is nothing new to decide on.

``HorizonGroup`` is the form the performer (``livearranger.performer``) keeps; the
engine, offline ``arrange``, evaluation and training all play through the performer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from livearranger.events import NoteEvent
from livearranger.presets import MAX_HORIZON_MS, Preset
from livearranger.state import PerformanceState

MAX_HORIZON = MAX_HORIZON_MS / 1000.0   # seconds: the longest a part may be corrected
DEFAULT_HORIZON = 0.030                 # what the shipped model presets use
MAX_GROUP = 16                          # keys decided again together, at most

Assign = Callable[[NoteEvent, PerformanceState], int]
Commit = Callable[[NoteEvent, int], None]


def check_horizon(horizon: float | None) -> float | None:
    """A usable horizon in seconds, or None (0 or None: no key is ever revised);
    ValueError when outside 0..``MAX_HORIZON``."""
    if horizon is None or horizon == 0:
        return None
    if not 0.0 < horizon <= MAX_HORIZON:
        raise ValueError(f"horizon must be 0-{MAX_HORIZON * 1000:g} ms, "
                         f"got {horizon * 1000:g} ms")
    return float(horizon)


def chord_size(preset: Preset) -> int | None:
    """The most keys one chord can give the ensemble (one per part when every part is
    monophonic), or None when there is no such bound."""
    parts = preset.parts
    return len(parts) if all(p.mono for p in parts) else None


def uncross(notes: Sequence[NoteEvent], pitch: int, part: int,
            ranges: Sequence[tuple[int, int]]) -> list[int] | None:
    """When a new key (``pitch``, given ``part``) crosses a key of ``notes`` (the chord's
    keys so far, each on its part; a higher key on a lower part), the parts that put
    them all back in pitch order: the same parts, the highest key on the top one; one
    per key of ``notes``, then the new key's.  None when nothing crosses, or when the
    order cannot be restored (a key or part twice, a hinted key, a part outside
    ``ranges``: each part's (lowest, highest) key, top part first)."""
    crossed = False
    for n in notes:
        if n.hint >= 0 or n.pitch == pitch or n.part == part or n.part < 0:
            return None
        if (n.pitch > pitch) == (n.part > part):
            crossed = True
    if not crossed:
        return None
    keys = [n.pitch for n in notes]
    keys.append(pitch)
    given = [n.part for n in notes]
    given.append(part)
    parts = sorted(given)
    if len(set(parts)) < len(parts):
        return None
    out = given                     # reused: every entry is replaced below
    for i, q in zip(sorted(range(len(keys)), key=keys.__getitem__, reverse=True),
                    parts, strict=True):
        low, high = ranges[q]
        if not low <= keys[i] <= high:
            return None
        out[i] = q
    return out


class HorizonGroup:
    """Keys of the chord whose parts may still be corrected (the performer's side of
    the horizon); ``size``: the group is complete at this many keys (``chord_size``);
    ``ranges``: each part's (lowest, highest) key, top part first, where the keys so far
    may be put back in pitch order (``uncross``)."""

    __slots__ = ("horizon", "size", "ranges", "notes", "deadline", "full", "released")

    def __init__(self, horizon: float, size: int | None = None,
                 ranges: Sequence[tuple[int, int]] | None = None) -> None:
        self.horizon = horizon
        self.size = min(size or MAX_GROUP, MAX_GROUP)
        self.ranges = ranges
        self.notes: list[NoteEvent] = []
        self.deadline = 0.0
        self.full = False
        self.released = False   # an older key came up while the group was open

    def __bool__(self) -> bool:
        return bool(self.notes)

    def add(self, note: NoteEvent) -> None:
        """A key sounded: it opens the group (deadline = its time + horizon) or joins it."""
        if not self.notes:
            self.deadline = note.time + self.horizon
            self.released = False
        self.notes.append(note)
        self.full = len(self.notes) >= self.size

    def closes_before(self, time: float, pitch: int | None = None) -> bool:
        """True when an event at ``time`` (on key ``pitch``) must find the group closed:
        it is complete, the event comes after the deadline, or it releases or strikes
        again a key of the group."""
        if not self.notes:
            return False
        if self.full or time > self.deadline:
            return True
        if pitch is not None:
            for n in self.notes:
                if n.pitch == pitch:
                    return True
        return False

    def uncross(self, pitch: int, part: int) -> list[int] | None:
        """``uncross`` over the group's keys so far (None without ``ranges``)."""
        if self.ranges is None:
            return None
        return uncross(self.notes, pitch, part, self.ranges)

    @property
    def news(self) -> bool:
        """True when something was learnt since the first key: more keys, or a release."""
        return len(self.notes) > 1 or self.released

    def take(self) -> list[NoteEvent]:
        """The group's keys, lowest first; the group is empty afterwards."""
        notes = self.notes
        self.notes = []
        self.full = self.released = False
        notes.sort(key=_pitch)
        return notes


def _pitch(note: NoteEvent) -> int:
    return note.pitch


def decide_in_order(assign: Assign, notes: Sequence[NoteEvent], state: PerformanceState,
                    commit: Commit) -> None:
    """Decide a group's keys in the given order: each one ``assign``-ed while
    ``state.pending`` lists the keys after it, then ``commit``-ted (which records it in
    the state) before the next."""
    pending = state.pending
    pending.clear()
    pending.extend(n.pitch for n in notes)
    try:
        for note in notes:
            pending.remove(note.pitch)
            commit(note, assign(note, state))
    finally:
        pending.clear()


def event_order(onset: np.ndarray, offset: np.ndarray
                ) -> tuple[list[float], list[int], list[int]]:
    """A recorded performance's note-ons and note-offs as the engine hears them: times,
    kinds (0 release, 1 key down) and note indices, in time order, releases first at
    equal times, then by note."""
    n = len(onset)
    times = np.concatenate([offset, onset])
    kinds = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    idx = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((idx, kinds, times))
    return times[order].tolist(), kinds[order].tolist(), idx[order].tolist()
