"""Untrusted files in and precious files out: bounded reads, targets checked up front.

A file a player names is read only when it is a regular file under a size limit (a FIFO
or a device would hang or never end), and a file we are to write is tried at the start,
so a take or an arrangement is never played for a place it cannot be saved to.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import stat
from pathlib import Path

from livearranger.errors import LiveArrangerError


class FileProblem(LiveArrangerError, OSError):
    """A file that cannot be read or written as asked; the message names it (one line)."""


def read_limited(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; FileProblem
    (naming the file and the problem) otherwise.  Never blocks on a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileProblem(f"{path}: no such file") from None
    except OSError as exc:
        raise FileProblem(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise FileProblem(f"{path}: cannot read {what}: {kind}")
        if info.st_size > limit:
            raise FileProblem(f"{path}: {what} is too large ({info.st_size:,} bytes; "
                              f"the limit is {limit:,})")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except FileProblem:
        raise
    except OSError as exc:
        raise FileProblem(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileProblem(f"{path}: {what} is too large (over {limit:,} bytes)")
    return data


def check_writable(path: str | Path, what: str = "output") -> Path:
    """Make sure ``path`` can be written (creating its folder), by creating and removing
    a file beside it; FileProblem naming it and the reason otherwise."""
    target = Path(path)
    if target.is_dir():
        raise FileProblem(f"{target}: cannot write the {what} there: it is a directory")
    if target.exists() and not target.is_file():
        raise FileProblem(f"{target}: cannot write the {what} there: not a regular file")
    probe = target.with_name(target.name + ".probe")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise FileProblem(f"{target}: cannot write the {what} there: "
                          f"{target.parent} is not a folder") from None
    except OSError as exc:
        raise FileProblem(f"{target}: cannot write the {what} there "
                          f"({exc.strerror or exc})") from None
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        pass                      # a probe left by a killed run: the folder is writable
    except OSError as exc:
        raise FileProblem(f"{target}: cannot write the {what} there "
                          f"({exc.strerror or exc})") from None
    if target.exists() and not os.access(target, os.W_OK):
        raise FileProblem(f"{target}: cannot write the {what} there (permission denied)")
    return target


def discard(tmp: Path) -> None:
    """Remove a partial file after a failed write; a failure to remove it is not the
    error worth telling (the write's is)."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def replace_atomically(tmp: Path, target: Path) -> None:
    """Move the finished ``tmp`` over ``target``; FileProblem naming ``target`` on
    failure (``tmp`` removed)."""
    try:
        os.replace(tmp, target)
    except OSError as exc:
        discard(tmp)
        raise FileProblem(f"{target}: cannot write ({exc.strerror or exc})") from None


def create_locked(path: Path, head: bytes) -> io.BufferedWriter:
    """``path`` created holding ``head``, open for appending and flock-ed (exclusive)
    for as long as it stays open; OSError (FileExistsError: ``path`` is there) when it
    cannot be, with nothing left behind.  The file is written and locked under a private
    name first and then linked to ``path``, so no one ever sees it empty or unlocked; a
    filesystem without hard links gets it created in place."""
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
            close_quietly(f)
            f = _create_in_place(path, head)
    except OSError:
        close_quietly(f)
        raise
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
        close_quietly(f)
        discard(path)                                # ours, empty or cut short
        raise
    return f


def close_quietly(f: io.BufferedWriter | None) -> None:
    """Close ``f`` after a failed write: the buffer it cannot flush (the disk is full)
    would fail the close too, and the write's error is the one worth telling."""
    if f is not None:
        try:
            f.close()
        except OSError:
            pass


def locked_elsewhere(path: Path) -> bool:
    """Whether another open file holds ``path``'s ``flock`` (its owner is writing it)."""
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
