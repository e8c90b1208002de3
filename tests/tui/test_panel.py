"""A panel redrawn from stats polls skips the redraw when nothing changed."""

from __future__ import annotations

from rich.text import Text

from livearranger.tui.panel import CachedPanel
from tests.tui.conftest import Host


async def test_a_panel_redraws_only_for_a_new_key_or_after_a_resize() -> None:
    panel = CachedPanel()
    async with Host(panel).run_test(size=(50, 10)):
        assert panel.changed(("a", 1))
        assert not panel.changed(("a", 1))
        assert panel.changed(("a", 2))
        panel.draw(Text("hello panel"))
        assert panel.plain.strip() == "hello panel"
        panel.on_resize()
        assert panel.changed(("a", 2))               # the same key, drawn again
