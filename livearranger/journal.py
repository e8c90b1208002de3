"""The journal of a take: what a recorder heard, kept on disk as it plays.

A take is never lost: with ``journal=True`` a recorder also appends what it heard to
``TAKE.mid.journal`` (JSON lines), written and fsynced every ``JOURNAL_PERIOD_S`` by a
thread of its own, never by the engine thread, which only appends to ``events``.  A
crash or SIGKILL loses at most the last period; ``recover`` rebuilds the take from the
journal.  A normal save removes it.

Journal records, one JSON array per line, the first element the record's type:
``["take", version, preset name, [part, ...]]`` (first line), ``["e", seconds, track,
[bytes], index]`` (message ``index`` of the take, counting from 0), ``["p", [part, ...],
[track, ...]]`` (a preset switched to and the track of each part: one it had, or the
next new one), ``["r",
index, seconds, track, [bytes]]`` (message ``index`` rewritten: a key that moved to its
final part).  Every record stands alone: a reader checks each field and skips a record
that is damaged, costing that record only (version 1 wrote "e" without its index, a
reader counts "e" records for it, and "p" without tracks, all new).  A reader skips
types it does not know, so later kinds can be added.

The recording process holds an exclusive ``flock`` on the journal for the take's whole
life (taken before the journal has its name, so no other process ever sees it unlocked):
``recover`` and a second recording to the same take refuse while it is held.
"""

from __future__ import annotations

import fcntl
import io
import json
import math
import os
import threading
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livearranger.errors import LiveArrangerError
from livearranger.events import (
    CHANNEL_MASK,
    DATA_BYTES,
    DATA_MASK,
    KIND_MASK,
    NOTE_OFF,
    NOTE_ON,
    SYSTEM,
)
from livearranger.files import (
    FileProblem,
    close_quietly,
    create_locked,
    locked_elsewhere,
    read_limited,
)
from livearranger.presets import MAX_PARTS, Part, Preset

if TYPE_CHECKING:
    from livearranger.recorder import Recorder

JOURNAL_SUFFIX = ".journal"
JOURNAL_PERIOD_S = 0.25              # journal written and fsynced this often
JOURNAL_VERSION = 2                  # 2: a message's own index; 1 is read too
MAX_JOURNAL_BYTES = 1 << 30
MAX_NAME = 1000                      # characters in a part's or preset's name read back
MAX_TRACKS = 0xFFFF - 1              # an SMF counts its tracks in 16 bits; one is tempo
MAX_INDEX = 1 << 40                  # a message's index in the take
MAX_TICKS = (1 << 28) - 1            # a file's delta time: four bytes of seven bits
_PART_FIELDS = {f.name for f in fields(Part)}


class RecoverError(LiveArrangerError):
    """Nothing to recover, or a journal that cannot be read (one line)."""


def journal_path(target: str | Path) -> Path:
    """The journal file beside the take ``target``."""
    target = Path(target)
    return target.with_name(target.name + JOURNAL_SUFFIX)


def _part_record(parts: list[Part]) -> list[dict[str, Any]]:
    return [asdict(p) for p in parts]


