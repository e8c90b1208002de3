"""From parts to outputs: channels, programs, and every note we sent still sounding.

The outputs (``livearranger.io.output``) receive raw channel-voice messages already
addressed to a part's channel.  The router remembers each note it started and not yet
stopped, so that a panic can stop exactly those (then CC64 0 and CC123 on every part
channel).  A key whose part was corrected *moves* (``Router.move``): a live output hears
a note-off on the old part and a note-on on the new one; a record (``Recorder``) or a
``print`` output (``DelayedOutput``) keeps only the final part, at the key's original
time.  A part muted (or not soloed while another is) is silent: its sounding notes stop
at once, its new notes are not sent, and the note-offs of what it never sent are dropped.
"""

from __future__ import annotations

from livearranger.errors import ErrorLog
from livearranger.events import (
    ALL_NOTES_OFF,
    BEND_CENTRE,
    NOTE_OFF,
    NOTE_ON,
    SUSTAIN,
    Kind,
    encode,
)
from livearranger.io.output import (
    DAW_MODES,
    DelayedOutput,
    MemoryOutput,
    Output,
    close_outputs,
    retag_note_on,
)
from livearranger.presets import Preset

# the outputs' names as they were when they lived here
__all__ = ["DAW_MODES", "DelayedOutput", "MemoryOutput", "Output", "Router",
           "close_outputs", "retag_note_on"]


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
        self.send(part, [NOTE_ON | self.channels[part], pitch, velocity], time)

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
        self.send(part, [NOTE_OFF | self.channels[part], pitch, velocity], time)

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
        off = [NOTE_OFF | self.channels[old_part], old_pitch, 0]
        on = [NOTE_ON | self.channels[new_part], new_pitch, velocity]
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
        message = [NOTE_ON | self.channels[part], pitch, velocity]
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
        self.to_all(Kind.PITCHBEND, 0, BEND_CENTRE, time)
        self._hushed.clear()
        return len(stuck)

    def close(self) -> None:
        """Close every output (after a panic, which the engine does first)."""
        for error in close_outputs(self.outputs):
            self.errors.add(error)
        self.outputs = []
