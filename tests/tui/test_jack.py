"""The front panel on a real JACK MIDI bus: notes in through a virtual port, out through
another; re-picking a hardware-like input, which then disappears and comes back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import rtmidi

from livearranger.io.midi_io import close_client
from livearranger.session import SessionConfig
from livearranger.tui.app import LiveArrangerApp
from livearranger.tui.controller import Controller
from livearranger.tui.parts import LiveView
from livearranger.tui.ports import PortsScreen
from livearranger.tui.status import MessageLog, StatusBar
from tests.midi_probe import connect_live, wait_for_port
from tests.tui.conftest import until

pytestmark = pytest.mark.jack
SIZE = (120, 40)


def _pad() -> rtmidi.MidiOut:
    """A stand-in for a USB keyboard: a JACK client 'test-pad' with an output port."""
    pad = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="test-pad")
    pad.open_virtual_port("pad")
    return pad


async def test_tui_on_real_jack_ports(jack_server, user_presets: str, tmp_path: Path) -> None:
    config = SessionConfig(preset="satb", api="jack", input="virtual", outputs=["virtual"])
    controller = Controller(config, record_dir=tmp_path)    # the real Session and list_ports
    app = LiveArrangerApp(controller, input_check_s=0.2)
    log = lambda: app.query_one(MessageLog).lines_text  # noqa: E731
    async with app.run_test(size=SIZE) as pilot:
        assert controller.session is not None, log()
        wait_for_port("livearranger:in")
        keyboard, listener = connect_live("livearranger-out:out", "livearranger:in")
        try:
            # a chord struck at once: all four in one JACK period (with the default 5 ms
            # switch interval the UI's hold on the GIL turned this into copies of 72)
            for pitch in (72, 67, 60, 48):
                keyboard.send([0x90, pitch, 100])
            live = app.query_one(LiveView)
            await until(pilot, lambda: "notes in 5" in live.plain, what="4 notes in the UI")
            ok = listener.wait_count(
                lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x90 and m[2]) >= 4, 5.0)
            assert ok, ("the arranged notes never came out of livearranger-out:out: "
                        f"{listener.messages}, engine: {controller.session.snapshot()}")
            snap = controller.session.snapshot()
            channels = {p.channel for p in controller.session.preset.parts}
            ons = [m for m in listener.take() if m[0] & 0xF0 == 0x90 and m[2]]
            assert {m[1] for m in ons} == {72, 67, 60, 48}, (ons, snap)
            assert {m[0] & 0x0F for m in ons} <= channels
            assert sum(snap.counts) == 5                  # the probe note and ours
        finally:
            keyboard.close()
            listener.close()

        # a "hardware" keyboard appears: pick it on the ports screen
        pad = _pad()
        wait_for_port("test-pad:pad")
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PortsScreen)
        inputs = screen.query_one("#inputs")
        ids = [inputs.get_option_at_index(i).id for i in range(inputs.option_count)]
        assert any("test-pad:pad" in i for i in ids), ids
        assert not any(i.startswith("livearranger") for i in ids[1:])   # never our own
        inputs.highlighted = next(n for n, i in enumerate(ids) if "test-pad:pad" in i)
        await pilot.press("ctrl+s")
        status = app.query_one(StatusBar)
        await until(pilot, lambda: "in test-pad:pad" in status.plain, what="the new input")
        time.sleep(0.3)
        pad.send_message([0x90, 64, 90])
        await until(pilot, lambda: "IN  E4" in live.plain, what="a note from the pad")

        # the keyboard is unplugged: said in the UI, notes stopped; it comes back
        close_client(pad, "jack")
        await until(pilot, lambda: "gone" in status.plain, what="the lost input")
        assert any("disappeared" in ln for ln in log())
        assert not any(controller.session.snapshot().sounding)
        pad = _pad()
        try:
            await until(pilot, lambda: any("is back" in ln for ln in log()),
                        what="the input reconnecting")
            assert "gone" not in status.plain
            time.sleep(0.3)
            pad.send_message([0x90, 65, 90])
            await until(pilot, lambda: "IN  F4" in live.plain, what="a note after reconnecting")
        finally:
            close_client(pad, "jack")
        await pilot.press("q")
    assert controller.session is None
