"""``livearranger train``: fine-tune the ensemble model on a player's own multitrack MIDI.

    livearranger train --data FOLDER --preset P [--from MODEL] [--name NAME] [--minutes M]

1. Every .mid/.midi under FOLDER is read (``datasets.read_midi_tracks``: one part per
   track, or per channel of a single-track file) and each track is matched to a part of
   the preset: by ``--map TRACK=PART`` first (an explicit mapping is what the player
   asked for; ``TRACK=-`` leaves a track out), then by the part's name (the track's name,
   case-insensitive), then by General MIDI family (the track's program against the
   parts' programs; several tracks of one family go to that family's free parts in
   pitch order, highest to the top part).  Drum-channel tracks, tracks that match no
   part, files where fewer than two parts matched and files that cannot be read are
   named, one line each, with the reason.  A file trains the ensemble of the parts it
   matched (the model takes any ensemble), so a duo in a quartet's folder is no lesson
   in leaving two parts silent.
2. A fifth of the files (at least one; those of the lowest hash of their name, so the
   same ones every run) is held out for validation: early stopping, the best epoch,
   and the report.  With one usable file it trains and validates on it.
3. Training (``trainer.train``) starts from ``--from`` (a weights .npz), else the
   shipped ``ensemble.npz``, else from scratch; on the CPU, one thread, with a progress
   bar and the time left (at most: it may stop early).  Ctrl-C leaves ``NAME.state.pt``
   and the same command resumes from the last finished epoch.
4. ``NAME.npz``, ``NAME.onnx`` and the preset ``NAME.toml`` (the chosen preset playing
   ``NAME.onnx``) are written to the user preset folder (``$LIVEARRANGER_PRESETS``), so
   ``play --preset NAME`` and the TUI find it at once; then the held-out files are
   played through the engine by the trained model, the starting model (zero-shot) and
   the preset's rules, and their accuracy is printed as one table.

5. With matplotlib (the ``pictures`` extra) it also draws, beside ``NAME.onnx``,
   ``NAME-roll.png`` (the first held-out file as the trained model arranged it, a piano
   roll coloured by part as ``arrange --roll`` draws, notes off their written part
   outlined) and ``NAME-confusion.png`` (true part against chosen part over the
   held-out files, as written).  Without matplotlib, or when a picture cannot be saved,
   it says so in one line: the model and preset are written all the same.

PyTorch is imported only once the data is known to be usable (``need_torch``): the
instrument itself never needs it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from livearranger.errors import LiveArrangerError, one_line, printable
from livearranger.gm import family, program_number
from livearranger.lab.datasets import (
    SPLIT_SEED,
    DatasetError,
    MidiTrack,
    Piece,
    build_piece,
    midi_files,
    read_midi_tracks,
)
from livearranger.lab.export import quantize
from livearranger.presets import MAX_TEXT, Preset, PresetError, save_user_preset, user_preset_dir
from livearranger.progress import Bar, clock_text

if TYPE_CHECKING:
    from livearranger.arrangers.base import Arranger
    from livearranger.lab.evaluate import Replayed
    from livearranger.lab.trainer import Progress
    from livearranger.roll import RollNote

HOLD_OUT = 0.2            # share of the files held out for validation
MAX_TRAIN_PARTS = 8       # a Piece's unison mask has 8 bits
DEFAULT_MINUTES = 10.0
FINETUNE_LR, SCRATCH_LR = 5e-4, 2e-3
FINETUNE_WARMUP, SCRATCH_WARMUP = 10, 30
SHIPPED_WEIGHTS = "ensemble.npz"
EXIT_INTERRUPTED = 130
INTERRUPTED = "interrupted; run the same command again to resume"
_NAME = re.compile(r"^[^./\\\x00-\x1f][^/\\\x00-\x1f]*$")


class TrainError(LiveArrangerError, RuntimeError):
    """Input that cannot be trained on (one line naming the file or folder)."""


# ------------------------------------------------------------------ matching
@dataclass
class Usable:
    """A file that trains: its notes labelled with the parts it matched (``preset``: the
    chosen preset's parts it uses, top to bottom)."""

    path: Path
    name: str                 # relative to the data folder
    piece: Piece
    preset: Preset
    guessed: list[str] = field(default_factory=list)   # matches by family or --map


@dataclass
class Scan:
    """What a data folder holds for a preset."""

    files: int
    usable: list[Usable]
    problems: list[str]       # one line each: file, track, why it was not used
    tracks: int = 0           # tracks used
    skipped_tracks: int = 0


def parse_mapping(specs: Sequence[str], preset: Preset) -> dict[str, int | None]:
    """``--map TRACK=PART`` options as {track, lower case: part index, None to leave it
    out (``PART`` = ``-``)}; TrainError for a malformed one or an unknown part."""
    parts = {p.name.lower(): i for i, p in enumerate(preset.parts)}
    out: dict[str, int | None] = {}
    for spec in specs:
        track, sep, part = spec.rpartition("=")
        track, part = track.strip(), part.strip()
        if not sep or not track or not part:
            raise TrainError(f"--map {spec!r}: expected TRACK=PART (PART '-' leaves the "
                             "track out)")
        if part == "-":
            out[track.lower()] = None
        elif part.lower() in parts:
            out[track.lower()] = parts[part.lower()]
        else:
            raise TrainError(f"--map {spec!r}: preset {preset.name!r} has no part "
                             f"{part!r} (parts: {', '.join(preset.part_names)})")
    return out


def _keys(track: MidiTrack) -> list[str]:
    """What ``--map`` may call a track: its label, and its number ('track N' from 0 as
    the label counts, 'channel N' from 1)."""
    number = f"channel {track.channel + 1}" if track.by_channel else f"track {track.index}"
    return [track.label.lower(), number]


def _pair(costs: list[list[float]]) -> list[tuple[int, int]]:
    """Order-keeping pairs (row, column) of least total cost, as many as the shorter
    side has (rows: tracks high to low; columns: parts top to bottom)."""
    m, k = len(costs), len(costs[0]) if costs else 0

    @cache
    def best(i: int, j: int) -> tuple[float, tuple[tuple[int, int], ...]]:
        if i == m or j == k:
            return 0.0, ()
        c, rest = best(i + 1, j + 1)
        options = [(costs[i][j] + c, ((i, j), *rest))]
        if m - i > k - j:
            options.append(best(i + 1, j))
        if k - j > m - i:
            options.append(best(i, j + 1))
        return min(options, key=lambda o: o[0])

    return list(best(0, 0)[1])


def _show(track: MidiTrack) -> str:
    """A track as the messages name it: "track 'Alto'" (its name), "track 3 (Violin)"
    (its number and program), "channel 2" ..."""
    if track.name:
        return f"track {track.name!r}"
    number = f"channel {track.channel + 1}" if track.by_channel else f"track {track.index}"
    return number if track.label == number else f"{number} ({track.label})"


def _program(track: MidiTrack) -> int | None:
    """The track's program, else the program its name is (a track called 'Violin')."""
    if track.program is not None:
        return track.program
    try:
        return program_number(track.name)
    except ValueError:
        return None


def match_tracks(tracks: Sequence[MidiTrack], preset: Preset,
                 mapping: dict[str, int | None]) -> tuple[dict[int, int], list[str],
                                                          list[str]]:
    """({track position: part index}, notes on guessed matches, problems 'track ...:
    why') for one file's tracks."""
    parts = preset.parts
    by_name = {p.name.lower(): i for i, p in enumerate(parts)}
    got: dict[int, int] = {}
    guessed: list[str] = []
    problems: list[tuple[int, str]] = []
    rest: list[int] = []
    for t, track in enumerate(tracks):
        if track.drums:
            problems.append((t, f"{_show(track)}: skipped (drums, channel 10)"))
            continue
        key = next((k for k in _keys(track) if k in mapping), None)
        if key is not None:
            part = mapping[key]
            if part is None:
                problems.append((t, f"{_show(track)}: skipped (left out by --map)"))
            else:
                got[t] = part
                guessed.append(f"{_show(track)} -> {parts[part].name} (--map)")
        elif track.label.lower() in by_name:
            got[t] = by_name[track.label.lower()]
        else:
            rest.append(t)
    claimed = set(got.values())
    families: dict[str, list[int]] = {}
    for t in rest:
        program = _program(tracks[t])
        if program is None:
            problems.append((t, f"{_show(tracks[t])}: skipped (no part of "
                             f"{preset.name} has its name, and it has no program to "
                             "match an instrument family; use --map TRACK=PART)"))
            continue
        families.setdefault(family(program), []).append(t)
    for fam, members in families.items():
        free = [i for i, p in enumerate(parts) if i not in claimed and family(p.program) == fam]
        members.sort(key=lambda t: -tracks[t].mean_pitch)
        pairs = _pair([[abs(tracks[t].mean_pitch - (parts[i].low + parts[i].high) / 2)
                        for i in free] for t in members]) if free else []
        paired = {members[a]: free[b] for a, b in pairs}
        for t in members:
            if t in paired:
                got[t] = paired[t]
                guessed.append(f"{_show(tracks[t])} -> {parts[paired[t]].name} "
                               f"(GM family {fam})")
            else:
                if free:
                    why = f"there are more {fam} tracks than free {fam} parts"
                elif any(family(p.program) == fam for p in parts):
                    why = f"every part of its family ({fam}) is taken"
                else:
                    why = f"no part is of its family ({fam})"
                problems.append((t, f"{_show(tracks[t])}: skipped (no part of "
                                f"{preset.name} has its name, and {why}; use --map "
                                "TRACK=PART)"))
    return got, guessed, [text for _t, text in sorted(problems)]


def scan_folder(folder: Path, preset: Preset, mapping: dict[str, int | None]) -> Scan:
    """Read and match every .mid under ``folder``; TrainError when there is no folder or
    no .mid in it."""
    if not folder.exists():
        raise TrainError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise TrainError(f"{folder}: not a folder (--data takes a folder of .mid files)")
    files = midi_files(folder)
    if not files:
        raise TrainError(f"{folder}: no .mid files in it")
    scan = Scan(len(files), [], [])
    for path in files:
        rel = str(path.relative_to(folder))
        try:
            tracks = read_midi_tracks(path)
        except DatasetError as exc:
            text = str(exc)
            text = text[len(str(path)) + 2:] if text.startswith(f"{path}: ") else text
            scan.problems.append(f"{rel}: skipped ({text})")
            continue
        got, guessed, problems = match_tracks(tracks, preset, mapping)
        scan.problems += [f"{rel}: {p}" for p in problems]
        scan.skipped_tracks += len(problems)
        used = sorted(set(got.values()))
        if len(used) < 2:
            which = f"only {preset.parts[used[0]].name}" if used else "none"
            scan.problems.append(f"{rel}: skipped (a single part: fewer than 2 parts of "
                                 f"{preset.name} matched ({which}))")
            continue
        if len(used) > MAX_TRAIN_PARTS:
            scan.problems.append(f"{rel}: skipped ({len(used)} parts matched; training "
                                 f"takes at most {MAX_TRAIN_PARTS})")
            continue
        index = {part: k for k, part in enumerate(used)}
        sub = dataclasses.replace(preset, parts=tuple(preset.parts[i] for i in used))
        rows = [(on, beat, pitch, vel, off, 0.0, index[part])
                for t, part in got.items() for on, beat, pitch, vel, off in tracks[t].notes]
        piece = build_piece(rel, sub.part_names, rows)
        scan.usable.append(Usable(path, rel, piece, sub, [f"{rel}: {g}" for g in guessed]))
        scan.tracks += len(got)
    return scan


def hold_out(names: Sequence[str], share: float = HOLD_OUT,
             seed: int = SPLIT_SEED) -> set[str]:
    """The names held out for validation: ``share`` of them (at least one; none of a
    single one), those of the lowest hash of seed and name."""
    if len(names) < 2:
        return set()
    k = min(len(names) - 1, max(1, round(share * len(names))))
    order = sorted(names, key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())
    return set(order[:k])


# ------------------------------------------------------------------ set-up checks
def need_torch() -> None:
    """TrainError (one line) when PyTorch or onnx is not installed."""
    try:
        import onnx  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        missing = exc.name or "PyTorch"
        raise TrainError(f"training needs PyTorch and onnx ({missing} is not installed): "
                         "pip install 'livearranger[train]'") from None


def check_name(name: str) -> str:
    """A preset and model name that is one plain file name; TrainError otherwise."""
    name = name.strip()
    if not _NAME.match(name) or len(name) > MAX_TEXT or name.endswith((".toml", ".onnx")):
        raise TrainError(f"--name {name!r}: use a plain name (no '/', not starting with "
                         f"'.', at most {MAX_TEXT} characters), e.g. my-choir")
    return name


def default_name(preset: Preset, folder: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", folder.resolve().name).strip("-") or "mine"
    return check_name(f"{preset.name}-{stem}"[:MAX_TEXT])


def starting_weights(source: str | None) -> Path | None:
    """``--from``'s weights file, else the shipped ``ensemble.npz`` if there is one, else
    None (from scratch); TrainError for a ``--from`` that is not a usable weights file."""
    from livearranger.arrangers.onnx_model import shipped_model_dir

    if source is None:
        shipped = shipped_model_dir() / SHIPPED_WEIGHTS
        return shipped if shipped.is_file() else None
    path = Path(source).expanduser()
    if not path.is_file():
        raise TrainError(f"{path}: no such weights file (--from takes a .npz written by "
                         "livearranger train)")
    if path.suffix.lower() == ".onnx":
        raise TrainError(f"{path}: a step graph cannot be trained; --from takes the weights "
                         f"beside it ({path.with_suffix('.npz').name})")
    return path


def load_start(path: Path) -> Any:
    """The model in a weights file; TrainError (one line) when it is not one, or was
    made for other features."""
    from livearranger.features import FEATURE_VERSION
    from livearranger.graph import META_FEATURE_VERSION
    from livearranger.lab.model import load_weights

    try:
        model, meta = load_weights(path)
    except Exception as exc:  # noqa: BLE001 - numpy, json and torch raise assorted errors
        text = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise TrainError(f"{path}: not an ensemble model's weights ({text})") from None
    version = meta.get(META_FEATURE_VERSION, FEATURE_VERSION)
    if version != FEATURE_VERSION:
        raise TrainError(f"{path}: made for feature version {version}; this program's is "
                         f"{FEATURE_VERSION}")
    return model


# ------------------------------------------------------------------ progress
class ProgressBar:
    """``train``'s progress (``livearranger.progress.Bar``).  The time left is the
    limit's rest: an early stop may end sooner.  ``log`` prints a line of the run's log
    above the bar."""

    def __init__(self, minutes: float, stream: IO[str] | None = None,
                 out: IO[str] | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = minutes * 60.0
        self.out = out or sys.stdout
        self.bar = Bar("training", stream, tty, clock)

    def line(self, p: Progress) -> str:
        best = f"{p.best:.1f} %" if p.best >= 0 else "-"
        return (f"{100 * p.done:3.0f}%  epoch {p.epoch}  loss {p.loss:.3f}  best valid "
                f"{best}  at most {clock_text(self.budget * (1 - p.done))} left")

    def __call__(self, p: Progress) -> None:
        self.bar(p.done, self.line(p))

    def clear(self) -> None:
        self.bar.clear()

    def log(self, text: str) -> None:
        self.clear()
        print(text, file=self.out, flush=True)


# ------------------------------------------------------------------ report
CONDITIONS = (("score", "as written"), ("as-played", "humanised"))


Watch = Callable[[int, str, int, "Piece", "Replayed"], None]


def compare(held: Sequence[Usable], contenders: Sequence[tuple[str, Callable[[Preset],
                                                                             Arranger]]],
            horizon: float | None, watch: Watch | None = None) -> list[tuple[str, list[float]]]:
    """Online accuracy (%) of each contender on the held-out files under each of
    ``CONDITIONS``, played through the engine (``evaluate.replay``) with each file's
    ensemble.  ``watch(contender, condition, file, performance, replayed)`` is told of
    every replay (the pictures are drawn from the trained model's)."""
    from livearranger.lab.evaluate import Result, performance, replay

    n = max(len(u.preset.parts) for u in held)
    rows = []
    for c, (label, make) in enumerate(contenders):
        made: dict[tuple[str, ...], Arranger] = {}
        accs = []
        for cond, _title in CONDITIONS:
            res = Result(n)
            for i, u in enumerate(held):
                key = tuple(u.preset.part_names)
                if key not in made:
                    made[key] = make(u.preset)
                perf = performance(u.piece, cond, i)
                got = replay(perf, made[key], horizon)
                res.add(perf, got)
                if watch is not None:
                    watch(c, cond, i, perf, got)
            accs.append(100.0 * res.correct / max(res.notes, 1))
        rows.append((label, accs))
    return rows


def format_table(rows: Sequence[tuple[str, list[float]]]) -> list[str]:
    width = max(len(r[0]) for r in rows)
    lines = [f"  {'arranger':<{width}}  " + "  ".join(f"{t:>10}" for _c, t in CONDITIONS)]
    for label, accs in rows:
        lines.append(f"  {label:<{width}}  " + "  ".join(f"{a:9.1f}%" for a in accs))
    return lines


# ------------------------------------------------------------------ the command
@dataclass
class Options:
    data: Path
    preset: Preset
    name: str | None = None
    source: str | None = None          # --from
    minutes: float = DEFAULT_MINUTES
    mapping: Sequence[str] = ()
    seed: int = 0
    command: str = ""


def run(opt: Options, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """``livearranger train``: 0 when the model and its preset are written,
    ``EXIT_INTERRUPTED`` after Ctrl-C; TrainError (one line) for input it cannot use."""
    out = out or sys.stdout
    err = err or sys.stderr

    def say(text: str) -> None:            # names of tracks and files, from files
        print(printable(text), file=out, flush=True)

    preset = opt.preset
    if not (math.isfinite(opt.minutes) and opt.minutes > 0):
        raise TrainError(f"--minutes must be above 0, got {opt.minutes:g}")
    name = check_name(opt.name) if opt.name is not None else default_name(preset, opt.data)
    mapping = parse_mapping(opt.mapping, preset)
    folder = user_preset_dir()
    _check_folder(folder, name)
    scan = scan_folder(opt.data, preset, mapping)
    for line in scan.problems:
        say(line)
    for usable in scan.usable:
        for line in usable.guessed:
            say(line)
    say(f"{len(scan.usable)} of {scan.files} files usable ({scan.tracks} tracks matched to "
        f"{preset.name}'s parts); {_count(scan.files - len(scan.usable), 'file')} and "
        f"{_count(scan.skipped_tracks, 'track')} skipped")
    if not scan.usable:
        first = scan.problems[0] if scan.files == 1 and scan.problems else \
            f"none of its {scan.files} .mid files has 2 parts of {preset.name} (see above)"
        raise TrainError(f"{opt.data}: no usable .mid file: {first}")
    held = hold_out([u.name for u in scan.usable], seed=opt.seed)
    train_files = [u for u in scan.usable if u.name not in held]
    valid_files = [u for u in scan.usable if u.name in held] or train_files
    if held:
        shown = ", ".join(sorted(held)[:5]) + (", ..." if len(held) > 5 else "")
        say(f"training on {len(train_files)} files; holding out {len(held)} for "
            f"validation: {shown}")
    else:
        say("only one usable file: training on it, and validation is on the training "
            "file (the accuracy below says little about other music)")

    need_torch()
    import torch

    from livearranger.lab.trainer import Item, train

    torch.set_num_threads(1)
    start = starting_weights(opt.source)
    start_model = load_start(start) if start is not None else None
    base = folder / name
    state = base.with_suffix(".state.pt")
    if state.exists():
        _check_state(state)
        say(f"resuming the interrupted run ({state})")
    elif start is None:
        say(f"no starting model (no {SHIPPED_WEIGHTS} shipped and no --from): training "
            "from scratch, which needs more music and minutes than a fine-tuning")
    else:
        say(f"fine-tuning {start}")
    source = opt.data.resolve().name or "yours"
    items = [Item(u.piece, u.preset, source) for u in train_files]
    valid = [Item(u.piece, u.preset, source) for u in valid_files]
    meta = {"data": f"{len(scan.usable)} files of {opt.data.resolve()}",
            "split": f"{len(held)} files held out for validation (sha256 of the name, "
                     f"seed {opt.seed})",
            "preset": preset.name, "from": str(start) if start else "scratch",
            "command": opt.command or "livearranger train"}
    bar = ProgressBar(opt.minutes, stream=err, out=out)
    try:
        result = train(items, valid, base, opt.minutes, seed=opt.seed, init=start,
                       lr=FINETUNE_LR if start else SCRATCH_LR,
                       warmup=FINETUNE_WARMUP if start else SCRATCH_WARMUP,
                       threads=1, meta=meta, log=bar.log, progress=bar)
    except KeyboardInterrupt:
        bar.clear()
        if state.exists():
            print(f"{INTERRUPTED} (from {state.name})", file=err, flush=True)
        else:
            print("interrupted before the first epoch ended; run the same command again "
                  "to start over", file=err, flush=True)
        return EXIT_INTERRUPTED
    bar.clear()
    graph = Path(result["graph"])
    if result["best_epoch"] < 0 or not graph.is_file():
        raise TrainError(f"{graph}: no epoch finished, nothing to write")
    quantize(graph, graph)                    # int8 weights, as the shipped graphs
    written = _write_preset(preset, name, graph, len(train_files), len(held), opt.data)
    say(f"wrote {Path(result['weights'])}, {graph} (best epoch {result['best_epoch']}, "
        f"validation {result['best_valid']:.1f} %)")
    say(f"wrote preset {name}: {written}; play it: livearranger play --preset {name}")
    try:
        seen = _report(valid_files, preset, graph, start_model, name, bool(held), say)
        draw_pictures(seen, base, name, say)
    except KeyboardInterrupt:
        print(f"interrupted; the preset {name} is written", file=err, flush=True)
        return EXIT_INTERRUPTED
    return 0


def _check_state(state: Path) -> None:
    """TrainError (one line) for a resume state that will not load."""
    import torch

    try:
        st = torch.load(state, map_location="cpu", weights_only=True)
        ok = isinstance(st, dict) and {"config", "model", "opt", "epoch"} <= set(st)
    except Exception:  # noqa: BLE001 - torch and pickle raise assorted errors
        ok = False
    if not ok:
        raise TrainError(f"{state}: not a resumable training state (damaged?); delete it "
                         "to start over")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _check_folder(folder: Path, name: str) -> None:
    from livearranger.files import FileProblem, check_writable

    try:
        check_writable(folder / f"{name}.toml", "preset")
        check_writable(folder / f"{name}.onnx", "model")
    except FileProblem as exc:
        raise TrainError(str(exc)) from None


def _write_preset(preset: Preset, name: str, graph: Path, trained: int, held: int,
                  data: Path) -> Path:
    """The preset that plays the model ``graph``, saying what it learnt from: ``trained``
    files of ``data``, ``held`` more held out for validation (not learnt from)."""
    kept = f" ({held} more held out for validation)" if held else ""
    note = " ".join(f"{preset.name} fine-tuned on {_count(trained, 'file')} of "
                    f"{data.resolve()}{kept}".split())[:2000]
    mine = dataclasses.replace(preset, name=name, arranger="model",
                               model=str(graph.resolve()), description=note, path="")
    try:
        return save_user_preset(mine, name)
    except (PresetError, OSError) as exc:
        raise TrainError(f"cannot write the preset {name}: {exc}") from None


def _rule(name: str) -> Callable[[Preset], Arranger]:
    from livearranger.arrangers import make_arranger

    return lambda p: make_arranger(name, p)


@dataclass
class Seen:
    """What the trained model did with the held-out files, as written: the confusion
    matrix over all of them (the chosen preset's parts) and the first file's notes."""

    preset: Preset
    confusion: Any                                  # [parts, parts] counts (numpy)
    first: str = ""
    roll: list[RollNote] = field(default_factory=list)
    files: int = 0
    held_out: bool = True

    @property
    def notes(self) -> int:
        return int(self.confusion.sum())


def _watcher(held: Sequence[Usable], preset: Preset, held_out: bool) -> tuple[Seen, Watch]:
    """A ``Seen`` and the ``compare`` watch that fills it from the first contender's
    replays as written (``evaluate.Result`` counts each file's confusion in the file's
    own parts; they are placed among the preset's by name)."""
    import numpy as np

    from livearranger.lab.evaluate import Result
    from livearranger.roll import RollNote

    n = len(preset.parts)
    seen = Seen(preset, np.zeros((n, n), dtype=np.int64), held[0].name, [], len(held),
                held_out)
    where = {p: i for i, p in enumerate(preset.part_names)}

    def watch(contender: int, cond: str, i: int, perf: Piece, got: Replayed) -> None:
        if contender != 0 or cond != CONDITIONS[0][0]:
            return
        u = held[i]
        index = np.array([where[p] for p in u.preset.part_names], dtype=np.int64)
        res = Result(len(u.preset.parts))
        res.add(perf, got)
        seen.confusion[np.ix_(index, index)] += res.confusion
        if i == 0:
            seen.roll = [RollNote(float(perf.onset[j]), float(perf.offset[j]),
                                  int(perf.pitch[j]), int(index[part]),
                                  wrong=not (int(perf.mask[j]) >> part) & 1)
                         for j, part in enumerate(got.final.tolist()) if part >= 0]

    return seen, watch


def draw_pictures(seen: Seen, base: Path, name: str, say: Callable[[str], None]) -> list[Path]:
    """``NAME-roll.png`` and ``NAME-confusion.png`` beside ``base`` (the model's path
    without its suffix), a line naming each; one line instead when matplotlib is missing
    or a picture cannot be saved (the training stands: nothing is raised)."""
    from livearranger.roll import (
        INSTALL_HINT,
        RollError,
        draw_confusion,
        draw_roll,
        require_matplotlib,
    )

    try:
        require_matplotlib()
    except RollError:
        say(f"no pictures of the result: they need matplotlib: {INSTALL_HINT}")
        return []
    which = "held-out" if seen.held_out else "training"
    files = f"{seen.files} {which} file{'s' if seen.files != 1 else ''}"
    wrong = sum(n.wrong for n in seen.roll)
    right = 1 - wrong / len(seen.roll) if seen.roll else 0.0
    pictures: list[tuple[str, str, str, Callable[[Path], Path]]] = [
        ("roll", "piano roll", f"{seen.first} as the trained model arranged it",
         lambda target: draw_roll(seen.roll, seen.preset.part_names, target,
                                  title=f"{seen.first} (as written) arranged by {name}: "
                                        f"{right:.1%} on their written part")),
        ("confusion", "confusion matrix", f"true part against chosen part, {files}",
         lambda target: draw_confusion(seen.confusion, seen.preset.part_names, target,
                                       title=f"{name} on the {files} (as written, "
                                             f"{seen.notes} notes)")),
    ]
    drawn = []
    for suffix, what, about, draw in pictures:
        target = base.with_name(f"{base.name}-{suffix}.png")
        try:
            draw(target)
        except (RollError, OSError, ValueError, RuntimeError, MemoryError) as exc:
            say(f"could not draw the {what} {target.name} ({one_line(exc)}); the model and preset "
                "are written")
            continue
        drawn.append(target)
        say(f"drew {target} ({what}: {about})")
    return drawn


def _report(held: Sequence[Usable], preset: Preset, graph: Path, start_model: Any,
            name: str, held_out: bool, say: Callable[[str], None]) -> Seen:
    """Print the accuracy table; what the trained model did, for the pictures."""
    from livearranger.arrangers.onnx_model import OnnxArranger

    contenders: list[tuple[str, Callable[[Preset], Arranger]]] = [
        (f"{name} (trained)", lambda p: OnnxArranger(p, model=str(graph)))]
    with tempfile.TemporaryDirectory() as tmp:
        if start_model is not None:
            from livearranger.lab.export import export_step

            first = quantize(export_step(start_model, Path(tmp) / "start.onnx",
                                         {"data": "the starting model, before training"}),
                             Path(tmp) / "start-int8.onnx")
            contenders.append(("starting model (zero-shot)",
                               lambda p: OnnxArranger(p, model=str(first))))
        contenders += [(rule, _rule(rule)) for rule in ("voice-leading", "closest-pitch")]
        horizon = preset.horizon_ms / 1000.0 or None
        seen, watch = _watcher(held, preset, held_out)
        rows = compare(held, contenders, horizon, watch)
    notes = sum(len(u.piece) for u in held)
    which = "held-out" if held_out else "training"
    say(f"accuracy on the {len(held)} {which} file{'s' if len(held) > 1 else ''} "
        f"({notes} notes), played online through the engine as {preset.name} plays "
        f"(horizon {preset.horizon_ms:g} ms):")
    for line in format_table(rows):
        say(line)
    return seen
