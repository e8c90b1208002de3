"""Voice-leading: the strongest rule we know, online.

Each part is one voice.  Notes that arrive within ``CHORD_WINDOW`` of the first note of
an onset form one chord; a monophonic part takes at most one note of a chord, and the
notes of a chord keep the parts' order by pitch (no crossing: a higher part never takes
a lower note than a lower part in the same chord).  Otherwise each note goes to the part
whose last pitch is nearest, where the parts that will probably move with it (free
parts that have not yet taken a note of this chord) are expected near their last pitch
and should stay in order around it.  Keys still down matter: a part holding a key struck
before this chord is sustaining (score) or about to let go (legato playing); it may take
the note, at a cost, and its held key is an anchor for the order of the others.

Only the notes of the current chord that have already arrived are seen.  When a chord
is decided again as a whole (the correction horizon) the keys after this one are seen
too (``state.pending``): each key takes its part in the least-cost assignment of itself
and the keys after it to free parts in pitch order (a small dynamic programme over keys
and parts).

``propose``/``observe`` let a learned arranger consult the rule without following it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from livearranger.arrangers.base import Arranger
from livearranger.chords import decide_in_order
from livearranger.constraints import CHORD_WINDOW
from livearranger.events import NoteEvent
from livearranger.presets import Preset
from livearranger.state import PerformanceState

CROSS = 100.0          # crossing a note of the same chord: practically forbidden
MAX_CHORD = 32         # notes in one chord at most: a longer run starts a new one


class VoiceLeadingArranger(Arranger):
    """Online voice-leading over the preset's parts (see the module text).

    ``hold_cost``: cost (semitones) of giving the note to a part holding an older key;
    ``chord_hold_cost``: the same when the whole chord is seen (decided again; chosen on
    the validation split: a sustained key is then told apart from a legato one better);
    ``anchor``: weight of the order against other parts' held and expected pitches;
    ``strict``: honour the preset's busy-monophonic-part constraint exactly (a part with
    any key down is skipped while another is free) instead of only within a chord.
    """

    name = "voice-leading"

    def __init__(self, preset: Preset, hold_cost: float = 1.0, anchor: float = 0.5,
                 strict: bool = False, chord_hold_cost: float = 4.0) -> None:
        super().__init__(preset)
        self.hold_cost = float(hold_cost)
        self.chord_hold_cost = float(chord_hold_cost)
        self.anchor = float(anchor)
        self.strict = bool(strict)
        n = len(preset.parts)
        self._centre = [(p.low + p.high) / 2.0 for p in preset.parts]
        self._chord_pitch: list[int] = []
        self._chord_part: list[int] = []
        self._chord_start = -1e9
        self._sorted = True         # recent chords came quantised and in pitch order
        self._chord_sorted = False  # this chord so far did
        self._used = [0] * n
        self._cost = [0.0] * n
        self._gated = False         # deciding a whole chord again
        self._chord_gated = False   # this chord was decided whole (says nothing of order)
        # what ``mark`` kept: chord pitches, parts, start, sorted flags, parts used
        self._saved: tuple[list[int], list[int], float, bool, bool, bool, list[int]] | None = None

    def reset(self) -> None:
        self._chord_pitch.clear()
        self._chord_part.clear()
        self._chord_start = -1e9
        self._sorted = True
        self._chord_sorted = False
        for i in range(len(self._used)):
            self._used[i] = 0

    def mark(self) -> None:
        self._saved = (list(self._chord_pitch), list(self._chord_part), self._chord_start,
                       self._sorted, self._chord_sorted, self._chord_gated, list(self._used))

    def rewind(self) -> None:
        if self._saved is None:
            return
        # how the chord taken back arrived still tells whether the input is a score
        arrived = self._chord_sorted if len(self._chord_pitch) > 1 else None
        pitches, parts, start, srt, chord_sorted, chord_gated, used = self._saved
        if arrived is not None and not self._chord_gated:
            srt = arrived
        self._chord_pitch[:] = pitches
        self._chord_part[:] = parts
        self._chord_start, self._sorted, self._chord_sorted = start, srt, chord_sorted
        self._chord_gated = chord_gated
        self._used[:] = used

    # ---------------------------------------------------------------- one chord
    def _begin(self, t: float, state: PerformanceState) -> None:
        """Start a new chord if ``t`` is past the current one."""
        if (state.n_notes == 0 or t - self._chord_start > CHORD_WINDOW
                or len(self._chord_pitch) >= MAX_CHORD):
            if len(self._chord_pitch) > 1 and not self._chord_gated:
                self._sorted = self._chord_sorted
            self._chord_sorted = True
            self._chord_gated = False
            self._chord_start = t
            self._chord_pitch.clear()
            self._chord_part.clear()
            for i in range(len(self._used)):
                self._used[i] = 0

    def _record(self, p: int, part: int) -> int:
        self._chord_pitch.append(p)
        self._chord_part.append(part)
        self._used[part] += 1
        return part

    def _options(self, p: int, state: PerformanceState) -> list[int]:
        n = len(self._used)
        mono, low, high = self.constraints.mono, self.constraints.low, self.constraints.high
        if self.strict:
            return self.constraints.candidates(p, state)
        options = [i for i in range(n) if low[i] <= p <= high[i]] or list(range(n))
        free = [i for i in options if not (mono[i] and self._used[i])]
        return free or options

    def _old_held(self, p: int, state: PerformanceState) -> dict[int, list[int]]:
        """Older keys still down, per part (keys struck in this chord excluded)."""
        old_held: dict[int, list[int]] = {}
        for key, part in state.held.items():
            if key == p or key in self._chord_pitch:
                continue
            old_held.setdefault(part, []).append(key)
        return old_held

    def _costs(self, p: int, options: list[int], old_held: dict[int, list[int]],
               state: PerformanceState, chord: bool) -> list[float]:
        """Cost of each part in ``options`` taking ``p`` (see the module text)."""
        n = len(self._used)
        mono, last = self.constraints.mono, state.last_pitch
        hold_cost = self.chord_hold_cost if chord else self.hold_cost
        # parts that may still take a note of this chord, and where each is expected:
        # a held key's pitch, else its last pitch, else its range centre.  Expected pitches
        # are paired with the parts in order (lowest pitch to the lowest part), so one
        # early mistake does not persist: the order of the parts, not their history,
        # decides which of them a pitch belongs to.
        rank: dict[int, int] = {}
        vals: list[float] = []
        for k in range(n - 1, -1, -1):
            if self._used[k] and mono[k]:
                continue
            held = old_held.get(k)
            if held is not None:
                vals.append(float(max(held)))
            else:
                vals.append(float(last[k]) if last[k] >= 0 else self._centre[k])
            rank[k] = len(rank)
        vals.sort()
        costs = []
        for k in options:
            r = rank.get(k)
            if r is not None:
                cost = abs(p - vals[r])
            else:
                cost = abs(p - (last[k] if last[k] >= 0 else self._centre[k]))
            if k in old_held:
                cost += hold_cost
            if self._used[k]:
                cost += 12.0  # a polyphonic part taking a second note of one chord
            for q, j in zip(self._chord_pitch, self._chord_part, strict=True):
                if (j < k and q < p) or (j > k and q > p):
                    cost += CROSS
            for j, held in old_held.items():
                if j == k:
                    continue
                for q in held:
                    if j < k and q < p:
                        cost += self.anchor * (p - q)
                    elif j > k and q > p:
                        cost += self.anchor * (q - p)
            costs.append(cost)
        return costs

    def propose(self, note: NoteEvent, state: PerformanceState, chord: bool = False) -> int:
        """The rule's part for ``note`` without committing to it (``observe`` records
        what was really chosen).  ``chord``: the note is one of a chord decided again as a
        whole (the keys after it are ``state.pending``)."""
        t, p = note.time, note.pitch
        n = len(self._used)
        self._begin(t, state)
        if chord:
            self._chord_gated = True
            plan = self._plan([p, *state.pending], state)
            if plan is not None:
                return plan[0]
        options = self._options(p, state)
        old_held = self._old_held(p, state)
        if self._chord_pitch and (t != self._chord_start or p < self._chord_pitch[-1]):
            self._chord_sorted = False
        if self._sorted and self._chord_sorted and not chord:
            # quantised input in pitch order (a score): the notes still to come lie above
            # this one, and every free part will take one; so this note goes to the
            # lowest free part above the chord's notes so far.
            top = min(self._chord_part, default=n)
            free = [k for k in options if k < top and not self._used[k] and k not in old_held]
            if free:
                return max(free)
        costs = self._costs(p, options, old_held, state, chord)
        return options[min(range(len(options)), key=costs.__getitem__)]

    def observe(self, note: NoteEvent, part: int) -> None:
        """Record that ``note`` (just ``propose``-d) went to ``part``."""
        self._record(note.pitch, part)

    def force(self, note: NoteEvent, state: PerformanceState, part: int) -> None:
        """A hinted note: its chord bookkeeping records ``part``, not the rule's choice."""
        self.propose(note, state, self._gated)
        self._record(note.pitch, part)

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        part = self.propose(note, state, self._gated)
        self._record(note.pitch, part)
        return part

    def assign_chord(self, notes: Sequence[NoteEvent], state: PerformanceState,
                     commit: Callable[[NoteEvent, int], None]) -> None:
        """The whole chord at once: each key (lowest first) takes its part in the
        assignment of it and the keys after it to parts in pitch order, one key per
        monophonic part, of least total cost.  With polyphonic parts (no such plan) the
        keys are taken one by one in the order they arrived, as without a window."""
        if not all(self.constraints.mono):
            decide_in_order(self.decide, sorted(notes, key=_arrival), state, commit)
            return
        self._gated = True
        try:
            decide_in_order(self.decide, notes, state, commit)
        finally:
            self._gated = False

    def _plan(self, pitches: Sequence[int], state: PerformanceState) -> list[int] | None:
        n, m = len(self._used), len(pitches)
        mono = self.constraints.mono
        if not all(mono):
            return None
        free = [k for k in range(n) if not self._used[k]]
        if m > len(free):
            return None
        inf = float("inf")
        # cost[i][k]: key i (ascending) on part k
        cost = [[inf] * n for _ in range(m)]
        for i, p in enumerate(pitches):
            options = self._options(p, state)
            old_held = self._old_held(p, state)
            for k, c in zip(options, self._costs(p, options, old_held, state, True),
                            strict=True):
                if not self._used[k]:
                    cost[i][k] = c
        # best[i][k]: keys 0..i placed, key i on part k; parts rise as pitches rise,
        # so key i+1 takes a part with a smaller index than key i's
        best = [[inf] * n for _ in range(m)]
        back = [[-1] * n for _ in range(m)]
        for k in range(n):
            best[0][k] = cost[0][k]
        for i in range(1, m):
            for k in range(n):
                if cost[i][k] == inf:
                    continue
                for j in range(k + 1, n):
                    v = best[i - 1][j] + cost[i][k]
                    if v < best[i][k]:
                        best[i][k], back[i][k] = v, j
        k = min(range(n), key=best[m - 1].__getitem__)
        if best[m - 1][k] == inf:
            return None
        plan = [0] * m
        for i in range(m - 1, -1, -1):
            plan[i] = k
            k = back[i][k]
        return plan


def _arrival(note: NoteEvent) -> float:
    return note.time
