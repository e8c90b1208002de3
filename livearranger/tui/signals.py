"""SIGINT, SIGTERM and SIGHUP end the front panel like quitting.

A signal is handled in two steps.  The Python handler (main thread, even while the event
loop is busy) notes it, and for SIGHUP points stdin/stdout/stderr at ``/dev/null`` at once:
the terminal is gone, and a write to it fails with EIO (Textual's output thread would die
and the app then block on its full queue).  The stop itself (timers off, panic, take
saved, ``exit(0)``) runs on the app's event loop.  A watchdog makes sure the process ends:
if it still runs ``grace_s`` after the signal, it stops the session itself and exits 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any, Protocol

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_GRACE_S = 5.0


class Stoppable(Protocol):
    """What ``SignalStop`` needs of the app (``LiveArrangerApp``)."""

    stopped_by: int | None
    loop: Any                          # the running event loop while mounted, else None

    def stop_by_signal(self, signum: int) -> None: ...

    def close_session(self, wait_s: float) -> None: ...


def detach_terminal() -> None:
    """Point file descriptors 0, 1 and 2 at ``/dev/null`` (the terminal hung up)."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    if null > 2:
        os.close(null)


class SignalStop:
    """Handlers for ``signals`` that stop ``app``; ``install`` before ``app.run()``,
    ``restore`` after it."""

    def __init__(self, app: Stoppable, signals: Iterable[int] = STOP_SIGNALS,
                 grace_s: float = EXIT_GRACE_S,
                 hard_exit: Callable[[int], object] = os._exit) -> None:
        self.app = app
        self.signals = tuple(signals)
        self.grace_s = grace_s
        self.hard_exit = hard_exit
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self.handle)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}

    def handle(self, signum: int, _frame: FrameType | None = None) -> None:
        if signum == signal.SIGHUP:
            detach_terminal()
        app = self.app
        if app.stopped_by is not None:       # already stopping (or a second HUP)
            return
        app.stopped_by = signum
        threading.Thread(target=self._watchdog, name="exit-watchdog", daemon=True).start()
        loop = app.loop
        if loop is not None:                 # not mounted yet: on_mount sees stopped_by
            with contextlib.suppress(RuntimeError):      # the loop just closed
                loop.call_soon_threadsafe(app.stop_by_signal, signum)

    def _watchdog(self) -> None:
        time.sleep(self.grace_s)
        try:
            self.app.close_session(self.grace_s)   # the loop is stuck: panic, save here
        finally:
            self.hard_exit(0)