class Journal:
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
        self.error: str | None = None   # why the journal stopped short, once it has

    def start(self) -> None:
        """Create the journal, locked, with its first line (FileProblem naming the take
        when it cannot be, or another take's journal is there)."""
        rec = self.recorder
        head = ["take", JOURNAL_VERSION, rec.preset.name, _part_record(rec.parts)]
        take = rec.path or self.path
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = create_locked(self.path, json.dumps(head).encode() + b"\n")
        except FileExistsError:
            raise FileProblem(_taken(self.path, take)) from None
        except OSError as exc:
            raise FileProblem(f"{take}: cannot record there ({exc.strerror or exc})") from None
        self._thread = threading.Thread(target=self._run, name="livearranger-journal",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(JOURNAL_PERIOD_S):
            self.write()

    def write(self) -> None:
        """Append what was recorded since the last call, and fsync.  A write that fails
        (a full disk) ends the journal: ``error`` says why, once, to the recorder's
        ``on_journal_error``; the take is still whole in memory."""
        with self._lock:
            f = self._file
            if f is None or self.error is not None:
                return
            rec = self.recorder
            events = rec.events
            end = len(events)
            switches = rec._switches
            lines: list[bytes] = []
            dumps = json.dumps
            for i in range(self._written, end + 1):
                while self._switches < len(switches) and switches[self._switches][0] <= i:
                    _at, parts, tracks = switches[self._switches]
                    lines.append(dumps(["p", _part_record(parts), tracks]).encode())
                    self._switches += 1
                if i < end:
                    t, track, msg = events[i]
                    lines.append(dumps(["e", round(t, 6), track, list(msg), i]).encode())
            self._written = end
            retagged = rec.retagged
            while self._retags < len(retagged):
                i = retagged[self._retags]
                self._retags += 1
                if i < end:
                    t, track, msg = events[i]
                    lines.append(dumps(["r", i, round(t, 6), track, list(msg)]).encode())
            if lines:
                try:
                    f.write(b"\n".join(lines) + b"\n")
                    self._sync()
                except OSError as exc:
                    self.error = (f"{self.path}: cannot write the take's journal "
                                  f"({exc.strerror or exc}): it stops here, the take is "
                                  f"only in memory until it is saved")
                    said = rec.on_journal_error
                    if said is not None:
                        said(self.error)

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
        self.write()

    def stop(self) -> None:
        """Stop the thread; write the last records; close (and so unlock) the file."""
        self.halt()
        with self._lock:
            close_quietly(self._file)
            self._file = None

    def remove(self) -> None:
        """Remove the journal, unlinked while still locked: no ``recover`` can take it
        up between its last record and its removal."""
        self.halt()
        self.path.unlink(missing_ok=True)
        self.stop()


def _taken(path: Path, take: Path) -> str:
    """Why a take cannot start where ``path``, a journal, already is (one line)."""
    if locked_elsewhere(path):
        return (f"{take}: another LiveArranger is recording this take now (its journal "
                f"{path.name} is locked); record to another file")
    return f"{path}: an unsaved take is there: run 'livearranger recover {take}' first"


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _name(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_NAME


# checks of a part's fields as a preset loads them (presets.py), for parts read back
_PART_CHECKS: dict[str, Any] = {
    "name": _name, "port": _name, "program": lambda v: _int_in(v, 0, 127),
    "channel": lambda v: _int_in(v, 0, 15), "low": lambda v: _int_in(v, 0, 127),
    "high": lambda v: _int_in(v, 0, 127), "mono": lambda v: isinstance(v, bool),
    "velocity_offset": lambda v: _int_in(v, -127, 127),
    "transpose": lambda v: _int_in(v, -127, 127)}


def _parts(raw: Any) -> list[Part] | None:
    """The parts of a journal's part list, or None when it is not one: one to
    ``MAX_PARTS`` parts, each field of each valid (unknown keys are left out)."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_PARTS:
        return None
    parts = []
    for p in raw:
        if not (isinstance(p, dict) and "name" in p and "program" in p and "channel" in p):
            return None
        known = {k: v for k, v in p.items() if k in _PART_FIELDS}
        if not all(_PART_CHECKS[k](v) for k, v in known.items()):
            return None
        parts.append(Part(**known))
    return parts


def recover(target: str | Path,
            output: str | Path | None = None) -> tuple[Recorder, Path, int]:
    """Rebuild ``target``'s take from its journal, save it (to ``output`` or ``target``)
    and remove the journal; (the take, the file written, damaged records skipped).
    RecoverError (one line) when there is nothing to recover, or a recording still owns
    the journal (it is locked)."""
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
        if os.fstat(fd).st_size == 0:   # left by a full disk at start (older versions)
            src.unlink(missing_ok=True)
            raise RecoverError(f"{target}: nothing to recover: its journal was empty "
                               f"(removed)")
        rec, skipped = read_journal(target)
        written = rec.save(output or target)
        src.unlink(missing_ok=True)                 # the take is safe in the file now
        return rec, written, skipped
    finally:
        os.close(fd)


def read_journal(target: str | Path) -> tuple[Recorder, int]:
    """The take recorded into ``target``'s journal, as a recorder ready to ``save``, and
    how many damaged records were skipped (each record stands alone: a bad one costs
    itself only; the line a crash cut short at the end is not counted).  Notes still
    sounding when the journal ends are closed at its last time.  Raises RecoverError
    (one line) when there is no journal, or its first line is not a take's."""
    src = journal_path(target)
    if not src.exists():
        raise RecoverError(f"{target}: nothing to recover (no {src.name})")
    try:
        text = read_limited(src, MAX_JOURNAL_BYTES, "journal").decode("utf-8", "replace")
    except FileProblem as exc:
        raise RecoverError(str(exc)) from None
    lines = text.split("\n")
    head = _record(lines[0])
    parts = _parts(head[3]) if head and len(head) == 4 and head[0] == "take" else None
    if head is None or parts is None or not isinstance(head[2], str):
        raise RecoverError(f"{src}: not a LiveArranger journal")
    from livearranger.recorder import Recorder

    rec = Recorder(Preset(name=head[2][:MAX_NAME], parts=tuple(parts)), target)
    slots: dict[int, tuple[float, int, list[int]]] = {}   # message index -> message
    moves: dict[int, tuple[float, int, list[int]]] = {}   # the same, rewritten
    counted = 0                     # "e" records so far: the index of one without its own
    skipped = 0
    for n, line in enumerate(lines[1:], 2):
        record = _record(line)
        if record is None:
            skipped += bool(line.strip()) and n < len(lines)   # not the last, cut short
            continue
        kind = record[0]
        if kind == "e" and len(record) in (4, 5):
            index = record[4] if len(record) == 5 else counted
            counted += 1
            message = _message(record[1:4], rec)
            if message is None or not _int_in(index, 0, MAX_INDEX) or index in slots:
                skipped += 1
            else:
                slots[index] = message
        elif kind == "r" and len(record) == 5:
            message = _message(record[2:5], rec)
            if message is None or not _int_in(record[1], 0, MAX_INDEX):
                skipped += 1
            else:
                moves[record[1]] = message    # whole in itself: even if its "e" was lost
        elif kind == "p" and len(record) in (2, 3):
            new = _parts(record[1])
            after = len(rec.parts)          # version 1: new tracks after the ones so far
            tracks = record[2] if len(record) == 3 else list(range(after, after + 99))
            if new is None or not _tracks(tracks, len(new), after):
                skipped += 1
            else:
                rec.preset_changed(Preset(name=rec.preset.name, parts=tuple(new)),
                                   tracks[:len(new)])
        elif kind in ("e", "r", "p", "take"):
            skipped += 1
    skipped += _drop_far_times(slots, moves)
    slots.update(moves)
    rec.events = [slots[i] for i in sorted(slots)]
    _close_sounding(rec)
    return rec, skipped


def _tracks(tracks: Any, parts: int, after: int) -> bool:
    """Whether ``tracks`` are the tracks of ``parts`` parts switched to: each a track
    there is or the next new one, none twice, at most ``MAX_TRACKS`` in all."""
    if not (isinstance(tracks, list) and len(tracks) >= parts):
        return False
    tracks = tracks[:parts]
    for track in tracks:
        if not _int_in(track, 0, min(after, MAX_TRACKS - 1)):
            return False
        after += track == after
    return len(set(tracks)) == parts


def _record(line: str) -> list[Any] | None:
    """One journal line as its record (a list, a type first), or None."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, list) and record else None


def _message(fields: list[Any], rec: Recorder) -> tuple[float, int, list[int]]| None:
    """(seconds, track, bytes) of a journal message that can go into ``rec``: a finite
    time, a track it has, one channel-voice message; None otherwise."""
    t, track, msg = fields
    if not (isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
            and _int_in(track, 0, len(rec.parts) - 1) and isinstance(msg, list)
            and 2 <= len(msg) <= 3 and all(_int_in(b, 0, 255) for b in msg)):
        return None
    status = msg[0]
    if not (DATA_MASK < status < SYSTEM and len(msg) == 1 + DATA_BYTES[status & KIND_MASK]
            and all(b <= DATA_MASK for b in msg[1:])):
        return None
    return float(t), track, msg


def _drop_far_times(*messages: dict[int, tuple[float, int, list[int]]]) -> int:
    """Drop messages timed further from the take's median time than half what a file's
    delta time can count (a damaged time: the file could not be written with it); how
    many were dropped."""
    from livearranger.recorder import TICKS_PER_SECOND

    times = sorted(t for group in messages for t, _p, _m in group.values())
    if not times:
        return 0
    middle = times[len(times) // 2]
    reach = (MAX_TICKS // 2 - 1) / TICKS_PER_SECOND
    dropped = 0
    for group in messages:
        for i, (t, _p, _m) in list(group.items()):
            if abs(t - middle) > reach:
                del group[i]
                dropped += 1
    return dropped


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
