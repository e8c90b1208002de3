"""The built-in FluidSynth synth with a real GM soundfont, rendered with no audio device."""

from __future__ import annotations

import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from livearranger.io.synth import Synth, SynthError, find_soundfont, render_wav
from livearranger.offline import demo_performance


@pytest.mark.parametrize("name", ["satb", "string-quartet", "pop-band", "chiptune"])
def test_each_part_sounds_on_its_own_program(preset, name, tmp_path):
    chosen = preset(name)
    synth = Synth(chosen, sample_rate=22050)
    try:
        assert [prog for prog, _ in synth.programs()] == [p.program for p in chosen.parts]
        renders = []
        for part in chosen.parts:
            pitch = (part.low + part.high) // 2
            synth.apply([0x90 | part.channel, pitch, 100])
            audio = synth.render(11025)
            synth.apply([0x80 | part.channel, pitch, 0])
            synth.render(22050)                       # let it die away
            rms = float(np.sqrt(np.mean((audio / 32768.0) ** 2)))
            assert rms > 0.002, f"{name}/{part.name} is silent"
            renders.append(audio[:, 0].astype(np.float64))
    finally:
        synth.close()
    spectra = [np.abs(np.fft.rfft(r)) for r in renders]
    distinct = {tuple(np.round(s[:2000] / (s.max() + 1e-9), 2)) for s in spectra}
    assert len(distinct) == len(renders)              # no two parts sound identical


def test_render_wav_writes_sound(satb, tmp_path):
    msgs = [(0.0, [0x90, 72, 100]), (0.5, [0x80, 72, 0]), (0.2, [0x93, 48, 90]),
            (0.8, [0x83, 48, 0])]
    path = tmp_path / "x.wav"
    stats = render_wav(msgs, satb, path, sample_rate=22050, tail=0.5)
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 2 and w.getframerate() == 22050
        assert abs(w.getnframes() / 22050 - 1.3) < 0.01
    assert stats["peak"] > 0.01


def test_missing_soundfont_is_a_clear_error(satb, tmp_path):
    with pytest.raises(SynthError, match="does not exist"):
        find_soundfont(str(tmp_path / "none.sf2"))
    bogus = tmp_path / "bogus.sf2"
    bogus.write_bytes(b"not a soundfont")
    with pytest.raises(SynthError, match="bogus.sf2: not a SoundFont"):
        Synth(satb, bogus)


def test_a_file_that_is_no_soundfont_is_one_line_naming_it(satb, tmp_path, capfd):
    damaged = tmp_path / "damaged.sf2"                   # begins as one, then garbage
    damaged.write_bytes(b"RIFF\x10\x00\x00\x00sfbkLIST" + bytes(range(256)) * 4)
    with pytest.raises(SynthError, match="damaged.sf2 is not a usable soundfont"):
        Synth(satb, damaged)
    for path, problem in (("/dev/zero", "not a regular file"),
                          (str(tmp_path), "not a regular file")):
        with pytest.raises(SynthError, match=re.escape(f"soundfont {path}: {problem}")):
            find_soundfont(path)
    assert capfd.readouterr().err == ""                  # FluidSynth's own lines: none
    proc = subprocess.run([sys.executable, "-m", "livearranger", "arrange",
                           str(demo_performance()), "-o", str(tmp_path / "o.mid"), "--wav",
                           str(tmp_path / "o.wav"), "--soundfont", "/dev/zero",
                           "--arranger", "closest-pitch"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "livearranger: error: soundfont /dev/zero: not a regular file"]
    assert not (tmp_path / "o.mid").exists()             # refused before the work


@pytest.mark.skipif(Path("/dev/snd").exists(), reason="this machine has a sound card")
def test_live_audio_without_a_sound_card_fails_cleanly(satb):
    synth = Synth(satb)
    try:
        with pytest.raises(SynthError, match="no audio output"):
            synth.start_audio("alsa")
    finally:
        synth.close()
