"""Where the arranged performance goes: the ``Output`` every destination is.

An ``Output`` receives raw channel-voice messages already addressed to a part's
channel.  As in mido, the public methods do what every output shares (a send after
``close`` is refused, ``close`` runs once) and call the hooks ``_send`` and ``_close``,
which each destination implements.  A wrapper (a part's own port, ``print`` mode's
delay, the recorder tap) passes what it gets on to another output, ``inner``; whoever
needs the destination under a wrapper follows ``inner`` (``innermost``, ``replace``)
instead of asking which wrapper it is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, MutableSequence

from livearranger.events import CHANNEL_MASK, NOTE_ON
from livearranger.presets import Preset

DAW_MODES = ("live", "print")   # moves heard as they happen / final parts, delayed


class Output:
    """A destination for the arranged performance: subclasses implement ``_send`` (and
    ``_close`` when there is something to release); ``move``, ``late_note_on``, ``tick``
    and ``preset_changed`` do the plain thing unless overridden."""

    delayed = False               # True: wants ``tick``
    closed = False
    inner: Output | None = None   # a wrapper: the output it passes messages on to

    def send(self, part: int, message: list[int], time: float) -> None:
        """Deliver one message for ``part`` (``time``: performance clock, seconds).
        ValueError once closed: a port closed under us must never be written to."""
        if self.closed:
            raise ValueError(f"{type(self).__name__} is closed")
        self._send(part, message, time)

    def close(self) -> None:
        """Release the destination; no more sends follow.  A second close does nothing."""
        if self.closed:
            return
        self.closed = True
        self._close()

    def _send(self, part: int, message: list[int], time: float) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release what the output holds (nothing by default)."""

    def move(self, old_part: int, off: list[int], new_part: int, on: list[int],
             onset: float, time: float) -> None:
        """A sounding key changed part at ``time`` (it went down at ``onset``): ``off``
        stops it on ``old_part``, ``on`` starts it on ``new_part``.  Live: both now."""
        self.send(old_part, off, time)
        self.send(new_part, on, time)

    def late_note_on(self, part: int, message: list[int], onset: float,
                     time: float) -> None:
        """A note-on decided at ``time`` for a key that went down at ``onset`` (a unison:
        the key doubled on a second part).  Live: now; a record puts it at ``onset``."""
        self.send(part, message, time)

    def tick(self, now: float) -> float | None:
        """Deliver what is due by ``now``; the time of the next due message, or None.
        Called often by the engine thread only for outputs with ``delayed`` set."""
        return None

    def preset_changed(self, preset: Preset) -> None:
        """A live preset switch: called after the old parts' panic, before the new
        parts' set-up."""


def chain(output: Output) -> Iterator[Output]:
    """``output``, then what it wraps, and so on down to the destination."""
    out: Output | None = output
    while out is not None:
        yield out
        out = out.inner


def innermost(output: Output) -> Output:
    """The destination under every wrapper of ``output`` (``output`` itself if none)."""
    *_, last = chain(output)
    return last


def replace(outputs: list[Output], old: Output, new: Output) -> bool:
    """Put ``new`` where ``old`` is in ``outputs`` or under one of their wrappers; False
    when it is nowhere."""
    for i, out in enumerate(outputs):
        if out is old:
            outputs[i] = new
            return True
        for holder in chain(out):
            if holder.inner is old:
                holder.inner = new
                return True
    return False


def close_outputs(outputs: list[Output]) -> list[str]:
    """Close each output, the rest even when one fails; what failed, as messages."""
    errors = []
    for out in outputs:
        try:
            out.close()
        except Exception as exc:
            errors.append(f"{type(out).__name__}: {exc}")
    return errors


class MemoryOutput(Output):
    """Keeps every message in a list: for tests and offline use."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, int, list[int]]] = []

    def _send(self, part: int, message: list[int], time: float) -> None:
        self.messages.append((time, part, message))


class PartFilter(Output):
    """Passes one part's messages to an output of its own (a part's ``port``)."""

    def __init__(self, part: int, inner: Output) -> None:
        self.part = part
        self.inner: Output = inner

    def _send(self, part: int, message: list[int], time: float) -> None:
        if part == self.part:
            self.inner.send(part, message, time)

    def _close(self) -> None:
        self.inner.close()


def retag_note_on(queue: MutableSequence[tuple[float, int, list[int]]], old_part: int,
                  off: list[int], new_part: int, on: list[int], onset: float) -> int:
    """Find the latest note-on of ``off``'s key on ``old_part`` in ``queue`` and make it
    ``on`` on ``new_part`` at ``onset``; its index, or -1 when it is not there."""
    status, key = NOTE_ON | (off[0] & CHANNEL_MASK), off[1]
    for i in range(len(queue) - 1, -1, -1):
        t, part, msg = queue[i]
        if part == old_part and msg[0] == status and msg[1] == key and msg[2] > 0:
            queue[i] = (onset, new_part, on)
            return i
    return -1


class DelayedOutput(Output):
    """``print`` mode for a DAW: every message reaches ``inner`` exactly ``delay``
    seconds after it was played, and a key corrected within that delay arrives on its
    final part only (a constant offset the DAW compensates, no move to hear)."""

    delayed = True

    def __init__(self, inner: Output, delay: float) -> None:
        self.inner: Output = inner
        self.delay = float(delay)
        self._queue: deque[tuple[float, int, list[int]]] = deque()

    def _send(self, part: int, message: list[int], time: float) -> None:
        self._queue.append((time, part, message))

    def move(self, old_part: int, off: list[int], new_part: int, on: list[int],
             onset: float, time: float) -> None:
        if retag_note_on(self._queue, old_part, off, new_part, on, onset) < 0:
            super().move(old_part, off, new_part, on, onset, time)   # already out

    def late_note_on(self, part: int, message: list[int], onset: float,
                     time: float) -> None:
        queue = self._queue
        i = len(queue)
        while i > 0 and queue[i - 1][0] > onset:      # in time order, at its onset
            i -= 1
        queue.insert(i, (onset, part, message))

    def tick(self, now: float) -> float | None:
        queue, delay = self._queue, self.delay
        while queue and queue[0][0] + delay <= now:
            t, part, msg = queue.popleft()
            self.inner.send(part, msg, t + delay)
        return queue[0][0] + delay if queue else None

    def _close(self) -> None:
        queue, self._queue = self._queue, deque()
        try:
            for t, part, msg in queue:     # what is still due, note-offs included
                self.inner.send(part, msg, t + self.delay)
        finally:
            self.inner.close()
