"""Shared fixtures: a private JACK server for the tests that need a real MIDI bus."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from livearranger.jackd import JackServer


@pytest.fixture(scope="session")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JackServer]:
    """A ``jackd -d dummy`` of our own for the whole test session (stopped after)."""
    log = tmp_path_factory.mktemp("jack") / "jackd.log"
    server = JackServer(log=log)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def user_presets(tmp_path, monkeypatch) -> str:
    """An empty user preset folder, so tests never touch the real one."""
    folder = tmp_path / "presets"
    monkeypatch.setenv("LIVEARRANGER_PRESETS", str(folder))
    return str(folder)


@pytest.fixture(autouse=True)
def _no_jack_autostart(monkeypatch) -> None:
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    if "JACK_DEFAULT_SERVER" in os.environ:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", os.environ["JACK_DEFAULT_SERVER"])
