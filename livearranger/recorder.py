"""Recording the arranged performance as a multitrack .mid, one track per part.

A take is never lost: with ``journal=True`` the recorder also appends what it heard to
``TAKE.mid.journal`` (JSON lines), written and fsynced every ``JOURNAL_PERIOD_S`` by a
thread of its own, never by the engine thread, which only appends to ``events``.  A
crash or SIGKILL loses at most the last period; ``recover`` rebuilds the take from the
journal.  A normal save removes it.

Journal records, one JSON array per line, the first element the record's type:
``["take", version, preset name, [part, ...]]`` (first line), ``["e", seconds, track,
[bytes]]`` (one message), ``["p", [part, ...]]`` (a preset switched to: its parts get
tracks after the ones so far), ``["r", index, seconds, track, [bytes]]`` (message
``index``, counting "e" records from 0, rewritten: a key that moved to its final part).
A reader skips types it does not know, so later kinds can be added.

The recording process holds an exclusive ``flock`` on the journal for the take's whole
life (taken before the journal has its name, so no other process ever sees it unlocked):
``recover`` and a second recording to the same take refuse while it is held.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import threading
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from livearranger.errors import LiveArrangerError
from livearranger.events import (
    CHANNEL_MASK,
    DATA_BYTES,
    DATA_MASK,
    KIND_MASK,
    NOTE_OFF,
    NOTE_ON,
    PROGRAM,
    SYSTEM,
)
from livearranger.files import FileProblem, discard, replace_atomically
from livearranger.io.midifile import DEFAULT_TEMPO, write_smf
from livearranger.io.output import Output, retag_note_on
from livearranger.presets import Part, Preset

TICKS_PER_BEAT = 480
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / DEFAULT_TEMPO   # 960 at 120 bpm
JOURNAL_SUFFIX = ".journal"
JOURNAL_PERIOD_S = 0.25              # journal written and fsynced this often
JOURNAL_VERSION = 1
MAX_JOURNAL_BYTES = 1 << 30
_PART_FIELDS = {f.name for f in fields(Part)}


class RecoverError(LiveArrangerError):
    """Nothing to recover, or a journal that cannot be read (one line)."""


def journal_path(target: str | Path) -> Path:
    """The journal file beside the take ``target``."""
    target = Path(target)
    return target.with_name(target.name + JOURNAL_SUFFIX)


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
        self._base = 0                                 # track of the current part 0
        self.events: list[tuple[float, int, list[int]]] = []
        self.saved = False
        self.error: str | None = None
        self._switches: list[tuple[int, list[Part]]] = []   # (event index, new parts)
        self.retagged: list[int] = []     # indices of events a move rewrote
        self.doubled: list[int] = []      # indices of the second note-ons of unisons
        self._journal: _Journal | None = None
        if journal:
            if self.path is None:
                raise ValueError("a journal needs the take's path")
            self._journal = _Journal(self, journal_path(self.path))

    def _send(self, part: int, message: list[int], time: float) -> None:
        self.events.append((time, self._base + part, message))

    def move(self, old_part: int, off: list[int], new_part: int, on: list[int],
             onset: float, time: float) -> None:
        base = self._base
        i = retag_note_on(self.events, base + old_part, off, base + new_part, on, onset)
        if i < 0:
            super().move(old_part, off, new_part, on, onset, time)   # began before us
        else:
            self.retagged.append(i)       # the journal may have the first part already

    def late_note_on(self, part: int, message: list[int], onset: float,
                     time: float) -> None:
        self.doubled.append(len(self.events))
        self.events.append((onset, self._base + part, message))   # saved in time order

    def preset_changed(self, preset: Preset) -> None:
        """The ensemble changed mid-recording: its parts get tracks of their own after
        the ones recorded so far (called by the engine between panic and set-up)."""
        self.preset = preset
        self._switches.append((len(self.events), list(preset.parts)))
        self._base = len(self.parts)
        self.parts.extend(preset.parts)

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
            if starting:
                messages.append((0, [PROGRAM | part.channel, part.program]))
            for tick, _order, msg in sorted(per_part[i]):
                if starting and (msg[0] & KIND_MASK) == PROGRAM:
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
            if journal is not None and journal.path.exists():
                self.error += (f"; the take is kept in {journal.path}: run "
                               f"'livearranger recover {self.path} -o OTHER.mid'")
            raise
        finally:
            if journal is not None:
                journal.stop()


def _part_record(parts: list[Part]) -> list[dict[str, Any]]:
    return [asdict(p) for p in parts]


class _Journal:
    """The append-only journal of one recorder, written by a thread of its own."""

    def __init__(self, recorder: Recorder, path: Path) -> None:
        self.recorder = recorder
        self.path = path
        self._file: io.BufferedWriter | None = None
        self._written = 0            # events written so far
        self._switches = 0           # preset switches written so far
        self._retags = 0             # retags written so far
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Create the journal, locked, with its first line (FileProblem naming the take
        when it cannot be, or another take's journal is there)."""
        rec = self.recorder
        head = ["take", JOURNAL_VERSION, rec.preset.name, _part_record(rec.parts)]
        self._file = _create_locked(self.path, json.dumps(head).encode() + b"\n",
                                    rec.path or self.path)
        self._thread = threading.Thread(target=self._run, name="livearranger-journal",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(JOURNAL_PERIOD_S):
            try:
                self.write()
            except OSError:
                return               # disk full or gone: the take is still in memory

    def write(self) -> None:
        """Append what was recorded since the last call, and fsync."""
        with self._lock:
            f = self._file
            if f is None:
                return
            rec = self.recorder
            events = rec.events
            end = len(events)
            switches = rec._switches
            lines: list[bytes] = []
            dumps = json.dumps
            for i in range(self._written, end):
                while self._switches < len(switches) and switches[self._switches][0] <= i:
                    lines.append(dumps(["p", _part_record(switches[self._switches][1])])
                                 .encode())
                    self._switches += 1
                t, track, msg = events[i]
                lines.append(dumps(["e", round(t, 6), track, list(msg)]).encode())
            while self._switches < len(switches) and switches[self._switches][0] <= end:
                lines.append(dumps(["p", _part_record(switches[self._switches][1])]).encode())
                self._switches += 1
            self._written = end
            retagged = rec.retagged
            while self._retags < len(retagged):
                i = retagged[self._retags]
                self._retags += 1
                if i < end:
                    t, track, msg = events[i]
                    lines.append(dumps(["r", i, round(t, 6), track, list(msg)]).encode())
            if lines:
                f.write(b"\n".join(lines) + b"\n")
                self._sync()

    def _sync(self) -> None:
        f = self._file
        if f is not None:
            f.flush()
            os.fsync(f.fileno())

    def halt(self) -> None:
        """Stop the thread; write the last records (the file stays open and locked)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        try:
            self.write()
        except OSError:
            pass

    def stop(self) -> None:
        """Stop the thread; write the last records; close (and so unlock) the file."""
        self.halt()
        with self._lock:
            if self._file is not None:
                try:
                    self._file.close()
                except OSError:
                    pass
                self._file = None

    def remove(self) -> None:
        """Remove the journal, unlinked while still locked: no ``recover`` can take it
        up between its last record and its removal."""
        self.halt()
        self.path.unlink(missing_ok=True)
        self.stop()


def _create_locked(path: Path, head: bytes, take: Path) -> io.BufferedWriter:
    """``path`` created holding ``head``, open and flock-ed; FileProblem naming ``take``
    when it cannot be made or a journal is there.  The file is written and locked under
    a private name first and then linked to ``path``, so the journal never exists empty
    or unlocked; a filesystem without hard links gets it created in place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileProblem(f"{take}: cannot record there ({exc.strerror or exc})") from None
    tmp = path.with_name(f"{path.name}.{os.getpid()}.new")
    f: io.BufferedWriter | None = None
    try:
        f = open(tmp, "wb")                          # noqa: SIM115 (kept open)
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        f.write(head)
        f.flush()
        os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            f.close()
            f = _create_in_place(path, head)
    except FileExistsError:
        if f is not None:
            f.close()
        raise FileProblem(_taken(path, take)) from None
    except OSError as exc:
        if f is not None:
            f.close()
        raise FileProblem(f"{take}: cannot record there ({exc.strerror or exc})") from None
    finally:
        discard(tmp)
    return f


def _create_in_place(path: Path, head: bytes) -> io.BufferedWriter:
    f = open(path, "xb")                             # noqa: SIM115 (kept open)
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        f.write(head)
        f.flush()
        os.fsync(f.fileno())
    except OSError:
        f.close()
        discard(path)                                # ours, empty or cut short
        raise
    return f


def _locked_elsewhere(path: Path) -> bool:
    """Whether another open file holds ``path``'s lock (a recording owns it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _taken(path: Path, take: Path) -> str:
    """Why a take cannot start where ``path``, a journal, already is (one line)."""
    if _locked_elsewhere(path):
        return (f"{take}: another LiveArranger is recording this take now (its journal "
                f"{path.name} is locked); record to another file")
    return f"{path}: an unsaved take is there: run 'livearranger recover {take}' first"


def _parts(src: Path, raw: Any) -> list[Part]:
    if not isinstance(raw, list) or not raw:
        raise RecoverError(f"{src}: not a LiveArranger journal (bad part list)")
    try:
        return [Part(**{k: v for k, v in p.items() if k in _PART_FIELDS}) for p in raw]
    except (TypeError, AttributeError):
        raise RecoverError(f"{src}: not a LiveArranger journal (bad part)") from None


def recover(target: str | Path, output: str | Path | None = None) -> tuple[Recorder, Path]:
    """Rebuild ``target``'s take from its journal, save it (to ``output`` or ``target``)
    and remove the journal; (the take, the file written).  RecoverError (one line) when
    there is nothing to recover, or a recording still owns the journal (it is locked)."""
    src = journal_path(target)
    try:
        fd = os.open(src, os.O_RDONLY)
    except FileNotFoundError:
        raise RecoverError(f"{target}: nothing to recover (no {src.name})") from None
    except OSError as exc:
        raise RecoverError(f"{src}: cannot read journal ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RecoverError(f"{target}: a LiveArranger is recording this take now "
                               f"(its journal is locked); it saves the take when it "
                               f"stops") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(src))
        except OSError:
            same = False
        if not same:                    # saved (or begun anew) while we waited
            raise RecoverError(f"{target}: the journal changed while opening it: "
                               f"try again")
        rec = read_journal(target)
        written = rec.save(output or target)
        src.unlink(missing_ok=True)                 # the take is safe in the file now
        return rec, written
    finally:
        os.close(fd)


def read_journal(target: str | Path) -> Recorder:
    """The take recorded into ``target``'s journal, as a recorder ready to ``save``;
    notes still sounding when the journal ends are closed at its last time.  Raises
    RecoverError (one line) when there is no journal or it cannot be read."""
    src = journal_path(target)
    if not src.exists():
        raise RecoverError(f"{target}: nothing to recover (no {src.name})")
    from livearranger.files import read_limited

    try:
        text = read_limited(src, MAX_JOURNAL_BYTES, "journal").decode("utf-8", "replace")
    except FileProblem as exc:
        raise RecoverError(str(exc)) from None
    lines = text.split("\n")
    try:
        head = json.loads(lines[0])
    except ValueError:
        head = None
    if not (isinstance(head, list) and len(head) == 4 and head[0] == "take"):
        raise RecoverError(f"{src}: not a LiveArranger journal")
    parts = _parts(src, head[3])
    rec = Recorder(Preset(name=str(head[2]), parts=tuple(parts)), target)
    for line in lines[1:]:
        try:
            record = json.loads(line)
        except ValueError:
            continue                         # the line a crash cut short
        if not isinstance(record, list) or not record:
            continue
        if record[0] == "e" and len(record) == 4:
            t, track, msg = record[1:]
            if _usable(t, track, msg, rec):
                rec.events.append((float(t), track, msg))
        elif record[0] == "r" and len(record) == 5:
            i, t, track, msg = record[1:]
            if (isinstance(i, int) and 0 <= i < len(rec.events) and _usable(t, track, msg,
                                                                             rec)):
                rec.events[i] = (float(t), track, msg)
        elif record[0] == "p" and len(record) == 2:
            new = _parts(src, record[1])
            rec.preset_changed(Preset(name=rec.preset.name, parts=tuple(new)))
    _close_sounding(rec)
    return rec


def _usable(t: Any, track: Any, msg: Any, rec: Recorder) -> bool:
    """A journal message that can go into ``rec``: a time, a track it has, and one
    channel-voice message."""
    return (isinstance(t, int | float) and isinstance(track, int)
            and 0 <= track < len(rec.parts) and isinstance(msg, list)
            and 2 <= len(msg) <= 3 and all(isinstance(b, int) and 0 <= b < 256 for b in msg)
            and DATA_MASK < msg[0] < SYSTEM and len(msg) == 1 + DATA_BYTES[msg[0] & KIND_MASK]
            and all(b <= DATA_MASK for b in msg[1:]))


def _close_sounding(rec: Recorder) -> None:
    """Note-offs, at the last recorded time, for notes the journal left sounding."""
    sounding: dict[tuple[int, int, int], int] = {}
    last = 0.0
    for t, track, msg in rec.events:
        last = max(last, t)
        kind, key = msg[0] & KIND_MASK, (track, msg[0] & CHANNEL_MASK, msg[1])
        if kind == NOTE_ON and len(msg) == 3 and msg[2]:
            sounding[key] = sounding.get(key, 0) + 1
        elif kind == NOTE_OFF or kind == NOTE_ON:
            if sounding.get(key):
                sounding[key] -= 1
    for (track, ch, pitch), n in sorted(sounding.items()):
        for _ in range(n):
            rec.events.append((last, track, [NOTE_OFF | ch, pitch, 0]))
