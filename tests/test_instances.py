"""Two instruments on one JACK server (`livearranger play` twice): each prints, watches
and feeds its SysEx ends to its own ports, by the names JACK gave them, and leaves the
other alone."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.midi_probe import connect_live, jack_ports
from tests.test_live_play import _stop

pytestmark = pytest.mark.jack


def _play(folder: Path) -> tuple[subprocess.Popen[str], str, str]:
    """An instrument with a virtual input and output: (process, input, output) as it
    printed them."""
    folder.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "livearranger", "play", "--headless", "--api", "jack",
         "--in", "virtual", "--out", "virtual", "--preset", "satb", "--arranger",
         "closest-pitch", "--horizon-ms", "0", "--osc-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r": in (\S+); out (\S+)$", line.strip())
    if not line.startswith("playing") or found is None:
        proc.kill()
        raise AssertionError(f"play did not start: {line!r} {proc.communicate()[1]!r}")
    return proc, found[1], found[2]


def _ons(ms: list[list[int]]) -> int:
    return sum(1 for m in ms if m[0] & 0xF0 == 0x90 and m[2] > 0)


def _offs(ms: list[list[int]]) -> int:
    return sum(1 for m in ms if m[0] & 0xF0 == 0x80 or (m[0] & 0xF0 == 0x90 and not m[2]))


_FEEDER = """
import sys, time, rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="feeder")
out.open_port(out.get_ports().index(sys.argv[1]))
time.sleep(1.5)                  # connected for a while: the instrument has seen it
for p in (48, 60, 64, 67):
    out.send_message([0x90, p, 90])
print("chord down", flush=True)
time.sleep(60)
"""


def _own(before: set[str]) -> tuple[str, str]:
    """The virtual input and output of the instrument that started since ``before``:
    the ports it has, whatever it says."""
    new = set(jack_ports()) - before
    ins = [p for p in new if p.endswith(":in")]
    outs = [p for p in new if p.endswith(":out")]
    assert len(ins) == len(outs) == 1, new
    return ins[0], outs[0]


def test_a_second_instance_owns_the_ports_jack_gave_it(jack_server, tmp_path):
    before = set(jack_ports())
    first, a_in, a_out = _play(tmp_path / "first")
    second = None
    try:
        assert (a_in, a_out) == _own(before)
        before = set(jack_ports())
        second, b_in, b_out = _play(tmp_path / "second")
        assert (b_in, b_out) == _own(before)             # it says the names it has
        kb_a, ls_a = connect_live(a_out, a_in)
        kb_b, ls_b = connect_live(b_out, b_in)

        # a program feeding the second is killed with a chord down: the second stops it
        feeder = subprocess.Popen([sys.executable, "-c", _FEEDER, b_in],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert feeder.stdout is not None
            assert feeder.stdout.readline().strip() == "chord down"
            assert ls_b.wait_count(lambda ms: _ons(ms) >= 4), ls_b.summary()
        finally:
            feeder.kill()                                    # SIGKILL, keys still down
            feeder.wait()
        assert ls_b.wait_count(lambda ms: _offs(ms) >= 4), f"left sounding: {ls_b.summary()}"

        # a SysEx without its end into the second: it hears on
        kb_b.send([0xF0, 0x7E, 0x7F, 0x06, 0x01])
        kb_b.send([0x90, 72, 90])
        kb_b.send([0x80, 72, 0])
        assert ls_b.wait_count(lambda ms: _ons(ms) >= 5 and _offs(ms) >= 5), \
            f"deaf after a SysEx without F7: {ls_b.summary()}"

        # the first heard none of it, plays on, and keeps its key when the second stops
        assert ls_a.take() == []
        kb_a.send([0x90, 60, 90])
        assert ls_a.wait_count(lambda ms: _ons(ms) >= 1), ls_a.summary()
        kb_b.close()
        ls_b.close()
        _stop(second)
        second = None
        time.sleep(1.5)          # the first looks at its input's senders twice a second
        assert _offs(ls_a.take()) == 0, "the first released a key when the second stopped"
        kb_a.send([0x80, 60, 0])
        assert ls_a.wait_count(lambda ms: _offs(ms) >= 1), ls_a.summary()
        kb_a.close()
        ls_a.close()
    finally:
        if second is not None:
            second.kill()
            second.wait()
        said = "".join(_stop(first))       # what it printed; it must exit 0
    # the only sender the first lost is the test's keyboard, closed before it stopped
    assert [line for line in said.splitlines()
            if " lost " in line and "'test-keyboard" not in line] == [], said
    assert not [p for p in jack_ports() if p.startswith("livearranger")], jack_ports()
