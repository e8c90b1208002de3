"""A Session on a real JACK bus: per-part ports, recording, a keyboard unplugged mid-song."""

from __future__ import annotations

import gc
import time

import mido
import pytest

from livearranger.arrangers import ArrangerError
from livearranger.io.midi_io import MidiIOError
from livearranger.io.output import DelayedOutput
from livearranger.io.synth import SynthOutput
from livearranger.session import Session, SessionConfig
from livearranger.session_control import SessionControl
from tests.midi_probe import Listener, jack_ports

pytestmark = pytest.mark.jack


def _wait(predicate, timeout=5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_virtual_per_part_ports_and_live_recording(jack_server, tmp_path):
    session = Session(SessionConfig(preset="chiptune", arranger="top-bottom", api="jack",
                                    input="virtual", outputs=["virtual-per-part"],
                                    client="la-parts"))
    session.start()
    try:
        assert session.output_names == ["la-parts-pulse1:pulse1", "la-parts-pulse2:pulse2",
                                        "la-parts-triangle:triangle"]
        bass = Listener("la-parts-triangle:triangle", name="bass-track")
        top = Listener("la-parts-pulse1:pulse1", name="lead-track")
        time.sleep(0.3)
        path = session.start_recording(tmp_path / "rec.mid")
        session.engine.feed([0x90, 40, 100])
        session.engine.feed([0x90, 79, 100])
        session.engine.feed([0x80, 40, 0])
        session.engine.feed([0x80, 79, 0])
        assert bass.wait_count(lambda ms: len(ms) >= 2, 5.0)
        assert top.wait_count(lambda ms: len(ms) >= 2, 5.0)
        assert [m[1] for m in bass.take() if m[0] & 0xF0 == 0x90] == [40]
        assert [m[1] for m in top.take() if m[0] & 0xF0 == 0x90] == [79]
        assert session.recording == path
        saved = session.stop_recording()
        assert saved == path and session.recording is None
        mid = mido.MidiFile(str(saved))
        assert [t.name for t in mid.tracks[1:]] == ["pulse1", "pulse2", "triangle"]
        bass.close()
        top.close()
    finally:
        session.stop()


def test_bad_setups_fail_with_clear_errors(jack_server):
    with pytest.raises(MidiIOError, match="no MIDI port named 'ghost'"):
        Session(SessionConfig(api="jack", input="ghost", outputs=["virtual"], client="la-bad"))
    with pytest.raises(MidiIOError, match="no MIDI port named 'nowhere'"):
        Session(SessionConfig(api="jack", input=None, outputs=["virtual", "nowhere"],
                              client="la-bad"))
    assert not [p for p in jack_ports() if p.startswith("la-bad")], "a failed set-up left ports"
    with pytest.raises(ArrangerError, match="unknown arranger"):
        Session(SessionConfig(api="jack", arranger="magic", input=None, outputs=[]))


def test_preset_switch_live_panics_and_changes_channels(jack_server):
    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", api="jack",
                                    input=None, outputs=["virtual"], client="la-switch"))
    session.start()
    listener = Listener("la-switch-out:out")
    try:
        time.sleep(0.3)
        session.engine.feed([0x90, 60, 90])
        assert listener.wait_count(lambda ms: any(m[0] & 0xF0 == 0x90 for m in ms))
        session.set_preset("chiptune", "top-bottom")
        assert listener.wait_count(lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0xC0) >= 3)
        got = listener.take()
        assert any(m[0] & 0xF0 == 0x80 and m[1] == 60 for m in got)   # old note stopped
        assert session.snapshot().preset == "chiptune"
        assert session.arranger_name == "top-bottom"
    finally:
        listener.close()
        session.stop()


