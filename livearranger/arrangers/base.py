"""The arranger interface: every note-on gets one part."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from livearranger.chords import decide_in_order
from livearranger.constraints import Constraints
from livearranger.events import NoteEvent
from livearranger.presets import Preset
from livearranger.state import PerformanceState


class Arranger(ABC):
    """Assigns each incoming note-on to a part index of the preset.

    ``assign`` is called by the engine thread once per note-on, before the state
    records the note; it must honour ``self.constraints`` (the engine does not
    second-guess it) and must not block.  ``reset`` forgets any history of its own.
    An arranger with a history of its own (a model's cache, a rule's chord) keeps it
    undoable: ``mark`` before a group of keys, ``rewind`` to decide them again.

    A player's hint (``livearranger.hints``) is a hard constraint above every arranger:
    the engine calls ``decide``, which gives a hinted note its hint and tells the
    arranger through ``force`` (so its own history follows the forced part) instead of
    asking ``assign``.  An ensemble model of format ``livearranger-ensemble-2`` also
    reads the hint as an input (``RuleFeatures.hint``); the shipped models do not.
    """

    name = "base"
    keeps_warm = False   # True: the engine calls ``keep_warm`` while idle
    settling = False     # True while the default ``assign_chord`` decides a chord again

    def __init__(self, preset: Preset) -> None:
        self.preset = preset
        self.constraints = Constraints(preset)

    @abstractmethod
    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        """The part index for ``note``."""

    def decide(self, note: NoteEvent, state: PerformanceState) -> int:
        """The part for ``note``: its hint when it has one (``force``), else ``assign``."""
        part = note.hint
        if part >= 0:
            self.force(note, state, part)
            return part
        return self.assign(note, state)

    def decide_quickly(self, note: NoteEvent, state: PerformanceState) -> int:
        """The part for ``note`` when the engine is behind its input (a burst faster
        than anyone plays): a cheap answer, so that the backlog clears and no note is
        lost.  By default ``decide``; an arranger whose ``assign`` is costly (a model)
        answers by a rule instead."""
        return self.decide(note, state)

    def force(self, note: NoteEvent, state: PerformanceState, part: int) -> None:
        """A hint fixed ``note``'s part (before the state records it): keep the
        arranger's own history in step as if it had chosen ``part``.  By default
        ``assign`` runs and its answer is dropped (a history of its own advances over
        the key; the rules without one only read the state); an arranger that
        remembers its own choices overrides this to remember ``part``."""
        self.assign(note, state)

    def assign_chord(self, notes: Sequence[NoteEvent], state: PerformanceState,
                     commit: Callable[[NoteEvent, int], None]) -> None:
        """Decide the keys of one chord again as a whole (lowest first):
        ``commit(note, part)`` for each, which records it in ``state`` before the next
        is decided.  By default each is ``decide``-d (``assign``, or its hint) seeing
        the rest as ``state.pending``, with ``settling`` set meanwhile."""
        self.settling = True
        try:
            decide_in_order(self.decide, notes, state, commit)
        finally:
            self.settling = False

    def doublings(self, notes: Sequence[NoteEvent],
                  state: PerformanceState) -> list[tuple[NoteEvent, int]]:
        """After a chord was decided: (note, part) for each of its keys that should
        also sound on ``part``, a part that got no key (a unison: two voices on one
        key).  The engine checks that each is possible.  By default: none."""
        return []

    def reset(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Forget the performance so far (new piece, preset change)."""

    def keep_warm(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Run once without changing anything, so that the next note finds the
        arranger's data in the CPU caches (called while idle when ``keeps_warm``)."""

    def mark(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Remember the history so far: the keys assigned after this may be taken back
        by ``rewind`` (at most ``chords.MAX_GROUP`` of them; one mark at a time)."""

    def rewind(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Forget every key assigned since ``mark``, as if they had not come yet."""

    def describe(self) -> str:
        """One line for the UI: what assigns the notes and how it runs."""
        return self.name
