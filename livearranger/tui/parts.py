"""Live view: the incoming notes and, per part, what sounds now (a keyboard strip in
the part's colour), its note count and its last notes."""

from __future__ import annotations

from rich.console import RenderableType
from textual.widgets import Static

from livearranger.presets import Preset
from livearranger.stats import Snapshot
from livearranger.tui.render import live_view, plain_text


class LiveView(Static):
    """Redrawn from each stats poll; draws nothing new when nothing changed."""

    BORDER_TITLE = "Live"

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._last: tuple[object, ...] | None = None
        self.shown: RenderableType = ""

    def show(self, snap: Snapshot | None, preset: Preset | None) -> None:
        width = max(8, self.content_region.width or 60)
        height = self.content_region.height or 100
        key = (snap, preset, width, height)
        if key == self._last:
            return
        self._last = key
        self.shown = live_view(snap, preset, width, height)
        self.update(self.shown)

    @property
    def plain(self) -> str:
        """What the panel shows now, as plain text."""
        return plain_text(self.shown, max(8, self.content_region.width or 60))

    def on_resize(self) -> None:
        self._last = None
