"""What a playing session is set up with: preset, arranger, ports, synth, modes."""

from __future__ import annotations

from dataclasses import dataclass, field

from livearranger.io.midi_io import default_api
from livearranger.osc import DEFAULT_OSC_HOST
from livearranger.output_set import OutputPlan


@dataclass
class SessionConfig:
    """What to play with: preset, arranger, MIDI API, input and outputs."""

    preset: str = "satb"
    arranger: str | None = None           # None: the preset's own choice
    api: str = field(default_factory=default_api)
    input: str | None = "virtual"         # port name/prefix, "virtual", or None
    outputs: list[str] = field(default_factory=lambda: ["synth"])  # OUTPUT_KINDS or a port
    record: str | None = None             # .mid path to record to from the start
    soundfont: str | None = None
    audio_driver: str | None = None
    period_size: int = 128
    temperature: float = 0.0
    provider: str = "cpu"
    client: str = "livearranger"
    horizon_ms: float | None = None       # None: the preset's own correction horizon
    daw_mode: str = "live"                # MIDI port outputs: "live" moves, or "print"
    synth_mode: str = "live"              # the built-in synth: the same two modes
    osc_port: int = 0                     # OSC control on this UDP port (0: none)
    osc_host: str = DEFAULT_OSC_HOST      # where it listens (loopback: this machine only)

    def output_plan(self) -> OutputPlan:
        return OutputPlan(api=self.api, client=self.client, kinds=tuple(self.outputs),
                          daw_mode=self.daw_mode, synth_mode=self.synth_mode,
                          soundfont=self.soundfont, audio_driver=self.audio_driver,
                          period_size=self.period_size)
