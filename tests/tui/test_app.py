"""Pilot tests of every interaction of the front panel, on the real engine."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import mido
import pytest

from livearranger.gm import PROGRAMS
from livearranger.io.midi_io import MidiIOError
from livearranger.presets import Preset
from livearranger.session import SessionConfig
from livearranger.tui.app import LiveArrangerApp
from livearranger.tui.controller import Controller
from livearranger.tui.edit_part import EditPartScreen
from livearranger.tui.help import HelpScreen, key_label
from livearranger.tui.latency import LatencyPanel
from livearranger.tui.parts import LiveView
from livearranger.tui.ports import PortsScreen
from livearranger.tui.presets_panel import PartsTable, PresetList
from livearranger.tui.render import plain_text
from livearranger.tui.status import MessageLog, StatusBar
from tests.tui.conftest import Rig, fake_ports, memory_session, type_ahead, until

SIZE = (120, 40)


def log_lines(app: LiveArrangerApp) -> list[str]:
    return app.query_one(MessageLog).lines_text


async def test_notes_appear_per_part_as_they_arrive(rig: Rig) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        rig.play([0x90, 72, 90], [0x90, 48, 80])
        live = rig.app.query_one(LiveView)
        await until(pilot, lambda: "notes in 2" in live.plain, what="2 notes in the live view")
        text = live.plain
        assert "IN  C3" in text and "vel 80" in text      # the latest note, as it arrived
        snap = rig.session.snapshot()
        lines = text.splitlines()
        for i, name in enumerate(snap.part_names):
            line = next(ln for ln in lines if f"■ {name}" in ln)
            assert f"{snap.counts[i]} notes" in line
            for pitch in snap.recent[i]:
                assert {72: "C5", 48: "C3"}[pitch] in line
        # the notes went out on the channels of the parts the engine chose
        channels = {m[1]: m[0] & 0x0F for m in rig.sent(0x90)}
        preset = rig.session.preset
        part_of = {p: i for i, ps in enumerate(snap.sounding) for p in ps}
        assert channels == {p: preset.parts[part_of[p]].channel for p in (72, 48)}
        # and the key strip of a sounding part shows a lit key, a silent part none
        lit = [ln.count("█") for ln in lines]
        assert sum(lit) >= 4        # input strip + parts strips


async def test_latency_monitor_shows_figures_of_the_engine(rig: Rig) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        rig.play(*[[0x90, 60 + i, 100] for i in range(12)])
        panel = rig.app.query_one(LatencyPanel)
        await until(pilot, lambda: "12" in panel.plain and "end-to-end" in panel.plain,
                    what="latency figures")
        snap = rig.session.snapshot()
        text = panel.plain
        assert f"{snap.latency['p50_ms']:.3f}" in text
        assert f"{snap.assign['max_ms']:.3f}" in text
        assert "last 12 notes" in text
        assert "synth: off" in text      # no synth in this session


async def test_panic_key_stops_every_sounding_note(rig: Rig) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        rig.play([0x90, 60, 100], [0x90, 67, 100])
        await pilot.press("x")
        assert rig.session.engine.wait_idle()
        offs = {m[1] for m in rig.sent(0x80)}
        assert {60, 67} <= offs
        assert any(m[1] == 123 for m in rig.sent(0xB0))
        await until(pilot, lambda: all(not s for s in rig.session.snapshot().sounding))
        assert "panic: all notes off" in log_lines(rig.app)


async def test_switch_preset_live_with_panic(rig: Rig, quartet: Preset) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        rig.play([0x90, 64, 100])
        presets = rig.app.query_one(PresetList)
        presets.focus()
        names = [presets.get_option_at_index(i).id for i in range(presets.option_count)]
        presets.highlighted = names.index("string-quartet")
        await pilot.press("enter")
        assert rig.session.engine.wait_idle()
        await until(pilot, lambda: rig.session.snapshot().preset == "string-quartet",
                    what="preset switch")
        assert 64 in {m[1] for m in rig.sent(0x80)}          # the held note was stopped
        programs = {(m[0] & 0x0F, m[1]) for m in rig.sent(0xC0)}
        assert {(p.channel, p.program) for p in quartet.parts} <= programs
        table = rig.app.query_one(PartsTable)
        await until(pilot, lambda: table.row_count == len(quartet.parts))
        first = [str(c) for c in table.get_row_at(0)]
        assert quartet.parts[0].name in first[0]
        assert PROGRAMS[quartet.parts[0].program] in first[1]
        rig.play([0x90, 76, 100])
        assert rig.sent(0x90)[-1][0] & 0x0F in {p.channel for p in quartet.parts}


async def test_edit_part_then_save_as_user_preset(rig: Rig, user_presets: str,
                                                  preset: Callable[[str], Preset]) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        table = rig.app.query_one(PartsTable)
        table.focus()
        await pilot.press("down")                     # the alto
        await pilot.press("e")
        screen = rig.app.screen
        assert isinstance(screen, EditPartScreen)
        for field, value in (("program", "Violin"), ("channel", "9"), ("low", "C3"),
                             ("high", "C5"), ("transpose", "12")):
            screen.query_one(f"#edit-{field}").value = value
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(rig.app.screen, EditPartScreen))
        assert rig.session.engine.wait_idle()
        alto = rig.session.preset.parts[1]
        assert (alto.program, alto.channel, alto.low, alto.high, alto.transpose) == (
            PROGRAMS.index("Violin"), 8, 48, 72, 12)
        assert [0xC8, PROGRAMS.index("Violin")] in rig.sent(0xC0)
        row = [str(c) for c in table.get_row_at(1)]
        assert "Violin" in row[1] and row[2] == "9" and row[3] == "C3-C5" and row[5] == "+12"
        # save it as the player's own preset
        await pilot.press("w")
        name_box = rig.app.screen.query_one("#save-name")
        name_box.value = "my-choir"
        await pilot.press("enter")
        saved = Path(user_presets) / "my-choir.toml"
        await until(pilot, lambda: saved.exists(), what="the saved preset file")
        mine = preset("my-choir")
        assert mine.parts[1].program == PROGRAMS.index("Violin")
        assert mine.parts[1].transpose == 12
        presets = rig.app.query_one(PresetList)
        labels = [str(presets.get_option_at_index(i).prompt)
                  for i in range(presets.option_count)]
        assert any("my-choir" in lb and "(user)" in lb for lb in labels)
        assert rig.session.preset.name == "my-choir"


async def test_bad_edit_shows_error_in_the_form(rig: Rig, satb: Preset) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        rig.app.query_one(PartsTable).focus()
        await pilot.press("e")
        screen = rig.app.screen
        screen.query_one("#edit-channel").value = "2"       # the alto's channel
        await pilot.press("enter")
        error = str(screen.query_one("#edit-error").render())
        assert "channel 2 is already used" in error
        assert isinstance(rig.app.screen, EditPartScreen)    # still open, nothing changed
        screen.query_one("#edit-channel").value = "1"
        screen.query_one("#edit-low").value = "H9"
        await pilot.press("enter")
        assert "not a pitch" in str(screen.query_one("#edit-error").render())
        await pilot.press("escape")
        assert rig.session.preset == satb


async def test_arranger_choice_and_temperature(rig: Rig) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        options = rig.app.screen.query_one("#arranger-list")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids[:4] == ["model", "closest-pitch", "zone", "top-bottom"]
        options.highlighted = ids.index("zone")
        await pilot.press("enter")
        assert rig.session.engine.wait_idle()
        await until(pilot, lambda: rig.session.snapshot().arranger.startswith("zone"))
        panel = rig.app.query_one("#arranger")
        await until(pilot, lambda: "zone" in panel.plain)
        await pilot.press("plus", "plus", "minus", "plus")
        assert abs(rig.controller.temperature - 0.2) < 1e-9
        assert "0.2" in panel.plain
        # the learned model: either it plays, or the fallback is said in the UI
        await pilot.press("a")
        options = rig.app.screen.query_one("#arranger-list")
        options.highlighted = 0
        await pilot.press("enter")
        assert rig.session.engine.wait_idle()
        await pilot.pause(0.1)
        described = rig.session.snapshot().arranger
        if rig.session.arranger_name == "model":
            assert "model" in described.lower() or "onnx" in described.lower()
        else:
            assert any("closest-pitch" in ln for ln in log_lines(rig.app))


async def test_horizon_steps_and_turns_off(rig: Rig) -> None:
    """satb corrects within 30 ms; h turns that off, then steps 10, 20, 30 ms; keys sound
    at once either way."""
    async with rig.app.run_test(size=SIZE) as pilot:
        panel = rig.app.query_one("#arranger")
        await until(pilot, lambda: "30 ms" in panel.plain, what="horizon shown")
        assert rig.session.engine.horizon == 0.030
        await pilot.press("h")
        await until(pilot, lambda: "horizon  off" in panel.plain, what="horizon off")
        assert rig.session.engine.wait_idle() and rig.session.engine.horizon is None
        rig.play([0x90, 48, 90], [0x90, 72, 90])
        assert len(rig.sent(0x90)) == 2 and rig.session.engine.moves == 0
        await pilot.press("h")
        await until(pilot, lambda: "10 ms" in panel.plain, what="horizon on")
        assert rig.session.engine.wait_idle() and rig.session.engine.horizon == 0.010
        rig.play([0x90, 55, 90], [0x90, 64, 90])
        assert len(rig.sent(0x90)) - 2 * rig.session.engine.moves == 4
        assert any("correction horizon 10 ms" in ln for ln in log_lines(rig.app))


async def test_record_toggle_writes_a_multitrack_file(rig: Rig, tmp_path: Path) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        status = rig.app.query_one(StatusBar)
        await until(pilot, lambda: "REC" in status.plain)
        path = rig.session.recording
        assert path is not None and str(path) in status.plain
        assert Path(path).parent == tmp_path
        rig.play([0x90, 60, 100], [0x90, 64, 100], [0x80, 60, 0], [0x80, 64, 0])
        await pilot.press("r")
        await until(pilot, lambda: "not recording" in status.plain)
        assert Path(path).exists()
        assert f"recording saved to {path}" in log_lines(rig.app)
        mid = mido.MidiFile(path)
        names = [t.name for t in mid.tracks if t.name]
        assert names[-4:] == ["soprano", "alto", "tenor", "bass"]
        notes = sorted(m.note for t in mid.tracks for m in t
                       if m.type == "note_on" and m.velocity > 0)
        assert sorted(set(notes)) == [60, 64]     # each key (a unison: on two parts)
        assert len(notes) - 2 == rig.session.engine.doubles


async def test_help_lists_every_key(rig: Rig) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(rig.app.screen, HelpScreen)
        text = plain_text(rig.app.screen.table, 100)
        for binding in rig.app.BINDINGS:
            for key in binding.key.split(","):
                assert key_label(key) in text
            assert binding.description in text
        for key in ("Ctrl+S", "F5", "Esc", "Enter", "?", "+", "-"):
            assert key in text
        assert "Panic" in text and "Edit part" in text and "Refresh ports" in text
        await pilot.press("escape")
        assert not isinstance(rig.app.screen, HelpScreen)


async def test_port_error_is_a_message_not_a_crash(rig: Rig) -> None:
    """Picking an input that cannot open (no ALSA here, or gone) says why and plays on."""
    async with rig.app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        screen = rig.app.screen
        assert isinstance(screen, PortsScreen)
        inputs = screen.query_one("#inputs")
        labels = [str(inputs.get_option_at_index(i).prompt) for i in range(inputs.option_count)]
        assert labels[0].startswith("virtual") and "USB Keyboard:out" in labels
        outputs = screen.query_one("#outputs")
        values = [outputs.get_option_at_index(i).value for i in range(outputs.option_count)]
        assert values == ["synth", "virtual", "virtual-per-part", "Hardware Synth:in"]
        inputs.highlighted = labels.index("USB Keyboard:out")
        outputs.select("virtual")          # another output: the session is rebuilt
        outputs.deselect("synth")

        def refuse(config: SessionConfig):
            raise MidiIOError("no MIDI port named 'USB Keyboard:out' (available: none)")
        rig.controller.session_factory = refuse
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("cannot use those ports" in ln
                                       for ln in log_lines(rig.app)))
        line = next(ln for ln in log_lines(rig.app) if "cannot use those ports" in ln)
        assert "no MIDI port named 'USB Keyboard:out'" in line and "Traceback" not in line
        assert rig.app.is_running
        await pilot.press("x")            # no session now: the panic says so
        assert any("no instrument is running" in ln for ln in log_lines(rig.app))


async def test_ports_rebuild_keeps_preset_and_plays(user_presets: str, tmp_path: Path) -> None:
    """Outputs changed on the ports screen restart the session with the same preset."""
    built: list[SessionConfig] = []
    outs = []

    def factory(config: SessionConfig):
        built.append(config)
        session, out = memory_session(config.preset)
        outs.append(out)
        return session

    session, _ = memory_session("pop-band")
    controller = Controller(SessionConfig(preset="pop-band", input=None, outputs=["synth"]),
                            session=session, session_factory=factory, port_lister=fake_ports,
                            record_dir=tmp_path)
    app = LiveArrangerApp(controller)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        outputs = app.screen.query_one("#outputs")
        outputs.select("Hardware Synth:in")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(built) == 1, what="a new session")
        assert built[0].outputs == ["synth", "Hardware Synth:in"]
        assert controller.session is not session and not session.engine.running
        assert controller.session.preset.name == "pop-band"
        controller.session.engine.feed([0x90, 60, 100])
        assert controller.session.engine.wait_idle()
        assert any(m[0] & 0xF0 == 0x90 for _t, _p, m in outs[0].messages)
    assert controller.session is None       # closing the app stopped it


async def test_engine_errors_and_warnings_are_shown(rig: Rig) -> None:
    class Broken:
        def send(self, part: int, message: list[int], time: float) -> None:
            raise OSError("device unplugged")

        def close(self) -> None:
            pass

    rig.session.warnings.append("the learned model is missing; closest-pitch instead")
    rig.session.engine.router.add_output(Broken())
    async with rig.app.run_test(size=SIZE) as pilot:
        rig.play([0x90, 60, 100])
        await until(pilot, lambda: any("device unplugged" in ln for ln in log_lines(rig.app)))
        assert "warning: the learned model is missing; closest-pitch instead" in log_lines(rig.app)
        assert rig.out.messages                      # the other output still plays


async def test_every_new_engine_error_is_shown_past_the_tenth(rig: Rig) -> None:
    """The snapshot carries the latest ten errors: the eleventh and twelfth are new
    although the list is as long as before."""
    class Unplugged:
        def send(self, part: int, message: list[int], time: float) -> None:
            if message[0] & 0xF0 == 0x90:
                raise OSError(f"unplugged at key {message[1]}")

        def close(self) -> None:
            pass

    rig.session.engine.router.add_output(Unplugged())
    async with rig.app.run_test(size=SIZE) as pilot:
        rig.play(*[[0x90, key, 100] for key in range(60, 70)])
        await until(pilot, lambda: any("unplugged at key 69" in ln for ln in log_lines(rig.app)),
                    what="the tenth error")
        rig.play([0x90, 70, 100], [0x90, 71, 100])
        await until(pilot, lambda: any("unplugged at key 71" in ln for ln in log_lines(rig.app)),
                    what="the twelfth error")
        assert any("unplugged at key 70" in ln for ln in log_lines(rig.app))


async def test_start_failure_shown_then_fixed_on_ports_screen(user_presets: str,
                                                              tmp_path: Path) -> None:
    calls = []

    def factory(config: SessionConfig):
        calls.append(config)
        if len(calls) == 1:
            raise MidiIOError("cannot reach a JACK server: start one")
        session, _ = memory_session(config.preset)
        return session

    controller = Controller(SessionConfig(preset="chiptune", api="jack", input=None,
                                          outputs=["virtual"]),
                            session_factory=factory, port_lister=fake_ports, record_dir=tmp_path)
    app = LiveArrangerApp(controller)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        assert any("cannot start the instrument: cannot reach a JACK server" in ln
                   for ln in log_lines(app))
        assert "no instrument running" in app.query_one(LiveView).plain
        await pilot.press("p")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: controller.session is not None, what="a session")
        assert controller.session.engine.running
        await until(pilot, lambda: "pulse" in app.query_one(LiveView).plain.lower())


async def test_quit_stops_the_engine_and_saves_the_recording(rig: Rig) -> None:
    async with rig.app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        rig.play([0x90, 62, 100])
        path = rig.session.recording
        await pilot.press("q")
    assert not rig.session.engine.running
    assert path is not None and Path(path).exists()
    assert rig.controller.session is None
    assert [0x80 | rig.session.preset.parts[0].channel, 62, 0] in rig.sent(0x80) or any(
        m[1] == 62 for m in rig.sent(0x80))


async def test_a_bug_leaves_one_line_asking_for_a_report_with_its_traceback(
        rig: Rig, tmp_path: Path, monkeypatch) -> None:
    from livearranger.tui.app import UnexpectedError

    monkeypatch.setenv("HOME", str(tmp_path))

    def broken() -> None:
        raise ZeroDivisionError("division by zero")

    with pytest.raises(UnexpectedError) as caught:
        async with rig.app.run_test(size=SIZE) as pilot:
            rig.app.call_later(broken)
            await pilot.pause(0.2)
    text = str(caught.value)
    assert "ZeroDivisionError: division by zero" in text and "please report it" in text
    report = tmp_path / ".cache" / "livearranger" / "tui-error.log"
    assert str(report) in text
    assert "Traceback" in report.read_text() and "in broken" in report.read_text()
    assert not rig.session.engine.running           # the instrument was stopped first


async def test_keys_typed_into_a_closing_dialog_do_nothing(rig: Rig, tmp_path: Path,
                                                           monkeypatch) -> None:
    """A second Enter (or Esc) typed before a dialog has closed reaches it still: it
    must neither act again nor close the screen below."""
    monkeypatch.setenv("HOME", str(tmp_path))         # where a crash report would go
    app = rig.app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        type_ahead(app, "down", "enter", "enter")      # model -> closest-pitch
        await until(pilot, lambda: rig.session.arranger_name == "closest-pitch",
                    what="the arranger chosen")
        app.query_one(PartsTable).focus()
        await pilot.press("e")
        assert isinstance(app.screen, EditPartScreen)
        type_ahead(app, "enter", "enter")
        await until(pilot, lambda: rig.controller.modified, what="the part edited")
        await pilot.press("w")
        type_ahead(app, "enter", "enter")
        await until(pilot, lambda: rig.session.preset.name == "my-satb", what="saved")
        await pilot.press("question_mark")
        type_ahead(app, "escape", "escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1 and app.is_running
        lines = log_lines(app)
        assert sum("(unsaved)" in ln for ln in lines) == 1            # edited once
        assert sum("saved preset my-satb" in ln for ln in lines) == 1


STORM_KEYS = ["a", "e", "w", "p", "x", "r", "n", "h", "plus", "minus", "question_mark",
              "enter", "enter", "escape", "escape", "tab", "shift+tab", "up", "down",
              "space", "f5", "c", "3", "z", "backspace"]


@pytest.fixture()
def rule_app(user_presets: str, tmp_path: Path, monkeypatch) -> Iterator[LiveArrangerApp]:
    """The app over a real session playing a rule (no model to load), whose ports
    screen rebuilds it without MIDI ports; a crash report would go to ``tmp_path``."""
    monkeypatch.setenv("HOME", str(tmp_path))

    def factory(config: SessionConfig):
        return memory_session(config.preset, "zone")[0]

    session, _ = memory_session("satb", "zone")
    controller = Controller(SessionConfig(preset="satb", arranger="zone", input=None,
                                          outputs=[]),
                            session=session, session_factory=factory, port_lister=fake_ports,
                            record_dir=tmp_path)
    try:
        yield LiveArrangerApp(controller, poll_hz=30)
    finally:
        controller.close()


async def test_a_storm_of_keys_leaves_the_app_running(rule_app: LiveArrangerApp) -> None:
    rng = random.Random(1)         # a storm that crashed the app in a dialog closing
    keys = rng.choices(STORM_KEYS, k=400)
    async with rule_app.run_test(size=SIZE) as pilot:
        while keys:
            n = rng.randint(1, 8)
            burst, keys = keys[:n], keys[n:]
            type_ahead(rule_app, *burst)                # typed faster than handled
            await pilot.pause()
        assert rule_app.is_running
        await pilot.press("ctrl+q")
    assert rule_app.return_code == 0


async def test_quit_comes_before_the_keys_still_waiting(rule_app: LiveArrangerApp) -> None:
    acted: list[object] = []
    act = rule_app.run_action_safely
    rule_app.run_action_safely = lambda fn: acted.append(fn) or act(fn)  # type: ignore
    async with rule_app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        assert len(acted) == 1                              # a key does act
        storm = random.Random(12).choices(["x", "plus", "minus", "h"], k=1000)
        type_ahead(rule_app, *storm, "q")
        await until(pilot, lambda: rule_app.return_code is not None, timeout=60.0,
                    what="the app quitting")
        assert len(acted) == 1          # none of the 1,000 keys waiting was acted on
    assert rule_app.return_code == 0


async def test_q_is_typed_in_a_dialog_and_ctrl_q_quits_from_there(
        rule_app: LiveArrangerApp) -> None:
    async with rule_app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        name_box = rule_app.screen.query_one("#save-name")
        await pilot.press("q")
        assert name_box.value.endswith("q") and rule_app.is_running     # typed
        await pilot.press("ctrl+q")
        assert rule_app.return_code == 0
