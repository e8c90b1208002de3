"""The latency monitor: figures from the engine's rings, spikes named."""

from __future__ import annotations

from dataclasses import replace

from livearranger.tui.latency import LatencyPanel
from tests.test_control import _snapshot
from tests.tui.conftest import Host


async def test_figures_spikes_and_the_audio_line() -> None:
    panel = LatencyPanel()
    quiet = replace(_snapshot(), latency_recent=[0.5] * 8,
                    latency={"count": 8, "p50_ms": 0.5, "p99_ms": 0.75, "max_ms": 0.875})
    async with Host(panel).run_test(size=(80, 12)):
        panel.show(quiet, "synth: off")
        text = panel.plain
        assert "0.500" in text and "0.875" in text
        assert "last 8 notes, end-to-end: no spikes" in text and "synth: off" in text
        panel.show(replace(quiet, latency_recent=[0.5] * 6 + [40.0, 50.0]), "synth: off")
        assert "2 spikes" in panel.plain
        panel.show(None, "synth: off")
        assert "last 0 notes" in panel.plain
