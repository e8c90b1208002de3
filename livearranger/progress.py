"""A progress bar for long work (arranging a large file, training): redrawn in place on
a terminal at most ten times a second, one plain line per tenth of the work otherwise
(a log, a pipe), so that neither a terminal nor a log is flooded."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import IO


def clock_text(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour; ``-:--`` when not known)."""
    if not math.isfinite(seconds):
        return "-:--"
    s = max(0, int(round(seconds)))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


class Bar:
    """``bar(done, text)``: ``done`` in 0..1, ``text`` what to say beside it.  ``label``
    starts each plain line; ``after_s``: draw nothing until the work has run that long
    (a short job shows no bar at all)."""

    WIDTH = 24

    def __init__(self, label: str, stream: IO[str] | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, after_s: float = 0.0) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.start = clock()
        self.after_s = after_s
        self.drawn = False
        self.last = -math.inf
        self.tenth = -1

    def __call__(self, done: float, text: str) -> None:
        now = self.clock()
        if now - self.start < self.after_s:
            return
        if self.tty:
            if now - self.last < 0.1 and done < 1.0:
                return
            self.last = now
            full = int(round(self.WIDTH * min(max(done, 0.0), 1.0)))
            bar = "#" * full + "-" * (self.WIDTH - full)
            self.stream.write(f"\r\x1b[K[{bar}] {text}")
            self.stream.flush()
            self.drawn = True
        elif int(10 * done) > self.tenth:
            self.tenth = int(10 * done)
            print(f"{self.label}: {text}", file=self.stream, flush=True)

    def clear(self) -> None:
        """Erase the bar (before other output, and at the end)."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False

    def eta(self, done: float) -> float:
        """Seconds still to go at the pace so far (inf before any progress)."""
        if done <= 0.0:
            return math.inf
        return (self.clock() - self.start) * (1.0 - done) / done
