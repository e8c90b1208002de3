"""The learned arranger: the exported PartTransformer stepped one note at a time in
onnxruntime, with its KV cache as a fixed ring buffer of W notes.

One session per model (CPU provider, one intra-op thread, warmed up before the first
note).  Every input and output is a preallocated numpy array bound once through an
IOBinding, so a note costs one ``run_with_iobinding`` and a few in-place writes into the
cache ring (``arrangers/kv_ring.py``), which can take back the notes of a chord that is
decided again.
The model's inputs include the voice-leading rule's proposal (``arrangers/learned.py``).
The preset's constraints (ranges; a monophonic part holding a key of the same chord) mask
the logits before argmax, or sampling with a temperature (optionally among the
``top_k`` best allowed parts only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

from livearranger.arrangers import Arranger, ArrangerError
from livearranger.arrangers.kv_ring import KVRing
from livearranger.arrangers.learned import LearnedArranger
from livearranger.chords import MAX_GROUP
from livearranger.ensemble import part_descriptors
from livearranger.errors import one_line
from livearranger.events import Kind, NoteEvent
from livearranger.features import FEATURE_VERSION, feature_dim
from livearranger.graph import (
    BEAT,
    CACHE_RANK,
    CACHE_WINDOW_AXIS,
    FEATURES,
    HINT,
    LOGITS,
    META_FEATURE_VERSION,
    META_FORMAT,
    META_MAX_PARTS,
    META_PARTS,
    PARTS,
    PAST_KV,
    PLAYABLE,
    POS,
    PRESENT_KV,
    TOKENS,
    VALID,
    present_shape,
    read_meta_value,
)
from livearranger.presets import Preset
from livearranger.state import PerformanceState

ENSEMBLE_MODEL = "ensemble.onnx"              # what a preset naming no model plays
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def shipped_model_dir() -> Path:
    """Folder of the models that ship with the package (the repo's ``models/shipped``
    when running from a source checkout)."""
    installed = resources.files("livearranger") / "shipped_models"
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "models" / "shipped"


MAX_MODEL_BYTES = 64 * 1024 * 1024   # a step model (the shipped ones are under 2 MB)


def resolve_model(name: str) -> Path:
    """A model file by path, else by name in the shipped models folder; ArrangerError
    (one line) when there is none or it is larger than ``MAX_MODEL_BYTES``."""
    path = Path(name).expanduser()
    if not path.is_file():
        path = shipped_model_dir() / name
        if not path.is_file():
            raise ArrangerError(f"{name}: model file not found (nor in "
                                f"{shipped_model_dir()})")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise ArrangerError(f"{path}: model too large ({size / 1e6:.0f} MB; a step model "
                            f"is at most {MAX_MODEL_BYTES // (1024 * 1024)} MB)")
    return path


def open_session(path: Path, provider: str = "cpu") -> ort.InferenceSession:
    """An onnxruntime session on ``provider`` (cpu | cuda, falling back to CPU when CUDA
    is not available) with one intra-op thread; ArrangerError if the file will not load."""
    if provider not in PROVIDERS:
        raise ArrangerError(f"unknown provider {provider!r} (choose from {', '.join(PROVIDERS)})")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if provider == "cuda" and PROVIDERS["cuda"] in ort.get_available_providers():
        providers = [PROVIDERS["cuda"], "CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    except Exception as exc:
        raise ArrangerError(f"{path.name}: not a usable ONNX model ({one_line(exc)})") from None


def _check_temperature(temperature: float) -> None:
    if temperature < 0 or not math.isfinite(temperature):
        raise ArrangerError(f"temperature must be 0 or more, got {temperature}")


class OnnxArranger(LearnedArranger):
    """Each note to the part the model ranks highest among those the preset allows.

    ``model``: a file in the shipped models folder or a path (default: the preset's
    ``model``, else the one ensemble model, which plays any parts).  ``temperature`` 0
    is greedy; above 0 samples (seeded by ``seed``) for
    alternative instrumentations, among the ``top_k`` highest-ranked allowed parts when
    ``top_k`` > 0 (0: among all allowed).  ``provider`` "cpu" (default) or "cuda".
    """

    name = "model"
    keeps_warm = True

    def __init__(self, preset: Preset, model: str | None = None, temperature: float = 0.0,
                 provider: str = "cpu", seed: int = 0, top_k: int = 0) -> None:
        super().__init__(preset)
        name = model or preset.model or ENSEMBLE_MODEL
        _check_temperature(temperature)
        if top_k < 0:
            raise ArrangerError(f"top-k must be 0 (all parts) or more, got {top_k}")
        self.path = resolve_model(name)
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.requested_provider = provider
        self._session = open_session(self.path, provider)
        self.provider = self._session.get_providers()[0]
        self.meta = dict(self._session.get_modelmeta().custom_metadata_map)
        self._check_meta(preset)
        self._rng = np.random.default_rng(seed)
        self.last_allowed: list[bool] = []
        self._allocate()
        self._warm_up()
        self.reset()

    # ---------------------------------------------------------------- set-up
    def _fail(self, problem: str) -> ArrangerError:
        return ArrangerError(f"{self.path.name}: {problem}")

    def _meta_json(self, key: str) -> object:
        if key not in self.meta:
            raise self._fail(f"metadata has no {key!r} (not a LiveArranger step model?)")
        return read_meta_value(self.meta[key])

    def _check_meta(self, preset: Preset) -> None:
        name = self.meta.get(META_FORMAT)
        fmt = PLAYABLE.get(name or "")
        if fmt is None:
            known = ", ".join(repr(f) for f in PLAYABLE)
            raise self._fail(f"graph format {name!r} is not one of {known}")
        self.format = fmt
        self.ensemble = fmt.ensemble
        self.reads_hints = fmt.hints
        n = len(preset.parts)
        if self.ensemble:
            most = self._meta_json(META_MAX_PARTS)
            if not isinstance(most, int) or n > most:
                raise self._fail(f"plays at most {most} parts; preset {preset.name!r} has {n}")
        else:
            parts = self._meta_json(META_PARTS)
            if parts != preset.part_names:
                raise self._fail(f"model parts {parts} do not match preset parts "
                                 f"{preset.part_names}")
        version = self._meta_json(META_FEATURE_VERSION)
        if version != FEATURE_VERSION:
            raise self._fail(f"model feature version {version} does not match this "
                             f"program's feature version {FEATURE_VERSION}")
        shapes = {i.name: i.shape for i in self._session.get_inputs()}
        n_feat = feature_dim(n)
        expected = [[1, FEATURES], [1, n_feat]] if self.ensemble else [[1, n_feat]]
        if shapes.get(FEATURES) not in expected:
            raise self._fail(f"model takes features {shapes.get(FEATURES)}, "
                             f"expected [1, {n_feat}]")
        cache = shapes.get(PAST_KV)
        if not cache or any(not isinstance(d, int) for d in cache) or len(cache) != CACHE_RANK:
            raise self._fail(f"cache input has no fixed shape ({cache})")
        self.cache_shape: tuple[int, ...] = tuple(cache)
        self.window = int(cache[CACHE_WINDOW_AXIS])

    def _allocate(self) -> None:
        n = len(self.preset.parts)
        self.ring = KVRing(self.cache_shape)
        self._parts = part_descriptors(self.preset.parts)
        self._logits = np.zeros((1, n), dtype=np.float32)
        self._row: np.ndarray = self._logits[0]     # a view, made once
        self._present = np.zeros(present_shape(self.cache_shape), dtype=np.float32)
        self._scores = np.zeros(n, dtype=np.float64)
        # each key's part probabilities while a chord is decided (for ``doublings``)
        self._chord_probs = np.zeros((MAX_GROUP, n), dtype=np.float64)
        self._chord_keys = [-1] * MAX_GROUP
        self._chord_n = 0
        self._io = self._binding(self._logits, self._present)
        # the same inputs (only read), outputs of its own: a run that changes nothing
        self._warm_out = (np.zeros_like(self._logits), np.zeros_like(self._present))
        self._warm_io = self._binding(*self._warm_out)

    def _binding(self, logits: np.ndarray, present: np.ndarray) -> ort.IOBinding:
        """An IOBinding of this arranger's input arrays and the given output arrays."""
        io = self._session.io_binding()
        arrays: dict[str, np.ndarray] = {
            FEATURES: self.inputs.features, TOKENS: self.inputs.tokens, BEAT: self.inputs.beat,
            PARTS: self._parts, PAST_KV: self.ring.cache, POS: self.ring.pos,
            VALID: self.ring.valid, HINT: self.inputs.hint}
        for name in self.format.inputs:
            arr = arrays[name]
            io.bind_input(name, "cpu", 0, arr.dtype, list(arr.shape), arr.ctypes.data)
        for name, arr in ((LOGITS, logits), (PRESENT_KV, present)):
            io.bind_output(name, "cpu", 0, arr.dtype, list(arr.shape), arr.ctypes.data)
        return io

    def _warm_up(self, steps: int = 8) -> None:
        state = PerformanceState(len(self.preset.parts))
        for i in range(steps):
            note = NoteEvent(Kind.NOTE_ON, 0.1 * i, 60 + i, 80)
            state.note_on(note.pitch, note.time, self.assign(note, state))

    def keep_warm(self) -> None:
        """Run the graph once without changing anything (cache, outputs, choices): the
        engine calls it while idle so that the next note finds the weights in the CPU
        caches (a cold step costs several times a warm one: ``bench model`` measures both)."""
        self._session.run_with_iobinding(self._warm_io)

    def set_temperature(self, temperature: float) -> None:
        """Sample the next decisions at ``temperature`` (0: greedy), keeping the cache and
        everything the model has heard: a nudge mid-song, not a new performance.  Call it
        on the thread that runs the arranger (the engine's: ``engine.call``)."""
        _check_temperature(temperature)
        self.temperature = float(temperature)

    # ------------------------------------------------------------ streaming
    def reset(self) -> None:
        """Empty the cache: the next note starts a new performance."""
        super().reset()
        self.ring.reset()

    def mark(self) -> None:
        super().mark()
        self.ring.mark()
        self._chord_n = 0

    def rewind(self) -> None:
        super().rewind()
        self.ring.rewind()
        self._chord_n = 0

    def doublings(self, notes: Sequence[NoteEvent],
                  state: PerformanceState) -> list[tuple[NoteEvent, int]]:
        """For each mono part the chord left without a key, the key of the chord the
        model gave that part the highest probability, if at least ``preset.doubling``
        (one extra part per key)."""
        threshold = self.preset.doubling
        if threshold <= 0.0 or not self._chord_n:
            return []
        parts = self.preset.parts
        used = {n.part for n in notes}
        row = {self._chord_keys[i]: i for i in range(self._chord_n)}
        out: list[tuple[NoteEvent, int]] = []
        taken: set[int] = set()
        for p, spec in enumerate(parts):
            if not spec.mono or p in used or state.part_held[p]:
                continue
            best: NoteEvent | None = None
            best_prob = threshold
            for note in notes:
                i = row.get(note.pitch)
                if i is None or note.pitch in taken or not spec.low <= note.pitch <= spec.high:
                    continue
                prob = float(self._chord_probs[i, p])
                if prob >= best_prob:
                    best, best_prob = note, prob
            if best is not None:
                out.append((best, p))
                taken.add(best.pitch)
        return out

    def step(self) -> np.ndarray:
        """Run the graph on the inputs already filled and advance the cache; the
        returned logits array is reused."""
        self._session.run_with_iobinding(self._io)
        self.ring.write(self._present)
        return self._row

    @property
    def last_logits(self) -> np.ndarray:
        """The logits of the latest step (a reused array)."""
        return self._row

    def choose(self, note: NoteEvent, state: PerformanceState) -> int:
        logits = self.step()
        k = self._chord_n
        if self.preset.doubling > 0.0 and k < MAX_GROUP:   # softmax, kept for doublings
            probs = self._chord_probs[k]
            np.subtract(logits, logits.max(), out=probs)
            np.exp(probs, out=probs)
            probs /= probs.sum()
            self._chord_keys[k] = note.pitch
            self._chord_n = k + 1
        allowed = self.constraints.mask(note.pitch, state, note.time)
        self.last_allowed = allowed
        scores = self._scores
        best, best_score = -1, -math.inf
        for i, ok in enumerate(allowed):
            s = float(logits[i]) if ok else -math.inf
            scores[i] = s
            if s > best_score:
                best, best_score = i, s
        if self.temperature <= 0.0 or best < 0:
            return best if best >= 0 else int(np.argmax(logits))
        if 0 < self.top_k < len(allowed):    # only the k best allowed parts may be drawn
            scores[np.argsort(scores)[:-self.top_k]] = -math.inf
        # sample among the allowed parts: softmax(scores / T), in place
        np.subtract(scores, best_score, out=scores)
        np.divide(scores, self.temperature, out=scores)
        np.exp(scores, out=scores)
        r = self._rng.random() * float(scores.sum())
        acc = 0.0
        for i in range(len(allowed)):
            acc += scores[i]
            if r < acc and allowed[i]:
                return i
        return best

    def describe(self) -> str:
        text = f"model {self.path.name} ({self.provider})"
        if self.requested_provider == "cuda" and self.provider != PROVIDERS["cuda"]:
            text += " [CUDA not available]"
        if self.temperature > 0:
            text += f" T={self.temperature:g}"
            if self.top_k:
                text += f" top-{self.top_k}"
        return text


def retune(arranger: Arranger, temperature: float) -> None:
    """Set the sampling temperature of ``arranger`` in place when it is a model (the
    rules do not sample); on the thread that runs it."""
    if isinstance(arranger, OnnxArranger):
        arranger.set_temperature(temperature)
