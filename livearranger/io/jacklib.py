"""Which JACK client library python-rtmidi talks through, and JACK's graph through it.

python-rtmidi's Linux wheel carries its own copy of JACK2's client library
(``python_rtmidi.libs/libjack-*.so``), which the dynamic linker finds by its own path:
``pw-jack`` (PipeWire's JACK, what desktops run) cannot redirect it, and every client
reported "cannot reach a JACK server" there.  When the system's ``libjack.so.0`` is
PipeWire's (under ``pw-jack``, which puts its folder on ``LD_LIBRARY_PATH``, or where a
desktop installs it system-wide), it is loaded first, globally, so that rtmidi's JACK
calls resolve to it.  Under jackd2 nothing changes: rtmidi keeps the JACK2 library it
was built and tested with.  Call ``use_system_jack`` before the first ``import rtmidi``.

``JackGraph`` asks the same library who is connected to a port and which ports there
are, which python-rtmidi cannot tell; opened under an exact name it is how an instance
claims its client names (``midi_io.claim_clients``).
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
    ``connections`` returns None where libjack or the server cannot be reached.

    ``exact``: open under ``name`` or not at all (JACK would otherwise rename it);
    ``name_taken`` then says the name was another client's."""

    def __init__(self, name: str, exact: bool = False) -> None:
        self._lib: Any = None
        self._client: int | None = None
        self.name_taken = False
        path = ctypes.util.find_library("jack")
        if path is None:
            return
        try:
            lib = ctypes.CDLL(path)
            lib.jack_client_open.restype = ctypes.c_void_p
            lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int,
                                             ctypes.POINTER(ctypes.c_int)]
            lib.jack_client_close.argtypes = [ctypes.c_void_p]
            lib.jack_port_by_name.restype = ctypes.c_void_p
            lib.jack_port_by_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            lib.jack_port_get_all_connections.restype = ctypes.POINTER(ctypes.c_char_p)
            lib.jack_port_get_all_connections.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            lib.jack_get_client_name.restype = ctypes.c_char_p
            lib.jack_get_client_name.argtypes = [ctypes.c_void_p]
            lib.jack_get_uuid_for_client_name.restype = ctypes.c_void_p
            lib.jack_get_uuid_for_client_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            lib.jack_get_ports.restype = ctypes.POINTER(ctypes.c_char_p)
            lib.jack_get_ports.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                           ctypes.c_char_p, ctypes.c_ulong]
            lib.jack_free.argtypes = [ctypes.c_void_p]
        except (OSError, AttributeError):
            return
        options = _JACK_NO_START_SERVER | (_JACK_USE_EXACT_NAME if exact else 0)
        status = ctypes.c_int(0)
        with quiet_stderr():
            client = lib.jack_client_open(name.encode(), options, ctypes.byref(status))
        if client:
            self._lib, self._client = lib, client
        elif not status.value & _JACK_SERVER_FAILED:
            # jackd2 refuses an exact name in use as a server error (JackServerError),
            # others say JackNameNotUnique; an unreachable server is JackServerFailed
            self.name_taken = bool(status.value & (_JACK_NAME_NOT_UNIQUE |
                                                   _JACK_SERVER_ERROR))

    @property
    def open(self) -> bool:
        """True while the client is open (libjack found, the server reached)."""
        return self._client is not None

    def connections(self, port: str) -> list[str] | None:
        """The ports connected to ``port`` (None: unknown)."""
        lib, client = self._lib, self._client
        if client is None:
            return None
        handle = lib.jack_port_by_name(client, port.encode())
        if not handle:
            return None
        return self._names(lib.jack_port_get_all_connections(client, handle))

    def alive(self) -> bool | None:
        """Whether the JACK server still answers (None: unknown, no client).  A question
        it must answer itself (our own client's UUID): the graph and the ports we read
        elsewhere are a copy in shared memory, still there after the server died."""
        lib, client = self._lib, self._client
        if client is None:
            return None
        # not under quiet_stderr, which takes stderr from every thread: a server that
        # answers makes libjack print nothing, and a session stops asking once it does not
        uuid = lib.jack_get_uuid_for_client_name(client, lib.jack_get_client_name(client))
        if not uuid:
            return False
        lib.jack_free(uuid)
        return True

    def ports(self) -> list[str] | None:
        """Every port's full name in the graph (None: unknown)."""
        if self._client is None:
            return None
        return self._names(self._lib.jack_get_ports(self._client, None, None, 0))

    def _names(self, names: Any) -> list[str]:
        """The strings of a NULL-terminated array libjack gave us, which is freed."""
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
            self._lib.jack_free(ctypes.cast(names, ctypes.c_void_p))

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
_JACK_USE_EXACT_NAME = 0x02        # jack_options_t JackUseExactName
_JACK_NAME_NOT_UNIQUE = 0x04       # jack_status_t JackNameNotUnique
_JACK_SERVER_FAILED = 0x10         # jack_status_t JackServerFailed
_JACK_SERVER_ERROR = 0x20          # jack_status_t JackServerError
