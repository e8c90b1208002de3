from __future__ import annotations

import threading
import time

from livearranger.watchdog import STUCK_EXIT, StopWatchdog


def _watchdog(grace_s: float):
    exited: list[int] = []
    fired = threading.Event()

    def hard_exit(code: int) -> None:
        exited.append(code)
        fired.set()

    return StopWatchdog(grace_s, hint="; journal kept", hard_exit=hard_exit), exited, fired


def test_a_stop_that_hangs_is_ended_with_every_stack(capfd):
    dog, exited, fired = _watchdog(0.2)
    dog.start()
    assert fired.wait(5.0)
    assert exited == [STUCK_EXIT] and dog.fired
    err = capfd.readouterr().err
    assert "stopping took over 0.2 s" in err and "journal kept" in err
    assert "stop-watchdog" in err or "Thread" in err     # faulthandler's dump


def test_a_stop_that_ends_in_time_is_left_alone():
    dog, exited, fired = _watchdog(0.3)
    dog.start()
    dog.done()
    assert not fired.wait(0.8)
    assert exited == [] and not dog.fired


def test_starting_twice_arms_one_watch():
    dog, exited, fired = _watchdog(0.2)
    dog.start()
    dog.start()
    assert fired.wait(5.0)
    time.sleep(0.5)                        # a second watch would have fired by now
    assert exited == [STUCK_EXIT]
