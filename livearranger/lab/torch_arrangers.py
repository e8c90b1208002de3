"""The trained checkpoints as arrangers: PyTorch stepped note by note as the engine asks.

Training-time only.  ``TorchModelArranger`` steps a ``PartTransformer`` with the
engine's own KV ring; ``TorchLSTMArranger`` the LSTM baseline with its state.  Both
apply the preset's constraints to the logits and choose greedily, as the runtime's ONNX
arranger does, so evaluation (``models/evaluate.py``) and the export parity
(``export/parity.py``) replay them through the engine like any arranger.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from livearranger.arrangers.base import Arranger
from livearranger.arrangers.kv_ring import KVRing
from livearranger.arrangers.learned import LearnedArranger
from livearranger.events import NoteEvent
from livearranger.lab.lstm import OnlineLSTM, beat_tokens
from livearranger.lab.model import CHECKPOINTS, PartTransformer, load_checkpoint, load_lstm
from livearranger.presets import Preset
from livearranger.state import PerformanceState


class TorchModelArranger(LearnedArranger):
    """A PartTransformer checkpoint stepped one note at a time (ring-buffer KV cache),
    preset constraints applied to the logits, greedy."""

    name = "model"

    def __init__(self, preset: Preset, model: PartTransformer) -> None:
        super().__init__(preset)
        self.model = model.eval()
        past, _, _ = model.empty_cache()
        # the engine's own ring (KVRing), seen by torch through shared memory
        self.ring = KVRing(tuple(past.shape))
        self._past = torch.from_numpy(self.ring.cache)
        self._pos = torch.from_numpy(self.ring.pos)
        self._valid = torch.from_numpy(self.ring.valid)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.ring.reset()

    def mark(self) -> None:
        super().mark()
        self.ring.mark()

    def rewind(self) -> None:
        super().rewind()
        self.ring.rewind()

    @torch.no_grad()
    def choose(self, note: NoteEvent, state: PerformanceState) -> int:
        logits, kv = self.model.step(torch.from_numpy(self.inputs.features),
                                     torch.from_numpy(self.inputs.tokens), self._past,
                                     self._pos, self._valid)
        self.ring.write(kv.numpy())
        allowed = self.constraints.mask(note.pitch, state, note.time)
        row = np.where(allowed, logits[0].numpy(), -np.inf)
        return int(row.argmax())


class TorchLSTMArranger(Arranger):
    """The online LSTM baseline stepped note by note; preset constraints at decoding."""

    name = "lstm"

    def __init__(self, preset: Preset, model: OnlineLSTM, free: bool = False) -> None:
        super().__init__(preset)
        self.model = model.eval()
        self.free = free      # the paper's model: plain argmax, no preset constraints
        self.reset()

    def reset(self) -> None:
        self._hidden = None
        self._saved: tuple | None = None

    def mark(self) -> None:
        self._saved = (self._hidden,)   # the LSTM returns new state tensors each step

    def rewind(self) -> None:
        if self._saved is not None:
            self._hidden = self._saved[0]
            self._saved = None

    @torch.no_grad()
    def assign(self, note: NoteEvent, state: PerformanceState) -> int:
        beat, pos = beat_tokens(np.array([note.time]))
        tok = torch.tensor([[[note.pitch, int(beat[0]), int(pos[0])]]], dtype=torch.long)
        logits, self._hidden = self.model(tok, self._hidden)
        if self.free:
            return int(logits[0, 0].argmax())
        allowed = self.constraints.mask(note.pitch, state, note.time)
        row = np.where(allowed, logits[0, 0].numpy(), -np.inf)
        return int(row.argmax())


def checkpoint_arranger(preset: Preset, name: str, path: Path | None = None) -> Arranger | None:
    """The trained arranger ``model`` or ``lstm`` for ``preset``, or None if not trained.

    Sets PyTorch to one thread: a step is one note, too small to share, and a pool's
    threads spinning beside other jobs on the same cores make every step several times
    slower."""
    torch.set_num_threads(1)
    suffix = "-lstm" if name.startswith("lstm") else ""
    path = path or CHECKPOINTS / f"{preset.name}{suffix}.pt"
    if not path.exists():
        return None
    if name.startswith("lstm"):
        return TorchLSTMArranger(preset, load_lstm(path)[0], free=name == "lstm:free")
    return TorchModelArranger(preset, load_checkpoint(path)[0])
