"""The grace window: a struck chord decided as one, at a bounded cost in latency.

A player's chord reaches the instrument spread over up to 30 ms, in any order. Without a
grace window every key is given a part the moment it arrives, before the rest of its
chord is known. With a grace window of ``g`` seconds (at most ``MAX_GRACE``), the first
key of a chord opens a gate; every key that arrives within ``g`` of it joins; when the
gate's deadline passes, the chord's keys are decided lowest first, each seeing the ones
still undecided (``PerformanceState.pending``), and sent. No key waits more than ``g``;
a later key of the chord waits less. The gate closes early when it holds as many keys as
the ensemble can take at once (``chord_size``: every part monophonic), and when a key in
it is released or struck again (it must sound before it can stop). Note-offs of other
keys, pedal and controllers pass straight through.

``ChordGate`` is the streaming form the engine uses; ``schedule`` is the same rule for a
whole recorded performance (evaluation and training), so both decide the same notes in
the same order with the same knowledge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from livearranger.events import NoteEvent
from livearranger.presets import MAX_GRACE_MS, Preset
from livearranger.state import PerformanceState

MAX_GRACE = MAX_GRACE_MS / 1000.0   # seconds: the longest a key may wait for its chord
DEFAULT_GRACE = MAX_GRACE           # what the shipped model presets use

Assign = Callable[[NoteEvent, PerformanceState], int]
Commit = Callable[[NoteEvent, int], None]


def check_grace(grace: float | None) -> float | None:
    """A usable window in seconds, or None (0 or None: every key decided on arrival);
    ValueError when outside 0..``MAX_GRACE``."""
    if grace is None or grace == 0:
        return None
    if not 0.0 < grace <= MAX_GRACE:
        raise ValueError(f"grace window must be 0-{MAX_GRACE * 1000:g} ms, "
                         f"got {grace * 1000:g} ms")
    return float(grace)


def chord_size(preset: Preset) -> int | None:
    """The most keys one chord can give the ensemble (one per part when every part is
    monophonic), or None when there is no such bound."""
    parts = preset.parts
    return len(parts) if all(p.mono for p in parts) else None


class ChordGate:
    """Keys waiting for the rest of their chord (engine side of the grace window);
    ``size``: decide at once when this many keys wait (``chord_size``)."""

    __slots__ = ("grace", "size", "notes", "deadline")

    def __init__(self, grace: float, size: int | None = None) -> None:
        self.grace = grace
        self.size = size or 1 << 30
        self.notes: list[NoteEvent] = []
        self.deadline = 0.0

    def __bool__(self) -> bool:
        return bool(self.notes)

    def add(self, note: NoteEvent) -> bool:
        """A key arrived: it opens the gate (deadline = its time + grace) or joins it.
        True when the chord is now full and must be decided at once."""
        if not self.notes:
            self.deadline = note.time + self.grace
        self.notes.append(note)
        return len(self.notes) >= self.size

    def closes_before(self, time: float, pitch: int | None = None) -> bool:
        """True when an event at ``time`` (on key ``pitch``) must find the chord decided:
        it comes after the deadline, or it releases or strikes again a waiting key."""
        if not self.notes:
            return False
        if time > self.deadline:
            return True
        if pitch is not None:
            for n in self.notes:
                if n.pitch == pitch:
                    return True
        return False

    def take(self) -> list[NoteEvent]:
        """The waiting keys, lowest first; the gate is empty afterwards."""
        notes = self.notes
        self.notes = []
        notes.sort(key=_pitch)
        return notes


def _pitch(note: NoteEvent) -> int:
    return note.pitch


def decide_in_order(assign: Assign, notes: Sequence[NoteEvent], state: PerformanceState,
                    commit: Commit) -> None:
    """Decide a chord's keys in the given order: each one ``assign``-ed while
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


def schedule(onset: np.ndarray, offset: np.ndarray, pitch: np.ndarray,
             grace: float | None, size: int | None = None
             ) -> list[tuple[int, int, tuple[int, ...], float]]:
    """The order in which a recorded performance is decided, as the engine would.

    Returns ``(kind, note index, pending keys, time)`` steps: kind 0 releases a note at
    ``time``, kind 1 decides one at ``time`` (its arrival plus what it waited), with the
    keys of its chord still undecided after it (the last key of a chord has none).  ``grace`` None
    decides every key on arrival (the events in time order, releases first at equal
    times); otherwise keys are gathered as ``ChordGate(grace, size)`` gathers them.
    """
    n = len(onset)
    times = np.concatenate([offset, onset])
    kinds = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    idx = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((idx, kinds, times))
    steps: list[tuple[int, int, tuple[int, ...], float]] = []
    waiting: list[int] = []
    deadline = 0.0
    keys = pitch.tolist()

    def flush(at: float) -> None:
        waiting.sort(key=lambda j: (keys[j], j))
        for i, j in enumerate(waiting):
            steps.append((1, j, tuple(keys[k] for k in waiting[i + 1:]), at))
        waiting.clear()

    for o in order.tolist():
        t, kind, j = float(times[o]), int(kinds[o]), int(idx[o])
        if waiting:
            if t > deadline:
                flush(deadline)
            elif any(keys[k] == keys[j] for k in waiting):
                flush(t)
        if kind == 0:
            steps.append((0, j, (), t))
        elif grace is None:
            steps.append((1, j, (), t))
        else:
            if not waiting:
                deadline = t + grace
            waiting.append(j)
            if size is not None and len(waiting) >= size:
                flush(t)
    if waiting:
        flush(deadline)
    return steps
