"""Which instrument the front panel drives: one answering on the OSC port, else one in
this process; ``--spawn`` needs a port to find the one it starts."""

from __future__ import annotations

import pytest

from livearranger.client import ping
from livearranger.errors import BadValue
from livearranger.session import SessionConfig
from livearranger.tui.controller import Controller
from livearranger.tui.remote import RemoteController
from livearranger.tui.run import make_controller
from tests.osc_probe import free_udp_port
from tests.test_control_live import _play, _stop


def test_without_an_osc_port_it_plays_in_this_process():
    controller = make_controller(SessionConfig(input=None, outputs=[], osc_port=0))
    assert isinstance(controller, Controller) and controller.session is None


def test_spawning_needs_an_osc_port_to_attach_to():
    with pytest.raises(BadValue, match="--spawn needs an OSC port"):
        make_controller(SessionConfig(input=None, outputs=[], osc_port=0), spawn_args=[])


@pytest.mark.jack
def test_the_tui_attaches_when_an_instrument_answers(jack_server, tmp_path, monkeypatch):
    port = free_udp_port()
    assert not ping(port)
    config = SessionConfig(input=None, outputs=[], osc_port=port)
    assert isinstance(make_controller(config), Controller)    # none: in-process
    proc = _play(tmp_path, port)
    try:
        assert ping(port)
        assert isinstance(make_controller(config), RemoteController)
    finally:
        _stop(proc)
