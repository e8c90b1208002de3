"""Run a command on this terminal; write its pid, and its exit status even when the
terminal hangs up (this process outlives SIGHUP; the command gets the default back).

Usage: python exit_reporter.py PIDFILE RCFILE COMMAND...
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    pidfile, rcfile, *command = argv
    # a handler, not SIG_IGN: exec resets it, so the command sees SIGHUP as usual
    signal.signal(signal.SIGHUP, lambda _signum, _frame: None)
    proc = subprocess.Popen(command)
    Path(pidfile).write_text(str(proc.pid))
    rc = proc.wait()
    Path(rcfile).write_text(str(rc))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
