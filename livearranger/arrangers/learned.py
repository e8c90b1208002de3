"""What every stepped learned arranger shares: the model's inputs for a note, and the
voice-leading rule it consults.

The part model sees, besides the state features, the part the voice-leading rule would
choose (``VoiceLeadingArranger.propose``); the rule then hears which part was really
chosen (``observe``), so its bookkeeping follows the model, not itself.  Training's
replay (``livearranger.lab.training``) fills the same inputs the same way.
"""

from __future__ import annotations

import numpy as np

from livearranger.arrangers.base import Arranger
from livearranger.arrangers.heuristics import ClosestPitchArranger
from livearranger.arrangers.voice_leading import VoiceLeadingArranger
from livearranger.ensemble import N_BEAT, beat_features
from livearranger.events import NoteEvent
from livearranger.features import feature_dim, model_tokens, note_features
from livearranger.presets import Preset
from livearranger.state import PerformanceState


class RuleFeatures:
    """Fills a note's model inputs (features with the rule's proposal, tokens) and keeps
    the rule in step with the parts really chosen."""

    __slots__ = ("rule", "features", "tokens", "beat", "hint", "_hinted")

    def __init__(self, preset: Preset) -> None:
        n = len(preset.parts)
        self.rule = VoiceLeadingArranger(preset)
        self.features = np.zeros((1, feature_dim(n)), dtype=np.float32)
        self.tokens = np.zeros((1, 2), dtype=np.int64)
        # read by the ensemble model: the beat row, and the part a hint forced (one-hot)
        self.beat = np.zeros((1, N_BEAT), dtype=np.float32)
        self.hint = np.zeros((1, n), dtype=np.float32)
        self._hinted = -1

    def fill(self, note: NoteEvent, state: PerformanceState, chord: bool,
             features: np.ndarray | None = None) -> np.ndarray:
        """Inputs for ``note`` (``chord``: it is one of a chord decided again), into
        ``features`` (a row) or this object's own buffer; returns the row.  The beat
        row (``self.beat``) follows ``state.beat``, the hint row ``note.hint``."""
        proposal = self.rule.propose(note, state, chord)
        row = self.features[0] if features is None else features
        note_features(note.pitch, note.velocity, note.time, state, out=row, proposal=proposal)
        self.tokens[0, 0], self.tokens[0, 1] = model_tokens(note.pitch, state)
        beat_features(state.beat, self.beat[0])
        hinted = note.hint
        if hinted != self._hinted:
            if self._hinted >= 0:
                self.hint[0, self._hinted] = 0.0
            if hinted >= 0:
                self.hint[0, hinted] = 1.0
            self._hinted = hinted
        return row

    def chosen(self, note: NoteEvent, part: int) -> None:
        """``note`` went to ``part``."""
        self.rule.observe(note, part)

    def reset(self) -> None:
        self.rule.reset()

    def mark(self) -> None:
        self.rule.mark()

    def rewind(self) -> None:
        self.rule.rewind()


class LearnedArranger(Arranger):
    """A model stepped one note at a time on ``RuleFeatures`` inputs.  Subclasses
    implement ``choose(note, state)`` (run the model on ``self.inputs``, return a part)."""

    def __init__(self, preset: Preset) -> None:
        super().__init__(preset)
        self.inputs = RuleFeatures(preset)
        self._quick = ClosestPitchArranger(preset)

    def choose(self, note: NoteEvent, state: PerformanceState) -> int:
        raise NotImplementedError

    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        self.inputs.fill(note, state, self.settling)
        part = self.choose(note, state)
        self.inputs.chosen(note, part)
        return part

    def force(self, note: NoteEvent, state: PerformanceState, part: int) -> None:
        """A hinted note: the model still steps over it (its cache holds every key, as
        in training) and the rule hears of ``part``, the part really given."""
        self.inputs.fill(note, state, self.settling)
        self.choose(note, state)
        self.inputs.chosen(note, part)

    def decide_quickly(self, note: NoteEvent, state: PerformanceState) -> int:
        """Behind the input: the note's hint, else the closest-pitch rule's part (a few
        microseconds, against the model's hundreds).  Neither the model nor its
        voice-leading rule hears of the note; both read the state, which has every
        note, when they next decide."""
        return note.hint if note.hint >= 0 else self._quick.assign(note, state)

    def reset(self) -> None:
        self.inputs.reset()

    def mark(self) -> None:
        self.inputs.mark()

    def rewind(self) -> None:
        self.inputs.rewind()
