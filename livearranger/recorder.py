"""Recording the arranged performance as a multitrack .mid, one track per part."""

from __future__ import annotations

from pathlib import Path

import mido

from livearranger.presets import Part, Preset
from livearranger.router import Output, retag_note_on

TICKS_PER_BEAT = 480
TEMPO = 500_000                      # µs per beat (120 bpm): 960 ticks per second
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / TEMPO


class Recorder(Output):
    """Router output that keeps every message with its time; ``save`` writes the file.

    A key that moved to another part is recorded on its final part only, at its original
    time.  With ``path`` given, ``close`` saves too, so the engine's stop (which panics
    first, closing every note) leaves a complete file behind on any exit.
    """

    def __init__(self, preset: Preset, path: str | Path | None = None) -> None:
        self.preset = preset
        self.path = Path(path) if path else None
        self.parts: list[Part] = list(preset.parts)   # one track each, in order of use
        self._first = len(preset.parts)                # tracks of the starting preset
        self._base = 0                                 # track of the current part 0
        self.events: list[tuple[float, int, list[int]]] = []
        self.saved = False

    def send(self, part: int, message: list[int], time: float) -> None:
        self.events.append((time, self._base + part, message))

    def move(self, old_part: int, off: list[int], new_part: int, on: list[int],
             onset: float, time: float) -> None:
        base = self._base
        if not retag_note_on(self.events, base + old_part, off, base + new_part, on, onset):
            super().move(old_part, off, new_part, on, onset, time)   # began before us

    def preset_changed(self, preset: Preset) -> None:
        """The ensemble changed mid-recording: its parts get tracks of their own after
        the ones recorded so far (called by the engine between panic and set-up)."""
        self.preset = preset
        self._base = len(self.parts)
        self.parts.extend(preset.parts)

    def timed_messages(self) -> list[tuple[float, list[int]]]:
        """(seconds, bytes) of everything recorded, for rendering."""
        return [(t, m) for t, _p, m in self.events]

    def to_midi(self) -> mido.MidiFile:
        """The recording as a type-1 file: a tempo track, then one track per part (the
        parts of a preset switched to mid-recording follow, with their program changes at
        the switch)."""
        mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
        meta = mido.MidiTrack([
            mido.MetaMessage("track_name", name=self.preset.name, time=0),
            mido.MetaMessage("set_tempo", tempo=TEMPO, time=0),
        ])
        mid.tracks.append(meta)
        t0 = min((t for t, _p, _m in self.events), default=0.0)
        per_part: list[list[tuple[int, int, list[int]]]] = [[] for _ in self.parts]
        for order, (t, track_index, msg) in enumerate(self.events):
            per_part[track_index].append((int(round((t - t0) * TICKS_PER_SECOND)), order, msg))
        for i, part in enumerate(self.parts):
            track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.name, time=0)])
            starting = i < self._first
            if starting:
                track.append(mido.Message("program_change", channel=part.channel,
                                          program=part.program, time=0))
            now = 0
            for tick, _order, msg in sorted(per_part[i]):
                if starting and (msg[0] & 0xF0) == 0xC0:
                    continue                     # the program is set at the start
                m = mido.Message.from_bytes(msg)
                m.time = max(tick - now, 0)
                now = max(tick, now)
                track.append(m)
            mid.tracks.append(track)
        return mid

    def save(self, path: str | Path | None = None) -> Path:
        """Write the .mid (to ``path`` or the path given at creation); return the path."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no path to save the recording to")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        self.to_midi().save(str(tmp))
        tmp.replace(target)
        self.saved = True
        return target

    def close(self) -> None:
        if self.path is not None:
            self.save()
