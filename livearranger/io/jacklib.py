"""Which JACK client library python-rtmidi talks through.

python-rtmidi's Linux wheel carries its own copy of JACK2's client library
(``python_rtmidi.libs/libjack-*.so``), which the dynamic linker finds by its own path:
``pw-jack`` (PipeWire's JACK, what desktops run) cannot redirect it, and every client
reported "cannot reach a JACK server" there.  When the system's ``libjack.so.0`` is
PipeWire's (under ``pw-jack``, which puts its folder on ``LD_LIBRARY_PATH``, or where a
desktop installs it system-wide), it is loaded first, globally, so that rtmidi's JACK
calls resolve to it.  Under jackd2 nothing changes: rtmidi keeps the JACK2 library it
was built and tested with.  Call ``use_system_jack`` before the first ``import rtmidi``.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

SONAME = "libjack.so.0"
_MAPS = Path("/proc/self/maps")
_chosen: list[str | None] = []


def _pipewire_loaded() -> bool:
    """True when PipeWire's client library is mapped into this process."""
    try:
        return "libpipewire" in _MAPS.read_text()
    except OSError:
        return False


def use_system_jack() -> str | None:
    """Route rtmidi's JACK calls through PipeWire's JACK library when that is the
    system's; returns its name, or None (rtmidi then uses its own).  Idempotent."""
    if _chosen:
        return _chosen[0]
    chosen: str | None = None
    try:
        ctypes.CDLL(SONAME)                  # a look first: binds nothing to it
        if _pipewire_loaded():
            ctypes.CDLL(SONAME, mode=ctypes.RTLD_GLOBAL)
            chosen = SONAME
    except OSError:
        pass
    _chosen.append(chosen)
    return chosen
