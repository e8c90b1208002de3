"""Run as a process of its own by tests/test_midi_io.py: open and close MIDI inputs on a
port that streams messages, and say how many arrived.  In its own process so that a
deadlock on close fails the test (by its timeout) instead of hanging the test run.

    python -m tests.midi_close_probe callback|polled SOURCE ROUNDS
"""

from __future__ import annotations

import sys
import time

import rtmidi

from livearranger.io.midi_io import MidiInput, close_callback_input, match_port


def callback_rounds(source: str, rounds: int) -> int:
    """A python-rtmidi input with a Python callback, closed while messages arrive."""
    got = [0]

    def on(event: object, data: object = None) -> None:
        got[0] += 1 + 0 * sum(range(200))      # a callback that takes a moment

    for _ in range(rounds):
        inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="close-probe")
        inp.set_callback(on)
        inp.open_port(match_port(inp.get_ports(), source))
        time.sleep(0.03)
        close_callback_input(inp)
    return got[0]


def polled_rounds(source: str, rounds: int) -> int:
    """The engine's own input (``MidiInput``, polled), closed while messages arrive."""
    got = 0
    for _ in range(rounds):
        inp = MidiInput("jack", source, client="close-probe")
        deadline = time.monotonic() + 0.03
        while time.monotonic() < deadline:
            while inp.poll() is not None:
                got += 1
            time.sleep(0.001)
        inp.close()
    return got


def main(argv: list[str]) -> int:
    mode, source, rounds = argv[0], argv[1], int(argv[2])
    count = (callback_rounds if mode == "callback" else polled_rounds)(source, rounds)
    print(f"closed {rounds} received {count}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
