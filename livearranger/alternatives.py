"""Alternative arrangements of one file (``arrange --alternatives N``).

The learned arranger ranks the parts of every note; instead of taking its best part
each time, alternative ``i`` samples softmax(logits / T) among the parts the preset's
constraints allow (ranges, busy monophonic parts: the same mask as greedy), optionally
only among the ``top_k`` best of them, from a generator seeded by (``seed``, ``i``): the
same seed gives the same files.  Rules rank nothing, so they have no alternatives.

How much they differ is counted per note (the n-th key played, on its final part): the
share of notes on another part than in the greedy arrangement, and between alternatives.

A take can be *re-rolled* the same way (the TUI's re-roll key): ``take_performance``
rebuilds the keys as played from the recorder (final parts merged back into one
keyboard, the second part of a unison left out), ``reroll_take`` arranges them again
with a sampling model into ``TAKE-reroll-K.mid`` and counts the notes now on another
part than in the take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livearranger.arrangers import ArrangerError
from livearranger.errors import BadValue
from livearranger.events import CHANNEL_MASK, KIND_MASK, NOTE_OFF, NOTE_ON
from livearranger.files import check_writable
from livearranger.offline import ArrangeResult, arrange_file, arrange_performance
from livearranger.presets import Preset
from livearranger.recorder import Recorder

if TYPE_CHECKING:
    from livearranger.arrangers.onnx_model import OnnxArranger

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
            if msg[0] & KIND_MASK == NOTE_ON and msg[2] > 0 and i not in doubled]


def difference(a: Sequence[int], b: Sequence[int]) -> float:
    """Share (0..1) of notes whose part differs between two arrangements of one file."""
    if len(a) != len(b):
        raise ValueError(f"arrangements of different lengths ({len(a)} and {len(b)} notes)")
    if not a:
        return 0.0
    return float(np.mean(np.asarray(a) != np.asarray(b)))


def sampling_arranger(preset: Preset, temperature: float, top_k: int,
                      seed: int) -> OnnxArranger:
    """The preset's model, sampling at ``temperature`` (among the ``top_k`` best allowed
    parts, 0: all) from a generator seeded by ``seed``."""
    from livearranger.arrangers.onnx_model import OnnxArranger

    return OnnxArranger(preset, temperature=temperature, top_k=top_k, seed=seed)


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
        sampler = sampling_arranger(preset, temperature, top_k, alternative_seed(seed, i))
        results.append(arrange_file(src, path, preset, sampler, horizon_ms=horizon_ms))
    return Alternatives(greedy, results, paths)


# ------------------------------------------------------------------ re-rolling a take
REROLL_TAG = "reroll"


def reroll_path(take: str | Path) -> Path:
    """The first free ``TAKE-reroll-K.mid`` (K = 1, 2, ...) beside the take ``take``."""
    take = Path(take)
    k = 1
    while True:
        path = take.with_name(f"{take.stem}-{REROLL_TAG}-{k}{take.suffix or '.mid'}")
        if not path.exists():
            return path
        k += 1


def take_performance(take: Recorder) -> tuple[list[tuple[float, list[int]]], list[str]]:
    """The keys played into ``take`` as one keyboard on channel 1 ((seconds from the
    take's first message, bytes) in time order: every note-on and its release, as
    ``read_performance`` gives a file, so a file arranged from them lines up with it),
    and the name of the part each key ended on, in the order the keys were played.

    The recorder keeps each key on its final part, transposed and with the part's
    velocity offset: both are undone.  The second note-on of a unison (and its
    note-off) is left out, so each key comes once.  A key still held (a take being
    recorded) is released at the take's last time.  Safe to call while the engine
    thread records into ``take``."""
    events = list(take.events)
    doubled = set(take.doubled)       # after events: it covers every event copied
    parts = list(take.parts)
    out: list[tuple[float, list[int]]] = []
    names: list[str] = []
    held: dict[tuple[int, int, int], list[int | None]] = {}   # -> key pitch, None: double
    t0 = min((t for t, _track, _msg in events), default=0.0)   # the take file's 0
    last = 0.0
    for i, (at, track, msg) in enumerate(events):
        t = at - t0
        last = max(last, t)
        kind = msg[0] & KIND_MASK
        if kind not in (NOTE_OFF, NOTE_ON) or len(msg) < 3 or not 0 <= track < len(parts):
            continue
        where = (track, msg[0] & CHANNEL_MASK, msg[1])
        part = parts[track]
        if kind == NOTE_ON and msg[2] > 0:
            if i in doubled:
                held.setdefault(where, []).append(None)
                continue
            key = min(127, max(0, msg[1] - part.transpose))
            velocity = min(127, max(1, msg[2] - part.velocity_offset))
            held.setdefault(where, []).append(key)
            out.append((t, [NOTE_ON, key, velocity]))
            names.append(part.name)
        else:
            queue = held.get(where)
            if queue:
                released = queue.pop(0)
                if released is not None:
                    out.append((t, [NOTE_OFF, released, 0]))
    for queue in held.values():
        for still in queue:
            if still is not None:
                out.append((last, [NOTE_OFF, still, 0]))
    out.sort(key=lambda e: e[0])                # stable: same-time order kept
    return out, names


@dataclass
class Reroll:
    """A take arranged again: the file written and how much it differs from the take."""

    path: Path
    result: ArrangeResult
    seed: int
    temperature: float
    notes: int            # keys in the take
    differ: int           # keys on another part than in the take (-1: not comparable)

    @property
    def share(self) -> float:
        """Share (0..1) of the take's notes now on another part."""
        return self.differ / self.notes if self.notes and self.differ >= 0 else 0.0

    def summary(self) -> str:
        """One line: the file and the figure ``arrange --alternatives`` prints."""
        head = (f"re-rolled at temperature {self.temperature:g} (seed {self.seed}): "
                f"wrote {self.path}")
        if self.differ < 0:
            arranged = len(final_parts(self.result.recorder))
            return f"{head}; {arranged} of the take's {self.notes} notes arranged"
        return (f"{head}, {self.differ} of {self.notes} notes ({self.share:.1%}) on "
                f"another part than in the take")


def reroll_take(take: Recorder, preset: Preset, temperature: float = 1.0,
                seed: int | None = None, horizon_ms: float | None = None,
                dst: str | Path | None = None, top_k: int = 0) -> Reroll:
    """Arrange the keys of ``take`` again with ``preset``'s model sampling at
    ``temperature`` (seed ``seed``, a fresh one when None) into ``dst`` (default:
    ``reroll_path`` of the take's file), with correction horizon ``horizon_ms`` (None:
    the preset's).  ArrangerError when the model cannot sample (temperature not above
    0, no model), BadValue when the take has no notes."""
    check_alternatives(SAMPLING_ARRANGER, 1, temperature, top_k)
    if dst is None:
        if take.path is None:
            raise BadValue("the take has no file to put its re-roll beside")
        dst = reroll_path(take.path)
    performance, take_parts = take_performance(take)
    if not take_parts:
        raise BadValue("the take has no notes yet to re-roll")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0])
    sampler = sampling_arranger(preset, temperature, top_k, seed)
    result = arrange_performance(performance, dst, preset, sampler, horizon_ms=horizon_ms)
    rec = result.recorder
    new_parts = [rec.parts[track].name for track in final_parts(rec)]
    differ = (sum(a != b for a, b in zip(take_parts, new_parts, strict=True))
              if len(new_parts) == len(take_parts) else -1)
    return Reroll(Path(dst), result, seed, temperature, len(take_parts), differ)
