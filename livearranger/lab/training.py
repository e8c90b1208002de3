"""What both trainers share: augmentation, the training replay, chunks and the loss.

Training-time only.  ``Replayer`` walks a performance note-on by note-on exactly as the
engine does (releases, chords decided again: ``livearranger.chords.schedule``) and
computes each note's inputs with the runtime's own ``RuleFeatures``, so training,
evaluation and the engine see the same thing; the caller chooses every part.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from livearranger.arrangers.base import Arranger
from livearranger.arrangers.learned import RuleFeatures
from livearranger.chords import (
    DEFAULT_HORIZON,
    MAX_GROUP,
    RELEASE,
    SOUND,
    chord_size,
    decide_in_order,
    event_order,
    schedule,
    uncross,
)
from livearranger.constraints import Constraints
from livearranger.ensemble import N_BEAT
from livearranger.events import Kind, NoteEvent
from livearranger.features import feature_dim
from livearranger.lab.datasets import Piece
from livearranger.lab.evaluate import first_of_each_part
from livearranger.lab.humanize import humanize, scale_tempo, score_velocity
from livearranger.performer import Performer
from livearranger.presets import Preset
from livearranger.router import Router
from livearranger.state import PerformanceState

SEGMENT = 1024          # long pieces are cut into segments of this many notes


def transpositions(piece: Piece, preset: Preset, span: int = 6) -> list[int]:
    """Shifts in -span..span that keep every part's notes inside its preset range
    (0 is always allowed)."""
    ok = [0]
    for k in range(-span, span + 1):
        if k == 0:
            continue
        good = True
        for i, part in enumerate(preset.parts):
            sel = piece.pitch[piece.part == i]
            if len(sel) and (sel.min() + k < part.low or sel.max() + k > part.high):
                good = False
                break
        if good:
            ok.append(k)
    return ok


def augment(piece: Piece, preset: Preset, rng: np.random.Generator,
            p_score: float = 0.35) -> Piece:
    """A transposed, tempo-scaled piece, either as the score or humanised."""
    k = int(rng.choice(transpositions(piece, preset)))
    tempo = float(math.exp(rng.uniform(math.log(0.75), math.log(1.35))))
    p = scale_tempo(piece, tempo)
    p = Piece(p.name, p.part_names, p.onset, p.beat, (p.pitch + k).astype(np.int16),
              p.velocity, p.offset, p.part, p.mask)
    if rng.random() < p_score:
        return Piece(p.name, p.part_names, p.onset, p.beat, p.pitch, score_velocity(p),
                     p.offset, p.part, p.mask)
    return humanize(p, int(rng.integers(1 << 30)))


def segments(piece: Piece, size: int = SEGMENT) -> list[Piece]:
    """Cut a long piece into consecutive segments (each replayed from an empty state)."""
    if len(piece) <= size:
        return [piece]
    out = []
    for s in range(0, len(piece), size):
        sl = slice(s, s + size)
        t0 = float(piece.onset[sl][0])
        out.append(Piece(piece.name, piece.part_names, piece.onset[sl] - t0, piece.beat[sl],
                         piece.pitch[sl], piece.velocity[sl], piece.offset[sl] - t0,
                         piece.part[sl], piece.mask[sl]))
    return out


CHORD_GROUP = DEFAULT_HORIZON   # s: chords gathered for chord-by-chord training, as the engine does


class Record:
    """What a model saw in one replay of a performance, note by note.

    ``features``/``tokens``/``beats`` hold the inputs of each note's final decision; the
    beat is known (the score's, as a DAW's clock would give it) only when
    ``beat_known``.  ``hints``: per note the part a player's hint forces it to, or -1
    (``simulate_hints``).  ``chosen``: each note's final part.  ``order`` lists the notes
    in the order they were finally decided: the order of the model's history (a chord
    decided again goes lowest first, whatever order its keys arrived in).  ``onsets``:
    the decisions on arrival that a chord's settle took back, where they were kept."""

    def __init__(self, perf: Piece, n_parts: int, beat_known: bool = False,
                 hints: np.ndarray | None = None) -> None:
        self.perf = perf
        self.n = len(perf)
        self.features = np.zeros((self.n, feature_dim(n_parts)), dtype=np.float32)
        self.tokens = np.zeros((self.n, 2), dtype=np.int64)
        self.beats = np.zeros((self.n, N_BEAT), dtype=np.float32)
        self.beat_known = beat_known
        self.hints = np.full(self.n, -1, dtype=np.int64) if hints is None else hints
        self.chosen = np.full(self.n, -1, dtype=np.int64)
        self.order: list[int] = []
        self.onsets = Onsets(self.n, feature_dim(n_parts))

    def history(self) -> np.ndarray:
        """The decided notes' indices in decision order (index ``features``, ``tokens``,
        ``beats`` and per-note labels with it to get the sequence the model saw)."""
        return np.asarray(self.order, dtype=np.int64)


