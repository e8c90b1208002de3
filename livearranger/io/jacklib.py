"""Which JACK client library python-rtmidi talks through, and JACK's graph through it.

python-rtmidi's Linux wheel carries its own copy of JACK2's client library
(``python_rtmidi.libs/libjack-*.so``), which the dynamic linker finds by its own path:
``pw-jack`` (PipeWire's JACK, what desktops run) cannot redirect it, and every client
reported "cannot reach a JACK server" there.  When the system's ``libjack.so.0`` is
PipeWire's (under ``pw-jack``, which puts its folder on ``LD_LIBRARY_PATH``, or where a
desktop installs it system-wide), it is loaded first, globally, so that rtmidi's JACK
calls resolve to it.  Under jackd2 nothing changes: rtmidi keeps the JACK2 library it
was built and tested with.  Call ``use_system_jack`` before the first ``import rtmidi``.

``JackGraph`` asks the same library who is connected to a port, which python-rtmidi
cannot tell.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from pathlib import Path
from typing import Any

from livearranger.io.quiet import quiet_stderr

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


CLOSE_WAIT = 2.0          # s: the longest a stop waits for JACK to close the watch client


class JackGraph:
    """Who is connected to a JACK port, through JACK's own C API (``libjack``, loaded
    with ctypes; python-rtmidi has no such call).  The client it opens is never
    activated: it has no process callback and runs nothing on JACK's thread.
    ``connections`` returns None where libjack or the server cannot be reached."""

    def __init__(self, name: str) -> None:
        self._lib: Any = None
        self._client: int | None = None
        path = ctypes.util.find_library("jack")
        if path is None:
            return
        try:
            lib = ctypes.CDLL(path)
            lib.jack_client_open.restype = ctypes.c_void_p
            lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
            lib.jack_client_close.argtypes = [ctypes.c_void_p]
            lib.jack_port_by_name.restype = ctypes.c_void_p
            lib.jack_port_by_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            lib.jack_port_get_all_connections.restype = ctypes.POINTER(ctypes.c_char_p)
            lib.jack_port_get_all_connections.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            lib.jack_free.argtypes = [ctypes.c_void_p]
        except (OSError, AttributeError):
            return
        with quiet_stderr():
            client = lib.jack_client_open(name.encode(), _JACK_NO_START_SERVER, None)
        if client:
            self._lib, self._client = lib, client

    def connections(self, port: str) -> list[str] | None:
        """The ports connected to ``port`` (None: unknown)."""
        lib, client = self._lib, self._client
        if client is None:
            return None
        handle = lib.jack_port_by_name(client, port.encode())
        if not handle:
            return None
        names = lib.jack_port_get_all_connections(client, handle)
        if not names:
            return []
        try:
            out = []
            i = 0
            while names[i]:
                out.append(names[i].decode(errors="replace"))
                i += 1
            return out
        finally:
            lib.jack_free(ctypes.cast(names, ctypes.c_void_p))

    def close(self, wait: float = CLOSE_WAIT) -> bool:
        """Close the client; False when JACK had not answered within ``wait`` seconds.

        ``jack_client_close`` waits for the server, and a server busy with late clients
        can keep it waiting longer than any stop should.  It runs in a
        daemon thread, so a stop never waits longer than ``wait`` for it; a client left
        behind goes when the process ends."""
        client, self._client = self._client, None
        if client is None:
            return True
        closer = threading.Thread(target=self._lib.jack_client_close, args=(client,),
                                  name="jack-graph-close", daemon=True)
        closer.start()
        closer.join(wait)
        return not closer.is_alive()


_JACK_NO_START_SERVER = 0x01       # jack_options_t JackNoStartServer
