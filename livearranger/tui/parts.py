"""Live view: the incoming notes and, per part, what sounds now (a keyboard strip in
the part's colour), its note count and its last notes."""

from __future__ import annotations

from livearranger.presets import Preset
from livearranger.stats import Snapshot
from livearranger.tui.panel import CachedPanel
from livearranger.tui.render import live_view


class LiveView(CachedPanel):
    """Redrawn from each stats poll; draws nothing new when nothing changed."""

    BORDER_TITLE = "Live"

    def show(self, snap: Snapshot | None, preset: Preset | None) -> None:
        width = self.text_width
        height = self.content_region.height or 100
        if not self.changed((snap, preset, width, height)):
            return
        self.draw(live_view(snap, preset, width, height))