class Replayer(Record):
    """Replays one performance decision by decision for a caller that chooses each part
    (``next_note``, then ``commit``): a model rolling out its own choices, many pieces
    stepped together.  Keys are decided as the performer finally decides them (with an
    optional chord decision: ``livearranger.chords.schedule``, the decision it makes
    when it settles a chord); ``note.hint`` carries a hint, as the performer's does.

    With ``sound`` (and a ``group``), each key of a chord is also decided the moment it
    arrives, as the engine sounds it, on the history it has then (the chords before, as
    settled, and this chord's earlier keys); ``branch`` is True during such a step.  The
    settle takes those decisions back (``PerformanceState.rewind``, the rule's too), so
    they never enter ``order``; ``onsets`` keeps what the model saw for them.  A key
    that crosses its chord's earlier keys puts them back in pitch order as the engine
    does (``livearranger.chords.uncross``)."""

    def __init__(self, perf: Piece, preset: Preset, group: float | None = None,
                 beat_known: bool = False, hints: np.ndarray | None = None,
                 sound: bool = False) -> None:
        n_parts = len(preset.parts)
        super().__init__(perf, n_parts, beat_known, hints)
        self.state = PerformanceState(n_parts)
        self.inputs = RuleFeatures(preset)
        self.chord = group is not None
        self.branch = False
        size = chord_size(preset)
        self._steps = schedule(perf.onset, perf.offset, perf.pitch, group, size,
                               sound and group is not None)
        self._ranges = None if size is None else [(q.low, q.high) for q in preset.parts]
        self._e = 0
        self._owner: dict[int, int] = {}
        self._in_chord = False
        self._sounded: list[NoteEvent] = []   # keys decided on arrival since the mark
        self.j = -1
        self.time = 0.0

    def next_note(self) -> bool:
        """Apply releases up to the next decision; compute its features. False at the end."""
        steps, st, pitch = self._steps, self.state, self.perf.pitch
        while self._e < len(steps):
            kind, j, pending, _ = steps[self._e]
            self._e += 1
            p = int(pitch[j])
            if kind == RELEASE:
                if self._owner.get(p) == j:
                    del self._owner[p]
                    st.note_off(p)
                continue
            self.branch = kind == SOUND
            if self.branch:
                if not self._sounded:          # a chord begins: the engine's mark
                    st.mark()
                    self.inputs.mark()
                if p in st.held:               # struck again while down
                    self._owner.pop(p, None)
                    st.note_off(p)
            elif not self._in_chord:
                if self._sounded:              # the chord settles: its first decisions go
                    st.rewind([n.pitch for n in self._sounded])
                    self.inputs.rewind()
                    self.onsets.settled(len(self.order))
                    self._sounded.clear()
                # a chord's keys struck again while down are released before any is
                # decided (as the engine releases them on arrival)
                e = self._e - 1
                while True:
                    q = int(pitch[steps[e][1]])
                    if q in st.held:
                        st.note_off(q)
                    if not steps[e][2]:
                        break
                    e += 1
            if not self.branch:
                self._in_chord = bool(pending)
            st.pending[:] = pending
            t = float(self.perf.onset[j])
            self.note = NoteEvent(Kind.NOTE_ON, t, p, int(self.perf.velocity[j]),
                                  hint=int(self.hints[j]))
            st.beat = float(self.perf.beat[j]) if self.beat_known else None
            if self.branch:
                row = self.onsets.add(j, len(self._sounded))
                self.inputs.fill(self.note, st, False, self.onsets.features[row])
                self.onsets.tokens[row] = self.inputs.tokens[0]
            else:
                self.inputs.fill(self.note, st, self.chord, self.features[j])
                self.tokens[j] = self.inputs.tokens[0]
                self.beats[j] = self.inputs.beat[0]
            self.j, self.time = j, t
            return True
        return False

    def commit(self, part: int) -> None:
        j = self.j
        p = int(self.perf.pitch[j])
        note = self.note
        self.inputs.chosen(note, part)
        if self.branch and self._sounded and self._ranges is not None and note.hint < 0:
            parts = uncross(self._sounded, p, part, self._ranges)
            if parts is not None:
                for n, q in zip(self._sounded, parts, strict=False):
                    if n.part != q:
                        self.state.regive(n.pitch, n.time, q)
                        n.part = q
                part = parts[-1]
        self.state.note_on(p, self.time, part)
        self._owner[p] = j
        if self.branch:
            note.part = part
            self._sounded.append(note)
            return
        self.chosen[j] = part
        self.order.append(j)

