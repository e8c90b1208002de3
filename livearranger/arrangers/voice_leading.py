"""Voice-leading: the strongest rule we know, online.

Each part is one voice.  Notes that arrive within ``ONSET_WINDOW`` of the first note of
an onset form one chord; a monophonic part takes at most one note of a chord, and the
notes of a chord keep the parts' order by pitch (no crossing: a higher part never takes
a lower note than a lower part in the same chord).  Otherwise each note goes to the part
whose last pitch is nearest, where the parts that will probably move with it (free
parts that have not yet taken a note of this chord) are expected near their last pitch
and should stay in order around it.  Keys still down matter: a part holding a key struck
before this chord is sustaining (score) or about to let go (legato playing); it may take
the note, at a cost, and its held key is an anchor for the order of the others.

Only the notes of the current chord that have already arrived are seen.
"""

from __future__ import annotations

from livearranger.arrangers.base import Arranger
from livearranger.events import NoteEvent
from livearranger.features import ONSET_WINDOW
from livearranger.presets import Preset
from livearranger.state import PerformanceState

CROSS = 100.0          # crossing a note of the same chord: practically forbidden


class VoiceLeadingArranger(Arranger):
    """Online voice-leading over the preset's parts (see the module text).

    ``hold_cost``: cost (semitones) of giving the note to a part holding an older key;
    ``anchor``: weight of the order against other parts' held and expected pitches;
    ``strict``: honour the preset's busy-monophonic-part constraint exactly (a part with
    any key down is skipped while another is free) instead of only within a chord.
    """

    name = "voice-leading"

    def __init__(self, preset: Preset, hold_cost: float = 1.0, anchor: float = 0.5,
                 strict: bool = False) -> None:
        super().__init__(preset)
        self.hold_cost = float(hold_cost)
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

    def reset(self) -> None:
        self._chord_pitch.clear()
        self._chord_part.clear()
        self._chord_start = -1e9
        self._sorted = True
        self._chord_sorted = False
        for i in range(len(self._used)):
            self._used[i] = 0

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        t, p = note.time, note.pitch
        n = len(self._used)
        if state.n_notes == 0 or t - self._chord_start > ONSET_WINDOW:
            if len(self._chord_pitch) > 1:
                self._sorted = self._chord_sorted
            self._chord_sorted = True
            self._chord_start = t
            self._chord_pitch.clear()
            self._chord_part.clear()
            for i in range(n):
                self._used[i] = 0
        mono = self.constraints.mono
        low, high = self.constraints.low, self.constraints.high
        if self.strict:
            options = self.constraints.candidates(p, state)
        else:
            options = [i for i in range(n) if low[i] <= p <= high[i]] or list(range(n))
            free = [i for i in options if not (mono[i] and self._used[i])]
            options = free or options
        # older keys still down, per part (keys struck in this chord excluded)
        old_held: dict[int, list[int]] = {}
        for key, part in state.held.items():
            if key == p or key in self._chord_pitch:
                continue
            old_held.setdefault(part, []).append(key)
        if self._chord_pitch and (t != self._chord_start or p < self._chord_pitch[-1]):
            self._chord_sorted = False
        last = state.last_pitch
        if self._sorted and self._chord_sorted:
            # quantised input in pitch order (a score): the notes still to come lie above
            # this one, and every free part will take one; so this note goes to the
            # lowest free part above the chord's notes so far.
            top = min(self._chord_part, default=n)
            free = [k for k in options if k < top and not self._used[k] and k not in old_held]
            if free:
                best = max(free)
                self._chord_pitch.append(p)
                self._chord_part.append(best)
                self._used[best] += 1
                return best
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
        best, best_cost = options[0], float("inf")
        for k in options:
            r = rank.get(k)
            if r is not None:
                cost = abs(p - vals[r])
            else:
                cost = abs(p - (last[k] if last[k] >= 0 else self._centre[k]))
            if k in old_held:
                cost += self.hold_cost
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
            if cost < best_cost:
                best, best_cost = k, cost
        self._chord_pitch.append(p)
        self._chord_part.append(best)
        self._used[best] += 1
        return best
