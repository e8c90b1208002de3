"""Port watching on a real JACK bus: a keyboard unplugged and back, an output that
stops delivering reopened."""

from __future__ import annotations

import time

import mido
import pytest
import rtmidi

from livearranger.io.output import PartFilter
from livearranger.session import Session, SessionConfig
from tests.midi_probe import Listener, write_split_preset
from tests.test_session import _wait

pytestmark = pytest.mark.jack


def test_unplugged_keyboard_panics_and_reconnects(jack_server, tmp_path):
    keyboard = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="usbkeys")
    keyboard.open_virtual_port("out")
    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", api="jack",
                                    input="usbkeys", outputs=["virtual"],
                                    record=str(tmp_path / "take.mid"),
                                    client="la-unplug"))
    session.start()
    listener = Listener("la-unplug-out:out")
    try:
        assert session.input is not None and session.input.name == "usbkeys:out"
        time.sleep(0.2)
        for p in (72, 64, 57, 48):
            keyboard.send_message([0x90, p, 90])
        assert _wait(lambda: session.snapshot().notes_in == 4), "notes never arrived"
        keyboard.delete()                                  # unplugged, keys still down
        assert "disappeared" in (session.check_input() or "")
        assert _wait(lambda: not session.engine.router.sounding)
        assert session.check_input() is None               # still gone: nothing to say
        keyboard = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="usbkeys")
        keyboard.open_virtual_port("out")
        assert "is back" in (session.check_input() or "")
        time.sleep(0.2)
        keyboard.send_message([0x90, 76, 90])
        assert _wait(lambda: session.snapshot().notes_in == 5), "no notes after replugging"
        keyboard.send_message([0x80, 76, 0])
        time.sleep(0.2)
    finally:
        listener.close()                # inputs close while what they hear is still there
        session.stop()
        keyboard.delete()
    mid = mido.MidiFile(str(tmp_path / "take.mid"))
    ons = sum(1 for t in mid.tracks for m in t if m.type == "note_on" and m.velocity)
    offs = sum(1 for t in mid.tracks for m in t
               if m.type == "note_off" or (m.type == "note_on" and not m.velocity))
    assert ons == 5 and offs == 5



def test_output_client_that_stops_delivering_is_reopened(jack_server):
    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", api="jack",
                                    input=None, outputs=["virtual"], client="la-loop"))
    session.start()
    try:
        def play_and_check() -> str | None:
            for p in (60, 64):
                session.engine.feed([0x90, p, 80])
                session.engine.feed([0x80, p, 0])
            session.engine.wait_idle()
            time.sleep(0.3)                        # a few JACK periods
            return session.check_outputs()

        def heard() -> bool:
            # a fresh JACK client may deliver nothing for a while (the hazard this
            # guards against); the session reopens it, so within a few looks it is heard
            for _ in range(5):
                play_and_check()
                if session.ports.watches[0].silent_checks == 0:
                    return True
            return False

        assert heard()                             # healthy: the loopback hears us
        dead = session.engine.router.outputs[1]
        dead._out.close_port()                     # the client stops delivering
        assert play_and_check() is None            # one silent look is not yet a verdict
        assert "stopped delivering: reopened" in (play_and_check() or "")
        assert session.engine.router.outputs[1] is not dead
        assert heard()                             # the new port is heard again
    finally:
        session.stop()



def test_a_parts_own_port_that_stops_delivering_is_reopened(jack_server, user_presets):
    sink = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="hw-synth")
    sink.open_virtual_port("in")
    write_split_preset(user_presets, "duo", "hw-synth:in", parts=("hi", "lo"))
    session = Session(SessionConfig(preset="duo", api="jack", input=None, outputs=[],
                                    client="la-duo"))
    session.start()
    try:
        part_out = next(o for o in session.engine.router.outputs if isinstance(o, PartFilter))
        assert [w.output for w in session.ports.watches] == [part_out.inner]

        def play_and_check() -> str | None:
            session.engine.feed([0x90, 40, 80])
            session.engine.feed([0x80, 40, 0])
            session.engine.wait_idle()
            time.sleep(0.3)
            return session.check_outputs()

        for _ in range(5):                         # healthy (or healed) first
            play_and_check()
            if session.ports.watches[0].silent_checks == 0:
                break
        dead = part_out.inner
        dead._out.close_port()                     # the part's client stops delivering
        assert play_and_check() is None
        assert "stopped delivering: reopened" in (play_and_check() or "")
        assert part_out.inner is not dead and part_out.inner.spec == "hw-synth:in"
        heard: list[list[int]] = []
        for _ in range(5):                         # the new client reaches the synth
            play_and_check()
            while (msg := sink.get_message()) is not None:
                heard.append(msg[0])
            if [0x91, 40, 80] in heard:
                break
        assert [0x91, 40, 80] in heard, heard
    finally:
        session.stop()          # our clients close while the synth's port is still there
        sink.delete()


class _Graph:
    """A JACK graph client whose server answers while ``answers`` is True."""

    answers = True

    def alive(self) -> bool:
        return self.answers


def test_a_jack_server_that_stops_answering_is_said_once_and_stops_every_note(engine_rig):
    from livearranger.events import Kind, NoteEvent
    from livearranger.port_watch import SERVER_LOST, PortWatch

    rig = engine_rig()
    rig.engine.process(NoteEvent(Kind.NOTE_ON, 0.0, 60, 90))
    graph = _Graph()
    watch = PortWatch(rig.engine, None, "jack", "la", lambda m: m, graph=graph)
    assert watch.check_server() is None and watch.server_lost is None
    assert rig.sent(0x80) == []
    graph.answers = False
    assert watch.check_server() == SERVER_LOST == watch.server_lost
    assert [m[1] for m in rig.sent(0x80)] == [60]                     # the key released
    assert watch.check_server() is None                               # said once
    assert PortWatch(rig.engine, None, "alsa", "la",
                     lambda m: m).check_server() is None              # no JACK: no look
