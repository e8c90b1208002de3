"""The attached TUI's controller, against a real ControlServer over UDP: it reads the
instrument's figures, forwards commands, and says what only the instrument's own UI
can do."""

from __future__ import annotations

import time

import pytest

from livearranger.control import ControlServer
from livearranger.tui.controls import ActionError, PortChoice
from livearranger.tui.remote import RemoteController
from tests.conftest import DrivenClock
from tests.osc_probe import free_udp_port
from tests.test_client import (
    GOOD_PERIOD,
    MALFORMED,
    SNAP,
    STATUS,
    Instrument,
    StandIn,
    with_one_wrong,
)


@pytest.fixture()
def remote(driven_clock: DrivenClock, user_presets: str):
    fake = Instrument()
    server = ControlServer(fake, port=0, clock=driven_clock.seconds)
    server.start()
    remote = RemoteController(server.port)
    assert remote.open() is None
    deadline = time.monotonic() + 10.0
    while remote.snapshot() is None:           # the first stats period, sent at once
        assert time.monotonic() < deadline, "no stats from the instrument"
        time.sleep(0.005)
    yield fake, remote
    remote.close()
    server.stop()


def test_it_reads_what_the_instrument_reports(remote):
    _fake, ctl = remote
    assert ctl.snapshot() == SNAP
    assert ctl.input_status() == ("keys:out", True)
    assert ctl.current_ports() == PortChoice("jack", "keys:out", ("synth", "daw:in"))
    assert ctl.recording() == "/tmp/take.mid" and ctl.temperature == 0.75
    assert ctl.arranger_name() == "zone" and ctl.audio_line() == "synth 5.3 ms"
    assert ctl.preset is None                   # "trio" is no preset here
    assert any("quitting leaves it playing" in w for w in ctl.warnings)


def test_commands_go_to_the_instrument(remote):
    fake, ctl = remote
    assert ctl.panic() == "panic: all notes off"
    ctl.set_arranger("zone")
    ctl.change_temperature(+10.0)               # at most the instrument's maximum
    ctl.next_horizon()                          # 30 ms is the last step: then off
    ctl.toggle_recording()                      # recording now: stop it
    assert fake.calls == [("panic",), ("arranger", "zone"), ("temperature", 2.0),
                          ("horizon", 0.0), ("record", False)]
    assert ctl.arranger_choice == "zone"
    with pytest.raises(ActionError, match="that preset is broken"):
        ctl.switch_preset("broken")


def test_what_osc_cannot_do_names_the_port_and_where_to_do_it(remote):
    _fake, ctl = remote
    with pytest.raises(ActionError, match=f"port {ctl.port}: restart it to change ports"):
        ctl.apply_ports(ctl.current_ports())
    with pytest.raises(ActionError, match="re-roll is available in the instrument's own UI"):
        ctl.reroll()
    for action in (lambda: ctl.save_preset_as("x"),
                   lambda: ctl.edit_part(0, program="1", channel="1", low="C3", high="C5",
                                         transpose="0")):
        with pytest.raises(ActionError, match="a TUI of its own"):
            action()


def test_detached_it_says_so_once_and_asks_nothing(remote):
    _fake, ctl = remote
    assert ctl.close() == f"detached from the instrument on OSC port {ctl.port}: it plays on"
    assert ctl.close() is None and ctl.snapshot() is None
    with pytest.raises(ActionError, match="not attached"):
        ctl.panic()


def test_an_instrument_that_does_not_answer_is_one_message():
    ctl = RemoteController(free_udp_port())
    try:
        assert ctl.open().startswith("cannot attach to the instrument on OSC port")
    finally:
        ctl.close(wait_s=0.1)


def test_malformed_stats_are_skipped_and_said_and_the_next_period_shown():
    instrument = StandIn()
    ctl = RemoteController(instrument.port)
    try:
        assert ctl.open() is None
        for address, *args in MALFORMED:
            instrument.send(with_one_wrong(address, *args))
        instrument.send(GOOD_PERIOD)
        deadline = time.monotonic() + 10.0
        while ctl.snapshot() is None:
            assert time.monotonic() < deadline, "the period after the malformed ones"
            time.sleep(0.005)
        assert ctl.snapshot() == SNAP and ctl.current_ports().outputs == STATUS.outputs
        said = ctl.poll_input()
        assert said == (f"{len(MALFORMED)} stats periods from OSC port {ctl.port} "
                        "skipped: values the protocol does not allow")
        assert ctl.poll_input() is None              # said once
    finally:
        ctl.close(wait_s=0.1)
        instrument.close()
