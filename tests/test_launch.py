"""A stop signal while the program loads, before any command has handlers of its own:
one line and the exit status of that signal, nothing left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livearranger import launch


def _catches(pid: int, sig: int) -> bool:
    """True once process ``pid`` has a handler of its own for ``sig`` (Linux's SigCgt)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except OSError:
        pass
    return False


def _loading(pid: int) -> bool:
    """True once numpy's compiled core is mapped into ``pid``: the program's imports are
    under way, and a few tenths of a second of them are still to come."""
    try:
        return "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_while_the_program_loads_ends_it_in_one_line(sig, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "livearranger", "play", "--headless", "--in", "none",
         "--out", ",", "--preset", "satb", "--arranger", "closest-pitch", "--osc-port",
         "0", "--record", "take.mid"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        # Sent as soon as the program can hear it, while it still loads: a signal before
        # Python runs any of it ends every process silently, whatever it does.  Its own
        # SIGTERM handler shows that it can; without one, its imports being under way.
        while not (_catches(proc.pid, signal.SIGTERM) or _loading(proc.pid)):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.001)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert err.splitlines() == [f"livearranger: stopped by {sig.name} while starting"]
    assert proc.returncode == 128 + sig
    assert out == ""
    assert list(tmp_path.iterdir()) == []             # no take, no journal


def test_a_command_without_handlers_of_its_own_gets_pythons_back():
    saved = {s: signal.getsignal(s) for s in launch.STOP_SIGNALS}
    try:
        launch.install()
        with pytest.raises(launch.StartupStop) as stopped:
            signal.raise_signal(signal.SIGHUP)
        assert stopped.value.signum == signal.SIGHUP
        launch.end_startup()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL
        signal.signal(signal.SIGTERM, saved[signal.SIGTERM])
        launch.end_startup()                    # handlers not its own stay as they are
        assert signal.getsignal(signal.SIGTERM) is saved[signal.SIGTERM]
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
