"""The TUI's controller without any widget: edits, ports, temperature, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from livearranger.errors import one_line
from livearranger.io.midi_io import MidiIOError
from livearranger.presets import PresetError
from livearranger.session import SessionConfig
from livearranger.tui.controller import Controller
from livearranger.tui.controls import ActionError, PortChoice
from tests.tui.conftest import memory_session


def test_errors_show_in_one_line_without_type_for_known_errors() -> None:
    assert one_line(MidiIOError("no port\nmore")) == "no port"
    assert one_line(PresetError("x.toml: bad")) == "x.toml: bad"
    assert one_line(KeyError("k")) == "KeyError: 'k'"


@pytest.fixture()
def controller(user_presets: str, tmp_path: Path):
    session, out = memory_session("satb")
    ctrl = Controller(SessionConfig(preset="satb", input=None, outputs=["synth"]),
                      session=session, record_dir=tmp_path)
    ctrl.open()
    yield ctrl
    ctrl.close()


def test_edit_part_validates_and_applies(controller: Controller) -> None:
    with pytest.raises(ActionError, match="outside 1..16"):
        controller.edit_part(0, program="1", channel="17", low="C4", high="C5", transpose="0")
    with pytest.raises(ActionError, match="not a whole number"):
        controller.edit_part(0, program="1", channel="1", low="C4", high="C5", transpose="x")
    with pytest.raises(PresetError, match="low 72 is above high 60"):
        controller.edit_part(0, program="1", channel="1", low="C5", high="C4", transpose="0")
    with pytest.raises(PresetError, match="drum channel"):
        controller.edit_part(0, program="1", channel="10", low="C4", high="C5", transpose="0")
    message = controller.edit_part(3, program="Cello", channel="12", low="C2", high="C4",
                                   transpose="-12")
    assert "Cello" in message and "unsaved" in message
    bass = controller.session.preset.parts[3]
    assert (bass.program, bass.channel, bass.low, bass.high, bass.transpose) == (42, 11, 36, 60,
                                                                                -12)
    assert controller.modified


def test_new_input_is_opened_live_without_a_restart(controller: Controller) -> None:
    opened = []
    session = controller.session
    session.set_input = lambda port: opened.append(port)
    controller.config = SessionConfig(preset="satb", input=None, outputs=["synth"])
    controller.apply_ports(PortChoice(controller.config.api, "My Keys:out", ("synth",)))
    assert opened == ["My Keys:out"] and controller.session is session
    with pytest.raises(ActionError, match="at least one output"):
        controller.apply_ports(PortChoice(controller.config.api, "virtual", ()))


def test_temperature_is_bounded(controller: Controller) -> None:
    for _ in range(30):
        controller.change_temperature(0.1)
    assert controller.temperature == 2.0
    for _ in range(30):
        controller.change_temperature(-0.1)
    assert controller.temperature == 0.0


def _play(engine, *pitches: int) -> None:
    for pitch in pitches:
        engine.feed([0x90, pitch, 80])
        engine.feed([0x80, pitch, 0])
    assert engine.wait_idle()


def test_a_temperature_nudge_keeps_the_models_history(controller: Controller) -> None:
    """Temperature from the keys or over OSC: the model playing samples at the new one
    from its next note on, with the notes it has heard still in its cache."""
    from livearranger.arrangers.onnx_model import OnnxArranger
    from livearranger.session_control import SessionControl

    session = controller.session
    assert session is not None and session.arranger_name == "model"
    session.set_horizon(0)             # every note decided by the model as it arrives
    engine = session.engine
    _play(engine, 60, 64, 67, 72)
    model = engine.arranger
    assert isinstance(model, OnnxArranger)
    heard, pos = int(model.ring.valid.sum()), int(model.ring.pos[0])
    assert heard == 4
    for nudge in (lambda: controller.change_temperature(0.5),
                  lambda: SessionControl(session).control_temperature(1.5)):
        nudge()
        assert engine.wait_idle()
        assert engine.arranger is model
        assert (int(model.ring.valid.sum()), int(model.ring.pos[0])) == (heard, pos)
    assert model.temperature == 1.5 and "T=1.5" in session.snapshot().arranger
    drawn = model._rng.bit_generator.state
    _play(engine, 65)                  # decided by a draw at the new temperature
    assert model._rng.bit_generator.state != drawn
    assert int(model.ring.valid.sum()) == heard + 1


def test_a_take_that_cannot_be_saved_at_close_is_reported_not_claimed(
        user_presets: str, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "takes"
    folder.mkdir()
    session, _ = memory_session("satb", arranger="closest-pitch")
    ctrl = Controller(SessionConfig(preset="satb", input=None, outputs=[]),
                      session=session, record_dir=folder)
    ctrl.open()
    assert ctrl.toggle_recording().startswith("recording to ")
    session.engine.feed([0x90, 60, 90])
    session.engine.feed([0x80, 60, 0])
    assert session.engine.wait_idle()
    shutil.rmtree(folder)                       # the take's folder is now a file:
    folder.write_text("not a folder")           # nothing can be written under it
    said = ctrl.close()
    assert said is not None and said.startswith("recording NOT saved")
    assert ctrl.saved_recordings == [] and len(ctrl.record_errors) == 1
