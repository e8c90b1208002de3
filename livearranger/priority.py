"""Realtime scheduling for the engine thread.

Under load (a DAW, a browser, a build on the same cores) an ordinary thread waits its
turn for tens of milliseconds, and a burst of keys then waits with it.  The engine thread
asks for ``SCHED_FIFO`` at priority 1, the lowest realtime priority: above every ordinary
thread, below every audio and MIDI thread (JACK2's clients run at 5 under a server at its
default 10; PipeWire's at 20 and up), so it never delays the ports it reads and writes.
That order matters: rtmidi's JACK output waits for room by yielding, and only a JACK
thread of higher priority is sure to run then.  The engine thread only ever blocks or
works, and Linux keeps 5 % of each second for ordinary threads in any case.
"""

from __future__ import annotations

import os

ENGINE_PRIORITY = 1


def raise_thread_priority(priority: int = ENGINE_PRIORITY) -> bool:
    """Put the calling thread under ``SCHED_FIFO`` at ``priority``; False where the
    system does not allow it (no ``rtprio`` for this user, not Linux)."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (AttributeError, OSError):
        return False
    return True
