"""Recording in a Session with no ports: takes started, replaced and stopped live."""

from __future__ import annotations

from pathlib import Path

import mido

from livearranger.journal import journal_path
from livearranger.session import Session, SessionConfig


def _keys(path: Path) -> list[int]:
    """The keys struck in the .mid at ``path``, in order."""
    mid = mido.MidiFile(str(path))
    return [m.note for t in mid.tracks for m in t if m.type == "note_on" and m.velocity]


def _strike(session: Session, key: int) -> None:
    session.engine.feed([0x90, key, 90])
    session.engine.feed([0x80, key, 0])
    assert session.engine.wait_idle()


def test_a_take_started_over_a_running_one_saves_that_one_first(tmp_path: Path) -> None:
    session = Session(SessionConfig(preset="satb", arranger="closest-pitch", input=None,
                                    outputs=[], horizon_ms=0))
    session.start()
    try:
        first = session.start_recording(tmp_path / "one.mid")
        _strike(session, 60)
        second = session.start_recording(tmp_path / "two.mid")
        assert _keys(first) == [60]                   # saved, whole, when the next began
        assert not journal_path(first).exists()       # and its journal done with
        assert session.recording == second
        _strike(session, 62)
        assert session.stop_recording() == second
    finally:
        session.stop()
    assert _keys(second) == [62]
    assert _keys(first) == [60]
