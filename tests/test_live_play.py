"""`livearranger play --headless` on a real JACK MIDI bus, driven from separate clients."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest

from livearranger.offline import demo_performance, read_performance
from tests.midi_probe import connect_live, jack_ports, wait_for_port

pytestmark = pytest.mark.jack


def _start_play(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "livearranger", "play", "--headless", "--api", "jack",
           "--in", "virtual", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("playing"):
        proc.kill()
        raise AssertionError(f"play did not start: {line!r} {proc.stderr.read()!r}")
    return proc


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, err
    return out, err


def _chorale_notes(limit: int) -> list[list[int]]:
    msgs = [m for _t, m in read_performance(demo_performance())]
    out, ons = [], 0
    for m in msgs:
        out.append(m)
        if m[0] & 0xF0 == 0x90 and m[2] > 0:
            ons += 1
            if ons >= limit:
                break
    down: set[int] = set()
    for m in out:
        if m[0] & 0xF0 == 0x90 and m[2] > 0:
            down.add(m[1])
        elif m[0] & 0xF0 == 0x80:
            down.discard(m[1])
    out += [[0x80, p, 0] for p in sorted(down)]          # release what is still down
    return out


def _check_closed(messages: list[list[int]], channels: set[int]) -> dict[int, int]:
    """Every note-on is closed on its own channel; returns note-ons per channel."""
    open_notes: dict[tuple[int, int], int] = {}
    per_channel: dict[int, int] = {}
    for m in messages:
        kind, ch = m[0] & 0xF0, m[0] & 0x0F
        if kind in (0x80, 0x90):
            assert ch in channels, f"note on channel {ch + 1}, preset has {channels}"
        if kind == 0x90 and m[2] > 0:
            open_notes[(ch, m[1])] = open_notes.get((ch, m[1]), 0) + 1
            per_channel[ch] = per_channel.get(ch, 0) + 1
        elif kind == 0x80 or (kind == 0x90 and m[2] == 0):
            if open_notes.get((ch, m[1])):
                open_notes[(ch, m[1])] -= 1
    stuck = {k: v for k, v in open_notes.items() if v}
    assert not stuck, f"notes left sounding: {stuck}"
    return per_channel


def test_play_routes_every_note_once_and_closes_it(satb, jack_server, tmp_path):
    channels = {p.channel for p in satb.parts}
    record = tmp_path / "take.mid"
    proc = _start_play(tmp_path, "--out", "virtual", "--preset", "satb", "--horizon-ms", "0",
                       "--arranger", "closest-pitch", "--record", str(record))
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        notes = _chorale_notes(60)
        sent_ons = sum(1 for m in notes if m[0] & 0xF0 == 0x90 and m[2] > 0)
        for m in notes:
            kb.send(m)
            time.sleep(0.004)
        assert ls.wait_count(
            lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x90 and m[2] > 0) >= sent_ons
            and sum(1 for m in ms if m[0] & 0xF0 == 0x80) >= sent_ons, 10.0), \
            f"not every note came back through the engine: sent {sent_ons} note-ons, " \
            f"got back {ls.summary()}"
        got = ls.take()
        ons = [m for m in got if m[0] & 0xF0 == 0x90 and m[2] > 0]
        assert len(ons) == sent_ons                       # every note present once
        assert sorted(m[1] for m in ons) == sorted(
            m[1] for m in notes if m[0] & 0xF0 == 0x90 and m[2] > 0)
        per_channel = _check_closed(got, channels)
        assert len(per_channel) == 4                      # the chorale uses every voice
        kb.close()
        ls.close()
    finally:
        out, _err = _stop(proc)
    assert "notes in" in out and "p99" in out
    mid = mido.MidiFile(str(record))
    names = [t.name for t in mid.tracks[1:]]
    assert names == satb.part_names
    recorded_ons = sum(1 for t in mid.tracks for m in t if m.type == "note_on" and m.velocity)
    assert recorded_ons == sent_ons + 1                   # + the connection probe note


def test_stop_mid_note_releases_everything(quartet, jack_server, tmp_path):
    """SIGTERM while keys are down and the pedal is held: nothing is left sounding."""
    proc = _start_play(tmp_path, "--out", "virtual", "--preset", "string-quartet",
                       "--arranger", "top-bottom")
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        kb.send([0xB0, 64, 127])                          # sustain down
        for p in (48, 60, 64, 67, 72):
            kb.send([0x90, p, 90])
        kb.send([0x90, 60, 0])                            # one released under the pedal
        assert ls.wait_count(lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x90) >= 5
                             and any(m[0] & 0xF0 == 0x80 for m in ms), 5.0)
        out, _err = _stop(proc)
        assert ls.wait_count(lambda ms: any(m[0] & 0xF0 == 0xB0 and m[1] == 123
                                            for m in ms), 3.0), "no CC123 on exit"
        got = ls.take()
        channels = {p.channel for p in quartet.parts}
        _check_closed(got, channels)
        pedal_ups = {m[0] & 0x0F for m in got if m[0] & 0xF0 == 0xB0 and m[1] == 64
                     and m[2] == 0}
        assert pedal_ups == channels                      # sustain lifted on every part
        kb.close()
        ls.close()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_missing_input_port_is_one_line(jack_server, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "livearranger", "play", "--headless", "--api", "jack",
         "--in", "no-such-keyboard", "--out", "virtual"],
        capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no MIDI port named 'no-such-keyboard'" in lines[0]
    # the output it had opened is closed: no dead client left in JACK's graph
    assert not [p for p in jack_ports() if p.startswith("livearranger")], jack_ports()


def _moves_take(tmp_path: Path, mode: str) -> tuple[list[tuple[float, list[int]]],
                                                     float, Path]:
    """A chord struck top note first, bass, then the inner voices, into satb with the
    voice-leading rule and its 30 ms horizon: (arrivals, when the first key was sent,
    the recording)."""
    record = tmp_path / f"take-{mode}.mid"
    proc = _start_play(tmp_path, "--out", "virtual", "--preset", "satb", "--arranger",
                       "voice-leading", "--daw-mode", mode, "--record", str(record))
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        time.sleep(0.1)
        ls.take()
        sent = time.perf_counter()
        for p in (72, 48, 60, 64):
            kb.send([0x90, p, 90])
            time.sleep(0.003)
        time.sleep(0.2)
        for p in (72, 48, 60, 64):
            kb.send([0x80, p, 0])
        assert ls.wait_count(lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x80) >= 4, 5.0)
        time.sleep(0.1)
        got = ls.timed()
        kb.close()
        ls.close()
    finally:
        _stop(proc)
    return got, sent, record


def _recorded_notes(record: Path) -> list[tuple[str, int]]:
    """(track, key) of each note-on recorded, the connection probes (velocity 1) left out."""
    mid = mido.MidiFile(str(record))
    return [(t.name, m.note) for t in mid.tracks[1:] for m in t
            if m.type == "note_on" and m.velocity > 1]


def test_live_moves_close_the_old_part_first_and_the_record_keeps_final_parts(
        jack_server, tmp_path):
    got, _sent, record = _moves_take(tmp_path, "live")
    msgs = [m for _t, m in got if m[0] & 0xF0 in (0x80, 0x90)]
    ons = [m for m in msgs if m[0] & 0xF0 == 0x90 and m[2] > 0]
    first = list(dict.fromkeys(m[1] for m in ons))
    assert first == [72, 48, 60, 64]                        # each key sounded at once
    assert len(ons) > 4, "the spread chord was not corrected"
    # the key completing the chord was decided with it before it sounded: it never moves
    assert [m[1] for m in ons].count(64) == 1
    sounding: dict[int, int] = {}                           # key -> channel
    for m in msgs:
        kind, ch, key = m[0] & 0xF0, m[0] & 0x0F, m[1]
        if kind == 0x90 and m[2] > 0:
            assert key not in sounding, f"key {key} started twice without a note-off"
            sounding[key] = ch
        else:
            assert sounding.pop(key) == ch                  # off where it sounded
    assert not sounding
    final = {m[1]: m[0] & 0x0F for m in ons}
    assert [final[k] for k in (72, 64, 60, 48)] == [0, 1, 2, 3]
    notes = _recorded_notes(record)
    assert sorted(notes) == sorted([("soprano", 72), ("alto", 64), ("tenor", 60),
                                    ("bass", 48)])          # final parts, no trace of moves


def test_print_mode_delays_by_the_horizon_and_sends_final_parts_only(satb, jack_server,
                                                                     tmp_path):
    got, sent, _record = _moves_take(tmp_path, "print")
    ons = [(t, m) for t, m in got if m[0] & 0xF0 == 0x90 and m[2] > 0]
    assert [(m[1], m[0] & 0x0F) for _t, m in ons] == [(72, 0), (48, 3), (60, 2), (64, 1)]
    assert ons[0][0] - sent >= 0.030                       # held back by the horizon
    _check_closed([m for _t, m in got], {p.channel for p in satb.parts})


def _play_notes(kb, ls, pitches: list[int]) -> None:
    for p in pitches:
        kb.send([0x90, p, 80])
        time.sleep(0.01)
        kb.send([0x80, p, 0])
        time.sleep(0.01)
    assert ls.wait_count(lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x80)
                         >= len(pitches), 10.0), ls.summary()


def test_sigkill_loses_at_most_the_last_second_and_recover_rebuilds(satb, jack_server,
                                                                     tmp_path):
    from livearranger.journal import journal_path

    take = tmp_path / "take.mid"
    proc = _start_play(tmp_path, "--out", "virtual", "--preset", "satb", "--arranger",
                       "closest-pitch", "--record", str(take))
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        early = [48, 55, 60, 64, 67, 72, 76, 52, 59, 62]
        _play_notes(kb, ls, early)
        time.sleep(1.0)                     # what is a second old must be in the journal
        kb.send([0x90, 81, 80])             # still down at the kill: may be lost
        time.sleep(0.05)
        proc.kill()
        proc.wait(10)
        kb.close()
        ls.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not take.exists() and journal_path(take).exists()
    again = subprocess.run([sys.executable, "-m", "livearranger", "play", "--headless",
                            "--api", "jack", "--in", "none", "--out", "virtual",
                            "--record", str(take)], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
    assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
    assert f"livearranger recover {take}" in again.stderr
    rec = subprocess.run([sys.executable, "-m", "livearranger", "recover", str(take)],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert rec.returncode == 0, rec.stderr
    mid = mido.MidiFile(str(take))
    assert [t.name for t in mid.tracks[1:]] == satb.part_names
    timed = []                                  # (tick, key) of every note-on, all tracks
    for track in mid.tracks:
        tick = 0
        for m in track:
            tick += m.time
            if m.type == "note_on" and m.velocity:
                timed.append((tick, m.note))
    ons = [key for _tick, key in sorted(timed)]
    assert ons[0] == 72 and sorted(ons[1:11]) == sorted(early)   # probe note, then ours
    assert ons[11:] in ([], [81])               # the key down at the kill, if it made it
    assert not journal_path(take).exists()


@pytest.mark.parametrize("target", ["/proc/x.mid", "FILE/x.mid", "DIR"])
def test_unwritable_record_target_is_refused_at_start(jack_server, tmp_path, target):
    (tmp_path / "FILE").write_text("a file")
    (tmp_path / "DIR").mkdir()
    out = target if target.startswith("/") else str(tmp_path / target)
    proc = subprocess.run([sys.executable, "-m", "livearranger", "play", "--headless",
                           "--api", "jack", "--in", "virtual", "--out", "virtual",
                           "--record", out], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert out in proc.stderr and "cannot" in proc.stderr and "Traceback" not in proc.stderr
    assert "playing" not in proc.stdout and "wrote" not in proc.stdout
    assert not list((tmp_path / "DIR").iterdir())
    assert not [p for p in jack_ports() if p.startswith("livearranger")], jack_ports()


def test_a_take_that_cannot_be_saved_is_an_error_and_kept(jack_server, tmp_path):
    from livearranger.journal import journal_path

    take = tmp_path / "takes" / "take.mid"
    proc = _start_play(tmp_path, "--out", "virtual", "--in", "none", "--record", str(take),
                       "--arranger", "closest-pitch")
    take.mkdir()                          # the file's place taken while playing
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 2, (out, err)
    assert err.count("\n") == 1 and str(take) in err and "recover" in err
    assert "wrote" not in out
    assert journal_path(take).exists()


def test_a_take_being_recorded_is_locked_against_recover_and_a_second_take(jack_server,
                                                                           tmp_path):
    """While one instance records to take.mid, ``recover`` refuses (its journal is still
    being written) and so does a second ``play --record`` there, without advising the
    recover that would take the first one's journal away."""
    from livearranger.journal import journal_path

    take = tmp_path / "take.mid"
    first = _start_play(tmp_path, "--out", "virtual", "--in", "none", "--record", str(take),
                        "--arranger", "closest-pitch")
    try:
        rec = subprocess.run([sys.executable, "-m", "livearranger", "recover", str(take)],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert rec.returncode == 2 and rec.stderr.count("\n") == 1, rec.stderr
        assert str(take) in rec.stderr and "recording" in rec.stderr
        assert journal_path(take).exists() and not take.exists()
        again = subprocess.run([sys.executable, "-m", "livearranger", "play", "--headless",
                                "--api", "jack", "--in", "none", "--out", "virtual",
                                "--record", str(take)],
                               capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
        assert str(take) in again.stderr and "recover" not in again.stderr
        assert journal_path(take).exists()
    finally:
        out, _err = _stop(first)
    assert f"wrote {take}" in out
    assert take.exists() and not journal_path(take).exists()


def test_a_jack_server_killed_while_playing_is_said_and_the_take_kept(satb, tmp_path):
    """The server goes (SIGKILL) with a chord held: one line of ours saying so, the
    notes released and the take saved, a non-zero exit status."""
    import os

    from livearranger.journal import journal_path
    from livearranger.lab.jackd import JackServer
    from livearranger.port_watch import SERVER_LOST

    take = tmp_path / "take.mid"
    server = JackServer().start()          # our own: the session's serves other tests
    try:
        proc = _start_play(tmp_path, "--out", "virtual", "--preset", "satb", "--arranger",
                           "closest-pitch", "--horizon-ms", "0", "--record", str(take))
        try:
            kb, ls = connect_live("livearranger-out:out", "livearranger:in")
            for p in (48, 60, 64, 67):
                kb.send([0x90, p, 90])
            assert ls.wait_count(lambda ms: sum(1 for m in ms if m[0] & 0xF0 == 0x90) >= 4)
            assert server.proc is not None
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        kb.close()
        ls.close()
    finally:
        server.stop()
    assert proc.returncode == 2, (out, err)
    ours = [line for line in err.splitlines() if "livearranger" in line]
    assert ours == [f"livearranger: error: {SERVER_LOST}"], err
    assert f"warning: {SERVER_LOST}" in out and f"wrote {take}" in out
    assert take.exists() and not journal_path(take).exists()
    assert sorted(key for _part, key in _recorded_notes(take)) == [48, 60, 64, 67]
    sounding: dict[tuple[str, int], int] = {}
    for track in mido.MidiFile(str(take)).tracks[1:]:
        for m in track:
            if m.type in ("note_on", "note_off"):
                on = m.type == "note_on" and m.velocity > 0
                key = (track.name, m.note)
                sounding[key] = sounding.get(key, 0) + (1 if on else -1)
    assert not any(sounding.values()), sounding        # every key of the chord released
