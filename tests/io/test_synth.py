"""The built-in FluidSynth synth with a real GM soundfont, rendered with no audio device."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from livearranger.io.synth import Synth, SynthError, find_soundfont, render_wav


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
    with pytest.raises(SynthError, match="not a usable soundfont"):
        Synth(satb, bogus)


@pytest.mark.skipif(Path("/dev/snd").exists(), reason="this machine has a sound card")
def test_live_audio_without_a_sound_card_fails_cleanly(satb):
    synth = Synth(satb)
    try:
        with pytest.raises(SynthError, match="no audio output"):
            synth.start_audio("alsa")
    finally:
        synth.close()
