"""What training shares: augmentation, the training replay, chunks and the loss.

Training-time only.  A performance is replayed through the instrument's own
``Performer`` (``livearranger.performer``), the one procedure that decides keys on stage,
with an arranger that records what the model sees for each decision, computed by the
runtime's own ``RuleFeatures``: ``teacher`` gives every key its true part, ``Replayer``
lets a model choose (the roll-outs).  So training, evaluation and the engine see the
same thing, and a change to how a key is decided is made once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

import numpy as np
import torch

from livearranger.arrangers.base import Arranger
from livearranger.arrangers.learned import RuleFeatures
from livearranger.chords import (
    DEFAULT_HORIZON,
    MAX_GROUP,
    event_order,
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


Choose = Callable[[int, PerformanceState, float, int], int]


class _Recorder(Arranger):
    """The arranger a training replay plays with: ``choose(note index, state, time,
    forced part or -1)`` gives each part (the true one, or a model's), and it writes into
    ``record`` what the model saw for every decision the performer asks of it.

    A key's decision on arrival is kept when its chord is never decided again (a lone
    key: the next chord's ``mark`` says so) and taken back when the chord settles
    (``rewind``: with ``sound`` it is kept in ``record.onsets``); the settle's decisions
    (``assign_chord``) are final.  ``on_history`` is told "mark" and "rewind" as the
    performer asks them, for a model's own history to follow."""

    name = "recorder"

    def __init__(self, record: Record, preset: Preset, choose: Choose, grouped: bool,
                 sound: bool, on_history: Callable[[str], None] | None = None) -> None:
        super().__init__(preset)
        self.record = record
        self.choose = choose
        self.grouped = grouped
        self.sound = sound
        self.on_history = on_history
        self.inputs = RuleFeatures(preset)
        self.index: dict[int, int] = {}       # id of a key's event -> its note index
        n_features = record.features.shape[1]
        self.rows = np.zeros((MAX_GROUP, n_features), dtype=np.float32)
        self.row_tokens = np.zeros((MAX_GROUP, 2), dtype=np.int64)
        self.row_beats = np.zeros((MAX_GROUP, N_BEAT), dtype=np.float32)
        self._arrivals: list[tuple[int, int]] = []   # (note, part) decided on arrival

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        return self._decide(note, state, -1)

    def force(self, note: NoteEvent, state: PerformanceState, part: int) -> None:
        self._decide(note, state, part)

    @property
    def final(self) -> bool:
        """The decision being made is final (a settle, or no chord is ever settled)."""
        return self.settling or not self.grouped

    def where(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows that hold the inputs of the decision being made on note ``j``."""
        r = self.record
        if self.final:
            return r.features[j], r.tokens[j], r.beats[j]
        k = len(self._arrivals)
        return self.rows[k], self.row_tokens[k], self.row_beats[k]

    def _decide(self, note: NoteEvent, state: PerformanceState, forced: int) -> int:
        r = self.record
        j = self.index[id(note)]
        state.beat = float(r.perf.beat[j]) if r.beat_known else None
        features, tokens, beats = self.where(j)
        self.inputs.fill(note, state, self.settling, features)
        tokens[:] = self.inputs.tokens[0]
        beats[:] = self.inputs.beat[0]
        part = self.choose(j, state, note.time, forced)
        self.inputs.chosen(note, part)
        if self.final:
            r.chosen[j] = part
            r.order.append(j)
        else:
            self._arrivals.append((j, part))
        return part

    def mark(self) -> None:
        """A chord begins: the keys decided on arrival before it were kept."""
        self.keep()
        self.inputs.mark()
        if self.on_history is not None:
            self.on_history("mark")

    def rewind(self) -> None:
        """A chord settles: its keys' decisions on arrival are taken back."""
        r = self.record
        if self.sound:
            for k, (j, _part) in enumerate(self._arrivals):
                row = r.onsets.add(j, k)
                r.onsets.features[row] = self.rows[k]
                r.onsets.tokens[row] = self.row_tokens[k]
            r.onsets.settled(len(r.order))
        self._arrivals.clear()
        self.inputs.rewind()
        if self.on_history is not None:
            self.on_history("rewind")

    def keep(self) -> None:
        """The keys decided on arrival and never decided again: final as they are."""
        r = self.record
        for k, (j, part) in enumerate(self._arrivals):
            r.features[j] = self.rows[k]
            r.tokens[j] = self.row_tokens[k]
            r.beats[j] = self.row_beats[k]
            r.chosen[j] = part
            r.order.append(j)
        self._arrivals.clear()


def _play(perf: Piece, preset: Preset, group: float | None, hints: np.ndarray,
          arranger: _Recorder) -> None:
    """Play ``perf`` through the instrument's own ``Performer`` as the engine hears it
    (note-ons and note-offs in time order, releases first at equal times; a note-off
    whose key was struck again meanwhile belongs to the older note and is not sent)."""
    performer = Performer(preset, arranger, Router(preset, []), group)
    index = arranger.index
    owner: dict[int, int] = {}
    pitch, vel, hint = perf.pitch.tolist(), perf.velocity.tolist(), hints.tolist()
    for t, kind, j in zip(*event_order(perf.onset, perf.offset), strict=True):
        p = pitch[j]
        if kind == 0:
            if owner.get(p) == j:
                del owner[p]
                performer.process(NoteEvent(Kind.NOTE_OFF, t, p, 0))
            continue
        note = NoteEvent(Kind.NOTE_ON, t, p, max(1, vel[j]), hint=hint[j])
        index[id(note)] = j
        owner[p] = j
        performer.process(note)
    performer.settle()
    arranger.keep()


def teacher(perf: Piece, preset: Preset, cons: Constraints, rng: np.random.Generator,
            noise: float = 0.0, group: float | None = None,
            beat_known: bool = False, hints: np.ndarray | None = None,
            sound: bool = False) -> Record:
    """Play ``perf`` through the ``Performer`` with its true parts, a share ``noise`` of
    them replaced by a wrong allowed part (the history the model sees is then corrupted;
    its targets stay true); a hinted note keeps its hint.  ``group``: the correction
    horizon (chords decided again, as on stage); ``sound``: keep the chord keys'
    decisions on arrival too (``Record.onsets``).  Returns what the model saw."""
    record = Record(perf, len(preset.parts), beat_known, hints)

    def truth(j: int, state: PerformanceState, time: float, forced: int) -> int:
        if forced >= 0:
            return forced
        part = int(perf.part[j])
        if noise and rng.random() < noise:
            cand = [c for c in cons.candidates(int(perf.pitch[j]), state, time)
                    if not (int(perf.mask[j]) >> c) & 1]
            if cand:
                part = int(rng.choice(cand))
        return part

    _play(perf, preset, group, record.hints,
          _Recorder(record, preset, truth, group is not None, sound))
    return record


class Replayer(Record):
    """A performance played through the ``Performer`` for a caller that chooses every
    part: a model rolling out its own choices, many pieces stepped together.

    ``next_note`` plays on to the next decision the performer asks for (False at the
    end); the caller reads the decision (``j``, ``time``, ``state``, ``branch``: a key's
    decision on arrival that its chord's settle may take back, ``hinted``: the part a
    hint forces, or -1) and what the model sees (``row``), then ``commit``-s a part.
    ``changes`` lists, in order, what happened to the model's own history since the
    previous decision: "mark" (a chord begins) and "rewind" (it settles: take back to
    the mark), as the runtime's model ring is told.  The performer runs in a thread of
    its own that waits while the caller decides: nothing runs in both at once."""

    def __init__(self, perf: Piece, preset: Preset, group: float | None = None,
                 beat_known: bool = False, hints: np.ndarray | None = None,
                 sound: bool = False) -> None:
        super().__init__(perf, len(preset.parts), beat_known, hints)
        self.j = -1
        self.time = 0.0
        self.hinted = -1
        self.branch = False
        self.state = PerformanceState(len(preset.parts))
        self.row: tuple[np.ndarray, np.ndarray, np.ndarray] = (
            self.features[0], self.tokens[0], self.beats[0])
        self.changes: list[str] = []
        self._recorder = _Recorder(self, preset, self._ask, group is not None, sound,
                                   self.changes.append)
        self._args = (perf, preset, group, self.hints)
        self._answer = -1
        self._ready = threading.Semaphore(0)
        self._go = threading.Semaphore(0)
        self._thread: threading.Thread | None = None
        self._done = False
        self._error: BaseException | None = None

    def _ask(self, j: int, state: PerformanceState, time: float, forced: int) -> int:
        self.j, self.time, self.hinted, self.state = j, time, forced, state
        self.branch = not self._recorder.final
        self.row = self._recorder.where(j)
        self._ready.release()              # the caller decides ...
        self._go.acquire()                 # ... and commits
        return self._answer if forced < 0 else forced

    def _run(self) -> None:
        try:
            _play(*self._args, self._recorder)
        except BaseException as exc:       # given to the caller at its next_note
            self._error = exc
        finally:
            self._done = True
            self._ready.release()

    def next_note(self) -> bool:
        """Play on to the next decision; False when the performance is over."""
        if self._done:
            return False
        self.changes.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="replayer", daemon=True)
            self._thread.start()
        else:
            self._go.release()
        self._ready.acquire()
        if self._error is not None:
            raise self._error
        return not self._done

    def commit(self, part: int) -> None:
        """The part of the decision ``next_note`` stopped at (a hinted note keeps its
        hint whatever is committed)."""
        self._answer = part


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
