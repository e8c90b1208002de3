"""The suite's own rules: every test that starts a JACK server is marked ``jack`` (so
``-m "not jack"`` starts none), checked over the tests collected in this run and, for
servers started by code a test calls, when it starts one."""

from __future__ import annotations

import inspect

import pytest

from livearranger.lab.jackd import JackServer
from tests.conftest import JACK_FIXTURES, mark_jack_users


def _starts_jack(item: pytest.Item) -> bool:
    if JACK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    function = getattr(item, "function", None)
    if function is None:
        return False
    source = inspect.getsource(function)      # a server run as a command of its own
    return any(words in source for words in ('"jackd"', '"pw-jack"', "pipewire_probe"))


class _Item:
    def __init__(self, *fixturenames: str) -> None:
        self.fixturenames = list(fixturenames)
        self.markers: list[str] = []

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        self.markers.append(mark.name)


def test_a_test_using_a_jack_fixture_is_marked_jack():
    direct, through, pipewire, none = (_Item("tmp_path", "jack_server"),
                                       _Item("tui", "jack_server", "tmp_path"),
                                       _Item("pipewire"), _Item("tmp_path", "user_presets"))
    mark_jack_users([direct, through, pipewire, none])      # type: ignore[list-item]
    assert [i.markers for i in (direct, through, pipewire, none)] == [
        ["jack"], ["jack"], ["jack"], []]


def test_every_collected_test_that_starts_jack_is_marked(request: pytest.FixtureRequest):
    unmarked = [item.nodeid for item in request.session.items
                if _starts_jack(item) and item.get_closest_marker("jack") is None]
    assert unmarked == []


def test_a_test_not_marked_jack_cannot_start_jackd(tmp_path):
    server = JackServer(log=tmp_path / "jackd.log")
    try:
        with pytest.raises(RuntimeError, match="mark it @pytest.mark.jack"):
            server.start()
    finally:
        if server.proc is not None:          # the guard failed: stop what it started
            server.stop()
