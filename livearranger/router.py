"""From parts to outputs: channels, programs, and every note we sent still sounding.

An ``Output`` receives raw channel-voice messages already addressed to a part's
channel.  The router remembers each note it started and not yet stopped, so that a
panic can stop exactly those (then CC64 0 and CC123 on every part channel).  A key
whose part was corrected *moves* (``Router.move``): a live output hears a note-off on
the old part and a note-on on the new one; a record (``Recorder``) or a ``print``
output (``DelayedOutput``) keeps only the final part, at the key's original time.
A part muted (or not soloed while another is) is silent: its sounding notes stop at
once, its new notes are not sent, and the note-offs of what it never sent are dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import MutableSequence

from livearranger.errors import ErrorLog
from livearranger.events import ALL_NOTES_OFF, SUSTAIN, Kind, encode
from livearranger.presets import Preset

DAW_MODES = ("live", "print")   # moves heard as they happen / final parts, delayed


class Output:
    """A destination for the arranged performance; subclasses implement ``send`` and
    ``close`` and may override the hooks, which do the plain thing by default."""

    def send(self, part: int, message: list[int], time: float) -> None:
        """Deliver one message for ``part`` (``time``: performance clock, seconds)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the destination; no more sends follow."""

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

    delayed = False   # True: wants ``tick``


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

    def send(self, part: int, message: list[int], time: float) -> None:
        self.messages.append((time, part, message))

    def close(self) -> None:
        pass


def retag_note_on(queue: MutableSequence[tuple[float, int, list[int]]], old_part: int,
                  off: list[int], new_part: int, on: list[int], onset: float) -> int:
    """Find the latest note-on of ``off``'s key on ``old_part`` in ``queue`` and make it
    ``on`` on ``new_part`` at ``onset``; its index, or -1 when it is not there."""
    status, key = 0x90 | (off[0] & 0x0F), off[1]
    for i in range(len(queue) - 1, -1, -1):
        t, part, msg = queue[i]
        if part == old_part and msg[0] == status and msg[1] == key and msg[2] > 0:
            queue[i] = (onset, new_part, on)
            return i
    return -1


class DelayedOutput(Output):
    """``print`` mode for a DAW: every message reaches ``output`` exactly ``delay``
    seconds after it was played, and a key corrected within that delay arrives on its
    final part only (a constant offset the DAW compensates, no move to hear)."""

    delayed = True

    def __init__(self, output: Output, delay: float) -> None:
        self.output = output
        self.delay = float(delay)
        self._queue: deque[tuple[float, int, list[int]]] = deque()

    def send(self, part: int, message: list[int], time: float) -> None:
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
            self.output.send(part, msg, t + delay)
        return queue[0][0] + delay if queue else None

    def close(self) -> None:
        queue, self._queue = self._queue, deque()
        try:
            for t, part, msg in queue:     # what is still due, note-offs included
                self.output.send(part, msg, t + self.delay)
        finally:
            self.output.close()


class Router:
    """Sends each part's messages on its channel to every output; tracks sounding notes."""

    def __init__(self, preset: Preset, outputs: list[Output] | None = None) -> None:
        self.preset = preset
        self.channels = [p.channel for p in preset.parts]
        self.outputs: list[Output] = list(outputs or [])
        self.sounding: set[tuple[int, int]] = set()   # (part, pitch sent)
        self.errors = ErrorLog()     # outputs that failed (the engine's errors too)
        self.muted: set[int] = set()
        self.soloed: set[int] = set()
        self.silent: frozenset[int] = frozenset()      # parts not heard now
        # notes stopped when their part went silent, their keys still down: the key's
        # own note-off later sends nothing (one note-off per note-on)
        self._hushed: set[tuple[int, int]] = set()

    def add_output(self, output: Output) -> None:
        self.outputs.append(output)

    @property
    def delayed(self) -> list[Output]:
        """The outputs that want ``tick``."""
        return [out for out in self.outputs if out.delayed]

    def send(self, part: int, message: list[int], time: float) -> None:
        """One message to every output; an output that fails is reported, not fatal."""
        for out in self.outputs:
            try:
                out.send(part, message, time)
            except Exception as exc:  # a failing device must not stop the others
                self._failed(out, exc)

    def _failed(self, out: Output, exc: Exception) -> None:
        """Report an output that failed (the latest reports are kept)."""
        self.errors.add(f"{type(out).__name__}: {exc}")

    def setup(self, time: float = 0.0) -> None:
        """Program change on each part's channel (bend and sustain: ``panic``)."""
        for i, part in enumerate(self.preset.parts):
            ch = self.channels[i]
            self.send(i, encode(Kind.PROGRAM, ch, part.program), time)

    def note_on(self, part: int, pitch: int, velocity: int, time: float) -> None:
        if self.silent and part in self.silent:
            return
        if self._hushed:
            self._hushed.discard((part, pitch))
        self.sounding.add((part, pitch))
        self.send(part, [0x90 | self.channels[part], pitch, velocity], time)

    def _owes_off(self, part: int, pitch: int) -> bool:
        """True when a key's note-off on ``part``/``pitch`` must be sent: not when its
        note-on was never sent (a silent part) or was stopped when the part went silent."""
        key = (part, pitch)
        if key in self.sounding:
            return True
        if self._hushed and key in self._hushed:
            self._hushed.discard(key)
            return False
        return not (self.silent and part in self.silent)

    def note_off(self, part: int, pitch: int, time: float, velocity: int = 0) -> None:
        if not self._owes_off(part, pitch):
            return
        self.sounding.discard((part, pitch))
        self.send(part, [0x80 | self.channels[part], pitch, velocity], time)

    def set_mute(self, part: int, on: bool, time: float) -> None:
        """Mute or unmute ``part`` (IndexError when there is none)."""
        self._check_part(part)
        (self.muted.add if on else self.muted.discard)(part)
        self._silence(time)

    def set_solo(self, part: int, on: bool, time: float) -> None:
        """Solo ``part`` or end its solo: while any part is soloed, only soloed parts that
        are not muted are heard (IndexError when there is no such part)."""
        self._check_part(part)
        (self.soloed.add if on else self.soloed.discard)(part)
        self._silence(time)

    def _check_part(self, part: int) -> None:
        if not 0 <= part < len(self.channels):
            raise IndexError(f"there is no part {part + 1} (the preset has "
                             f"{len(self.channels)})")

    def _silence(self, time: float) -> None:
        """Work out the silent parts again; stop at once what sounds on a newly silent one
        (a note that was never sent is not started when its part is heard again)."""
        silent = frozenset(p for p in range(len(self.channels))
                           if p in self.muted or (self.soloed and p not in self.soloed))
        newly = silent - self.silent
        self.silent = silent
        for part, pitch in sorted(self.sounding):
            if part in newly:
                self.note_off(part, pitch, time)
                self._hushed.add((part, pitch))

    def move(self, old_part: int, old_pitch: int, new_part: int, new_pitch: int,
             velocity: int, onset: float, time: float) -> None:
        """A sounding key goes from ``old_part`` (sent as ``old_pitch``) to ``new_part``
        (``new_pitch``, ``velocity``) at ``time``; it went down at ``onset``.  A silent
        part sends neither half of its side."""
        silent = self.silent
        old_heard = self._owes_off(old_part, old_pitch)
        new_heard = not silent or new_part not in silent
        self.sounding.discard((old_part, old_pitch))
        off = [0x80 | self.channels[old_part], old_pitch, 0]
        on = [0x90 | self.channels[new_part], new_pitch, velocity]
        if new_heard:
            self.sounding.add((new_part, new_pitch))
        if not (old_heard and new_heard):
            if old_heard:
                self.send(old_part, off, time)
            elif new_heard:
                self.send(new_part, on, time)
            return
        for out in self.outputs:
            try:
                out.move(old_part, off, new_part, on, onset, time)
            except Exception as exc:  # a failing device must not stop the others
                self._failed(out, exc)

    def double(self, part: int, pitch: int, velocity: int, onset: float,
               time: float) -> None:
        """Sound a held key (down since ``onset``) on ``part`` too, from ``time``: a
        unison, two voices on one key."""
        if self.silent and part in self.silent:
            return
        self.sounding.add((part, pitch))
        message = [0x90 | self.channels[part], pitch, velocity]
        for out in self.outputs:
            try:
                out.late_note_on(part, message, onset, time)
            except Exception as exc:  # a failing device must not stop the others
                self._failed(out, exc)

    def tick(self, outputs: list[Output], now: float) -> float | None:
        """``tick`` each of ``outputs`` (``delayed``); the earliest next due time."""
        due: float | None = None
        for out in outputs:
            try:
                t = out.tick(now)
            except Exception as exc:
                self._failed(out, exc)
                continue
            if t is not None and (due is None or t < due):
                due = t
        return due

    def to_part(self, part: int, kind: Kind, a: int, b: int, time: float) -> None:
        self.send(part, encode(kind, self.channels[part], a, b), time)

    def to_all(self, kind: Kind, a: int, b: int, time: float) -> None:
        for part in range(len(self.channels)):
            self.to_part(part, kind, a, b, time)

    def panic(self, time: float = 0.0) -> int:
        """Stop every note we started, lift sustain, CC123 on every part channel.

        Returns how many notes were explicitly stopped.
        """
        stuck = sorted(self.sounding)
        for part, pitch in stuck:
            self.note_off(part, pitch, time)
        self.to_all(Kind.CONTROL, SUSTAIN, 0, time)
        self.to_all(Kind.CONTROL, ALL_NOTES_OFF, 0, time)
        self.to_all(Kind.PITCHBEND, 0, 8192, time)
        self._hushed.clear()
        return len(stuck)

    def close(self) -> None:
        """Close every output (after a panic, which the engine does first)."""
        for error in close_outputs(self.outputs):
            self.errors.add(error)
        self.outputs = []