class Onsets:
    """The first decisions of a replay's chord keys, taken on arrival: per decision the
    note, its place in its chord's arrivals (``k``), the place in the decision order
    where its chord settles (``start``: the model then stood where it stands for the
    chord's first settled key, and saw keys ``start + k - 1`` back to its window), what
    the model saw, and the chord (``group``)."""

    def __init__(self, n: int, n_features: int) -> None:
        self.count = 0
        self.note = np.zeros(n, dtype=np.int64)
        self.k = np.zeros(n, dtype=np.int64)
        self.start = np.full(n, -1, dtype=np.int64)
        self.group = np.zeros(n, dtype=np.int64)
        self.features = np.zeros((n, n_features), dtype=np.float32)
        self.tokens = np.zeros((n, 2), dtype=np.int64)
        self._groups = 0
        self._open = 0

    def add(self, note: int, k: int) -> int:
        """A key decided on arrival, the ``k``-th of its chord; returns its row."""
        row = self.count
        self.note[row], self.k[row], self.group[row] = note, k, self._groups
        self.count = row + 1
        return row

    def settled(self, start: int) -> None:
        """The open chord's keys are decided again from decision ``start`` on."""
        self.start[self._open:self.count] = start
        self._open = self.count
        self._groups += 1


def simulate_hints(perf: Piece, rng: np.random.Generator) -> np.ndarray | None:
    """A player's hints for a training replay (per note its true part, or -1): none for
    half the pieces; else the paper's entry hints (the first note of each part) or, as a
    player tapping a part's hint key before its notes would give them, 2-8 successive
    notes of one part from each of about 0.5-2.5 % of the notes."""
    draw = rng.random()
    if draw < 0.5:
        return None
    out = np.full(len(perf), -1, dtype=np.int64)
    if draw < 0.75:
        for j, part in first_of_each_part(perf).items():
            out[j] = part
        return out
    share = rng.uniform(0.02, 0.10)
    for start in np.flatnonzero(rng.random(len(perf)) < share / 4):
        part = perf.part[start]
        run = np.flatnonzero(perf.part[start:] == part)[:int(rng.integers(2, 9))]
        out[start + run] = part
    return out


class _Teacher(Arranger):
    """The arranger a training replay plays with: it knows each key's true part (a share
    ``noise`` of them made wrong on purpose: the history is then corrupted, the targets
    stay true) and writes into ``record`` what the model would have seen for every
    decision the performer asks of it.

    A key's decision on arrival is kept when its chord is never decided again (a lone
    key: the next chord's ``mark`` says so) and taken back when the chord settles
    (``rewind``: with ``sound`` it is kept in ``record.onsets``); the settle's decisions
    (``assign_chord``) are final."""

    name = "teacher"

    def __init__(self, record: Record, preset: Preset, cons: Constraints,
                 rng: np.random.Generator, noise: float, grouped: bool,
                 sound: bool) -> None:
        super().__init__(preset)
        self.record = record
        self.cons = cons
        self.rng = rng
        self.noise = noise
        self.grouped = grouped
        self.sound = sound
        self.inputs = RuleFeatures(preset)
        self.index: dict[int, int] = {}       # id of a key's event -> its note index
        self._settling = False
        n_features = record.features.shape[1]
        self._rows = np.zeros((MAX_GROUP, n_features), dtype=np.float32)
        self._row_tokens = np.zeros((MAX_GROUP, 2), dtype=np.int64)
        self._row_beats = np.zeros((MAX_GROUP, N_BEAT), dtype=np.float32)
        self._arrivals: list[tuple[int, int]] = []   # (note, part) decided on arrival

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        return self._decide(note, state, -1)

    def force(self, note: NoteEvent, state: PerformanceState, part: int) -> None:
        self._decide(note, state, part)

    def assign_chord(self, notes: Sequence[NoteEvent], state: PerformanceState,
                     commit: Callable[[NoteEvent, int], None]) -> None:
        self._settling = True
        try:
            decide_in_order(self.decide, notes, state, commit)
        finally:
            self._settling = False

    def _decide(self, note: NoteEvent, state: PerformanceState, forced: int) -> int:
        r = self.record
        j = self.index[id(note)]
        state.beat = float(r.perf.beat[j]) if r.beat_known else None
        final = self._settling or not self.grouped
        if final:
            row = r.features[j]
        else:
            k = len(self._arrivals)
            row = self._rows[k]
        self.inputs.fill(note, state, self._settling, row)
        if final:
            r.tokens[j] = self.inputs.tokens[0]
            r.beats[j] = self.inputs.beat[0]
        else:
            self._row_tokens[k] = self.inputs.tokens[0]
            self._row_beats[k] = self.inputs.beat[0]
        part = forced if forced >= 0 else self._truth(j, state, note.time)
        self.inputs.chosen(note, part)
        if final:
            r.chosen[j] = part
            r.order.append(j)
        else:
            self._arrivals.append((j, part))
        return part

    def _truth(self, j: int, state: PerformanceState, time: float) -> int:
        perf = self.record.perf
        part = int(perf.part[j])
        if self.noise and self.rng.random() < self.noise:
            cand = [c for c in self.cons.candidates(int(perf.pitch[j]), state, time)
                    if not (int(perf.mask[j]) >> c) & 1]
            if cand:
                part = int(self.rng.choice(cand))
        return part

    def mark(self) -> None:
        """A chord begins: the keys decided on arrival before it were kept."""
        self.keep()
        self.inputs.mark()

    def rewind(self) -> None:
        """A chord settles: its keys' decisions on arrival are taken back."""
        r = self.record
        if self.sound:
            for k, (j, _part) in enumerate(self._arrivals):
                row = r.onsets.add(j, k)
                r.onsets.features[row] = self._rows[k]
                r.onsets.tokens[row] = self._row_tokens[k]
            r.onsets.settled(len(r.order))
        self._arrivals.clear()
        self.inputs.rewind()

    def keep(self) -> None:
        """The keys decided on arrival and never decided again: final as they are."""
        r = self.record
        for k, (j, part) in enumerate(self._arrivals):
            r.features[j] = self._rows[k]
            r.tokens[j] = self._row_tokens[k]
            r.beats[j] = self._row_beats[k]
            r.chosen[j] = part
            r.order.append(j)
        self._arrivals.clear()