def test_builtin_synth_plays_live_audio_through_jack(jack_server, tmp_path):
    """The synth's live path through a real audio driver (FluidSynth's JACK driver on the
    dummy server), captured with jack_rec: the notes played are heard."""
    import subprocess
    import wave

    import numpy as np

    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", api="jack",
                                    input=None, outputs=["synth"], audio_driver="jack",
                                    client="la-audio"))
    session.start()
    wav = tmp_path / "live.wav"
    try:
        assert session.audio_latency_ms and session.audio_latency_ms < 10
        rec = subprocess.Popen(["jack_rec", "-f", str(wav), "-d", "1.5", "-b", "16",
                                "fluidsynth:left", "fluidsynth:right"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.4)
        for p in (72, 64, 55, 48):
            session.engine.feed([0x90, p, 100])
        rec.wait(timeout=15)
    finally:
        session.stop()
    with wave.open(str(wav)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    half = len(audio) // 4
    assert np.sqrt(np.mean((audio[:half // 2] / 32768.0) ** 2)) < 0.01   # silence first
    assert np.sqrt(np.mean((audio[-half:] / 32768.0) ** 2)) > 0.01       # then the chord


def test_the_synth_in_print_mode_sounds_final_parts_a_constant_horizon_late(jack_server):
    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", api="jack",
                                    input=None, outputs=["synth"], audio_driver="jack",
                                    client="la-print", synth_mode="print", horizon_ms=10))
    session.start()
    try:
        assert gc.get_freeze_count() > 0      # the set-up is out of the collector's way
        synth = [o for o in session.engine.router.outputs if isinstance(o, DelayedOutput)]
        assert len(synth) == 1 and isinstance(synth[0].inner, SynthOutput)
        assert synth[0].delay == pytest.approx(0.010)
        assert not any(isinstance(o, SynthOutput) for o in session.engine.router.outputs)
    finally:
        session.stop()
    assert gc.get_freeze_count() == 0


def test_model_that_will_not_load_falls_back_to_closest_pitch(tmp_path, user_presets):
    from pathlib import Path

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an onnx graph")
    Path(user_presets).mkdir(parents=True)
    (Path(user_presets) / "choir.toml").write_text(
        f'name = "choir"\narranger = "model"\nmodel = "{broken}"\n'
        '[[parts]]\nname = "high"\nprogram = 52\nchannel = 1\n'
        '[[parts]]\nname = "low"\nprogram = 53\nchannel = 2\n')
    session = Session(SessionConfig(preset="choir", input=None, outputs=[]))
    try:
        assert session.arranger_name == "closest-pitch"
        assert len(session.warnings) == 1
        assert "broken.onnx" in session.warnings[0] and "closest-pitch" in session.warnings[0]
        session.start()
        session.engine.feed([0x90, 72, 90])
        session.engine.wait_idle()
        assert session.snapshot().counts == [1, 0]       # it plays on
    finally:
        session.stop()


def _zone_preset(folder: str, name: str, parts: list[tuple[str, int, int]]) -> None:
    """A user preset ``name`` in ``folder`` whose parts are zones: (name, low, high)."""
    from pathlib import Path

    Path(folder).mkdir(parents=True, exist_ok=True)
    text = f'name = "{name}"\narranger = "zone"\n'
    for channel, (part, low, high) in enumerate(parts):
        text += (f'[[parts]]\nname = "{part}"\nprogram = 0\nchannel = {channel + 1}\n'
                 f'range = [{low}, {high}]\n')
    (Path(folder) / f"{name}.toml").write_text(text)


def test_per_part_ports_follow_a_preset_switch_to_more_parts(jack_server, user_presets):
    _zone_preset(user_presets, "duo", [("hi", 60, 127), ("lo", 0, 59)])
    _zone_preset(user_presets, "trio", [("hi", 72, 127), ("mid", 60, 71), ("lo", 0, 59)])
    session = Session(SessionConfig(preset="duo", api="jack", input=None,
                                    outputs=["virtual-per-part"], client="la-grow"))
    session.start()
    listeners: dict[str, Listener] = {}
    try:
        # a DAW track connected before the switch, to a part both presets have
        listeners["lo"] = Listener("la-grow-lo:lo", name="track-lo")
        said = SessionControl(session).control_preset("trio")   # as OSC asks for it
        assert said == "preset trio: hi, mid, lo"
        names = ["la-grow-hi:hi", "la-grow-mid:mid", "la-grow-lo:lo"]
        assert session.output_names == names
        assert set(names) <= set(jack_ports())
        listeners["hi"] = Listener("la-grow-hi:hi", name="track-hi")
        listeners["mid"] = Listener("la-grow-mid:mid", name="track-mid")
        time.sleep(0.3)
        listeners["lo"].take()                       # the old preset's panic
        for key in (76, 64, 40):                      # one key in each zone
            session.engine.feed([0x90, key, 90])
            session.engine.feed([0x80, key, 0])
        for (part, key), channel in zip((("hi", 76), ("mid", 64), ("lo", 40)), range(3),
                                        strict=True):
            assert listeners[part].wait_count(
                lambda ms: any(m[0] & 0xF0 == 0x80 for m in ms), 5.0), part
            ons = [m for m in listeners[part].take() if m[0] & 0xF0 == 0x90]
            assert ons == [[0x90 | channel, key, 90]], part
        assert not session.engine.router.errors and not session.snapshot().errors
        listeners.pop("mid").close()
        session.set_preset("duo")                     # and back: the extra part's port goes
        assert session.output_names == ["la-grow-hi:hi", "la-grow-lo:lo"]
        assert "la-grow-mid:mid" not in jack_ports()
    finally:
        for listener in listeners.values():
            listener.close()
        session.stop()


def test_parts_with_long_names_get_their_own_ports(jack_server, user_presets):
    """Part names up to the preset's limit, longer than a MIDI client's name may be, each
    get a per-part port named after the part, the clients told apart by a digest."""
    from livearranger.io.midi_io import MAX_CLIENT_NAME

    upper = "upper voice of the second choir, doubled by cornetts and violins " * 2
    lower = "upper voice of the second choir, doubled by sackbuts and violas " * 2
    upper, lower = upper[:100].strip(), lower[:100].strip()
    _zone_preset(user_presets, "long", [(upper, 60, 127), (lower, 0, 59)])
    session = Session(SessionConfig(preset="long", api="jack", input=None,
                                    outputs=["virtual-per-part"], client="la-long"))
    session.start()
    listeners: list[Listener] = []
    try:
        names = session.output_names
        assert [n.split(":", 1)[1] for n in names] == [upper, lower]
        clients = [n.split(":", 1)[0] for n in names]
        assert len(set(clients)) == 2 and all(len(c) <= MAX_CLIENT_NAME for c in clients)
        assert set(names) <= set(jack_ports())
        listeners = [Listener(n, name=f"track-{i}") for i, n in enumerate(names)]
        time.sleep(0.3)
        for key in (76, 40):
            session.engine.feed([0x90, key, 90])
            session.engine.feed([0x80, key, 0])
        for listener, key in zip(listeners, (76, 40), strict=True):
            assert listener.wait_count(lambda ms: any(m[0] & 0xF0 == 0x80 for m in ms), 5.0)
            assert [m[1] for m in listener.take() if m[0] & 0xF0 == 0x90] == [key]
    finally:
        for listener in listeners:
            listener.close()
        session.stop()


def test_a_jack_server_gone_is_said_once_where_the_ui_and_osc_show_errors():
    from livearranger.port_watch import SERVER_LOST

    class Gone:
        """The graph client of a session whose JACK server no longer answers."""

        def alive(self) -> bool:
            return False

    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", input=None,
                                    outputs=[]))
    try:
        session.start()
        assert session.check() == [] and session.server_lost is None
        session.ports.graph = Gone()
        assert session.check() == [] and session.server_lost == SERVER_LOST
        session.engine.wait_idle()
        assert session.snapshot().errors == [SERVER_LOST]
        session.check()
        session.engine.wait_idle()
        assert session.snapshot().errors_total == 1                  # said once
    finally:
        session.stop()
