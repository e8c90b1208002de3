"""The built-in synth: FluidSynth with a General MIDI soundfont, live or to WAV.

Live audio goes through FluidSynth's own driver (ALSA, PulseAudio, JACK, CoreAudio)
with a small buffer, so no Python runs in the audio thread.  Offline rendering uses
``get_samples`` and needs no audio device.
"""

from __future__ import annotations

import ctypes
import os
import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from livearranger.errors import LiveArrangerError
from livearranger.events import (
    AFTERTOUCH,
    BEND_CENTRE,
    CHANNEL_MASK,
    CONTROL,
    KIND_MASK,
    NOTE_OFF,
    NOTE_ON,
    PITCHBEND,
    POLY_AFTERTOUCH,
    PROGRAM,
)
from livearranger.files import discard
from livearranger.io.output import Output
from livearranger.io.quiet import quiet_stderr
from livearranger.presets import Preset


class SynthError(LiveArrangerError):
    """The synth cannot run (no soundfont, no FluidSynth library, no audio driver)."""


SOUNDFONT_PLACES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
    "/usr/local/share/soundfonts/default.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "~/.local/share/soundfonts/default.sf2",
)


def find_soundfont(explicit: str | None = None) -> Path:
    """The soundfont to use: ``explicit``, ``$LIVEARRANGER_SOUNDFONT``, or the first GM
    soundfont in the standard places.  Raises SynthError saying how to get one."""
    for candidate in (explicit, os.environ.get("LIVEARRANGER_SOUNDFONT")):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.exists():
                raise SynthError(f"soundfont {candidate} does not exist")
            check_soundfont(path)
            return path
    for place in SOUNDFONT_PLACES:
        path = Path(place).expanduser()
        if path.is_file():
            return path
    raise SynthError("no General MIDI soundfont found: install one (Debian: apt install "
                     "fluid-soundfont-gm) or pass --soundfont FILE.sf2")


SOUNDFONT_MAGIC = (b"RIFF", b"sfbk")   # a RIFF file of form "sfbk": SF2, and SF3


def check_soundfont(path: Path) -> None:
    """SynthError (one line naming ``path``) unless it is a regular file that begins as a
    SoundFont does; FluidSynth would print several lines of its own for anything else."""
    if not path.is_file():
        raise SynthError(f"soundfont {path}: not a regular file")
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as exc:
        raise SynthError(f"soundfont {path}: cannot read ({exc.strerror or exc})") from None
    if (head[:4], head[8:12]) != SOUNDFONT_MAGIC:
        raise SynthError(f"soundfont {path}: not a SoundFont (.sf2 or .sf3) file")


def _fluidsynth() -> Any:
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:
        raise SynthError(f"FluidSynth is not available ({exc}); Debian: apt install "
                         "libfluidsynth3") from None
    return fluidsynth


