"""The live view: per part, what sounds now and its notes."""

from __future__ import annotations

from dataclasses import replace

from livearranger.tui.parts import LiveView
from tests.test_control import _snapshot
from tests.tui.conftest import Host


async def test_each_part_of_the_preset_is_shown_with_its_count(preset) -> None:
    view = LiveView()
    choir = preset("satb")
    snap = replace(_snapshot(), part_names=choir.part_names, counts=[3, 4, 0, 11],
                   sounding=[[72], [], [], [40]], recent=[[72], [64], [], [40]])
    async with Host(view).run_test(size=(100, 30)):
        view.show(snap, choir)
        rows = {line.split()[1]: line.split()[2] for line in view.plain.splitlines()
                if line.startswith("■")}
        assert rows == {"soprano": "3", "alto": "4", "tenor": "0", "bass": "11"}
        assert "notes in 7" in view.plain
        before = view.shown
        view.show(snap, choir)                         # nothing changed: not drawn again
        assert view.shown is before