def teacher(perf: Piece, preset: Preset, cons: Constraints, rng: np.random.Generator,
            noise: float = 0.0, group: float | None = None,
            beat_known: bool = False, hints: np.ndarray | None = None,
            sound: bool = False) -> Record:
    """Play ``perf`` through the instrument's own ``Performer`` with its true parts, a
    share ``noise`` of them replaced by a wrong allowed part; a hinted note keeps its
    hint.  ``group``: the correction horizon (chords decided again, as on stage);
    ``sound``: keep the chord keys' decisions on arrival too (``Replayer.onsets``).
    Returns the record of what the model saw."""
    record = Record(perf, len(preset.parts), beat_known, hints)
    arranger = _Teacher(record, preset, cons, rng, noise, group is not None, sound)
    performer = Performer(preset, arranger, Router(preset, []), group)
    index = arranger.index
    owner: dict[int, int] = {}
    pitch, vel, hint = perf.pitch.tolist(), perf.velocity.tolist(), record.hints.tolist()
    for t, kind, j in zip(*event_order(perf.onset, perf.offset), strict=True):
        p = pitch[j]
        if kind == 0:
            if owner.get(p) == j:         # else struck again since: that note sounds on
                del owner[p]
                performer.process(NoteEvent(Kind.NOTE_OFF, t, p, 0))
            continue
        note = NoteEvent(Kind.NOTE_ON, t, p, max(1, vel[j]), hint=hint[j])
        index[id(note)] = j
        owner[p] = j
        performer.process(note)
    performer.settle()
    arranger.keep()
    return record


def correct(r: Record) -> int:
    """Notes of a replay given one of their true parts."""
    return int(((r.perf.mask.astype(np.int64) >> np.maximum(r.chosen, 0)) & 1).sum())


def accuracy(reps: Sequence[Record]) -> float:
    """Percent of the replays' notes given one of their true parts."""
    return 100.0 * sum(correct(r) for r in reps) / max(sum(r.n for r in reps), 1)


def chunks(n: int, length: int, stride: int) -> list[tuple[int, int, int]]:
    """(start, end, first position with a loss): every position has its loss once, and
    sees up to ``length - stride`` earlier notes of context inside its chunk."""
    out = []
    for s in range(0, n, stride):
        out.append((max(0, s - (length - stride)), min(n, s + stride), s))
    return out


def nll_sum(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum of -log P(any of the true parts), number of positions with a target)."""
    has = target.any(-1)
    lse = torch.logsumexp(logits, -1)
    good = torch.logsumexp(logits.masked_fill(~target, -1e9), -1)
    return ((lse - good) * has).sum(), has.sum()


def masked_nll(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log P(any of the true parts), the mean over positions that have a target."""
    total, count = nll_sum(logits, target)
    return total / count.clamp(min=1)
