"""The arrangement as a picture: a piano roll coloured by part (``arrange --roll``), and
a confusion matrix of true part against chosen part (``train``'s report).

Time runs along x (seconds), pitch up y, one colour per part with a legend of the
preset's part names.  Drawn with matplotlib (the ``pictures`` extra), imported only when
a picture is drawn, and only through its object API (``matplotlib.figure.Figure``), so
no GUI backend or display is ever touched and the instrument runs without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from livearranger.errors import LiveArrangerError
from livearranger.events import KIND_MASK, NOTE_OFF, NOTE_ON, note_name
from livearranger.files import check_writable
from livearranger.recorder import Recorder

FORMATS = (".png", ".svg")
EXTRA = "pictures"
INSTALL_HINT = f"pip install 'livearranger[{EXTRA}]'"
WRONG_EDGE = "#d62728"        # outline of a note on another part than the written one


class RollError(LiveArrangerError):
    """A picture that cannot be drawn as asked (one line)."""


@dataclass(frozen=True, slots=True)
class RollNote:
    """One sounded note: ``start``/``end`` in seconds, the ``pitch`` it sounded at, and
    the index of its ``part``; ``wrong`` marks a note off its written part (lab use)."""

    start: float
    end: float
    pitch: int
    part: int
    wrong: bool = False


def require_matplotlib() -> None:
    """RollError naming the extra to install when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401 - only whether it is there
    except ImportError:
        raise RollError(f"drawing a piano roll needs matplotlib: {INSTALL_HINT}") from None


def _check_format(target: Path, what: str) -> None:
    if target.suffix.lower() not in FORMATS:
        raise RollError(f"{target}: a {what} is drawn as .png or .svg, "
                        f"not {target.suffix or 'a file without an extension'}")


def check_roll_target(path: str | Path, what: str = "piano roll") -> Path:
    """The picture's path, checked before any work: a known format (.png, .svg), a place
    that can be written, and matplotlib installed; RollError or FileProblem otherwise."""
    target = Path(path)
    _check_format(target, what)
    check_writable(target, what)
    require_matplotlib()
    return target


def _save(fig: Any, target: Path, what: str) -> Path:
    """Write ``fig`` to ``target`` in the format of its suffix; RollError (one line) when
    it cannot be written.  An SVG carries no date, so the same picture is the same file."""
    fmt = target.suffix.lower().lstrip(".")
    try:
        fig.savefig(target, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    except OSError as exc:
        raise RollError(f"{target}: cannot save the {what} "
                        f"({exc.strerror or exc})") from None
    return target


def recorded_notes(recorder: Recorder) -> list[RollNote]:
    """The notes of a recording on their final parts (a moved key only where it ended),
    in order of onset; a note still held at the end lasts to the last message."""
    held: dict[tuple[int, int], tuple[float, int]] = {}
    notes: list[RollNote] = []
    end = max((t for t, _p, _m in recorder.events), default=0.0)
    for t, track, msg in sorted(recorder.events, key=lambda e: e[0]):
        kind = msg[0] & KIND_MASK
        if kind not in (NOTE_OFF, NOTE_ON):
            continue
        key = (track, msg[1])
        started = held.pop(key, None)
        if started is not None:                 # an off, or the key struck again
            notes.append(RollNote(started[0], t, msg[1], started[1]))
        if kind == NOTE_ON and msg[2] > 0:
            held[key] = (t, track)
    notes.extend(RollNote(t0, end, pitch, part) for (_tr, pitch), (t0, part) in held.items())
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def draw_roll(notes: Sequence[RollNote], part_names: Sequence[str], path: str | Path,
              title: str = "") -> Path:
    """Draw ``notes`` as a piano roll into ``path`` (.png or .svg, by its suffix), one
    colour per part named in the legend (every part, also one with no notes); the text
    of an SVG stays text, so the part names can be found in it.  Returns the path."""
    target = Path(path)
    _check_format(target, "piano roll")
    require_matplotlib()
    from matplotlib import colormaps, rc_context
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    n_parts = len(part_names)
    palette = "tab10" if n_parts <= 10 else "tab20"
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "livearranger"}):
        fig = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        colours = [colormaps[palette](i % 20) for i in range(n_parts)]
        for part in range(n_parts):
            mine = [n for n in notes if n.part == part]
            if not mine:
                continue
            boxes = [[(n.start, n.pitch - 0.42), (n.end, n.pitch - 0.42),
                      (n.end, n.pitch + 0.42), (n.start, n.pitch + 0.42)] for n in mine]
            edges = [WRONG_EDGE if n.wrong else "none" for n in mine]
            ax.add_collection(PolyCollection(boxes, facecolors=colours[part],
                                             edgecolors=edges, linewidths=1.2))
        if notes:
            low, high = min(n.pitch for n in notes), max(n.pitch for n in notes)
            ax.set_xlim(min(n.start for n in notes), max(n.end for n in notes))
            octaves = range((low // 12 + 1) * 12, high + 1, 12)
            ax.set_yticks(list(octaves), [note_name(p) for p in octaves])
            ax.set_ylim(low - 1.5, high + 1.5)
        ax.set_xlabel("seconds")
        ax.set_ylabel("pitch")
        ax.grid(axis="y", alpha=0.3)
        handles = [Patch(facecolor=colours[i], label=name) for i, name in enumerate(part_names)]
        if any(n.wrong for n in notes):
            handles.append(Patch(facecolor="none", edgecolor=WRONG_EDGE,
                                 label="not its written part"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  frameon=False)
        if title:
            ax.set_title(title)
        return _save(fig, target, "piano roll")


def draw_confusion(matrix: Any, part_names: Sequence[str], path: str | Path,
                   title: str = "") -> Path:
    """Draw a confusion ``matrix`` (rows: true part, columns: chosen part, note counts, as
    ``evaluate.Result.confusion``) into ``path`` (.png or .svg).  Each row is normalised
    to the true part's notes: a cell's colour and text are the percentage (with the count
    beneath while the matrix is small), a part with no notes is a row of dashes; the part
    names label both axes and a colour bar gives the scale.  Returns the path."""
    target = Path(path)
    _check_format(target, "confusion matrix")
    counts = np.asarray(matrix, dtype=np.int64)
    n = len(part_names)
    if counts.shape != (n, n):
        raise RollError(f"{target}: a confusion matrix of {n} parts is {n} x {n}, "
                        f"not {' x '.join(map(str, counts.shape))}")
    require_matplotlib()
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    support = counts.sum(axis=1, keepdims=True)
    share = np.divide(100.0 * counts, support, out=np.zeros(counts.shape),
                      where=support > 0)
    side = min(12.0, 3.0 + 0.55 * n)
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "livearranger"}):
        fig = Figure(figsize=(side + 1.4, side), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=100.0, aspect="equal")
        small = n <= 8
        size = 9 if small else max(5, 10 - n // 3)
        for i in range(n):
            for j in range(n):
                if support[i, 0] == 0:
                    text = "–"
                elif small:
                    text = f"{share[i, j]:.1f}%\n{counts[i, j]}"
                else:
                    text = f"{share[i, j]:.0f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=size,
                        color="white" if share[i, j] > 60 else "black")
        ax.set_xticks(range(n), list(part_names), rotation=45 if n > 4 else 0,
                      ha="right" if n > 4 else "center")
        ax.set_yticks(range(n), list(part_names))
        ax.set_xlabel("chosen part")
        ax.set_ylabel("true part")
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label("% of the true part's notes")
        if title:
            ax.set_title(title)
        return _save(fig, target, "confusion matrix")
