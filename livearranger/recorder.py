"""Recording the arranged performance as a multitrack .mid, one track per part.

A take is never lost: with ``journal=True`` the recorder also keeps ``TAKE.mid.journal``
as it plays (``livearranger.journal``), from which ``recover`` rebuilds the take after a
crash.  A normal save removes it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from livearranger.events import PROGRAM
from livearranger.files import FileProblem, discard, replace_atomically
from livearranger.io.midifile import DEFAULT_TEMPO, write_smf
from livearranger.io.output import Output, retag_note_on
from livearranger.journal import MAX_TRACKS, Journal, journal_path
from livearranger.presets import Part, Preset

TICKS_PER_BEAT = 480
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / DEFAULT_TEMPO   # 960 at 120 bpm


def fresh_take_path(folder: str | Path, when: float) -> Path:
    """A take's file in ``folder`` named after the local time ``when`` (epoch seconds),
    ``livearranger-YYYYmmdd-HHMMSS.mid``, with ``-N`` added while that name is taken."""
    folder = Path(folder)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    path = folder / f"livearranger-{stamp}.mid"
    n = 1
    while path.exists():
        path = folder / f"livearranger-{stamp}-{n}.mid"
        n += 1
    return path


def name_charset(names: list[str]) -> str:
    """The charset the file's names are written in: Latin-1 (what MIDI files have
    always used, and mido's default) when every name fits, else UTF-8 (what current
    DAWs read; read it back with ``mido.MidiFile(path, charset="utf-8")``)."""
    try:
        for name in names:
            name.encode("latin-1")
    except UnicodeEncodeError:
        return "utf-8"
    return "latin1"


class Recorder(Output):
    """Router output that keeps every message with its time; ``save`` writes the file.

    A key that moved to another part is recorded on its final part only, at its original
    time.  With ``path`` given, ``close`` saves too, so the engine's stop (which panics
    first, closing every note) leaves a complete file behind on any exit; a save that
    fails is kept in ``error`` (and raised).  ``journal``: keep ``path``.journal as it
    plays (see the module text); call ``start_journal`` to begin.
    """

    def __init__(self, preset: Preset, path: str | Path | None = None,
                 journal: bool = False) -> None:
        self.preset = preset
        self.path = Path(path) if path else None
        self.parts: list[Part] = list(preset.parts)   # one track each, in order of use
        self._first = len(preset.parts)                # tracks of the starting preset
        self._tracks = list(range(len(preset.parts)))  # the track of each current part
        self._track_of = {p.name: i for i, p in enumerate(preset.parts)}
        self.events: list[tuple[float, int, list[int]]] = []
        self.saved = False
        self.error: str | None = None
        # (event index, new parts, their tracks) of each switch
        self._switches: list[tuple[int, list[Part], list[int]]] = []
        self.retagged: list[int] = []     # indices of events a move rewrote
        self.doubled: list[int] = []      # indices of the second note-ons of unisons
        self._journal: Journal | None = None
        # told, on the journal's thread, the one line of a journal write that failed
        self.on_journal_error: Callable[[str], None] | None = None
        if journal:
            if self.path is None:
                raise ValueError("a journal needs the take's path")
            self._journal = Journal(self, journal_path(self.path))

    def _send(self, part: int, message: list[int], time: float) -> None:
        self.events.append((time, self._tracks[part], message))

    def move(self, old_part: int, off: list[int], new_part: int, on: list[int],
             onset: float, time: float) -> None:
        tracks = self._tracks
        i = retag_note_on(self.events, tracks[old_part], off, tracks[new_part], on, onset)
        if i < 0:
            super().move(old_part, off, new_part, on, onset, time)   # began before us
        else:
            self.retagged.append(i)       # the journal may have the first part already

    def late_note_on(self, part: int, message: list[int], onset: float,
                     time: float) -> None:
        self.doubled.append(len(self.events))
        self.events.append((onset, self._tracks[part], message))   # saved in time order

    def preset_changed(self, preset: Preset, tracks: list[int] | None = None) -> None:
        """The ensemble changed mid-recording (called by the engine between panic and
        set-up): a part recorded before, by name, goes on its track again, a new one
        gets a track after the ones so far, so switching back and forth adds no tracks.
        ``tracks``: the track of each part as a journal has it (the next new track, or
        one there is)."""
        if tracks is None:
            tracks = []
            for part in preset.parts:
                track = self._track_of.get(part.name, len(self.parts))
                tracks.append(track if track not in tracks else len(self.parts))
                if tracks[-1] == len(self.parts):
                    self._track_of[part.name] = len(self.parts)
                    self.parts.append(part)
        else:
            for part, track in zip(preset.parts, tracks, strict=True):
                if track == len(self.parts):
                    self._track_of[part.name] = track
                    self.parts.append(part)
        self.preset = preset
        self._tracks = tracks
        self._switches.append((len(self.events), list(preset.parts), tracks))

    def timed_messages(self) -> list[tuple[float, list[int]]]:
        """(seconds, bytes) of everything recorded, for rendering."""
        return [(t, m) for t, _p, m in self.events]

    @property
    def charset(self) -> str:
        """How the track names are encoded in the file (``name_charset``)."""
        return name_charset([self.preset.name, *(p.name for p in self.parts)])

    def to_bytes(self) -> bytes:
        """The recording as a type-1 Standard MIDI File: a tempo track, then one track
        per part (the parts of a preset switched to mid-recording follow, with their
        program changes at the switch)."""
        t0 = min((t for t, _p, _m in self.events), default=0.0)
        per_part: list[list[tuple[int, int, list[int]]]] = [[] for _ in self.parts]
        for order, (t, track_index, msg) in enumerate(self.events):
            per_part[track_index].append((int(round((t - t0) * TICKS_PER_SECOND)), order, msg))
        tracks: list[tuple[str, list[tuple[int, list[int]]]]] = []
        for i, part in enumerate(self.parts):
            messages: list[tuple[int, list[int]]] = []
            starting = i < self._first
            start = [PROGRAM | part.channel, part.program]
            if starting:
                messages.append((0, start))
            for tick, _order, msg in sorted(per_part[i]):
                if starting and msg == start:
                    continue                     # the program is set at the start
                messages.append((tick, msg))
            tracks.append((part.name, messages))
        return write_smf(self.preset.name, tracks, TICKS_PER_BEAT, DEFAULT_TEMPO,
                         self.charset)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the .mid (to ``path`` or the path given at creation); return the path.
        Raises FileProblem naming the file when it cannot be written; a journal, if
        any, is removed only once the file is written."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no path to save the recording to")
        if len(self.parts) > MAX_TRACKS:
            raise FileProblem(f"{target}: cannot write: {len(self.parts):,} tracks, and a "
                              f"MIDI file holds at most {MAX_TRACKS:,}")
        tmp = target.with_name(target.name + ".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(self.to_bytes())
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            discard(tmp)
            raise FileProblem(f"{target}: cannot write ({exc.strerror or exc})") from None
        replace_atomically(tmp, target)
        self.saved = True
        if self._journal is not None and target == self.path:
            self._journal.remove()
        return target

    def start_journal(self) -> None:
        """Create the journal and start writing it (raises FileProblem when it cannot
        be created); a no-op without ``journal=True``."""
        if self._journal is not None:
            self._journal.start()

    def write_journal(self) -> None:
        """Append what is new to the journal now (its thread does so every
        ``JOURNAL_PERIOD_S``); a no-op without one."""
        if self._journal is not None:
            self._journal.write()

    def _close(self) -> None:
        """Save to the path given at creation, if any (the journal's last records are
        written first, so a failed save leaves the whole take in the journal; it stays
        locked until the save removed it or failed)."""
        journal = self._journal
        if journal is not None:
            journal.halt()
        try:
            if self.path is not None:
                self.save()
        except OSError as exc:
            self.error = str(exc)
            if journal is not None and journal.error is not None:
                self.error += (f"; its journal stopped early, so 'livearranger recover "
                               f"{self.path}' gives back only what it holds")
            elif journal is not None and journal.path.exists():
                self.error += (f"; the take is kept in {journal.path}: run "
                               f"'livearranger recover {self.path} -o OTHER.mid'")
            raise
        finally:
            if journal is not None:
                journal.stop()
        if journal is not None and journal.error is not None:   # saved, but say it
            self.error = f"{journal.error}; the take itself was saved whole to {self.path}"
            raise FileProblem(self.error)
