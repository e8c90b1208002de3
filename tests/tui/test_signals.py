"""A stop signal ends the front panel like quitting (the real signal, in process: SIGUSR1
stands in for SIGTERM/SIGHUP so that a missing handler cannot kill the test run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from livearranger.tui import signals
from livearranger.tui.signals import SignalStop
from tests.tui.conftest import Rig, until

SIZE = (120, 40)


def sounding(rig: Rig) -> set[tuple[int, int]]:
    """(channel, pitch) of every note the output was told to start and not yet to stop."""
    on: set[tuple[int, int]] = set()
    for _t, _p, m in rig.out.messages:
        key = (m[0] & 0x0F, m[1])
        if m[0] & 0xF0 == 0x90 and m[2]:
            on.add(key)
        elif m[0] & 0xF0 in (0x80, 0x90):
            on.discard(key)
    return on


async def test_a_signal_stops_the_app_with_a_panic_and_the_take_saved(rig: Rig) -> None:
    exits: list[int] = []
    stops = SignalStop(rig.app, signals=[signal.SIGUSR1], grace_s=60, hard_exit=exits.append)
    stops.install()
    try:
        async with rig.app.run_test(size=SIZE) as pilot:
            await pilot.press("r")
            rig.play([0x90, 62, 100], [0x90, 66, 100])
            path = rig.session.recording
            assert path is not None and sounding(rig)
            os.kill(os.getpid(), signal.SIGUSR1)
            await until(pilot, lambda: not rig.session.engine.running, 5.0,
                        "the signal to stop the engine")
    finally:
        stops.restore()
    assert rig.app.stopped_by == signal.SIGUSR1
    assert rig.app.return_code == 0
    assert rig.controller.session is None and rig.controller.saved_recordings == [path]
    assert Path(path).exists()
    assert sounding(rig) == set()                               # released by the panic
    assert exits == []                                          # the app ended, not the watchdog
    assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL   # restored


async def test_a_signal_while_starting_plays_nothing(rig: Rig) -> None:
    rig.app.stopped_by = signal.SIGTERM          # as SignalStop.handle does before mount
    async with rig.app.run_test(size=SIZE):
        pass
    assert rig.app.return_code == 0
    assert not rig.session.engine.running


class FakeApp:
    def __init__(self, loop: Any = None) -> None:
        self.stopped_by: int | None = None
        self.loop = loop
        self.closed: list[float] = []
        self.stopped: list[int] = []

    def stop_by_signal(self, signum: int) -> None:
        self.stopped.append(signum)

    def close_session(self, wait_s: float) -> None:
        self.closed.append(wait_s)


class FakeLoop:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, tuple[Any, ...]]] = []

    def call_soon_threadsafe(self, fn: Any, *args: Any) -> None:
        self.calls.append((fn, args))


def test_the_stop_is_handed_to_the_loop_once() -> None:
    loop = FakeLoop()
    app = FakeApp(loop)
    stops = SignalStop(app, grace_s=60, hard_exit=lambda _code: None)
    stops.handle(signal.SIGTERM)
    stops.handle(signal.SIGINT)                  # a second signal changes nothing
    assert app.stopped_by == signal.SIGTERM
    assert loop.calls == [(app.stop_by_signal, (signal.SIGTERM,))]


def test_the_watchdog_stops_the_session_and_exits_when_the_app_is_stuck() -> None:
    app = FakeApp(loop=None)                     # never gets to stop: the loop is stuck
    exited = threading.Event()
    codes: list[int] = []

    def hard_exit(code: int) -> None:
        codes.append(code)
        exited.set()
    stops = SignalStop(app, grace_s=0.05, hard_exit=hard_exit)
    start = time.monotonic()
    stops.handle(signal.SIGTERM)
    assert exited.wait(5.0)
    assert time.monotonic() - start >= 0.05
    assert app.closed == [0.05] and codes == [0]


def test_sighup_detaches_the_terminal_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int | None] = []
    app = FakeApp(FakeLoop())
    monkeypatch.setattr(signals, "detach_terminal", lambda: calls.append(app.stopped_by))
    stops = SignalStop(app, grace_s=60, hard_exit=lambda _code: None)
    stops.handle(signal.SIGHUP)
    stops.handle(signal.SIGHUP)                  # the terminal may hang up twice
    assert calls == [None, signal.SIGHUP]        # before anything else, every time


def test_detach_terminal_sends_later_output_nowhere() -> None:
    code = ("import sys; from livearranger.tui.signals import detach_terminal\n"
            "print('before', flush=True); detach_terminal()\n"
            "print('after', flush=True); print('err', file=sys.stderr, flush=True)\n"
            "assert sys.stdin.read() == ''")
    done = subprocess.run([sys.executable, "-c", code], input="typed", capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "before\n" and done.stderr == ""
