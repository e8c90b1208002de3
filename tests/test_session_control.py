"""What each OSC command does to a real Session (no ports: nothing needs JACK)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from livearranger.session import Session, SessionConfig
from livearranger.session_control import SessionControl


@pytest.fixture()
def control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionControl]:
    monkeypatch.chdir(tmp_path)                 # where OSC's takes are written
    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", input=None,
                                    outputs=[], horizon_ms=0))
    session.start()
    try:
        yield SessionControl(session)
    finally:
        session.stop()


def test_record_starts_a_fresh_take_here_and_stops_it(control: SessionControl,
                                                      tmp_path: Path) -> None:
    said = control.control_record(True)
    path = control.session.recording
    assert path is not None and path.parent == tmp_path and said == f"recording to {path}"
    assert control.control_record(True) == f"recording to {path}"   # the same take
    assert control.control_record(False) == f"saved {path}" and path.exists()
    assert control.control_record(False) == "not recording"
    assert f"recording saved to {path}" in control.session.notices


def test_parts_by_number_or_name_and_nothing_else(control: SessionControl) -> None:
    assert control.control_mute("alto", True) == "alto muted"
    assert control.control_solo(1, True) == "soprano soloed"
    assert control.session.engine.wait_idle()
    snap = control.snapshot()
    assert snap.muted == [1] and snap.soloed == [0]
    with pytest.raises(ValueError, match="no part 'tenor2'"):
        control.control_mute("tenor2", True)
    with pytest.raises(ValueError, match=r"no part 5 \(parts 1-4\)"):
        control.control_solo(5, True)


def test_temperature_and_names_out_of_bounds_are_refused(control: SessionControl) -> None:
    with pytest.raises(ValueError, match="temperature must be"):
        control.control_temperature(2.5)
    assert control.control_temperature(0.5) == "temperature 0.5"
    assert control.session.config.temperature == 0.5   # kept for when the model plays
    with pytest.raises(ValueError, match="unknown preset"):
        control.control_preset("/etc/passwd")
    with pytest.raises(ValueError, match="unknown arranger"):
        control.control_arranger("magic")


def test_status_names_the_session_ports_and_take(control: SessionControl) -> None:
    status = control.status()
    assert status.input == "" and status.outputs == () and status.recording == ""
    assert status.audio == "synth: off (no built-in synth output)"


def test_a_preset_whose_model_will_not_load_says_so_when_switched_to(
        control: SessionControl, user_presets: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an onnx graph")
    Path(user_presets).mkdir(parents=True, exist_ok=True)
    (Path(user_presets) / "choir.toml").write_text(
        f'name = "choir"\narranger = "model"\nmodel = "{broken}"\n'
        '[[parts]]\nname = "high"\nprogram = 52\nchannel = 1\n'
        '[[parts]]\nname = "low"\nprogram = 53\nchannel = 2\n')
    control.session.config.arranger = None       # the preset's own arranger
    said = control.control_preset("choir")
    assert said.startswith("preset choir: high, low (")
    assert "broken.onnx" in said and "closest-pitch" in said
    assert control.session.arranger_name == "closest-pitch"
