"""The session's MIDI ports while it plays: the keyboard opened, watched, reconnected.

A keyboard that disappears (unplugged) stops every note and is reopened when it comes
back; a program that fed our virtual input and left can never send its note-offs, so
every note stops.  An output whose port went away is reconnected when the port is back;
on JACK, an output client that stopped delivering (its loopback hears nothing of what
we send) is reopened.  All of this runs outside the engine's hot path, called now and
then by the player's loop; a port is swapped on the engine thread.  A JACK server that
stops takes every port of ours with it: that is noticed too, once, and said.
"""

from __future__ import annotations

from collections.abc import Callable

from livearranger.engine import Engine
from livearranger.io.jacklib import JackGraph
from livearranger.io.midi_io import Loopback, MidiInput, MidiIOError, PortOutput
from livearranger.io.output import innermost, replace
from livearranger.output_set import OutputSet

SERVER_LOST = ("the JACK server stopped: every MIDI port of this instrument went with it "
               "(notes released)")


class OutputWatch:
    """An output port: whether the port it sends to is there, and on JACK the loopback
    that hears it."""

    def __init__(self, output: PortOutput, client: str) -> None:
        self.output = output
        self.loopback = (Loopback(output.api, output.own_port, f"{client}-loop")
                         if output.api == "jack" else None)
        self.last_sent = output.sent
        self.silent_checks = 0
        self.lost = False            # the port it sends to has gone

    def close(self) -> None:
        if self.loopback is not None:
            self.loopback.close()

    def silent(self) -> bool:
        """True when we sent since the last look and nothing came back."""
        if self.loopback is None:
            return False
        heard = self.loopback.drain()
        sent = self.output.sent - self.last_sent
        self.last_sent = self.output.sent
        self.silent_checks = self.silent_checks + 1 if sent and not heard else 0
        return self.silent_checks >= 2


