"""The real ``livearranger tui`` in a terminal (tmux), played over JACK from another client."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import mido
import pytest

from livearranger.tui.signals import EXIT_GRACE_S
from tests.midi_probe import connect_live, wait_for_port

pytestmark = pytest.mark.jack
REPO = Path(__file__).resolve().parents[2]


class Tmux:
    """A private tmux server (own socket) running one command in a 120x40 pane."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.socket = f"la-tui-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        shell = (f"cd {shlex.quote(str(REPO))} && env -u COLUMNS -u LINES {exports} {command}; "
                 "echo EXIT=$?; sleep 60")
        # a detached session is 80x24 unless told otherwise: fix the size at once
        subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", "start-server", ";",
                        "set-option", "-g", "default-size", "120x40", ";",
                        "new-session", "-d", "-s", "la", "-x", "120", "-y", "40", shell],
                       check=True, timeout=10)

    def pane(self) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-t", "la"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "la", *keys],
                       check=True, timeout=10)

    def wait(self, condition: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.pane()
            if condition(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; the pane:\n"
                             f"{self.pane()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=10)


@pytest.fixture()
def tui(jack_server, tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (Debian: apt install tmux)")
    env = {"JACK_DEFAULT_SERVER": jack_server.name, "JACK_NO_START_SERVER": "1",
           "LIVEARRANGER_PRESETS": str(tmp_path / "presets"), "TERM": "xterm-256color",
           "HOME": str(tmp_path)}
    command = (f"{shlex.quote(sys.executable)} -m livearranger tui --api jack --in virtual "
               "--out virtual --preset satb")
    session = Tmux(command, env)
    try:
        yield session
    finally:
        session.close()


def _part_line(pane: str, part: str) -> str:
    return next((ln for ln in pane.splitlines() if f"■ {part}" in ln and "notes" in ln), "")


def test_notes_played_over_jack_appear_in_the_tui(tui: Tmux) -> None:
    tui.wait(lambda p: "notes in 0" in p and "livearranger:in" in p, 40, "the TUI to start")
    wait_for_port("livearranger:in")
    keyboard, listener = connect_live("livearranger-out:out", "livearranger:in")
    try:
        # C5 E4 G3 G2, rolled (chords struck at once are tested in test_jack.py)
        for pitch in (72, 64, 55, 43):
            keyboard.send([0x90, pitch, 100])
            time.sleep(0.02)

        def all_shown(pane: str) -> bool:
            shown = " ".join(_part_line(pane, part)
                             for part in ("soprano", "alto", "tenor", "bass"))
            return ("notes in 5" in pane and "IN  G2" in pane
                    and all(name in shown for name in ("C5", "E4", "G3", "G2")))

        # the terminal is redrawn in pieces: wait for a pane showing everything at once
        pane = tui.wait(all_shown, 15, "5 notes (probe + 4) and their names per part")
        assert "Traceback" not in pane
        for pitch in (72, 64, 55, 43):
            keyboard.send([0x80, pitch, 0])
            time.sleep(0.02)
        assert listener.wait_count(
            lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x80) >= 4, 5.0), \
            "the TUI's engine sent no note-offs to livearranger-out:out"
    finally:
        keyboard.close()
        listener.close()
    tui.keys("q")
    pane = tui.wait(lambda p: "EXIT=" in p, 20, "the TUI to exit")
    assert "EXIT=0" in pane and "Traceback" not in pane, pane


def _note_ons(messages: list[list[int]]) -> list[int]:
    return [m[1] for m in messages if m[0] & 0xF0 == 0x90 and m[2] > 0]


def _note_offs(messages: list[list[int]]) -> list[int]:
    return [m[1] for m in messages
            if m[0] & 0xF0 == 0x80 or (m[0] & 0xF0 == 0x90 and m[2] == 0)]


def _wait_file(path: Path, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text().strip()):
            return text
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.parametrize("how", ["hangup", "SIGTERM", "SIGINT"])
def test_a_signal_with_a_chord_held_releases_it_and_saves_the_take(
        jack_server, tmp_path: Path, how: str) -> None:
    """The terminal closed (tmux gone: SIGHUP), SIGTERM or SIGINT end the TUI like
    quitting: every sounding note is released, the take saved, exit status 0."""
    take, pidfile, rcfile = tmp_path / "take.mid", tmp_path / "pid", tmp_path / "rc"
    env = {"JACK_DEFAULT_SERVER": jack_server.name, "JACK_NO_START_SERVER": "1",
           "LIVEARRANGER_PRESETS": str(tmp_path / "presets"), "TERM": "xterm-256color",
           "HOME": str(tmp_path)}
    py = shlex.quote(sys.executable)
    command = (f"{py} {shlex.quote(str(Path(__file__).with_name('exit_reporter.py')))} "
               f"{shlex.quote(str(pidfile))} {shlex.quote(str(rcfile))} "
               f"{py} -m livearranger tui --api jack --in virtual --out virtual "
               f"--preset satb --record {shlex.quote(str(take))}")
    term = Tmux(command, env)
    pid = 0
    try:
        term.wait(lambda p: "notes in 0" in p and "livearranger:in" in p, 40,
                  "the TUI to start")
        pid = int(_wait_file(pidfile, 5, "the TUI's pid"))
        wait_for_port("livearranger:in")
        keyboard, listener = connect_live("livearranger-out:out", "livearranger:in")
        try:
            chord = (48, 60, 64, 67)
            for pitch in chord:
                keyboard.send([0x90, pitch, 90])
            assert listener.wait_count(lambda ms: len(_note_ons(ms)) >= 4, 10.0), \
                listener.summary()
            pane = ""
            signalled = time.monotonic()
            if how == "hangup":
                term.close()                    # the terminal is gone: SIGHUP
            else:
                os.kill(pid, getattr(signal, how))
            rc = _wait_file(rcfile, 20, f"the TUI to exit after {how}")
            took = time.monotonic() - signalled
            if how != "hangup":
                pane = term.wait(lambda p: "EXIT=" in p, 10, "the shell to report")
            assert listener.wait_count(lambda ms: len(_note_offs(ms)) >= 4, 3.0), \
                f"chord left sounding: {listener.summary()}"
            got = listener.take()
        finally:
            keyboard.close()
            listener.close()
    finally:
        term.close()
        if pid and not rcfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert rc == "0", f"exit status {rc} after {how}\n{pane}"
    assert took < EXIT_GRACE_S, f"ended by the watchdog ({took:.1f} s), not by the app"
    assert "Traceback" not in pane, pane
    if how != "hangup":
        assert f"recording saved to {take}" in pane, pane
    played = _note_ons(got)
    assert sorted(_note_offs(got)) == sorted(played), got      # each note released once
    assert not (tmp_path / ".cache" / "livearranger" / "tui-error.log").exists()
    mid = mido.MidiFile(str(take))
    ons = [m.note for t in mid.tracks for m in t if m.type == "note_on" and m.velocity]
    offs = [m.note for t in mid.tracks for m in t
            if m.type == "note_off" or (m.type == "note_on" and not m.velocity)]
    assert sorted(ons) == sorted(offs)
    assert set(played) <= set(ons) and len(ons) == len(played) + 1    # + the probe note


def test_the_real_tui_attaches_to_a_running_instrument_and_leaves_it_playing(
        jack_server, tmp_path: Path) -> None:
    """A headless instrument first; `livearranger tui` in a terminal finds it on the OSC
    port, shows what is played into it, and quitting leaves it playing."""
    from livearranger.client import ping
    from tests.osc_probe import free_udp_port
    from tests.test_control_live import _play, _stop

    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (Debian: apt install tmux)")
    port = free_udp_port()
    proc = _play(tmp_path, port)
    env = {"JACK_DEFAULT_SERVER": jack_server.name, "JACK_NO_START_SERVER": "1",
           "LIVEARRANGER_PRESETS": str(tmp_path / "presets"), "TERM": "xterm-256color",
           "HOME": str(tmp_path)}
    session = None
    try:
        wait_for_port("livearranger-out:out")
        assert ping(port)
        session = Tmux(f"{shlex.quote(sys.executable)} -m livearranger tui --api jack "
                       f"--osc-port {port}", env)
        session.wait(lambda p: f"attached to the instrument on OSC port {port}" in p,
                     40, "the TUI to attach")
        keyboard, listener = connect_live("livearranger-out:out", "livearranger:in")
        try:
            for pitch in (72, 64, 55, 43):
                keyboard.send([0x90, pitch, 100])
                time.sleep(0.02)
            pane = session.wait(lambda p: "notes in 5" in p and "IN  G2" in p, 15,
                                "the instrument's notes in the attached TUI")
            assert "Traceback" not in pane
            session.keys("q")
            session.wait(lambda p: "EXIT=" in p, 20, "the TUI to exit")
            assert "EXIT=0" in session.pane()
            assert ping(port)                        # the instrument plays on
            for pitch in (72, 64, 55, 43):
                keyboard.send([0x80, pitch, 0])
            assert listener.wait_count(lambda ms: len(_note_offs(ms)) >= 4, 5.0), \
                listener.summary()
        finally:
            keyboard.close()
            listener.close()
    finally:
        if session is not None:
            session.close()
        out, _err = _stop(proc)
    assert "5 notes in" in out, out
