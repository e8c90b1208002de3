"""Test-side MIDI peers on a real JACK bus: a keyboard that plays into a port and a
listener that records what comes out, with a check for a client that delivers nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import rtmidi

from livearranger.io.midi_io import close_client, list_ports


def wait_for_port(wanted: str, timeout: float = 10.0) -> str:
    """The full name of the JACK MIDI port containing ``wanted`` once it appears."""
    probes = (rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="probe-out"),
              rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="probe-in"))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for probe in probes:
                for p in probe.get_ports():
                    if wanted in p:
                        return p
            time.sleep(0.1)
        have = [p for probe in probes for p in probe.get_ports()]
        raise AssertionError(f"port {wanted!r} never appeared (have {have})")
    finally:
        for probe in probes:
            probe.delete()


def write_split_preset(folder: str, name: str, low_port: str,
                       parts: tuple[str, str] = ("right", "left")) -> None:
    """A user preset ``name`` in ``folder``: a zone split at middle C whose low part
    (channel 2) also goes to a port of its own, ``low_port``."""
    high, low = parts
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{name}.toml").write_text(
        f'name = "{name}"\narranger = "zone"\n[[parts]]\nname = "{high}"\nprogram = 0\n'
        f'channel = 1\nrange = [60, 127]\n[[parts]]\nname = "{low}"\nprogram = 33\n'
        f'channel = 2\nrange = [0, 59]\nport = "{low_port}"\n')


def jack_ports() -> list[str]:
    """Every JACK MIDI port there is now (inputs and outputs)."""
    inputs, outputs = list_ports("jack")
    return inputs + outputs


class Keyboard:
    """A JACK MIDI output connected to ``target`` (e.g. 'livearranger:in')."""

    def __init__(self, target: str, name: str = "test-keyboard") -> None:
        self.out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
        ports = self.out.get_ports()
        index = next(i for i, p in enumerate(ports) if target in p)
        self.out.open_port(index, "out")

    def send(self, message: list[int]) -> None:
        self.out.send_message(message)

    def close(self) -> None:
        close_client(self.out, "jack")


def send_burst(kb: Keyboard, pitches: list[int], seconds: float) -> None:
    """Each pitch as a note-on and its note-off, all of them spread over ``seconds`` in
    1 ms slices (as fast as JACK lets a sender go without overflowing its own buffer)."""
    slices = max(1, round(seconds * 1000))
    per = -(-len(pitches) // slices)
    start = time.perf_counter()
    for k in range(slices):
        for p in pitches[k * per:(k + 1) * per]:
            kb.send([0x90, p, 80])
            kb.send([0x80, p, 0])
        wait = start + (k + 1) * 0.001 - time.perf_counter()
        if wait > 0:
            time.sleep(wait)


class Listener:
    """A JACK MIDI input connected to ``source``; keeps (arrival, bytes).

    Read by a polling thread, like the engine's own input: a Python callback on JACK's
    thread would deadlock with ``close`` when a message arrives as the port closes."""

    POLL_S = 0.001

    def __init__(self, source: str, name: str = "test-listener") -> None:
        self.messages: list[tuple[float, list[int]]] = []
        self._lock = threading.Lock()
        self.inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=name, queue_size_limit=1 << 16)
        self.inp.ignore_types(sysex=True, timing=True, active_sense=True)
        ports = self.inp.get_ports()
        index = next(i for i, p in enumerate(ports) if source in p)
        self.inp.open_port(index, "in")
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"listener-{name}",
                                        daemon=True)
        self._reader.start()

    def _read(self) -> None:
        get = self.inp.get_message
        while not self._stop.wait(self.POLL_S):
            while (got := get()) is not None:
                with self._lock:
                    self.messages.append((time.perf_counter(), got[0]))

    def take(self) -> list[list[int]]:
        with self._lock:
            out = [m for _t, m in self.messages]
            self.messages.clear()
        return out

    def timed(self) -> list[tuple[float, list[int]]]:
        """(``perf_counter`` at arrival, bytes) of what arrived so far, kept."""
        with self._lock:
            return list(self.messages)

    def summary(self) -> str:
        """How many note-ons and note-offs arrived so far (for failure messages)."""
        with self._lock:
            ms = [m for _t, m in self.messages]
        ons = sum(1 for m in ms if m[0] & 0xF0 == 0x90 and m[2] > 0)
        offs = sum(1 for m in ms if m[0] & 0xF0 == 0x80 or (m[0] & 0xF0 == 0x90 and not m[2]))
        return f"{ons} note-ons, {offs} note-offs, {len(ms)} messages"

    def wait_count(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate([m for _t, m in self.messages]):
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._stop.set()
        self._reader.join(timeout=2.0)
        # close_client lets JACK's graph settle first (midi_io.GRAPH_SETTLE_S); close
        # listeners before their source where a test can
        time.sleep(0.1)                  # the longer settle these tests have always had
        close_client(self.inp, "jack")


def connect_live(source: str, target: str, attempts: int = 3) -> tuple[Keyboard, Listener]:
    """Keyboard into ``target`` and listener on ``source`` that provably deliver: a probe
    note must come back.  A fresh JACK client sometimes delivers nothing for a whole
    pass (a known hazard); we retry with new clients and fail loudly if it persists."""
    for _ in range(attempts):
        kb = Keyboard(target)
        ls = Listener(source)
        time.sleep(0.2)
        kb.send([0x90, 72, 1])
        kb.send([0x80, 72, 0])
        ok = ls.wait_count(lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x80 or
                                          (m[0] & 0xF0 == 0x90 and m[2] == 0)) >= 1, 3.0)
        if ok:
            time.sleep(0.1)
            ls.take()
            return kb, ls
        kb.close()
        ls.close()
    raise AssertionError(f"no MIDI came back from {source!r} after {attempts} fresh "
                         "connections: the JACK client delivers nothing")