class Synth:
    """A FluidSynth instance with each part's program on its channel."""

    def __init__(self, preset: Preset, soundfont: str | Path | None = None,
                 sample_rate: int = 48000, gain: float = 0.6, **settings: object) -> None:
        fs_mod = _fluidsynth()
        self.soundfont = find_soundfont(str(soundfont) if soundfont else None)
        self.sample_rate = sample_rate
        self._fs = fs_mod.Synth(gain=gain, samplerate=float(sample_rate), **settings)
        with quiet_stderr():          # a damaged soundfont: our one line, not FluidSynth's
            self._sfid = self._fs.sfload(str(self.soundfont))
        if self._sfid < 0:
            self._fs.delete()
            raise SynthError(f"{self.soundfont} is not a usable soundfont")
        lib = fs_mod._fl
        self._pressure = lib.fluid_synth_channel_pressure
        self._pressure.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
        self._key_pressure = getattr(lib, "fluid_synth_key_pressure", None)
        if self._key_pressure is not None:
            self._key_pressure.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                           ctypes.c_int)
        self.driver = ""
        self.set_preset(preset)

    def set_preset(self, preset: Preset) -> None:
        """Select each part's GM program on its channel."""
        self.preset = preset
        for part in preset.parts:
            self._fs.program_select(part.channel, self._sfid, 0, part.program)

    def programs(self) -> list[tuple[int, str]]:
        """(program, preset name in the soundfont) now selected on each part's channel."""
        out = []
        for part in self.preset.parts:
            _sfid, _bank, program, name = self._fs.channel_info(part.channel)
            out.append((program, name))
        return out

    def apply(self, message: list[int]) -> None:
        """Play one raw channel-voice message."""
        status = message[0]
        kind, ch = status & KIND_MASK, status & CHANNEL_MASK
        fs = self._fs
        if kind == NOTE_ON:
            if message[2]:
                fs.noteon(ch, message[1], message[2])
            else:
                fs.noteoff(ch, message[1])
        elif kind == NOTE_OFF:
            fs.noteoff(ch, message[1])
        elif kind == CONTROL:
            fs.cc(ch, message[1], message[2])
        elif kind == PITCHBEND:
            fs.pitch_bend(ch, (message[1] | (message[2] << 7)) - BEND_CENTRE)
        elif kind == AFTERTOUCH:
            self._pressure(fs.synth, ch, message[1])
        elif kind == POLY_AFTERTOUCH and self._key_pressure is not None:
            self._key_pressure(fs.synth, ch, message[1], message[2])
        elif kind == PROGRAM:
            fs.program_change(ch, message[1])

    def start_audio(self, driver: str | None = None, period_size: int = 128,
                    periods: int = 2) -> float:
        """Start live audio; return the buffer latency in ms.  Raises SynthError."""
        fs = self._fs
        fs.setting("audio.period-size", period_size)
        fs.setting("audio.periods", periods)
        driver = driver or fs.get_setting("audio.driver")
        fs.setting("audio.driver", driver)
        fs_mod = _fluidsynth()
        with quiet_stderr():
            fs.audio_driver = fs_mod.new_fluid_audio_driver(fs.settings, fs.synth)
        if not fs.audio_driver:
            raise SynthError(f"no audio output through FluidSynth's {driver!r} driver "
                             "(no sound card or server?); try --audio-driver or --out virtual")
        self.driver = driver
        return 1000.0 * period_size * periods / self.sample_rate

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` stereo frames as int16, shape (frames, 2)."""
        return np.asarray(self._fs.get_samples(frames), dtype=np.int16).reshape(-1, 2)

    def close(self) -> None:
        self._fs.delete()


class SynthOutput(Output):
    """Router output into a live ``Synth``."""

    def __init__(self, synth: Synth) -> None:
        self.synth = synth

    def _send(self, part: int, message: list[int], time: float) -> None:
        self.synth.apply(message)

    def _close(self) -> None:
        self.synth.close()


MAX_RENDER_SECONDS = 2 * 3600.0   # the longest performance rendered to audio
_BLOCK = 1 << 16                 # frames rendered at a time: memory stays bounded


WAV_SUFFIX = ".wav"


def check_wav_name(path: str | Path) -> None:
    """SynthError when ``path`` is not named .wav: what is written there is WAV data, and
    a player asking for x.mp3 would get WAV data under a name that says otherwise."""
    if Path(path).suffix.lower() != WAV_SUFFIX:
        raise SynthError(f"{path}: audio is written as WAV only: name the file "
                         f"{Path(path).stem or 'audio'}{WAV_SUFFIX}")


def check_render_length(seconds: float, path: str | Path) -> None:
    """SynthError when a performance of ``seconds`` is too long to render to ``path``."""
    if seconds > MAX_RENDER_SECONDS:
        raise SynthError(f"{path}: the performance lasts {seconds:,.0f} s; audio is "
                         f"rendered for at most {MAX_RENDER_SECONDS:,.0f} s")


def render_wav(messages: Iterable[tuple[float, list[int]]], preset: Preset, path: str | Path,
               soundfont: str | Path | None = None, sample_rate: int = 44100,
               tail: float = 1.5) -> dict[str, float]:
    """Render timed messages (seconds, raw bytes) to a 16-bit stereo WAV with no audio
    device, in blocks straight to the file (memory stays flat whatever the length,
    which is at most ``MAX_RENDER_SECONDS``).  Returns the length in seconds, the peak
    and the RMS (full scale = 1).  Raises SynthError naming the file."""
    check_wav_name(path)
    timed = sorted(messages, key=lambda m: m[0])
    path = Path(path)
    if timed:
        check_render_length(timed[-1][0], path)
    tmp = path.with_name(path.name + ".part")
    synth = Synth(preset, soundfont, sample_rate=sample_rate)
    frames, peak, energy = 0, 0, 0.0

    def emit(w: wave.Wave_write, count: int) -> None:
        nonlocal frames, peak, energy
        while count > 0:
            block = synth.render(min(count, _BLOCK))
            count -= block.shape[0]
            if block.size == 0:
                break
            w.writeframes(block.tobytes())
            frames += block.shape[0]
            peak = max(peak, int(np.abs(block.astype(np.int32)).max()))
            energy += float(np.square(block.astype(np.float64) / 32768.0).sum())

    try:
        with open(tmp, "wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            for t, msg in timed:
                frame = int(round(max(t, 0.0) * sample_rate))
                if frame > frames:
                    emit(w, frame - frames)
                synth.apply(msg)
            emit(w, int(tail * sample_rate))
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise SynthError(f"{path}: cannot write audio ({exc.strerror or exc})") from None
    finally:
        synth.close()
    return {
        "seconds": frames / sample_rate,
        "peak": peak / 32768.0,
        "rms": float(np.sqrt(energy / (2 * frames))) if frames else 0.0,
    }
