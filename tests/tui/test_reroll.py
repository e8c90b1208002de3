"""The re-roll key (n): the take's keys arranged again by the sampling model, in a
worker thread, into TAKE-reroll-K.mid beside the take."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from livearranger.presets import load_preset
from livearranger.session import SessionConfig
from livearranger.tui.app import LiveArrangerApp
from livearranger.tui.controller import Controller
from livearranger.tui.controls import ActionError
from livearranger.tui.remote import RemoteController
from livearranger.tui.status import MessageLog
from tests.test_reroll import keys_of
from tests.tui.conftest import Rig, fake_ports, memory_session, until

SIZE = (120, 40)
KEY = "n"
REROLL_WAIT_S = 60.0     # loading the model and arranging, on a loaded machine


def log_lines(app: LiveArrangerApp) -> list[str]:
    return app.query_one(MessageLog).lines_text


def in_ranges(path: Path, preset_name: str) -> bool:
    preset = load_preset(preset_name)
    tracks = mido.MidiFile(str(path)).tracks[1:]
    return all(part.in_range(m.note - part.transpose)
               for part, track in zip(preset.parts, tracks, strict=True)
               for m in track if m.type == "note_on" and m.velocity)


def play_chords(rig: Rig) -> None:
    for chord in ((48, 55, 64, 72), (50, 57, 65, 74), (43, 59, 62, 67)):
        rig.play(*[[0x90, p, 90] for p in chord])
        rig.play(*[[0x80, p, 0] for p in chord])


async def test_reroll_key_writes_numbered_rerolls_of_the_take(rig: Rig) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        await pilot.press(KEY)
        await until(pilot, lambda: any("no take to re-roll yet" in ln
                                       for ln in log_lines(rig.app)), what="no take")
        await pilot.press("r")
        play_chords(rig)
        take = Path(str(rig.session.recording))
        first = take.with_name(f"{take.stem}-reroll-1.mid")
        await pilot.press(KEY)                 # while recording: the take so far
        await until(pilot, lambda: any(f"wrote {first}" in ln for ln in log_lines(rig.app)),
                    timeout=REROLL_WAIT_S, what="the first re-roll")
        line = next(ln for ln in log_lines(rig.app) if f"wrote {first}" in ln)
        assert "of 12 notes" in line and "on another part than in the take" in line
        await pilot.press("r")                 # saved: the last take is re-rolled now
        await until(pilot, lambda: take.exists(), what="the saved take")
        second = take.with_name(f"{take.stem}-reroll-2.mid")
        await pilot.press(KEY)
        await until(pilot, lambda: any(f"wrote {second}" in ln
                                       for ln in log_lines(rig.app)),
                    timeout=REROLL_WAIT_S, what="the second re-roll")
    for path in (first, second):
        assert keys_of(path) == keys_of(take) and len(keys_of(path)) == 12
        assert in_ranges(path, "satb")
    assert first.exists()                      # never overwritten


async def test_reroll_with_a_rule_arranger_says_so_and_writes_nothing(
        user_presets: str, tmp_path: Path) -> None:
    session, out = memory_session("satb", arranger="closest-pitch")
    controller = Controller(SessionConfig(preset="satb", arranger="closest-pitch",
                                          input=None, outputs=[]),
                            session=session, port_lister=fake_ports, record_dir=tmp_path)
    app = LiveArrangerApp(controller, poll_hz=30)
    rig = Rig(app, session, out, controller)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r")
            play_chords(rig)
            await pilot.press(KEY)
            await until(pilot, lambda: any("'closest-pitch' is a rule" in ln
                                           for ln in log_lines(app)), what="the notice")
            await pilot.pause(0.2)
            assert not list(tmp_path.glob("*-reroll-*"))
            assert sum("is a rule" in ln for ln in log_lines(app)) == 1
    finally:
        controller.close()


def test_attached_ui_sends_the_player_to_the_instruments_own_ui() -> None:
    remote = RemoteController(9)               # never opened: nothing is sent
    with pytest.raises(ActionError, match="re-roll is available in the instrument's own UI"):
        remote.reroll()
