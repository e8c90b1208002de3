"""`--api jack` under PipeWire's JACK (``pw-jack``), as on a desktop: the instrument
reaches it through the system's JACK library, where python-rtmidi's own copy cannot."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parents[1] / "pipewire_probe.py"

pytestmark = pytest.mark.jack


def test_rtmidi_alone_cannot_reach_pipewire(pipewire):
    """The hazard itself, so that the next test could fail: the wheel's own libjack."""
    proc = subprocess.run(
        ["pw-jack", sys.executable, "-c",
         "import rtmidi; rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name='bare')"],
        env=pipewire, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "JACK server not running" in proc.stderr


def test_play_and_ports_work_under_pw_jack(pipewire, tmp_path):
    ports = subprocess.run(["pw-jack", sys.executable, "-m", "livearranger", "ports",
                            "--api", "jack"], env=pipewire, capture_output=True,
                           text=True, timeout=60, cwd=tmp_path)
    assert ports.returncode == 0, ports.stderr
    play = subprocess.Popen(
        ["pw-jack", sys.executable, "-m", "livearranger", "play", "--headless", "--api",
         "jack", "--in", "virtual", "--out", "virtual", "--preset", "satb", "--arranger",
         "closest-pitch", "--horizon-ms", "0"],
        env=pipewire, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=tmp_path)
    try:
        assert play.stdout is not None
        line = play.stdout.readline()
        assert line.startswith("playing"), (line, play.stderr.read() if play.stderr else "")
        probe = subprocess.run(["pw-jack", sys.executable, str(PROBE), "50"], env=pipewire,
                               capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert probe.returncode == 0, probe.stderr
        got = json.loads(probe.stdout.strip().splitlines()[-1])
        assert got["ons"] == got["offs"] == 50, got
    finally:
        play.send_signal(signal.SIGTERM)
        out, err = play.communicate(timeout=20)
    assert play.returncode == 0, err
    assert ": 50 notes in" in out                    # every note reached the engine


def test_under_jackd2_rtmidi_keeps_its_own_library(jack_server):
    """No PipeWire here: nothing is routed (the library rtmidi was built with plays)."""
    from livearranger.io.jacklib import use_system_jack

    assert use_system_jack() is None
