"""Latency monitor: end-to-end (callback to send) and model step p50/p99/max, a
sparkline with spikes highlighted, and the built-in synth's audio buffer."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from livearranger.stats import Snapshot
from livearranger.tui.panel import CachedPanel
from livearranger.tui.render import latency_table, sparkline, spikes


class LatencyPanel(CachedPanel):
    """Figures from the engine's latency rings, redrawn at each stats poll."""

    BORDER_TITLE = "Latency"

    def show(self, snap: Snapshot | None, audio: str) -> None:
        width = self.text_width
        if not self.changed((snap, audio, width)):
            return
        recent = snap.latency_recent if snap else []
        median = snap.latency.get("p50_ms", 0.0) if snap else 0.0
        n_spikes = spikes(recent, median)
        label = Text(f"last {len(recent)} notes, end-to-end: ", style="dim")
        if n_spikes:
            label.append(f"{n_spikes} spike{'s' if n_spikes > 1 else ''}", style="bold red")
        else:
            label.append("no spikes", style="green")
        self.draw(Group(latency_table(snap), label, sparkline(recent, width, median),
                        Text(audio, style="cyan")))
