"""The private JACK server helper."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import rtmidi

from livearranger.lab.jackd import (
    _MAX_SERVERS,
    _SLOT_SIZE,
    _SLOTS_AT,
    JackServer,
    reclaim_stale_servers,
)


def _registry(tmp_path, slots):
    data = bytearray(b"KCAJ" + bytes(_SLOTS_AT - 4 + _SLOT_SIZE * _MAX_SERVERS + 100))
    for i, (pid, name) in enumerate(slots):
        at = _SLOTS_AT + i * _SLOT_SIZE
        data[at:at + 4] = pid.to_bytes(4, "little", signed=True)
        data[at + 4:at + 4 + len(name)] = name
    path = tmp_path / "jack-shm-registry"
    path.write_bytes(bytes(data))
    return path


def test_reclaims_only_dead_servers_slots(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    path = _registry(tmp_path, [(dead.pid, b"jack-0:la-dead:"), (os.getpid(), b"jack-0:live:"),
                                (dead.pid, b"not-a-server")])
    assert reclaim_stale_servers(path) == 1
    data = path.read_bytes()
    assert data[_SLOTS_AT:_SLOTS_AT + _SLOT_SIZE] == bytes(_SLOT_SIZE)
    assert b"jack-0:live:" in data and b"not-a-server" in data
    assert reclaim_stale_servers(path) == 0
    assert reclaim_stale_servers(tmp_path / "missing") == 0


@pytest.mark.jack
def test_two_private_servers_side_by_side():
    with JackServer() as a:
        with JackServer() as b:
            assert os.environ["JACK_DEFAULT_SERVER"] == b.name
            out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="on-b")
            out.open_virtual_port("x")
            listing = subprocess.run(["jack_lsp", "-s", b.name], capture_output=True,
                                     text=True, timeout=10).stdout
            other = subprocess.run(["jack_lsp", "-s", a.name], capture_output=True,
                                   text=True, timeout=10).stdout
            out.delete()
            assert "on-b:x" in listing and "on-b:x" not in other
        assert os.environ["JACK_DEFAULT_SERVER"] == a.name
    assert not list(Path("/dev/shm").glob(f"jack_{a.name}*"))


def test_xruns_are_read_from_the_server_log(tmp_path):
    from livearranger.lab.jackd import JackServer

    log = tmp_path / "jackd.log"
    server = JackServer(log=log)
    assert server.xruns() == []                       # no log written yet
    log.write_text("jackdmp 1.9.21\n"
                   "JackEngine::XRun: client = kbd was not finished, state = Triggered\n"
                   "something else\n"
                   "JackEngine::XRun: client = la-in was not finished, state = Running\n")
    assert server.xruns() == ["kbd", "la-in"]
    assert JackServer().xruns() == []                 # no log: nothing known