class PortWatch:
    """The keyboard (``input``) and a watch on every MIDI port among ``outputs``;
    ``notice`` keeps a message and returns it; ``graph``: the JACK client holding the
    instance's names (``midi_io.claim_clients``), used by the input, closed by the
    caller."""

    def __init__(self, engine: Engine, outputs: OutputSet, api: str, client: str,
                 notice: Callable[[str], str], graph: JackGraph | None = None) -> None:
        self.engine = engine
        self.outputs = outputs
        self.api = api
        self.client = client
        self.graph = graph
        self.server_lost: str | None = None     # what to say once the JACK server is gone
        self._notice = notice
        self.input: MidiInput | None = None
        self.input_lost = False
        self._sources: set[str] = set()   # what a virtual input heard from at last look
        self.watches: list[OutputWatch] = []

    def check_server(self) -> str | None:
        """On JACK (with ``graph``): once the server no longer answers (killed, crashed,
        stopped) all notes stop (a built-in synth plays on its own audio driver) and
        ``SERVER_LOST`` is returned, once; None before and after."""
        graph = self.graph
        if self.server_lost is not None or graph is None or graph.alive() is not False:
            return None
        self.server_lost = SERVER_LOST
        self.engine.request_panic()
        return SERVER_LOST

    # ------------------------------------------------------------- the keyboard
    def set_input(self, port: str) -> None:
        """Open ``port`` ("virtual" for a port others connect to) as the keyboard.

        The engine thread polls it (``MidiInput``): no Python runs on the MIDI API's
        thread, where it would wait for the interpreter lock (JACK then drops the
        client) and could deadlock with closing the port.
        """
        engine = self.engine
        new = MidiInput(self.api, port, self.client, self.graph)
        old, self.input = self.input, new
        self.input_lost = False
        self._sources = set()
        engine.set_input_poll(new.poll, new.idle)
        if old is not None:
            engine.wait_idle()           # the engine no longer reads the old port
            old.close()
            engine.request_panic()

    def close_input(self) -> None:
        """Stop listening to the keyboard (the engine keeps running)."""
        old, self.input = self.input, None
        if old is not None:
            self.engine.set_input_poll(None)
            self.engine.wait_idle()
            old.close()

    def check_input(self) -> str | None:
        """Notice an unplugged keyboard (panic, keep playing state) and reopen it when
        it is back.  Returns a message on change."""
        inp = self.input
        if inp is None:
            return None
        if inp.virtual:
            return self._check_sources(inp)
        if not self.input_lost and not inp.present():
            self.input_lost = True
            self.engine.request_panic()
            return self._notice(f"MIDI input {inp.name!r} disappeared: all notes stopped, "
                                "waiting for it")
        if self.input_lost:
            try:
                self.set_input(inp.name)
            except MidiIOError:
                return None
            return self._notice(f"MIDI input {inp.name!r} is back")
        return None

    def _check_sources(self, inp: MidiInput) -> str | None:
        """A virtual input: a program that was connected to it and is not any more (quit,
        killed, unpatched) can never send the note-offs of its keys still down, so all
        notes stop.  Known on JACK only."""
        sources = inp.sources()
        if sources is None:
            return None
        gone, self._sources = self._sources - sources, sources
        if not gone:
            return None
        self.engine.request_panic()
        names = ", ".join(repr(n) for n in sorted(gone))
        return self._notice(f"MIDI input {inp.name!r} lost {names}: all notes stopped")

    # ------------------------------------------------------------- the outputs
    def watch_outputs(self) -> None:
        """Watch every MIDI port among the outputs now (after set-up and after a preset
        switch), and no port that is gone from them."""
        ports = [p for p in map(innermost, self.outputs.outputs) if isinstance(p, PortOutput)]
        watches = []
        for watch in self.watches:
            if any(watch.output is p for p in ports):
                watches.append(watch)
            else:
                watch.close()
        for port in ports:
            if not any(w.output is port for w in watches):
                watches.append(OutputWatch(port, self.client))
        self.watches = watches

    def close_watches(self) -> None:
        watches, self.watches = self.watches, []
        for watch in watches:
            watch.close()

    def check_outputs(self) -> str | None:
        """An output whose port went away (its program quit or was killed) is reported
        and reconnected when the port is back; on JACK, an output port whose client
        stopped delivering is reopened.  Returns a message on change."""
        for i, watch in enumerate(self.watches):
            old = watch.output
            if watch.lost or not old.present():
                message = self._follow_lost(i, watch)
                if message:
                    return message
                continue
            if not watch.silent():
                continue
            watch.close()
            new = self._reopen_output(old)
            if new is None:
                del self.watches[i]
                return self._notice(f"MIDI output {old.name!r} stopped delivering and "
                                    "could not be reopened")
            self.watches[i] = OutputWatch(new, self.client)
            return self._notice(f"MIDI output {old.name!r} stopped delivering: reopened")
        return None

    def _follow_lost(self, i: int, watch: OutputWatch) -> str | None:
        """The port ``watch`` sends to is gone, or was: say so once, reconnect when it is
        back.  What was sounding there went with its program; the other outputs play on."""
        old = watch.output
        if not watch.lost:
            watch.lost = True
            return self._notice(f"MIDI output {old.name!r} disappeared: "
                                "reconnecting when it is back")
        if not old.present():
            return None
        watch.close()
        new = self._reopen_output(old, panic=False)
        if new is None:
            del self.watches[i]
            return self._notice(f"MIDI output {old.name!r} is back but could not be reopened")
        self.watches[i] = OutputWatch(new, self.client)
        return self._notice(f"MIDI output {new.name!r} is back: reconnected")

    def _reopen_output(self, old: PortOutput, panic: bool = True) -> PortOutput | None:
        """Replace ``old`` by a fresh client on the same port, on the engine thread
        (after a panic, unless ``panic`` is False)."""
        result: list[PortOutput] = []

        def swap() -> None:
            if panic:
                self.engine.panic()
            old.close()
            new = PortOutput(old.api, old.spec, old.client, old.virtual_name)
            replace(self.engine.router.outputs, old, new)
            self.outputs.replace(old, new)
            result.append(new)

        self.engine.call(swap)
        self.engine.wait_idle(30.0)      # a new JACK client can take seconds on a busy server
        return result[0] if result else None
