"""A panel redrawn from stats polls that skips the redraw when nothing changed."""

from __future__ import annotations

from rich.console import RenderableType
from textual.widgets import Static

from livearranger.tui.render import plain_text


class CachedPanel(Static):
    """Keeps what it shows and the key it was drawn from; ``changed(key)`` says whether
    a redraw is due (a resize always forces one)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._last: tuple[object, ...] | None = None
        self.shown: RenderableType = ""

    @property
    def text_width(self) -> int:
        """Usable width in cells."""
        return max(8, self.content_region.width or 60)

    def changed(self, key: tuple[object, ...]) -> bool:
        """True (and remember ``key``) when the panel must be drawn again."""
        if key == self._last:
            return False
        self._last = key
        return True

    def draw(self, renderable: RenderableType) -> None:
        self.shown = renderable
        self.update(renderable)

    @property
    def plain(self) -> str:
        """What the panel shows now, as plain text."""
        return plain_text(self.shown, self.text_width)

    def on_resize(self) -> None:
        self._last = None
