"""Alternative arrangements of one file (``arrange --alternatives N``).

The learned arranger ranks the parts of every note; instead of taking its best part
each time, alternative ``i`` samples softmax(logits / T) among the parts the preset's
constraints allow (ranges, busy monophonic parts: the same mask as greedy), optionally
only among the ``top_k`` best of them, from a generator seeded by (``seed``, ``i``): the
same seed gives the same files.  Rules rank nothing, so they have no alternatives.

How much they differ is counted per note (the n-th key played, on its final part): the
share of notes on another part than in the greedy arrangement, and between alternatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from livearranger.arrangers import ArrangerError
from livearranger.io.files import check_writable
from livearranger.offline import ArrangeResult, arrange_file
from livearranger.presets import Preset
from livearranger.recorder import Recorder

SAMPLING_ARRANGER = "model"
MAX_ALTERNATIVES = 100


def alternative_path(path: str | Path, index: int) -> Path:
    """Where alternative ``index`` (from 1) of the arrangement ``path`` goes:
    OUT.mid -> OUT-1.mid, OUT-2.mid, ... (a picture FILE.png likewise)."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{index}{path.suffix}")


def check_alternatives(arranger: str, count: int, temperature: float, top_k: int) -> None:
    """ArrangerError (one line) for alternatives that cannot be sampled as asked."""
    if arranger != SAMPLING_ARRANGER:
        raise ArrangerError(f"arranger {arranger!r} is a rule: it has no alternatives to "
                            f"sample (use --arranger {SAMPLING_ARRANGER} with a preset "
                            f"that has a model)")
    if not 1 <= count <= MAX_ALTERNATIVES:
        raise ArrangerError(f"--alternatives must be 1-{MAX_ALTERNATIVES}, got {count}")
    if not temperature > 0:
        raise ArrangerError(f"--temperature must be above 0 to sample alternatives, got "
                            f"{temperature:g} (0 is the greedy arrangement)")
    if top_k < 0:
        raise ArrangerError(f"--top-k must be 0 (all allowed parts) or more, got {top_k}")


def final_parts(recorder: Recorder) -> list[int]:
    """The final part of every key played, in the order the keys were played (a moved
    key is recorded on its final part in place, so the n-th note-on is the n-th key;
    the second part of a unison is left out)."""
    doubled = set(recorder.doubled)
    return [track for i, (_t, track, msg) in enumerate(recorder.events)
            if msg[0] & 0xF0 == 0x90 and msg[2] > 0 and i not in doubled]


def difference(a: Sequence[int], b: Sequence[int]) -> float:
    """Share (0..1) of notes whose part differs between two arrangements of one file."""
    if len(a) != len(b):
        raise ValueError(f"arrangements of different lengths ({len(a)} and {len(b)} notes)")
    if not a:
        return 0.0
    return float(np.mean(np.asarray(a) != np.asarray(b)))


def alternative_seed(seed: int, index: int) -> int:
    """The sampler's seed of alternative ``index``: independent streams per index."""
    child = np.random.SeedSequence([seed, index])
    return int(child.generate_state(1, dtype=np.uint32)[0])


@dataclass
class Alternatives:
    """The greedy arrangement and the sampled ones, with how much they differ."""

    greedy: ArrangeResult
    results: list[ArrangeResult]
    paths: list[Path]

    @property
    def parts(self) -> list[list[int]]:
        return [final_parts(r.recorder) for r in self.results]

    def vs_greedy(self) -> list[float]:
        """Per alternative: share of notes on another part than greedy."""
        base = final_parts(self.greedy.recorder)
        return [difference(base, p) for p in self.parts]

    def vs_others(self) -> list[float]:
        """Per alternative: mean share of notes on another part than in each other
        alternative (0 when there is only one)."""
        parts = self.parts
        n = len(parts)
        total = [0.0] * n
        for i, j in combinations(range(n), 2):
            d = difference(parts[i], parts[j])
            total[i] += d
            total[j] += d
        return [t / (n - 1) if n > 1 else 0.0 for t in total]

    def pairwise_mean(self) -> float:
        """Mean share of differing notes over all pairs of alternatives."""
        parts = self.parts
        pairs = [difference(a, b) for a, b in combinations(parts, 2)]
        return float(np.mean(pairs)) if pairs else 0.0


def arrange_alternatives(src: str | Path, dst: str | Path, preset: Preset, count: int,
                         temperature: float = 1.0, top_k: int = 0, seed: int = 0,
                         horizon_ms: float | None = None) -> Alternatives:
    """Arrange ``src`` greedily into ``dst`` and ``count`` sampled alternatives into
    ``alternative_path(dst, i)`` with the preset's model (see the module text).  Every
    target is tried before any work."""
    from livearranger.arrangers.onnx_model import OnnxArranger

    check_alternatives(SAMPLING_ARRANGER, count, temperature, top_k)
    paths = [alternative_path(dst, i) for i in range(1, count + 1)]
    for path in paths:
        check_writable(path, "alternative arrangement")
    greedy = arrange_file(src, dst, preset, OnnxArranger(preset), horizon_ms=horizon_ms)
    results = []
    for i, path in enumerate(paths, start=1):
        sampler = OnnxArranger(preset, temperature=temperature, top_k=top_k,
                               seed=alternative_seed(seed, i))
        results.append(arrange_file(src, path, preset, sampler, horizon_ms=horizon_ms))
    return Alternatives(greedy, results, paths)
