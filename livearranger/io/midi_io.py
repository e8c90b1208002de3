"""Real MIDI ports through python-rtmidi: APIs, listing, opening by name, outputs.

We use python-rtmidi directly (not mido's backend): the API is chosen explicitly
(``rtmidi.MidiOut()`` without one raises where ALSA has no sequencer), and ports are
opened by index after matching their names, never by passing a client name.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from livearranger.errors import LiveArrangerError
from livearranger.events import LONE_EOX
from livearranger.io.jacklib import JackGraph, use_system_jack
from livearranger.io.output import Output
from livearranger.io.quiet import quiet_stderr

use_system_jack()             # before rtmidi: PipeWire's JACK works too (see jacklib)

import rtmidi  # noqa: E402

CLIENT = "livearranger"


class MidiIOError(LiveArrangerError):
    """A port or MIDI API that cannot be used; the message says what to do."""


_APIS: dict[str, int] = {
    "jack": rtmidi.API_UNIX_JACK,
    "alsa": rtmidi.API_LINUX_ALSA,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "winmm": rtmidi.API_WINDOWS_MM,
}
API_NAMES = tuple(_APIS)           # what --api accepts


def available_apis() -> list[str]:
    """The API names this python-rtmidi build supports here (e.g. jack and alsa on
    Linux)."""
    compiled = set(rtmidi.get_compiled_api())
    return [name for name, ident in _APIS.items() if ident in compiled]


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


# Messages an input holds (in rtmidi's C++ queue) until polled.  rtmidi's default, 1024,
# drops what comes past it, note-offs included, and prints a line for each: a burst of a
# few thousand notes left keys sounding.  65,536 are 6 s of a 10,000-message-a-second
# burst even if nobody read them (about 2 MiB).
INPUT_QUEUE_SIZE = 1 << 16
EOX_INTERVAL_NS = 20_000_000     # how often MidiInput.idle sends it into our own input


# JACK refuses a longer client name (and ALSA keeps no more of one)
MAX_CLIENT_NAME = 63


def client_name(name: str) -> str:
    """``name`` as a MIDI client may be called: a name too long (a part's name in a
    per-part client) keeps its start and gets a short digest of the whole, so two long
    names that start alike stay two clients."""
    if len(name) <= MAX_CLIENT_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    return f"{name[:MAX_CLIENT_NAME - 7]}~{digest}"


# An instance's JACK clients are all named from one prefix: ``<prefix>`` (the input),
# ``<prefix>-out``, ``<prefix>-eox``, ``<prefix>-<part>`` ...  JACK renames a client whose
# name is taken (``livearranger-01``) and rtmidi never says so: a second instance printed,
# watched and sent its SysEx ends to the first one's ports.  So each instance chooses a
# free prefix before it opens any client, ``<base>`` or else ``<base>-NN``.
INSTANCE_CLIENTS = ("", "-out", "-eox")     # whose ports mark a prefix as in use
MAX_INSTANCES = 100


def claim_clients(api: str, base: str = CLIENT) -> tuple[str, JackGraph | None]:
    """A client name prefix no one else uses, and the JACK client that holds it while we
    play (``<prefix>-watch``, to be closed at the end): it is opened under that exact
    name, which JACK gives one client only, so two instances starting at once never
    get one prefix.  A prefix is also in use while a port of one of its clients is
    there (a program that claims nothing, such as an older version).  Other APIs, or
    no JACK library or server: ``base`` and no client (opening a port says why)."""
    if api != "jack":
        return base, None
    for n in range(MAX_INSTANCES):
        prefix = client_name(f"{base}-{n:02d}" if n else base)
        graph = JackGraph(client_name(f"{prefix}-watch"), exact=True)
        if not graph.open:
            if graph.name_taken:
                continue
            return base, None
        clients = {port.partition(":")[0] for port in graph.ports() or ()}
        if not any(client_name(prefix + s) in clients for s in INSTANCE_CLIENTS):
            return prefix, graph
        graph.close()
    raise MidiIOError(f"{MAX_INSTANCES} instances of {base!r} are on this JACK server "
                      "already")


def _make(cls: type, api: str, name: str, **options: Any) -> rtmidi.MidiIn | rtmidi.MidiOut:
    ident = _api_id(api)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")   # never spawn a jackd behind a player
    try:
        with quiet_stderr():
            return cls(ident, name=client_name(name), **options)
    except rtmidi.SystemError as exc:
        if api == "jack":
            raise MidiIOError("cannot reach a JACK server: start one (e.g. "
                              "'jackd -d alsa' or 'jackd -d dummy') or use --api alsa") from exc
        if api == "alsa":
            raise MidiIOError("ALSA MIDI is not available here (no /dev/snd/seq): "
                              "start a JACK server and use --api jack") from exc
        raise MidiIOError(f"{api} MIDI is not available: {exc}") from exc


# Long enough for a callback already on its way on the MIDI thread to get the interpreter
# lock and finish (JACK delivers once per period, a few ms; callbacks are tiny).
CALLBACK_DRAIN_S = 0.05


def close_callback_input(midi_in: rtmidi.MidiIn) -> None:
    """Close and delete an rtmidi input that has a Python callback, without deadlocking.

    python-rtmidi closes a port (and deletes a client) holding the interpreter lock, and
    rtmidi waits there for its MIDI thread (ALSA joins it; JACK ends the client's cycle).
    A callback running on that thread at that moment waits for the lock: both wait for
    ever (reproduced here on the first close under a stream of messages).  So the
    callback is cancelled first and the lock let go for a moment before closing.  While
    that happens we hold what the input references: python-rtmidi frees its callback
    record on cancel, and a call already on its way would read freed memory (a crash,
    seen here).  Our own inputs avoid all this: they have no callback (``MidiInput``).
    """
    keep = gc.get_referents(midi_in)       # the callback record among them
    try:
        midi_in.cancel_callback()
        time.sleep(CALLBACK_DRAIN_S)
        midi_in.close_port()
    finally:
        midi_in.delete()
        del keep


# JACK2's client library walks a client's port list on its notification thread (the
# latency callback every client gets after any change of the graph) with no lock against
# that client's own port unregister (jack2 JackClient::HandleLatencyCallback against
# PortUnRegister): closing a port while such a notification was handled crashed the
# process (SIGSEGV on that thread, rare, most often just after a peer left; jack2 issue
# 216).  The notifications follow a change within a few ms, so a JACK port closes only
# after the graph has had this long to settle, whichever side left first.  A peer
# leaving during the wait is not covered.
GRAPH_SETTLE_S = 0.02


def close_client(client: rtmidi.MidiIn | rtmidi.MidiOut, api: str) -> None:
    """Close ``client``'s port and delete it (on JACK after ``GRAPH_SETTLE_S``)."""
    try:
        if api == "jack":
            time.sleep(GRAPH_SETTLE_S)
        client.close_port()
    finally:
        client.delete()


@contextmanager
def _deleted_on_error(client: rtmidi.MidiIn | rtmidi.MidiOut) -> Iterator[None]:
    """Delete ``client`` if opening its port fails: a client left behind stays in JACK's
    graph after we exit, and a dead client there stalls the server for everyone."""
    try:
        yield
    except BaseException:
        client.delete()
        raise


def list_ports(api: str) -> tuple[list[str], list[str]]:
    """(inputs, outputs) port names under ``api``."""
    probe_in = _make(rtmidi.MidiIn, api, f"{CLIENT}-probe")
    with _deleted_on_error(probe_in):
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
    """An input port (hardware by name, or virtual), read by polling: what arrives waits
    in rtmidi's own queue (in C++, ``INPUT_QUEUE_SIZE`` messages) until ``poll`` takes
    it, so no Python ever runs on the MIDI API's thread.  A Python callback there would
    wait for the interpreter lock whenever the engine or the UI holds it (JACK then drops
    the client), and closing the port while one runs deadlocks (see
    ``close_callback_input``).

    SysEx is passed, not ignored: rtmidi takes everything after a SysEx start as part of
    it until a message ending in F7 arrives (with SysEx ignored it throws all of that
    away, note-offs included; passed, it hands it over as one message at the F7, which
    ``events.split_messages`` takes apart again).  A keyboard that never sends the F7
    would silence us for good, so on JACK a small output of ours, connected to our own
    input, sends a lone F7 every ``EOX_INTERVAL_NS`` (``idle``, from the engine thread):
    anything caught in an unterminated SysEx comes out at most that late.  The lone F7s
    come back to ``poll`` and mean nothing (the engine does not count them).
    """

    def __init__(self, api: str, port: str, client: str = CLIENT,
                 graph: JackGraph | None = None) -> None:
        """``client``: the instance's prefix (``claim_clients``); ``graph``: its JACK
        graph client, used and left open (else one of our own, closed with us)."""
        self.api = api
        client = client_name(client)
        self._eox: rtmidi.MidiOut | None = None
        self._next_eox = 0
        self._in = _make(rtmidi.MidiIn, api, client, queue_size_limit=INPUT_QUEUE_SIZE)
        with _deleted_on_error(self._in):
            # active sensing stays out; SysEx comes in (see above) and MIDI clock too
            # (livearranger.clock: tempo and beat from a DAW)
            self._in.ignore_types(sysex=False, timing=False, active_sense=True)
            if port == "virtual":
                self._in.open_virtual_port("in")
                self.name = f"{client}:in"
                self.virtual = True
                own = self.name
            else:
                index = match_port(self._in.get_ports(), port)
                self.name = self._in.get_ports()[index]
                self._in.open_port(index, "in")
                self.virtual = False
                own = f"{client}:in"
            if api == "jack":
                self._eox = self._open_eox(api, own, client)
        self.own_port = own
        self._eox_port = f"{client_name(f'{client}-eox')}:eox"
        self._graph = graph
        self._own_graph = graph is None
        self._client = client
        self.poll = self._in.get_message

    @staticmethod
    def _open_eox(api: str, own: str, client: str) -> rtmidi.MidiOut:
        out = _make(rtmidi.MidiOut, api, f"{client}-eox")
        with _deleted_on_error(out):
            out.open_port(match_port(out.get_ports(), own), "eox")
        return out

    def idle(self, now_ns: int) -> None:
        """Called by the engine thread when the input queue is empty: on JACK, send the
        lone F7 that ends any unterminated SysEx, every ``EOX_INTERVAL_NS``."""
        if self._eox is not None and now_ns >= self._next_eox:
            self._next_eox = now_ns + EOX_INTERVAL_NS
            try:
                self._eox.send_message(LONE_EOX)
            except Exception:            # never worth losing the input for
                self._next_eox = now_ns + 1000 * EOX_INTERVAL_NS

    def sources(self) -> set[str] | None:
        """The ports connected to our input, other than our own F7 sender (JACK only;
        None where that cannot be known)."""
        if self.api != "jack":
            return None
        if self._graph is None:
            self._graph = JackGraph(client_name(f"{self._client}-watch"))
        names = self._graph.connections(self.own_port)
        return None if names is None else set(names) - {self._eox_port}

    def present(self) -> bool:
        """False once a hardware port has disappeared (keyboard unplugged)."""
        if self.virtual:
            return True
        try:
            return self.name in self._in.get_ports()
        except Exception:
            return False

    def close(self) -> None:
        if self._graph is not None and self._own_graph:
            self._graph.close()
        # the input closes while the port it hears (the F7 sender) is still there
        try:
            close_client(self._in, self.api)
        finally:
            if self._eox is not None:
                eox, self._eox = self._eox, None
                close_client(eox, self.api)


class PortOutput(Output):
    """One MIDI output port carrying every part on its own channel."""

    def __init__(self, api: str, port: str, client: str = CLIENT, virtual_name: str = "out"):
        # JACK needs one client name per rtmidi object: "<client>-out:out"
        self.client = client
        self.virtual_name = virtual_name
        client = client_name(f"{client}-{virtual_name}")
        self.api = api
        self.spec = port
        self.own_port = f"{client}:{virtual_name}"   # our end, whatever it connects to
        self.sent = 0
        self._out = _make(rtmidi.MidiOut, api, client)
        with _deleted_on_error(self._out):
            if port == "virtual":
                self._out.open_virtual_port(virtual_name)
                self.name = f"{client}:{virtual_name}"
            else:
                index = match_port(self._out.get_ports(), port)
                self.name = self._out.get_ports()[index]
                self._out.open_port(index, virtual_name)

    def _send(self, part: int, message: list[int], time: float) -> None:
        self.sent += 1
        self._out.send_message(message)

    def present(self) -> bool:
        """False once the port we send to has disappeared (its program quit or was
        killed); always True for our own virtual port."""
        if self.spec == "virtual":
            return True
        try:
            return self.name in self._out.get_ports()
        except Exception:
            return False

    def _close(self) -> None:
        close_client(self._out, self.api)


class Loopback:
    """Listens to one of our own output ports, to notice an output client that stopped
    delivering.  No callback: rtmidi queues what arrives in C++, ``drain`` counts it, so
    no Python runs on the MIDI thread."""

    def __init__(self, api: str, port_name: str, client: str) -> None:
        # sized like our inputs: a burst between two drains must not overflow it (rtmidi
        # would print a line per lost message, hiding a real overflow of our input)
        self.api = api
        self._in = _make(rtmidi.MidiIn, api, client, queue_size_limit=INPUT_QUEUE_SIZE)
        with _deleted_on_error(self._in):
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
        close_client(self._in, self.api)


class PerPartOutput(Output):
    """One virtual output port per part (one DAW track per part), named after the part:
    ``<client>-<part>:<part>``.  ``for_parts`` makes the one for another preset."""

    def __init__(self, api: str, part_names: list[str], client: str = CLIENT,
                 keep: dict[str, rtmidi.MidiOut] | None = None) -> None:
        """``keep``: ports already open, by part name, to use instead of opening them
        again (never closed here when opening another fails)."""
        self.api = api
        self.client = client
        self._outs: list[rtmidi.MidiOut] = []         # by part index
        self._ports: dict[str, rtmidi.MidiOut] = {}   # by part name: what close closes
        self.names: list[str] = []
        kept = keep or {}
        opened: list[rtmidi.MidiOut] = []
        try:
            for name in part_names:
                out = kept.get(name)
                if out is None:
                    out = _make(rtmidi.MidiOut, api, f"{client}-{name}")
                    opened.append(out)
                    out.open_virtual_port(name)
                self._outs.append(out)
                self._ports[name] = out
                self.names.append(f"{client_name(f'{client}-{name}')}:{name}")
        except BaseException:
            for out in opened:
                close_client(out, api)
            raise

    def for_parts(self, part_names: list[str]) -> PerPartOutput:
        """The per-part output for another preset's parts.  A part both presets have
        keeps its port, and with it what a DAW connected there; this output then owns,
        and closes, only the ports of its parts the new one has not kept."""
        new = PerPartOutput(self.api, part_names, self.client, keep=self._ports)
        for name in new._ports:
            self._ports.pop(name, None)
        return new

    def _send(self, part: int, message: list[int], time: float) -> None:
        self._outs[part].send_message(message)

    def _close(self) -> None:
        ports, self._ports = self._ports, {}
        self._outs = []
        for out in ports.values():
            close_client(out, self.api)
