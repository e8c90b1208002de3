"""From parts to outputs: channels, programs, and every note we sent still sounding.

An ``Output`` receives raw channel-voice messages already addressed to a part's
channel.  The router remembers each note it started and not yet stopped, so that a
panic can stop exactly those (then CC64 0 and CC123 on every part channel).
"""

from __future__ import annotations

from typing import Protocol

from livearranger.events import ALL_NOTES_OFF, SUSTAIN, Kind, encode
from livearranger.presets import Preset


class Output(Protocol):
    """A destination for the arranged performance.

    An output may also define ``preset_changed(preset)``: the engine calls it on a live
    preset switch, after the old parts' panic and before the new parts' set-up.
    """

    def send(self, part: int, message: list[int], time: float) -> None:
        """Deliver one message for ``part`` (``time``: performance clock, seconds)."""

    def close(self) -> None:
        """Release the destination; no more sends follow."""


def close_outputs(outputs: list[Output]) -> list[str]:
    """Close each output, the rest even when one fails; what failed, as messages."""
    errors = []
    for out in outputs:
        try:
            out.close()
        except Exception as exc:
            errors.append(f"{type(out).__name__}: {exc}")
    return errors


class MemoryOutput:
    """Keeps every message in a list: for tests and offline use."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, int, list[int]]] = []

    def send(self, part: int, message: list[int], time: float) -> None:
        self.messages.append((time, part, message))

    def close(self) -> None:
        pass


class Router:
    """Sends each part's messages on its channel to every output; tracks sounding notes."""

    def __init__(self, preset: Preset, outputs: list[Output] | None = None) -> None:
        self.preset = preset
        self.channels = [p.channel for p in preset.parts]
        self.outputs: list[Output] = list(outputs or [])
        self.sounding: set[tuple[int, int]] = set()   # (part, pitch sent)
        self.errors: list[str] = []

    def add_output(self, output: Output) -> None:
        self.outputs.append(output)

    def send(self, part: int, message: list[int], time: float) -> None:
        """One message to every output; an output that fails is reported, not fatal."""
        for out in self.outputs:
            try:
                out.send(part, message, time)
            except Exception as exc:  # a failing device must not stop the others
                if len(self.errors) < 100:
                    self.errors.append(f"{type(out).__name__}: {exc}")

    def setup(self, time: float = 0.0) -> None:
        """Program change on each part's channel, bend centred, sustain up."""
        for i, part in enumerate(self.preset.parts):
            ch = self.channels[i]
            self.send(i, encode(Kind.PROGRAM, ch, part.program), time)

    def note_on(self, part: int, pitch: int, velocity: int, time: float) -> None:
        self.sounding.add((part, pitch))
        self.send(part, [0x90 | self.channels[part], pitch, velocity], time)

    def note_off(self, part: int, pitch: int, time: float, velocity: int = 0) -> None:
        self.sounding.discard((part, pitch))
        self.send(part, [0x80 | self.channels[part], pitch, velocity], time)

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
        return len(stuck)

    def close(self) -> None:
        """Close every output (after a panic, which the engine does first)."""
        self.errors.extend(close_outputs(self.outputs))
        self.outputs = []
