"""Which JACK client library python-rtmidi talks through.

python-rtmidi's Linux wheel carries its own copy of JACK2's client library
(``python_rtmidi.libs/libjack-*.so``), which the dynamic linker finds by its own path:
``pw-jack`` (PipeWire's JACK, what desktops run) cannot redirect it, and every client
reported "cannot reach a JACK server" there.  Loading the system's ``libjack.so.0``
first, globally, makes rtmidi's JACK calls resolve to it: PipeWire's library under
``pw-jack`` (it puts its folder on ``LD_LIBRARY_PATH``) or where a desktop installs it
system-wide, JACK2's own under jackd2.  With no system library the wheel's copy is used,
as before.  Call ``use_system_jack`` before the first ``import rtmidi``.
"""

from __future__ import annotations

import ctypes

SONAME = "libjack.so.0"
_loaded: list[str] = []


def use_system_jack() -> str | None:
    """Load the system's JACK client library for every later library to use; its
    name, or None when there is none (rtmidi then uses its own).  Idempotent."""
    if _loaded:
        return _loaded[0]
    try:
        ctypes.CDLL(SONAME, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        return None
    _loaded.append(SONAME)
    return SONAME
