"""The command line: listing ports and presets, and one-line errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import rtmidi

from livearranger.cli import main


def test_ports_lists_jack_ports(jack_server, capsys):
    keys = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="stage-piano")
    keys.open_virtual_port("midi-out")
    synth = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="rack-synth")
    synth.open_virtual_port("midi-in")
    try:
        assert main(["ports", "--api", "jack"]) == 0
    finally:
        keys.delete()
        synth.delete()
    out = capsys.readouterr().out
    inputs, outputs = out.split("MIDI outputs")
    assert "stage-piano:midi-out" in inputs and "rack-synth:midi-in" in outputs


def test_presets_lists_shipped_and_user(user_presets, capsys, tmp_path):
    from pathlib import Path

    Path(user_presets).mkdir(parents=True)
    (Path(user_presets) / "duo.toml").write_text(
        'name = "duo"\narranger = "top-bottom"\n[[parts]]\nname = "hi"\nprogram = "Flute"\n'
        'channel = 1\n[[parts]]\nname = "lo"\nprogram = "Cello"\nchannel = 2\n')
    (Path(user_presets) / "oops.toml").write_text('name = "oops"\nparts = 3\n')
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("satb", "string-quartet", "pop-band", "chiptune", "duo"):
        assert name in out
    assert "hi, lo" in out
    assert "oops" in out and "BROKEN" in out
    assert user_presets in out


ANSI = "\x1b[2J\x1b[31m"      # clear the screen, then red: a name's hidden payload
ANSI_TOML = ANSI.replace("\x1b", "\\u001b")   # as TOML writes it


def test_names_from_files_never_reach_the_terminal_raw(user_presets, tmp_path, capsys):
    from pathlib import Path

    from livearranger.offline import demo_performance

    Path(user_presets).mkdir(parents=True)
    preset = Path(user_presets) / "evil.toml"
    preset.write_text(
        f'name = "evil{ANSI_TOML}"\n[[parts]]\nname = "hi{ANSI_TOML}"\nprogram = "Flute"\n'
        'channel = 1\nrange = [60, 127]\n[[parts]]\nname = "lo"\nprogram = "Cello"\n'
        'channel = 2\n')
    (Path(user_presets) / f"bad{ANSI}.toml").write_text("parts = 3\n")
    assert main(["presets"]) == 0
    assert main(["arrange", str(demo_performance()), "-o", str(tmp_path / "o.mid"),
                 "--preset", str(preset), "--arranger", "zone"]) == 0
    assert main(["demo", "--out", f"/proc/d{ANSI}", "--preset", str(preset)]) == 2
    out, err = capsys.readouterr()
    assert "evil\\x1b[2J" in out and "hi\\x1b[2J" in out and "bad\\x1b[2J" in out
    assert "/proc/d\\x1b[2J" in err
    assert "\x1b" not in out and "\x1b" not in err


def test_part_with_its_own_port_gets_only_its_notes(jack_server, tmp_path, user_presets):
    import time

    from livearranger.session import Session, SessionConfig
    from tests.midi_probe import Listener, write_split_preset

    ext = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="hw-bass")   # polled: no Python callback
    ext.open_virtual_port("in")
    write_split_preset(user_presets, "split", "hw-bass:in")
    got: list[list[int]] = []

    def collect(done, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            while (msg := ext.get_message()) is not None:
                got.append(msg[0])
            if done():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    session = Session(SessionConfig(preset="split", api="jack", input=None,
                                    outputs=["virtual"], client="la-split"))
    session.start()
    main_out = Listener("la-split-out:out")
    try:
        assert "left -> hw-bass:in" in session.output_names
        # The part's port is watched like the main one: a fresh JACK client that delivers
        # nothing (a known hazard) is heard to be silent and reopened.
        for _ in range(5):
            session.engine.feed([0x90, 36, 1])
            session.engine.feed([0x80, 36, 0])
            if collect(lambda: any(m[0] & 0xF0 == 0x80 and m[1] == 36 for m in got), 1.0):
                break
            session.check_outputs()
        else:
            raise AssertionError("the part's own port never delivered, even reopened")
        got.clear()
        main_out.take()
        for p in (40, 72, 43):
            session.engine.feed([0x90, p, 80])
        assert main_out.wait_count(lambda ms: sum(m[0] & 0xF0 == 0x90 for m in ms) >= 3)
        assert collect(lambda: sum(m[0] & 0xF0 == 0x90 for m in got) >= 2, 5.0)
        time.sleep(0.1)
        collect(lambda: False, 0.0)
        assert [m[1] for m in got if m[0] & 0xF0 == 0x90] == [40, 43]   # never the 72
        assert all(m[0] & 0x0F == 1 for m in got)
    finally:
        main_out.close()                # inputs close while what they hear is still there
        ext.delete()
        session.stop()


@pytest.mark.parametrize("args, text", [
    (["demo", "--speed", "0"], "speed must be positive"),
    (["demo", "--horizon-ms", "60"], "--horizon-ms must be 0-50 ms"),
    (["play", "--headless", "--horizon-ms", "-1"], "--horizon-ms must be 0-50 ms"),
    (["arrange", "x.mid", "-o", "y.mid", "--preset", "nope"], "no preset named 'nope'"),
    (["play", "--headless", "--api", "alsa", "--out", "virtual"], "ALSA MIDI is not available"),
    (["play", "--headless", "--api", "alsa", "--audio-driver", "alsa"], "no audio output"),
    (["demo", "--out", "/proc/x"], "/proc/x/demo.mid: cannot write"),
    (["play", "--headless", "--osc-port", "70000"], "--osc-port must be 1-65535"),
    (["recover", "lost.mid"], "lost.mid: nothing to recover"),
    (["arrange", "/dev/zero", "-o", "y.mid"], "/dev/zero: cannot read MIDI file: not a regular"),
    (["arrange", "/dev/null", "-o", "y.mid", "--preset", "/dev/null"], "/dev/null: cannot read"),
    (["arrange", "x.mid", "-o", "y.mid", "--alternatives", "2", "--seed", "-1"],
     "--seed must be 0 or more"),
    (["arrange", "x.mid", "-o", "y.mid", "--alternatives", "2", "--temperature", "inf"],
     "--temperature must be a finite number above 0 to sample alternatives, got inf"),
    (["play", "--headless", "--temperature", "inf"],
     "--temperature must be a finite number, 0 or more (0: always the model's best part)"),
    (["play", "--headless", "--temperature", "nan"], "--temperature must be a finite number"),
    (["play", "--headless", "--record", ""], "--record needs a file name"),
    (["play", "--headless", "--record", " "], "--record needs a file name"),
])
def test_errors_are_one_line_and_exit_2(args, text, tmp_path):
    from pathlib import Path

    if Path("/dev/snd").exists():
        pytest.skip("this machine has a sound card: ALSA would work")
    proc = subprocess.run([sys.executable, "-m", "livearranger", *args], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and text in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_preset_naming_an_arranger_there_is_not_is_refused_naming_its_file(tmp_path):
    """It loaded, and ``arrange`` then said "unknown arranger" without the file."""
    preset = tmp_path / "old.toml"
    preset.write_text('name = "old"\narranger = "lstm"\n[[parts]]\nname = "a"\n'
                      'program = 1\nchannel = 1\n')
    proc = subprocess.run([sys.executable, "-m", "livearranger", "arrange", "x.mid", "-o",
                           "y.mid", "--preset", str(preset)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert f"{preset}: arranger: unknown arranger 'lstm'" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_while_play_starts_ends_it_in_one_line(sig, monkeypatch, capsys):
    import livearranger.session as session_module

    stopped: list[bool] = []

    class Signalled(session_module.Session):
        def __init__(self, config) -> None:
            super().__init__(config)
            os.kill(os.getpid(), sig)          # arrives while the session is being set up

        def stop(self) -> None:
            stopped.append(True)
            super().stop()

    monkeypatch.setattr(session_module, "Session", Signalled)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = main(["play", "--headless", "--in", "none", "--out", ",", "--preset", "satb",
                     "--arranger", "closest-pitch"])
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    captured = capsys.readouterr()
    assert code == 0 and stopped
    assert captured.err.strip().splitlines() == [
        f"livearranger: stopped by {sig.name} while starting"]
    assert "playing" not in captured.out


def test_our_error_is_one_line_on_stderr_and_exit_2(capsys):
    assert main(["play", "--headless", "--osc-port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err == "livearranger: error: --osc-port must be 1-65535, or 0 for no OSC " \
                  "control; got 70000\n"


@pytest.mark.parametrize("bug", [ZeroDivisionError("division by zero"),
                                 ValueError("a builtin from deep inside"),
                                 OSError("an OS error nobody turned into ours")])
def test_a_real_bug_shows_its_traceback_and_asks_for_a_report(bug, monkeypatch, capsys):
    """Only our errors are one line: a builtin that escapes is a bug, shown as one."""
    import livearranger.cli as cli

    def broken():
        raise bug

    monkeypatch.setattr(cli, "list_presets", broken)
    assert main(["presets"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert f"{type(bug).__name__}: {bug}" in err and "in broken" in err
    assert err.rstrip().splitlines()[-1].endswith("please report it with the lines above")


def test_spawn_without_an_osc_port_is_one_line(capsys):
    assert main(["tui", "--spawn", "--osc-port", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "livearranger: error: --spawn needs an OSC port (--osc-port N, not 0)\n"
