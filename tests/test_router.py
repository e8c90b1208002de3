"""The router: channels, every note still sounding, panic, failing outputs, print mode."""

from __future__ import annotations

import pytest

from livearranger.events import ALL_NOTES_OFF, SUSTAIN
from livearranger.presets import Part, Preset
from livearranger.router import (
    DelayedOutput,
    MemoryOutput,
    Output,
    Router,
    close_outputs,
    retag_note_on,
)

# channels deliberately not 0..n-1, so that a part index used as a channel shows
PRESET = Preset("test", (Part("high", 40, 5), Part("low", 33, 9)))


class Broken(Output):
    """An output whose device is gone: every call fails."""

    def __init__(self) -> None:
        self.calls = 0

    def _send(self, part: int, message: list[int], time: float) -> None:
        self.calls += 1
        raise OSError("device unplugged")

    def _close(self) -> None:
        raise OSError("cannot close")


def _router(*outputs: Output) -> tuple[Router, MemoryOutput]:
    out = MemoryOutput()
    return Router(PRESET, [*outputs, out]), out


def _offs(out: MemoryOutput) -> set[tuple[int, int]]:
    return {(m[0] & 0x0F, m[1]) for _t, _p, m in out.messages if m[0] & 0xF0 == 0x80}


def test_setup_sends_each_part_its_program_on_its_channel() -> None:
    router, out = _router()
    router.setup(1.5)
    assert out.messages == [(1.5, 0, [0xC5, 40]), (1.5, 1, [0xC9, 33])]


def test_notes_go_out_on_the_part_channel_and_are_tracked_until_released() -> None:
    router, out = _router()
    router.note_on(0, 72, 100, 0.0)
    router.note_on(1, 40, 90, 0.1)
    assert router.sounding == {(0, 72), (1, 40)}
    router.note_off(0, 72, 0.2, velocity=64)
    assert router.sounding == {(1, 40)}
    assert [m for _t, _p, m in out.messages] == [[0x95, 72, 100], [0x99, 40, 90],
                                                 [0x85, 72, 64]]
    assert [p for _t, p, _m in out.messages] == [0, 1, 0]


def test_panic_stops_exactly_the_sounding_notes_then_resets_every_channel() -> None:
    router, out = _router()
    router.note_on(0, 60, 100, 0.0)
    router.note_on(0, 64, 100, 0.0)
    router.note_on(1, 36, 100, 0.0)
    router.note_off(0, 64, 0.1)
    out.messages.clear()
    assert router.panic(2.0) == 2
    assert router.sounding == set()
    assert _offs(out) == {(5, 60), (9, 36)}
    rest = [m for _t, _p, m in out.messages if m[0] & 0xF0 != 0x80]
    for ch in (5, 9):
        assert [0xB0 | ch, SUSTAIN, 0] in rest
        assert [0xB0 | ch, ALL_NOTES_OFF, 0] in rest
        assert [0xE0 | ch, 0x00, 0x40] in rest        # bend centred (8192)
    assert all(t == 2.0 for t, _p, _m in out.messages)
    assert router.panic() == 0                          # nothing left to stop


def test_move_releases_the_old_part_and_tracks_the_new_one() -> None:
    router, out = _router()
    router.note_on(0, 60, 100, 0.0)
    router.move(0, 60, 1, 48, 80, 0.0, 0.01)
    assert router.sounding == {(1, 48)}
    assert [(p, m) for _t, p, m in out.messages[1:]] == [(0, [0x85, 60, 0]),
                                                         (1, [0x99, 48, 80])]
    router.panic()
    assert _offs(out) == {(5, 60), (9, 48)}             # the moved note stopped where it is


def test_a_failing_output_is_reported_and_the_others_still_play() -> None:
    broken = Broken()
    router, out = _router(broken)
    router.note_on(0, 60, 100, 0.0)
    router.move(0, 60, 1, 60, 100, 0.0, 0.01)
    router.note_off(1, 60, 0.1)
    assert len(out.messages) == 4                      # on, moved off+on, off
    assert broken.calls == 3
    assert len(router.errors) == 3
    assert all(e == "Broken: device unplugged" for e in router.errors)
    router.close()
    assert router.errors.latest(1) == ["Broken: cannot close"] and router.outputs == []


def test_failure_reports_are_bounded() -> None:
    router, _out = _router(Broken())
    for i in range(300):
        router.note_on(0, i % 128, 100, 0.0)
    assert len(router.errors) == 100


