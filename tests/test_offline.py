"""`livearranger demo` and `livearranger arrange` through the real engine, synth and files."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import wave

import mido
import numpy as np
import pytest

from livearranger.errors import BadValue
from livearranger.offline import (
    OfflineError,
    arrange_performance,
    demo_performance,
    read_performance,
)
from livearranger.recorder import TICKS_PER_SECOND


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    """The command as a player runs it: outside the source tree, so the installed
    package (presets, models and data inside it) is what runs."""
    return subprocess.run([sys.executable, "-m", "livearranger", *args], capture_output=True,
                          text=True, timeout=180, cwd=cwd or "/")


def _note_ons(path) -> dict[str, int]:
    mid = mido.MidiFile(str(path))
    return {t.name: sum(1 for m in t if m.type == "note_on" and m.velocity) for t in
            mid.tracks[1:]}


def test_demo_writes_midi_and_audible_wav(satb, tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path), "--speed", "8")
    assert proc.returncode == 0, proc.stderr
    counts = _note_ons(tmp_path / "demo.mid")
    played = sum(1 for _t, m in read_performance(demo_performance())
                 if m[0] & 0xF0 == 0x90 and m[2])
    assert list(counts) == satb.part_names
    unisons = re.search(r"unisons: (\d+) keys also sung", proc.stdout)
    doubled = int(unisons.group(1)) if unisons else 0
    assert sum(counts.values()) == played + doubled and all(counts.values())
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


@pytest.mark.parametrize("name, horizon", [("string-quartet", "30"), ("chiptune", "0"),
                                           ("satb", "10")])
def test_arrange_file_one_track_per_part(preset, tmp_path, name, horizon):
    out = tmp_path / "out.mid"
    proc = run_cli("arrange", str(demo_performance()), "-o", str(out), "--preset", name,
                   "--arranger", "closest-pitch", "--wav", str(tmp_path / "out.wav"),
                   "--horizon-ms", horizon)
    assert proc.returncode == 0, proc.stderr
    parts = preset(name).parts
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


# ---------------------------------------------------------------- bad input, bad targets
def _smf(track: bytes, division: int = 480) -> bytes:
    return (b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big")
            + (1).to_bytes(2, "big") + division.to_bytes(2, "big")
            + b"MTrk" + len(track).to_bytes(4, "big") + track)


_NOTE = b"\x00\x90\x3c\x40\x60\x80\x3c\x00\x00\xff\x2f\x00"


def _one_line_error(proc: subprocess.CompletedProcess[str], *texts: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for text in texts:
        assert text in proc.stderr, proc.stderr
    assert "wrote" not in proc.stdout


def test_reader_matches_mido_on_the_demo():
    mid = mido.MidiFile(str(demo_performance()))
    ref, now = [], 0.0
    for m in mid:
        now += m.time
        if m.type in ("note_on", "note_off", "control_change", "pitchwheel", "aftertouch",
                      "polytouch") and m.channel != 9:
            ref.append((now, m.copy(channel=0).bytes()))
    mine = read_performance(demo_performance())
    assert [m for _t, m in mine] == [m for _t, m in ref]
    assert max(abs(a - b) for (a, _), (b, _) in zip(mine, ref, strict=True)) < 1e-9


@pytest.mark.parametrize("data, text", [
    (_smf(_NOTE, division=0), "ticks_per_beat is 0"),
    (_smf(b"\x00\xff\x59\x02\x20\x07" + _NOTE), None),       # bad key signature: skipped
    (_smf(b"\x00\x90\x3c"), "ends inside a message"),
    (_smf(b"\x00\x3c\x40" + _NOTE), "data byte where a status byte"),
    (_smf(b"\x00\xff\x51"), "ends inside"),
    (b"MThd\x00\x00\x00\x06", "no MIDI header"),
])
def test_malformed_midi_is_one_line(tmp_path, data, text):
    src = tmp_path / "in.mid"
    src.write_bytes(data)
    proc = run_cli("arrange", str(src), "-o", str(tmp_path / "o.mid"), "--arranger",
                   "closest-pitch")
    if text is None:
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "o.mid").exists()
    else:
        _one_line_error(proc, str(src), text)
        assert not (tmp_path / "o.mid").exists()


def test_fifo_and_folder_inputs_are_refused_without_waiting(tmp_path):
    import os

    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    proc = run_cli("arrange", str(fifo), "-o", str(tmp_path / "o.mid"))
    _one_line_error(proc, str(fifo), "not a regular file")
    proc = run_cli("arrange", str(tmp_path), "-o", str(tmp_path / "o.mid"))
    _one_line_error(proc, "a directory")


def test_limits_on_notes_and_length(tmp_path):
    many = b"".join(b"\x00\x90\x3c\x40\x00\x80\x3c\x00" for _ in range(50)) + b"\x00\xff\x2f\x00"
    src = tmp_path / "many.mid"
    src.write_bytes(_smf(many))
    with pytest.raises(OfflineError, match="more than 10 notes"):
        read_performance(src, max_notes=10)
    # a gap of ~4.6 days (tempo 16.7 s per beat, the longest delta): refused, not read
    gap = (b"\x00\xff\x51\x03\xff\xff\xff" + b"\x00\x90\x3c\x40"
           + b"\xff\xff\xff\x7f\x80\x3c\x00\x00\xff\x2f\x00")
    src.write_bytes(_smf(gap, division=1))
    proc = run_cli("arrange", str(src), "-o", str(tmp_path / "o.mid"))
    _one_line_error(proc, str(src), "longer than 24 hours")


def test_wav_of_a_long_gap_is_refused_before_work(tmp_path):
    # two notes three hours apart: arranging is fine, audio that long is refused
    gap = (b"\x00\xff\x51\x03\x0f\x42\x40" + b"\x00\x90\x3c\x40\x00\x80\x3c\x00"
           + b"\xd4\x30\x90\x3e\x40\x00\x80\x3e\x00\x00\xff\x2f\x00")   # 10800 s
    src = tmp_path / "gap.mid"
    src.write_bytes(_smf(gap, division=1))
    proc = run_cli("arrange", str(src), "-o", str(tmp_path / "o.mid"), "--wav",
                   str(tmp_path / "o.wav"), "--arranger", "closest-pitch")
    _one_line_error(proc, "o.wav", "at most 7,200 s")
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("target", ["/proc/x.mid", "FILE/x.mid", "DIR"])
def test_unwritable_output_is_refused_at_start(tmp_path, target):
    (tmp_path / "FILE").write_text("a file")
    (tmp_path / "DIR").mkdir()
    out = target if target.startswith("/") else str(tmp_path / target)
    proc = run_cli("arrange", str(demo_performance()), "-o", out, "--arranger",
                   "closest-pitch")
    _one_line_error(proc, out, "cannot write")
    assert "notes in" not in proc.stdout                 # refused before arranging
    assert not list((tmp_path / "DIR").iterdir())
    proc = run_cli("arrange", str(demo_performance()), "-o", str(tmp_path / "o.mid"),
                   "--wav", "/proc/y.wav", "--arranger", "closest-pitch")
    _one_line_error(proc, "/proc/y.wav", "cannot write")


def _key_ticks(path) -> list[tuple[int, str, int]]:
    """(tick, on/off, key) of every note message of every track of a .mid file."""
    out = []
    for track in mido.MidiFile(str(path)).tracks:
        tick = 0
        for m in track:
            tick += m.time
            if m.type in ("note_on", "note_off"):
                out.append((tick, "on" if m.type == "note_on" and m.velocity else "off",
                            m.note))
    return sorted(out)


def test_an_arrangement_keeps_every_time_under_a_slow_start_up(satb, tmp_path):
    # chords whose keys arrive a few ticks apart (moved within the horizon), the first
    # a second in; a clock 50 ms later at every reading: start-up and every step slower
    # than the music, which must not move a single tick
    performance, played = [], []
    for c, chord in enumerate([(48, 55, 64, 72), (50, 57, 65, 74), (43, 59, 62, 67)]):
        base = int(TICKS_PER_SECOND) * (c + 1)
        for k, key in enumerate(reversed(chord)):          # top down: keys move
            performance.append(((base + 5 * k) / TICKS_PER_SECOND, [0x90, key, 80]))
            played.append((base + 5 * k, "on", key))
        for key in chord:
            performance.append(((base + 700) / TICKS_PER_SECOND, [0x80, key, 0]))
            played.append((base + 700, "off", key))
    slow = itertools.count(0, 50_000_000).__next__
    result = arrange_performance(performance, tmp_path / "o.mid", satb, "closest-pitch",
                                 horizon_ms=30, clock_ns=slow)
    assert result.snapshot.moves                       # moves were made, and kept time
    assert _key_ticks(tmp_path / "o.mid") == sorted(played)


@pytest.mark.parametrize("name", ["x.mp3", "x", "x.wav.flac"])
def test_audio_under_a_name_that_is_not_wav_is_refused_before_work(tmp_path, name):
    proc = run_cli("arrange", str(demo_performance()), "-o", str(tmp_path / "o.mid"),
                   "--wav", str(tmp_path / name), "--arranger", "closest-pitch")
    _one_line_error(proc, str(tmp_path / name), "WAV only")
    assert not list(tmp_path.iterdir())                  # nothing written, no o.mid


def test_a_slow_start_up_is_no_silence_in_the_demo(satb, tmp_path, monkeypatch):
    # the engine's thread starting half a second late, the demo played 10x: before,
    # the file opened with 5 s of silence (and a demo at 2000x lasted minutes)
    import time

    import livearranger.offline as offline

    start = offline.Engine.start

    def slow_start(self) -> None:
        time.sleep(0.5)
        start(self)

    monkeypatch.setattr(offline.Engine, "start", slow_start)
    result = offline.run_demo(tmp_path, satb, "closest-pitch", speed=10)
    written = read_performance(demo_performance())
    first = min(t for t, m in written if m[0] & 0xF0 == 0x90 and m[2])
    length = written[-1][0] - first
    got = _key_ticks(tmp_path / "demo.mid")
    first_on = min(tick for tick, kind, _key in got if kind == "on") / TICKS_PER_SECOND
    assert abs(first_on - first) < 1.0                   # not the start-up, times ten
    assert result.wav is not None
    assert result.wav["seconds"] < first + length + 2.5  # the tail is 1.5 s
    with pytest.raises(BadValue, match="at most 100"):
        offline.run_demo(tmp_path, satb, "closest-pitch", speed=2000)


def test_a_failed_save_at_the_end_is_an_error(satb, tmp_path, monkeypatch):
    import livearranger.offline as offline

    real = offline.Recorder

    def recorder_whose_folder_goes(preset, dst):
        (tmp_path / "gone").rename(tmp_path / "moved")   # after the check at start
        (tmp_path / "gone").write_text("now a file")
        return real(preset, dst)

    monkeypatch.setattr(offline, "Recorder", recorder_whose_folder_goes)
    with pytest.raises(OfflineError, match="o.mid: cannot write"):
        offline.arrange_file(demo_performance(), tmp_path / "gone" / "o.mid",
                             satb, "closest-pitch")


def test_names_outside_latin1_are_written(tmp_path):
    preset = tmp_path / "uni.toml"
    preset.write_text('name = "מקהלה"\narranger = "top-bottom"\n[[parts]]\nname = "🎻 violin"\n'
                      'program = 40\nchannel = 1\n[[parts]]\nname = "בס"\nprogram = 32\n'
                      'channel = 2\n', encoding="utf-8")
    out = tmp_path / "o.mid"
    proc = run_cli("arrange", str(demo_performance()), "-o", str(out), "--preset",
                   str(preset))
    assert proc.returncode == 0, proc.stderr
    mid = mido.MidiFile(str(out), charset="utf-8")
    assert [t.name for t in mid.tracks] == ["מקהלה", "🎻 violin", "בס"]
    assert sum(_note_ons(out).values()) > 100


def test_random_corrupt_midi_gives_output_or_one_line(satb, tmp_path_factory):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from livearranger.offline import arrange_file

    good = demo_performance().read_bytes()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)),
                    max_size=12), st.integers(14, len(good)))
    def check(flips, cut):
        data = bytearray(good[:cut])
        for at, value in flips:
            if at < len(data):
                data[at] = value
        folder = tmp_path_factory.mktemp("fuzz")
        src = folder / "in.mid"
        src.write_bytes(bytes(data))
        try:
            arrange_file(src, folder / "o.mid", satb, "closest-pitch")
        except OfflineError as exc:
            assert "\n" not in str(exc) and str(src) in str(exc)
        else:
            assert (folder / "o.mid").stat().st_size > 0

    check()


def test_arranging_a_long_file_shows_its_progress(tmp_path):
    """Work over a second reports how far it is (stderr, one line per tenth in a log)."""
    src, out = tmp_path / "long.mid", tmp_path / "out.mid"
    mid = mido.MidiFile()
    track = mido.MidiTrack()
    mid.tracks.append(track)
    for k in range(12000):
        track.append(mido.Message("note_on", note=48 + k * 5 % 30, velocity=80, time=0))
        track.append(mido.Message("note_off", note=48 + k * 5 % 30, time=60))
    mid.save(str(src))
    proc = run_cli("arrange", str(src), "-o", str(out), "--preset", "satb",
                   "--arranger", "model", "--horizon-ms", "0")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("arranging: ")]
    assert lines and lines[-1].startswith("arranging: long.mid: 100%"), proc.stderr
    assert sum(_note_ons(out).values()) == 12000
