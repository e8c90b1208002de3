"""The ``livearranger`` command's first moments: a stop signal that comes while the
program is still loading ends it in one line.

Loading the command line, the engine, numpy and onnxruntime takes a few tenths of a
second, and until a command sets up its own handlers (``play`` stops cleanly, the UI
quits like its quit key) a SIGTERM or SIGHUP ended the process silently (exit status
143, no word) and a SIGINT with a traceback.  So the handlers are installed here, first,
and this module imports nothing heavy.  Nothing needs undoing at that point: ports and
the take's journal are made after the command's own handlers are in place, or inside a
``Session``, which closes what it opened when interrupted.  So the stop is at once: one
line, and the exit status a shell gives a process ended by that signal (128 + its
number).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StartupStop(BaseException):
    """A stop signal while starting; a BaseException, so that no ``except Exception``
    in whatever is loading takes it for an error."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise StartupStop(signum)


def install() -> None:
    """Stop on SIGINT, SIGTERM and SIGHUP with ``StartupStop`` from now on."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_signal)


def end_startup() -> None:
    """For a command with no handlers of its own: Python's usual ones back (SIGINT a
    KeyboardInterrupt, the others the system's default), where ``install``'s are still
    in place (a ``main`` called in-process has none of them)."""
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is _on_signal:
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT
                          else signal.SIG_DFL)


def main() -> int:
    """Entry point of the ``livearranger`` console script and ``python -m
    livearranger``: the handlers first, then the command line (``cli.main``)."""
    install()
    try:
        from livearranger.cli import main as cli_main

        return cli_main()
    except StartupStop as stop:
        try:
            print(f"livearranger: stopped by {signal.Signals(stop.signum).name} while "
                  "starting", file=sys.stderr, flush=True)
        except OSError:                  # SIGHUP: the terminal may be gone
            pass
        return 128 + stop.signum
