"""MIDI inputs close cleanly while messages stream in (a real JACK bus)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from livearranger.io.jacklib import JackGraph

pytestmark = pytest.mark.jack

ROOT = Path(__file__).resolve().parents[2]


FLOOD = """
import sys, threading, time, rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="flood")
out.open_virtual_port("out")
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
print("ready", flush=True)
while not done.is_set():
    out.send_message([0x90, 60, 1])
    time.sleep(0.0002)
out.close_port()
out.delete()
"""


@pytest.fixture()
def stream(jack_server):
    """A JACK output port (another process) sending a note every 0.2 ms; it closes its
    client when its stdin closes (a killed client would linger in JACK's graph)."""
    flood = subprocess.Popen([sys.executable, "-c", FLOOD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert flood.stdout is not None and flood.stdout.readline().strip() == "ready"
        yield "flood:out"
    finally:
        assert flood.stdin is not None
        flood.stdin.close()
        try:
            flood.wait(timeout=10)
        except subprocess.TimeoutExpired:
            flood.kill()
            flood.wait(timeout=10)


@pytest.mark.parametrize("mode", ["callback", "polled"])
def test_input_closes_while_messages_arrive(stream, mode):
    """python-rtmidi closes a port holding the interpreter lock and waits for its MIDI
    thread; a callback running there waits for the lock.  Unguarded, this deadlocked on
    the first close.  Twenty opens and closes under a stream must all finish."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.midi_close_probe", mode, stream, "20"],
            cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"closing a {mode} input under a stream of messages hung: {exc.stderr}")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:2] == ["closed", "20"], done.stdout
    assert int(words[3]) > 100, f"the stream never reached the inputs: {done.stdout}"


def test_available_apis_are_the_compiled_ones_among_what_the_cli_accepts():
    import rtmidi

    from livearranger.io.midi_io import API_NAMES, available_apis

    got = available_apis()
    assert set(got) <= set(API_NAMES)
    assert ("jack" in got) == (rtmidi.API_UNIX_JACK in rtmidi.get_compiled_api())
    assert len(got) == len([a for a in rtmidi.get_compiled_api()
                            if a in (rtmidi.API_UNIX_JACK, rtmidi.API_LINUX_ALSA,
                                     rtmidi.API_MACOSX_CORE, rtmidi.API_WINDOWS_MM)])


def test_a_jack_close_that_never_returns_does_not_hold_the_stop():
    """jack_client_close has blocked a stop past 10 s on a loaded server: the watch
    client's close gives up after its wait, and says so."""


    release = threading.Event()

    class StuckLib:
        def jack_client_close(self, client):
            release.wait(30)

    graph = JackGraph.__new__(JackGraph)
    graph._lib, graph._client = StuckLib(), 1234
    try:
        assert graph.close(wait=0.2) is False
        assert graph.close(wait=0.2) is True          # nothing left to close
    finally:
        release.set()

    class FineLib:
        def jack_client_close(self, client):
            pass

    graph._lib, graph._client = FineLib(), 1234
    assert graph.close() is True


class _Client:
    """Records what is done to an rtmidi client."""

    def __init__(self, calls: list[str], fail: bool = False) -> None:
        self.calls, self.fail = calls, fail

    def close_port(self) -> None:
        self.calls.append("close_port")
        if self.fail:
            raise RuntimeError("port went away")

    def delete(self) -> None:
        self.calls.append("delete")


@pytest.mark.parametrize("api", ["jack", "alsa"])
def test_a_client_closes_after_the_jack_graph_settled_and_is_always_deleted(
        api, monkeypatch):
    from livearranger.io import midi_io

    calls: list[str] = []
    monkeypatch.setattr(midi_io.time, "sleep", lambda s: calls.append(f"sleep {s}"))
    midi_io.close_client(_Client(calls), api)  # type: ignore[arg-type]
    settle = [f"sleep {midi_io.GRAPH_SETTLE_S}"] if api == "jack" else []
    assert calls == [*settle, "close_port", "delete"]
    calls.clear()
    with pytest.raises(RuntimeError):
        midi_io.close_client(_Client(calls, fail=True), api)  # type: ignore[arg-type]
    assert calls[-2:] == ["close_port", "delete"]


def test_a_client_name_too_long_keeps_its_start_and_a_digest():
    from livearranger.io.midi_io import MAX_CLIENT_NAME, client_name

    assert client_name("livearranger-alto") == "livearranger-alto"
    a, b = client_name("la-" + "x" * 80 + "a"), client_name("la-" + "x" * 80 + "b")
    assert len(a) == len(b) == MAX_CLIENT_NAME and a != b
    assert a.startswith("la-xxx") and client_name(a) == a


def test_each_instance_claims_a_client_prefix_no_one_uses(jack_server):
    import rtmidi

    from livearranger.io.midi_io import claim_clients, close_client

    first, first_held = claim_clients("jack", "la-claim")
    second, second_held = claim_clients("jack", "la-claim")
    # a program that claims nothing has a port where a third instance's output would be
    squatter = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="la-claim-02-out")
    squatter.open_virtual_port("out")
    third, third_held = claim_clients("jack", "la-claim")
    try:
        assert (first, second, third) == ("la-claim", "la-claim-01", "la-claim-03")
        assert first_held is not None and second_held is not None
        first_held.close()
        again, again_held = claim_clients("jack", "la-claim")   # free again once let go
        assert again == "la-claim" and again_held is not None
        again_held.close()
    finally:
        for held in (second_held, third_held):
            if held is not None:
                held.close()
        close_client(squatter, "jack")
    assert claim_clients("alsa", "la-claim") == ("la-claim", None)
