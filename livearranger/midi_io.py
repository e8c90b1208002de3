"""Real MIDI ports through python-rtmidi: APIs, listing, opening by name, outputs.

We use python-rtmidi directly (not mido's backend): the API is chosen explicitly
(``rtmidi.MidiOut()`` without one raises where ALSA has no sequencer), and ports are
opened by index after matching their names, never by passing a client name.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import rtmidi

from livearranger.quiet import quiet_stderr

CLIENT = "livearranger"


class MidiIOError(RuntimeError):
    """A port or MIDI API that cannot be used; the message says what to do."""


_APIS = {
    "jack": rtmidi.API_UNIX_JACK,
    "alsa": rtmidi.API_LINUX_ALSA,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "winmm": rtmidi.API_WINDOWS_MM,
}


def default_api() -> str:
    """The platform's usual MIDI API name."""
    if sys.platform == "darwin":
        return "coremidi"
    if sys.platform.startswith("win"):
        return "winmm"
    return "alsa"


def _api_id(api: str) -> int:
    if api not in _APIS:
        raise MidiIOError(f"unknown MIDI API {api!r} (choose from {', '.join(_APIS)})")
    ident = _APIS[api]
    if ident not in rtmidi.get_compiled_api():
        raise MidiIOError(f"this python-rtmidi build has no {api} support")
    return ident


def _make(cls: type, api: str, name: str) -> rtmidi.MidiIn | rtmidi.MidiOut:
    ident = _api_id(api)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")   # never spawn a jackd behind a player
    try:
        with quiet_stderr():
            return cls(ident, name=name)
    except rtmidi.SystemError as exc:
        if api == "jack":
            raise MidiIOError("cannot reach a JACK server: start one (e.g. "
                              "'jackd -d alsa' or 'jackd -d dummy') or use --api alsa") from exc
        if api == "alsa":
            raise MidiIOError("ALSA MIDI is not available here (no /dev/snd/seq): "
                              "start a JACK server and use --api jack") from exc
        raise MidiIOError(f"{api} MIDI is not available: {exc}") from exc


def list_ports(api: str) -> tuple[list[str], list[str]]:
    """(inputs, outputs) port names under ``api``."""
    probe_in = _make(rtmidi.MidiIn, api, f"{CLIENT}-probe")
    probe_out = _make(rtmidi.MidiOut, api, f"{CLIENT}-probe")
    try:
        return probe_in.get_ports(), probe_out.get_ports()
    finally:
        probe_in.delete()
        probe_out.delete()


def match_port(ports: list[str], wanted: str) -> int:
    """Index of the port named ``wanted``: exact, else a unique prefix, else a unique
    substring (case-insensitive).  Raises MidiIOError naming the choices."""
    for i, p in enumerate(ports):
        if p == wanted:
            return i
    low = wanted.lower()
    for test in (lambda p: p.lower().startswith(low), lambda p: low in p.lower()):
        hits = [i for i, p in enumerate(ports) if test(p)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            names = ", ".join(repr(ports[i]) for i in hits)
            raise MidiIOError(f"port name {wanted!r} is ambiguous: {names}")
    known = ", ".join(repr(p) for p in ports) or "none"
    raise MidiIOError(f"no MIDI port named {wanted!r} (available: {known})")


class MidiInput:
    """An input port (hardware by name, or virtual).  With a ``callback`` messages are
    handed to it on the MIDI API's thread; without one they wait in rtmidi's own queue
    for ``poll`` (JACK: no Python on its realtime thread)."""

    def __init__(self, api: str, port: str, callback: Callable[..., None] | None = None,
                 client: str = CLIENT) -> None:
        self.api = api
        self._in = _make(rtmidi.MidiIn, api, client)
        # keep sysex, clock and active sensing out: the engine ignores them anyway
        self._in.ignore_types(sysex=True, timing=True, active_sense=True)
        if port == "virtual":
            self._in.open_virtual_port("in")
            self.name = f"{client}:in"
            self.virtual = True
        else:
            index = match_port(self._in.get_ports(), port)
            self.name = self._in.get_ports()[index]
            self._in.open_port(index, "in")
            self.virtual = False
        self.polled = callback is None
        if callback is not None:
            self._in.set_callback(callback)
        self.poll = self._in.get_message

    def present(self) -> bool:
        """False once a hardware port has disappeared (keyboard unplugged)."""
        if self.virtual:
            return True
        try:
            return self.name in self._in.get_ports()
        except Exception:
            return False

    def close(self) -> None:
        try:
            if not self.polled:
                self._in.cancel_callback()
            self._in.close_port()
        finally:
            self._in.delete()


class PortOutput:
    """One MIDI output port carrying every part on its own channel."""

    def __init__(self, api: str, port: str, client: str = CLIENT, virtual_name: str = "out"):
        # JACK needs one client name per rtmidi object: "<client>-out:out"
        client = f"{client}-{virtual_name}"
        self.api = api
        self.spec = port
        self.own_port = f"{client}:{virtual_name}"   # our end, whatever it connects to
        self.sent = 0
        self._out = _make(rtmidi.MidiOut, api, client)
        if port == "virtual":
            self._out.open_virtual_port(virtual_name)
            self.name = f"{client}:{virtual_name}"
        else:
            index = match_port(self._out.get_ports(), port)
            self.name = self._out.get_ports()[index]
            self._out.open_port(index, "out")

    def send(self, part: int, message: list[int], time: float) -> None:
        self.sent += 1
        self._out.send_message(message)

    def close(self) -> None:
        try:
            self._out.close_port()
        finally:
            self._out.delete()


class Loopback:
    """Listens to one of our own output ports, to notice an output client that stopped
    delivering.  No callback: rtmidi queues what arrives in C++, ``drain`` counts it, so
    no Python runs on the MIDI thread."""

    def __init__(self, api: str, port_name: str, client: str) -> None:
        self._in = _make(rtmidi.MidiIn, api, client)
        self._in.ignore_types(sysex=True, timing=True, active_sense=True)
        index = match_port(self._in.get_ports(), port_name)
        self._in.open_port(index, "loop")

    def drain(self) -> int:
        """How many messages arrived since the last drain."""
        n = 0
        while self._in.get_message() is not None:
            n += 1
        return n

    def close(self) -> None:
        try:
            self._in.close_port()
        finally:
            self._in.delete()


class PerPartOutput:
    """One virtual output port per part (one DAW track per part), named after the part:
    ``<client>-<part>:<part>``."""

    def __init__(self, api: str, part_names: list[str], client: str = CLIENT) -> None:
        self._outs = []
        self.names = []
        for name in part_names:
            out = _make(rtmidi.MidiOut, api, f"{client}-{name}")
            out.open_virtual_port(name)
            self._outs.append(out)
            self.names.append(f"{client}-{name}:{name}")

    def send(self, part: int, message: list[int], time: float) -> None:
        self._outs[part].send_message(message)

    def close(self) -> None:
        for out in self._outs:
            try:
                out.close_port()
            finally:
                out.delete()
        self._outs = []
