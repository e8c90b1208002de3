"""The TUI attached to a real `livearranger play --headless` on a private JACK server:
it shows what is played, drives the instrument over OSC, detaches and re-attaches while
notes play without a note stuck or lost, and shares the instrument with another client."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from livearranger.client import ControlClient, ping
from livearranger.tui.app import LiveArrangerApp
from livearranger.tui.parts import LiveView
from livearranger.tui.presets_panel import PartsTable, PresetList
from livearranger.tui.remote import RemoteController
from livearranger.tui.status import MessageLog, StatusBar
from tests.midi_probe import Keyboard, connect_live, wait_for_port
from tests.osc_probe import free_udp_port
from tests.test_control_live import CHORD, _play, _stop
from tests.test_live_input import _balanced, _counts, _is_on
from tests.tui.conftest import until

pytestmark = pytest.mark.jack

SIZE = (120, 40)


def log_lines(app: LiveArrangerApp) -> list[str]:
    return app.query_one(MessageLog).lines_text


def _attached(port: int) -> LiveArrangerApp:
    return LiveArrangerApp(RemoteController(port), poll_hz=30.0)


def _live(jack_server, tmp_path, monkeypatch, port: int):
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    proc = _play(tmp_path, port)
    wait_for_port("livearranger-out:out")
    kb, ls = connect_live("livearranger-out:out", "livearranger:in")
    return proc, kb, ls


async def test_attached_tui_shows_notes_and_drives_the_instrument(jack_server, tmp_path,
                                                                  monkeypatch):
    port = free_udp_port()
    proc, kb, ls = _live(jack_server, tmp_path, monkeypatch, port)
    try:
        app = _attached(port)
        async with app.run_test(size=SIZE) as pilot:
            live = app.query_one(LiveView)
            await until(pilot, lambda: "notes in 1" in live.plain, what="the probe note")
            for p in CHORD:                               # a chord held down
                kb.send([0x90, p, 90])
            assert ls.wait_count(_counts(4, 0)), ls.summary()
            await until(pilot, lambda: "notes in 5" in live.plain, what="the chord")
            assert "IN  A#5" in live.plain and "vel 90" in live.plain
            for name in ("soprano", "bass"):
                line = next(ln for ln in live.plain.splitlines() if f"■ {name}" in ln)
                assert "1 notes" in line or "2 notes" in line, line
            assert "JACK" in app.query_one(StatusBar).plain

            await pilot.press("x")                        # panic from the TUI
            await until(pilot, lambda: "panic: all notes off" in log_lines(app))
            assert ls.wait_count(lambda ms: _counts(4, 4)(ms) and _balanced(ms)), \
                ls.summary()
            for p in CHORD:
                kb.send([0x80, p, 0])

            await pilot.press("h")                        # horizon 0 -> 10 ms
            await until(pilot, lambda: any("10 ms" in ln for ln in log_lines(app)))
            await pilot.press("a")
            options = app.screen.query_one("#arranger-list")
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            options.highlighted = ids.index("zone")
            await pilot.press("enter")
            await until(pilot, lambda: "arranger zone" in log_lines(app))
            presets = app.query_one(PresetList)
            presets.focus()
            names = [presets.get_option_at_index(i).id for i in range(presets.option_count)]
            presets.highlighted = names.index("string-quartet")
            await pilot.press("enter")
            table = app.query_one(PartsTable)
            await until(pilot, lambda: app.sub_title == "string-quartet", what="preset")
            await until(pilot, lambda: "violin" in str(table.get_row_at(0)[0]).lower())

            await pilot.press("p")                        # ports: one clear line
            await until(pilot, lambda: any("restart it to change ports" in ln
                                           for ln in log_lines(app)))
            await pilot.press("q")
        assert ping(port)                                 # it plays on after the TUI
        kb.send([0x90, 60, 90])
        kb.send([0x80, 60, 0])
        assert ls.wait_count(lambda ms: _counts(5, 5)(ms) and _balanced(ms)), ls.summary()
        kb.close()
        ls.close()
    finally:
        out, err = _stop(proc)
    assert "preset string-quartet, arranger zone" in out, out
    assert "correction horizon 10 ms" in out, out
    assert "0 refused" in out, out
    assert "Traceback" not in err, err


def _player(kb: Keyboard, stop: threading.Event, played: list[int]) -> None:
    """Plays short notes until ``stop``, one at a time, counting them."""
    pitches = (48, 55, 60, 64, 67, 72)
    i = 0
    while not stop.is_set():
        p = pitches[i % len(pitches)]
        kb.send([0x90, p, 80])
        time.sleep(0.01)
        kb.send([0x80, p, 0])
        played.append(p)
        i += 1
        time.sleep(0.01)


async def test_detach_and_reattach_while_notes_play_loses_nothing(jack_server, tmp_path,
                                                                  monkeypatch):
    port = free_udp_port()
    proc, kb, ls = _live(jack_server, tmp_path, monkeypatch, port)
    xruns = len(jack_server.xruns())
    stop = threading.Event()
    played: list[int] = []
    player = threading.Thread(target=_player, args=(kb, stop, played), daemon=True)
    try:
        player.start()
        for round_ in range(3):                           # attach, watch, quit; again
            await _watch_and_quit(port, played, round_)
            assert ping(port)
        stop.set()
        player.join()
        ls.wait_count(lambda ms: sum(map(_is_on, ms)) >= len(played) and _balanced(ms),
                      timeout=10)
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        stop.set()
        out, err = _stop(proc)
    ons = [m[1] for m in got if _is_on(m)]
    assert "Traceback" not in err, err
    late = jack_server.xruns()[xruns:]
    if late:
        # a JACK client was late in some cycle: what it carried then never reached
        # anyone (JACK's loss, counted by jackd, not ours); nothing may be invented
        assert not Counter(ons) - Counter(played), (late, out)
        return
    assert sorted(ons) == sorted(played), (len(ons), len(played), out)   # nothing lost
    assert _balanced(got)                                 # nothing stuck
    assert f"{len(played) + 1} notes in" in out, out      # + the probe note


async def _watch_and_quit(port: int, played: list[int], round_: int) -> None:
    """Attach a TUI, see notes arrive in it, quit."""
    app = _attached(port)
    async with app.run_test(size=SIZE) as pilot:
        live = app.query_one(LiveView)
        seen = len(played)
        await until(pilot, lambda: app.last_snapshot is not None
                    and app.last_snapshot.notes_in > seen + 3
                    and "notes in" in live.plain, timeout=10,
                    what=f"notes played while attached (round {round_})")
        await pilot.press("q")


async def test_two_clients_attached_at_once(jack_server, tmp_path, monkeypatch):
    port = free_udp_port()
    proc, kb, ls = _live(jack_server, tmp_path, monkeypatch, port)
    other = ControlClient(port)
    try:
        other.subscribe(10)
        app = _attached(port)
        async with app.run_test(size=SIZE) as pilot:
            for p in (48, 72):
                kb.send([0x90, p, 90])
            await until(pilot, lambda: app.last_snapshot is not None
                        and app.last_snapshot.notes_in == 3, what="notes in the TUI")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (other.latest is None
                                                   or other.latest[0].notes_in != 3):
                time.sleep(0.05)
            assert other.latest is not None and other.latest[0].notes_in == 3
            other.ask("/livearranger/panic")              # the other client's panic
            assert ls.wait_count(lambda ms: _counts(2, 2)(ms) and _balanced(ms)), \
                ls.summary()
            await until(pilot, lambda: app.last_snapshot is not None
                        and not any(app.last_snapshot.sounding), what="silence in the TUI")
            await pilot.press("h")                        # the TUI's change, seen by both
            await until(pilot, lambda: app.last_snapshot is not None
                        and app.last_snapshot.horizon_ms == 10.0)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and other.latest[0].horizon_ms != 10.0:
                time.sleep(0.05)
            assert other.latest[0].horizon_ms == 10.0
            await pilot.press("q")
        before = other.periods                            # the other still gets stats
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and other.periods < before + 3:
            time.sleep(0.05)
        assert other.periods >= before + 3
        other.unsubscribe()
        for p in (48, 72):
            kb.send([0x80, p, 0])
        kb.close()
        ls.close()
    finally:
        other.close()
        out, err = _stop(proc)
    assert "Traceback" not in err, err
