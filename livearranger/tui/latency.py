"""Latency monitor: end-to-end (callback to send) and model step p50/p99/max, a
sparkline with spikes highlighted, and the built-in synth's audio buffer."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from livearranger.stats import Snapshot
from livearranger.tui.render import latency_table, plain_text, sparkline, spikes


class LatencyPanel(Static):
    """Figures from the engine's latency rings, redrawn at each stats poll."""

    BORDER_TITLE = "Latency"

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._last: tuple[object, ...] | None = None
        self.shown: RenderableType = ""

    def show(self, snap: Snapshot | None, audio: str) -> None:
        width = max(8, self.content_region.width or 60)
        key = (snap, audio, width)
        if key == self._last:
            return
        self._last = key
        recent = snap.latency_recent if snap else []
        median = snap.latency.get("p50_ms", 0.0) if snap else 0.0
        n_spikes = spikes(recent, median)
        label = Text(f"last {len(recent)} notes, end-to-end: ", style="dim")
        if n_spikes:
            label.append(f"{n_spikes} spike{'s' if n_spikes > 1 else ''}", style="bold red")
        else:
            label.append("no spikes", style="green")
        self.shown = Group(latency_table(snap), label, sparkline(recent, width, median),
                           Text(audio, style="cyan"))
        self.update(self.shown)

    @property
    def plain(self) -> str:
        """What the panel shows now, as plain text."""
        return plain_text(self.shown, max(8, self.content_region.width or 60))

    def on_resize(self) -> None:
        self._last = None