def test_the_latest_failure_reports_are_kept_with_their_total() -> None:
    class Numbered(Output):
        def send(self, part: int, message: list[int], time: float) -> None:
            raise OSError(f"failure on pitch {message[1]}")

    router, _out = _router(Numbered())
    for pitch in range(120):
        router.note_on(0, pitch, 100, 0.0)
    assert router.errors.total == 120
    assert router.errors.latest(2) == ["Numbered: failure on pitch 118",
                                       "Numbered: failure on pitch 119"]


def test_close_outputs_closes_the_rest_when_one_fails() -> None:
    closed: list[str] = []

    class Tidy(MemoryOutput):
        def _close(self) -> None:
            closed.append("tidy")
    assert close_outputs([Broken(), Tidy()]) == ["Broken: cannot close"]
    assert closed == ["tidy"]


def test_delayed_output_delivers_each_message_exactly_delay_later() -> None:
    daw = MemoryOutput()
    delayed = DelayedOutput(daw, 0.030)
    router = Router(PRESET, [delayed])
    assert router.delayed == [delayed]
    router.note_on(0, 60, 100, 1.000)
    router.note_off(0, 60, 1.010)
    assert router.tick(router.delayed, 1.029) == pytest.approx(1.030)
    assert daw.messages == []
    assert router.tick(router.delayed, 1.030) == pytest.approx(1.040)
    assert daw.messages == [(pytest.approx(1.030), 0, [0x95, 60, 100])]
    assert router.tick(router.delayed, 5.0) is None
    assert [t for t, _p, _m in daw.messages] == pytest.approx([1.030, 1.040])


def test_a_key_moved_within_the_delay_arrives_on_its_final_part_only() -> None:
    daw = MemoryOutput()
    delayed = DelayedOutput(daw, 0.030)
    router = Router(PRESET, [delayed])
    router.note_on(0, 60, 100, 1.000)
    router.move(0, 60, 1, 60, 90, 1.000, 1.020)        # corrected before it went out
    router.note_off(1, 60, 1.050)
    delayed.tick(2.0)
    assert [(p, m) for _t, p, m in daw.messages] == [(1, [0x99, 60, 90]),
                                                     (1, [0x89, 60, 0])]
    assert daw.messages[0][0] == pytest.approx(1.030)   # at the key's own time + delay


def test_a_key_moved_after_it_went_out_is_moved_like_live() -> None:
    daw = MemoryOutput()
    delayed = DelayedOutput(daw, 0.030)
    delayed.send(0, [0x95, 60, 100], 1.000)
    delayed.tick(1.031)                                 # already delivered
    delayed.move(0, [0x85, 60, 0], 1, [0x99, 60, 100], 1.000, 1.040)
    delayed.tick(2.0)
    assert [(p, m) for _t, p, m in daw.messages] == [
        (0, [0x95, 60, 100]), (0, [0x85, 60, 0]), (1, [0x99, 60, 100])]


def test_closing_a_delayed_output_flushes_what_is_due_then_closes() -> None:
    closed: list[bool] = []

    class Daw(MemoryOutput):
        def _close(self) -> None:
            closed.append(True)
    daw = Daw()
    delayed = DelayedOutput(daw, 10.0)
    delayed.send(0, [0x95, 60, 100], 0.0)
    delayed.send(0, [0x85, 60, 0], 0.5)
    delayed.close()
    assert [m for _t, _p, m in daw.messages] == [[0x95, 60, 100], [0x85, 60, 0]]
    assert closed == [True]


def test_retag_finds_the_latest_note_on_of_that_key_and_part() -> None:
    queue = [(0.0, 0, [0x95, 60, 100]), (0.1, 0, [0x85, 60, 0]), (0.2, 0, [0x95, 60, 90]),
             (0.3, 1, [0x99, 60, 80]), (0.4, 0, [0x95, 62, 70])]
    assert retag_note_on(queue, 0, [0x85, 60, 0], 1, [0x99, 60, 90], 0.2) == 2
    assert queue[2] == (0.2, 1, [0x99, 60, 90]) and queue[0] == (0.0, 0, [0x95, 60, 100])
    assert retag_note_on(queue, 0, [0x85, 61, 0], 1, [0x99, 61, 90], 0.2) == -1


def test_memory_output_keeps_time_part_and_bytes_in_order() -> None:
    out = MemoryOutput()
    out.send(1, [0x90, 60, 1], 0.5)
    out.send(0, [0x80, 60, 0], 0.25)
    out.close()
    assert out.messages == [(0.5, 1, [0x90, 60, 1]), (0.25, 0, [0x80, 60, 0])]
