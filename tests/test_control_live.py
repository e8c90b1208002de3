"""OSC control of a real `livearranger play --headless` on a private JACK server: panic,
mute/solo, preset/arranger/horizon, stats, and junk that cannot stop the music."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from livearranger.osc import message
from tests.midi_probe import connect_live, wait_for_port
from tests.osc_probe import OscClient, free_udp_port
from tests.test_live_input import _balanced, _counts, _is_on
from tests.test_live_play import _check_closed, _start_play

pytestmark = pytest.mark.jack

CHORD = (41, 55, 65, 82)        # 41 only the bass can sing, 82 only the soprano


def _play(tmp_path, port: int):
    return _start_play(tmp_path, "--out", "virtual", "--preset", "satb", "--arranger",
                       "closest-pitch", "--horizon-ms", "0", "--osc-port", str(port))


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM and the exit report; a process that does not end shows every thread's
    stack (``PYTHONFAULTHANDLER`` is set for it)."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate(timeout=10)
        raise AssertionError(f"play did not stop on SIGTERM:\n{err[-6000:]}") from None
    assert proc.returncode == 0, err
    return out, err


def _on_channel(messages: list[list[int]], channel: int) -> list[int]:
    return [m[1] for m in messages if _is_on(m) and m[0] & 0x0F == channel]


def _wait_preset(osc: OscClient, name: str) -> list:
    """The first ``/livearranger/stats/preset`` arguments naming preset ``name``."""
    for _ in range(200):
        for _t, address, params in osc.stats:
            if address == "/livearranger/stats/preset" and params[0] == name:
                return params
        osc.receive(0.05)
    raise AssertionError(f"stats never named preset {name!r}")


def test_panic_mute_solo_and_changes_over_osc(satb, jack_server, tmp_path, monkeypatch):
    channels = [p.channel for p in satb.parts]
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    port = free_udp_port()
    proc = _play(tmp_path, port)
    osc = OscClient(port)
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        osc.ok("/livearranger/stats/subscribe", 30)
        for p in CHORD:                                   # a chord held down
            kb.send([0x90, p, 90])
        assert ls.wait_count(_counts(4, 0)), ls.summary()
        stats = osc.wait_stats(lambda s: s[0] == 5 and s[1] == 4)   # + the probe note
        assert stats[2] == 0                              # nothing dropped
        parts = [p for _t, a, p in osc.stats if a == "/livearranger/stats/parts"][-1]
        assert sum(parts) == 5
        osc.ok("/livearranger/panic")
        assert ls.wait_count(lambda ms: _counts(4, 4)(ms) and _balanced(ms)), ls.summary()
        osc.wait_stats(lambda s: s[1] == 0)               # nothing sounding after it
        for p in CHORD:
            kb.send([0x80, p, 0])

        assert osc.ok("/livearranger/part/mute", 1, 1) == "soprano muted"
        for p in CHORD:                                   # the soprano's 82 not heard
            kb.send([0x90, p, 90])
        assert ls.wait_count(_counts(7, 4)), ls.summary()
        assert osc.ok("/livearranger/part/solo", "bass", True) == "bass soloed"
        # the held alto and tenor notes stop at once, keys still down: the bass sounds
        assert ls.wait_count(_counts(7, 6)), ls.summary()
        osc.wait_stats(lambda s: s[0] == 9)
        for p in CHORD:
            kb.send([0x80, p, 0])
        osc.ok("/livearranger/part/mute", 1, 0)           # solo still on: bass alone
        for p in (41, 82):
            kb.send([0x90, p, 90])
            kb.send([0x80, p, 0])
        osc.wait_stats(lambda s: s[0] == 11 and s[1] == 0)
        osc.ok("/livearranger/part/solo", "bass", False)
        kb.send([0x90, 82, 90])                           # the soprano is heard again
        kb.send([0x80, 82, 0])
        assert ls.wait_count(lambda ms: _on_channel(ms, channels[0]) == [82, 82]
                             and _balanced(ms)), ls.summary()
        got = ls.take()

        assert osc.ok("/livearranger/horizon", 20) == "correction horizon 20 ms"
        assert osc.ok("/livearranger/arranger", "zone") == "arranger zone"
        osc.ok("/livearranger/preset", "string-quartet")
        assert _wait_preset(osc, "string-quartet") == ["string-quartet", "zone", 20.0]
        osc.ok("/livearranger/stats/unsubscribe")
        kb.close()
        ls.close()
    finally:
        osc.close()
        out, err = _stop(proc)
    _check_closed(got, set(channels))
    assert _on_channel(got, channels[0]) == [82, 82]          # muted, then soloed away
    assert _on_channel(got, channels[3]) == [41, 41, 41]      # heard through all of it
    assert sorted(_on_channel(got, channels[1]) + _on_channel(got, channels[2])) == [55, 55, 65, 65]
    assert "preset string-quartet, arranger zone" in out, out
    assert "correction horizon 20 ms" in out, out
    assert "10 commands done, 0 refused" in out, out
    assert "Traceback" not in err, err


def test_garbage_and_a_flood_of_junk_do_not_stop_the_music(satb, jack_server, tmp_path,
                                                          monkeypatch):
    channels = [p.channel for p in satb.parts]
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    port = free_udp_port()
    proc = _play(tmp_path, port)
    osc = OscClient(port)
    junk = 10_000
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        kb.send([0x90, 60, 90])                           # held through the flood
        assert ls.wait_count(_counts(1, 0)), ls.summary()
        for batch in range(0, junk, 500):                 # paced: the kernel drops none
            for i in range(batch, batch + 500):
                kind = i % 4
                osc.send_raw(os.urandom(i % 200) if kind < 2 else
                             message("/livearranger/part/mute", "x", "y") if kind == 2 else
                             message(f"/livearranger/nothing/{i}", 1.5))
            assert osc.ask("/livearranger/ping")[0] == "/livearranger/pong"
        kb.send([0x80, 60, 0])
        for p in (48, 64, 72):                            # played after it: all come out
            kb.send([0x90, p, 90])
            kb.send([0x80, p, 0])
        assert ls.wait_count(lambda ms: _counts(4, 4)(ms) and _balanced(ms)), ls.summary()
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        osc.close()
        out, err = _stop(proc)
    assert sorted(m[1] for m in got if _is_on(m)) == [48, 60, 64, 72]
    _check_closed(got, set(channels))
    assert f"{junk} refused" in out, out
    assert "2500 bad arguments" in out and "2500 unknown address" in out, out
    assert "not logged (rate limit)" in out, out
    assert "Traceback" not in err, err
