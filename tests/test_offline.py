"""`livearranger demo` and `livearranger arrange` through the real engine, synth and files."""

from __future__ import annotations

import subprocess
import sys
import wave

import mido
import numpy as np
import pytest

from livearranger.offline import OfflineError, demo_performance, read_performance
from livearranger.presets import load_preset


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    """The command as a player runs it: outside the source tree, so the installed
    package (presets, models and data inside it) is what runs."""
    return subprocess.run([sys.executable, "-m", "livearranger", *args], capture_output=True,
                          text=True, timeout=180, cwd=cwd or "/")


def _note_ons(path) -> dict[str, int]:
    mid = mido.MidiFile(str(path))
    return {t.name: sum(1 for m in t if m.type == "note_on" and m.velocity) for t in
            mid.tracks[1:]}


def test_demo_writes_midi_and_audible_wav(tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path), "--speed", "8")
    assert proc.returncode == 0, proc.stderr
    counts = _note_ons(tmp_path / "demo.mid")
    played = sum(1 for _t, m in read_performance(demo_performance())
                 if m[0] & 0xF0 == 0x90 and m[2])
    assert list(counts) == load_preset("satb").part_names
    assert sum(counts.values()) == played and all(counts.values())
    for name, n in counts.items():
        assert f"{name}" in proc.stdout and str(n) in proc.stdout
    assert "p50" in proc.stdout and "p99" in proc.stdout and "max" in proc.stdout
    assert "arranger model satb.onnx" in proc.stdout      # the shipped model played
    assert "correction horizon 30 ms" in proc.stdout      # satb's chords corrected
    with wave.open(str(tmp_path / "demo.wav")) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        seconds = w.getnframes() / w.getframerate()
    assert seconds > 20                      # written tempo, although played 8x faster
    assert np.sqrt(np.mean((audio / 32768.0) ** 2)) > 0.01


@pytest.mark.parametrize("preset, horizon", [("string-quartet", "30"), ("chiptune", "0"),
                                             ("satb", "10")])
def test_arrange_file_one_track_per_part(tmp_path, preset, horizon):
    out = tmp_path / "out.mid"
    proc = run_cli("arrange", str(demo_performance()), "-o", str(out), "--preset", preset,
                   "--arranger", "closest-pitch", "--wav", str(tmp_path / "out.wav"),
                   "--horizon-ms", horizon)
    assert proc.returncode == 0, proc.stderr
    parts = load_preset(preset).parts
    mid = mido.MidiFile(str(out))
    assert [t.name for t in mid.tracks[1:]] == [p.name for p in parts]
    for track, part in zip(mid.tracks[1:], parts, strict=True):
        notes = [m for m in track if m.type in ("note_on", "note_off")]
        assert all(m.channel == part.channel for m in notes)
        sounding = set()
        for m in notes:
            if m.type == "note_on" and m.velocity:
                sounding.add(m.note)
            else:
                sounding.discard(m.note)
        assert not sounding, f"{part.name} left {sounding} hanging"
        t, last_note = 0, 0
        for m in track:
            t += m.time
            if m.type in ("note_on", "note_off"):
                last_note = t
            elif m.type == "control_change" and m.control == 123:
                assert t >= last_note, f"{part.name}: all-notes-off in mid-piece"
    assert (tmp_path / "out.wav").stat().st_size > 44100
    played = sum(1 for _t, m in read_performance(demo_performance())
                 if m[0] & 0xF0 == 0x90 and m[2])
    assert sum(_note_ons(out).values()) == played          # final parts only, none lost
    assert (f"correction horizon {horizon} ms" in proc.stdout) == (horizon != "0")


def test_unreadable_midi_is_one_line(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"\x00garbage" * 50)
    proc = run_cli("arrange", str(bad), "-o", str(tmp_path / "o.mid"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a readable MIDI file" in proc.stderr
    assert not (tmp_path / "o.mid").exists()
    with pytest.raises(OfflineError, match="no such file"):
        read_performance(tmp_path / "missing.mid")


def test_bad_preset_and_missing_jack_are_one_line(tmp_path):
    broken = tmp_path / "b.toml"
    broken.write_text('name = "b"\n[[parts]]\nname = "x"\nprogram = 1\nchannel = 99\n')
    proc = run_cli("arrange", str(demo_performance()), "-o", str(tmp_path / "o.mid"),
                   "--preset", str(broken))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "channel" in proc.stderr and str(broken) in proc.stderr
    env_proc = subprocess.run(
        [sys.executable, "-m", "livearranger", "ports", "--api", "jack"], capture_output=True,
        text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "JACK_DEFAULT_SERVER": "surely-not-running",
             "JACK_NO_START_SERVER": "1", "HOME": str(tmp_path)})
    assert env_proc.returncode == 2
    assert env_proc.stderr.strip() == ("livearranger: error: cannot reach a JACK server: "
                                       "start one (e.g. 'jackd -d alsa' or 'jackd -d dummy') "
                                       "or use --api alsa")
