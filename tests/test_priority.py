from __future__ import annotations

import os
import threading

from livearranger.priority import ENGINE_PRIORITY, raise_thread_priority


def _in_thread(fn):
    got: list = []
    t = threading.Thread(target=lambda: got.append((fn(), os.sched_getscheduler(0),
                                                    os.sched_getparam(0).sched_priority)))
    t.start()
    t.join()
    return got[0]


def test_the_calling_thread_alone_becomes_realtime_when_allowed():
    before = os.sched_getscheduler(0)
    granted, policy, priority = _in_thread(raise_thread_priority)
    # what the call says is what the scheduler holds for that thread
    assert granted == (policy == os.SCHED_FIFO)
    if granted:
        assert priority == ENGINE_PRIORITY
    assert os.sched_getscheduler(0) == before          # the caller's siblings unchanged


def test_a_refused_priority_is_false_and_changes_nothing():
    granted, policy, _ = _in_thread(lambda: raise_thread_priority(1000))
    assert granted is False
    assert policy == os.SCHED_OTHER
