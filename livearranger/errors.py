"""The one error concept: what the program reports to a player, and how.

``LiveArrangerError`` is the base of every error the program means to report (a bad file,
preset, port, model or flag value): its message is for the player and names the file,
port or value at fault.  Anything else that escapes is a bug.  ``one_line`` turns any
exception into the line shown for it; ``ErrorLog`` keeps the latest errors of a running
instrument for the UI and OSC, with a running total so that a reader can tell which are new.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

MAX_LINE = 500          # characters of one error line (a line, not a page)


class LiveArrangerError(Exception):
    """An error the program reports to a player in one line: the message says what is
    wrong and names the file, port or value at fault."""


class BadValue(LiveArrangerError, ValueError):
    """A value a player gave (a flag, a pitch, a part, a preset or arranger name) that
    cannot be used; a ValueError too, for the callers that check values as such."""


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: every character that is not printable (an
    escape sequence's ESC, a bell, a line break, a bidi override) shown as its Python
    escape (``\\x1b``).  Names come from files (presets, MIDI tracks, journals,
    models) that anyone may have written: printed raw they could recolour, clear or
    rewrite the player's terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def one_line(exc: BaseException, limit: int = MAX_LINE) -> str:
    """``exc`` as one readable line, no traceback: the first line of its message, at
    most ``limit`` characters, every character that is not printable escaped
    (``printable``).

    Our own errors name their file in their message, the OS's add theirs to it
    (``[Errno 2] No such file or directory: 'x.mid'``), and a ValueError's message says
    what was wrong with which value: these read as their message alone.  Anything else
    is prefixed with its type, since its message alone may not say what went wrong
    (``KeyError: 'x'``)."""
    lines = str(exc).strip().splitlines()
    text = printable(" ".join(lines[0].split())) if lines else ""
    if not isinstance(exc, LiveArrangerError | OSError | ValueError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    text = text or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


class ErrorLog:
    """The latest ``limit`` error lines and how many there ever were.

    Written by one thread (the engine's, or whoever owns the router), read from any
    other (UI, OSC) without a lock: the writer counts ``_started`` before it appends and
    ``total`` after, and a reader retries when a write fell between its two reads, so
    it never pairs a total with entries of another moment.  ``deque.copy`` and ``append``
    are single operations of the interpreter, so the reader never sees a half append."""

    def __init__(self, limit: int = 100) -> None:
        if limit < 1:
            raise ValueError(f"an error log keeps at least one entry, not {limit}")
        self.limit = limit
        self._entries: deque[str] = deque(maxlen=limit)
        self._started = 0
        self.total = 0              # entries ever added

    def add(self, text: str) -> None:
        """Keep ``text``; the oldest entry goes when ``limit`` are kept (writer only)."""
        self._started += 1
        self._entries.append(text)
        self.total += 1

    def _read(self) -> tuple[int, list[str]]:
        """(total, the kept entries oldest first), of one moment."""
        while True:
            total = self.total
            entries = self._entries.copy()
            if self._started == total:
                return total, list(entries)

    def latest(self, n: int) -> list[str]:
        """The newest ``n`` entries kept, oldest first."""
        if n <= 0:
            return []
        return self._read()[1][-n:]

    def since(self, seen_total: int) -> list[str]:
        """The entries added after a reader had seen ``seen_total`` of them, as many as are
        still kept, oldest first (all those kept when ``seen_total`` is above ``total``:
        the reader saw another log)."""
        total, entries = self._read()
        new = total - seen_total
        if new < 0:
            return entries
        return entries[-new:] if new else []

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._read()[1])

    def __repr__(self) -> str:
        return f"ErrorLog(total={self.total}, latest={self.latest(3)!r})"
