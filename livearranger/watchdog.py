"""A stop that never hangs: once a stop is asked for, it must end within a grace time.

Stopping closes ports and JACK clients and saves the take, each of which waits on
something outside us (the JACK server, the disk).  Should one of them never return, the
process would hang on a signal, which an instrument must not.  ``StopWatchdog`` dumps
every thread's stack (so the cause can be found) and exits after ``grace_s``; the take's
journal stays on disk for ``livearranger recover``.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
from collections.abc import Callable

STOP_GRACE_S = 10.0
STUCK_EXIT = 3


class StopWatchdog:
    """``start`` when a stop begins, ``done`` when it has finished; if ``done`` does not
    come within ``grace_s``, say so on stderr with all stacks and ``hard_exit``."""

    def __init__(self, grace_s: float = STOP_GRACE_S, hint: str = "",
                 hard_exit: Callable[[int], object] = os._exit) -> None:
        self.grace_s = grace_s
        self.hint = hint
        self.hard_exit = hard_exit
        self.fired = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="stop-watchdog",
                                            daemon=True)
            self._thread.start()

    def done(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self.grace_s):
            return
        self.fired = True
        try:
            print(f"livearranger: stopping took over {self.grace_s:g} s; exiting "
                  f"(every thread's stack follows){self.hint}", file=sys.stderr, flush=True)
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        except (OSError, ValueError):      # stderr gone (the terminal hung up)
            pass
        self.hard_exit(STUCK_EXIT)
