"""The status line and the message log."""

from __future__ import annotations

from livearranger.tui.status import MessageLog, StatusBar
from tests.tui.conftest import Host


async def test_the_status_line_says_ports_a_lost_input_and_recording() -> None:
    bar = StatusBar()
    async with Host(bar).run_test():
        bar.show("jack", "keys:out", False, ["synth", "daw:in"], None)
        assert bar.plain == " JACK   in keys:out  out synth, daw:in  ○ not recording (r)"
        bar.show("alsa", "keys:out", True, [], "/tmp/take.mid")
        assert "keys:out (gone: press p to re-pick)" in bar.plain
        assert "out none" in bar.plain and "● REC /tmp/take.mid" in bar.plain


async def test_the_log_keeps_every_line_marked_by_its_kind() -> None:
    log = MessageLog()
    async with Host(log).run_test():
        log.info("preset satb")
        log.warning("no synth")
        log.error("port gone")
    assert log.lines_text == ["preset satb", "warning: no synth", "error: port gone"]
