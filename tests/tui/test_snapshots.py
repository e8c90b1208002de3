"""Snapshot tests of the main screens, with injected, fixed engine figures and ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.widgets import Input

from livearranger.session import SessionConfig
from livearranger.stats import Snapshot
from livearranger.tui.app import LiveArrangerApp
from livearranger.tui.controller import Controller
from livearranger.tui.controls import PresetEntry
from tests.tui.conftest import fake_ports, memory_session

SIZE = (120, 40)

FIXED = Snapshot(
    part_names=["soprano", "alto", "tenor", "bass"],
    counts=[14, 11, 12, 9],
    sounding=[[72], [67], [60, 64], [48]],
    recent=[[67, 69, 71, 72], [64, 65, 67], [55, 57, 60, 64], [43, 45, 47, 48]],
    latency={"count": 46, "p50_ms": 0.21, "p99_ms": 2.35, "max_ms": 2.6},
    assign={"count": 46, "p50_ms": 0.052, "p99_ms": 0.11, "max_ms": 0.13},
    latency_recent=[0.18 + 0.01 * (i % 7) for i in range(40)] + [2.6] +
                   [0.2 + 0.02 * (i % 5) for i in range(5)],
    notes_in=46,
    ignored=1,
    last_input=(72, 96),
    arranger="model (onnxruntime CPUExecutionProvider, window 64)",
    preset="satb",
    errors=[],
    horizon_ms=30.0,
    moves=3,
)

PRESETS = [PresetEntry("chiptune", False), PresetEntry("my-band", True),
           PresetEntry("pop-band", False), PresetEntry("satb", False),
           PresetEntry("string-quartet", False)]


@pytest.fixture()
def app(user_presets: str, tmp_path: Path) -> Iterator[LiveArrangerApp]:
    # pictures of the screens need no model: a rule opens in no time (figures are fixed)
    session, _ = memory_session("satb", arranger="closest-pitch")
    # what a session with the built-in synth would report (no sound card in tests)
    session.output_names = ["synth (pulseaudio, 5.3 ms buffer)"]
    session.synth = SimpleNamespace(driver="pulseaudio")
    session.audio_latency_ms = 5.333
    session.warnings.append("model file not found; playing with closest-pitch instead")
    controller = Controller(SessionConfig(preset="satb", api="jack", input=None,
                                          outputs=["synth"]),
                            session=session, port_lister=fake_ports, record_dir=tmp_path,
                            preset_lister=lambda: list(PRESETS))
    app = LiveArrangerApp(controller, stats_source=lambda: FIXED)
    try:
        yield app
    finally:
        session.synth = None
        controller.close()


def test_main_screen(snap_compare, app: LiveArrangerApp) -> None:
    assert snap_compare(app, terminal_size=SIZE)


def test_help_screen(snap_compare, app: LiveArrangerApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, press=["question_mark"])


def test_ports_screen(snap_compare, app: LiveArrangerApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, press=["p"])


def test_edit_part_screen(snap_compare, app: LiveArrangerApp) -> None:
    async def open_form(pilot) -> None:
        await pilot.press("tab", "down", "e")
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False          # a blinking cursor is not deterministic
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_form)


def test_arranger_screen(snap_compare, app: LiveArrangerApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, press=["a"])
