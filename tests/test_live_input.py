"""The live input path of `livearranger play --headless` on a real JACK bus: a burst
of notes, a SysEx without its end, the pedal, signals, an output port that dies."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import mido
import pytest

from tests.midi_probe import Keyboard, connect_live, jack_ports, send_burst, wait_for_port
from tests.test_live_play import _check_closed, _start_play, _stop

pytestmark = pytest.mark.jack



def _is_on(m: list[int]) -> bool:
    return m[0] & 0xF0 == 0x90 and m[2] > 0


def _is_off(m: list[int]) -> bool:
    return m[0] & 0xF0 == 0x80 or (m[0] & 0xF0 == 0x90 and m[2] == 0)


def _counts(ons: int, offs: int):
    return lambda ms: (sum(1 for m in ms if _is_on(m)) >= ons
                       and sum(1 for m in ms if _is_off(m)) >= offs)


def _satb(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    return _start_play(tmp_path, "--out", "virtual", "--preset", "satb",
                       "--arranger", "closest-pitch", "--horizon-ms", "0", *extra)


# On these 2-core VMs, with the model catching up and no realtime scheduling, jackd found
# our loopback client late in about half of the bursts on 2026-12-07 (the commit before
# close_client alike: 2 of 6 tests failed there with 3 attempts); the criterion is the same
BURST_ATTEMPTS = 6


def _burst(jack_server, tmp_path: Path, pitches: list[int], arranger: str):
    """One burst through a fresh instrument: (all came back, summary, what came back,
    its stdout, its stderr, the clients jackd found late while it played)."""
    proc = _start_play(tmp_path, "--out", "virtual", "--preset", "satb",
                       "--arranger", arranger, "--horizon-ms", "0")
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        before = len(jack_server.xruns())
        send_burst(kb, pitches, 0.05)
        ok = ls.wait_count(_counts(len(pitches), len(pitches)), 30.0)
        late = jack_server.xruns()[before:]      # not those of clients closing after
        summary = ls.summary()
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        out, err = _stop(proc)
    return ok, summary, got, out, err, late


@pytest.mark.parametrize("arranger", ["closest-pitch", "model"])
def test_a_burst_of_5000_notes_all_comes_out_in_order(satb, jack_server, tmp_path, arranger):
    """A burst in which jackd found a client late (an xrun: MIDI lost inside JACK, which
    it logs) says nothing about us: it is played again, at most BURST_ATTEMPTS times.
    Every other outcome is judged.  The model (~0.3 ms a note) falls behind at once and
    catches up by its quick rule."""
    pitches = [36 + (i * 7) % 60 for i in range(5000)]
    late: list[list[str]] = []
    for _ in range(BURST_ATTEMPTS):
        ok, summary, got, out, err, lost_in_jack = _burst(jack_server, tmp_path, pitches,
                                                          arranger)
        if not lost_in_jack:
            break
        late.append(lost_in_jack)
    else:
        pytest.fail(f"JACK lost MIDI in every one of {BURST_ATTEMPTS} bursts (late "
                    f"clients: {late}); the last got back {summary}")
    assert ok, f"sent 5000 notes in 50 ms, got back {summary} (earlier xruns: {late})"
    assert [m[1] for m in got if _is_on(m)] == pitches          # every one, in order
    _check_closed(got, {p.channel for p in satb.parts})
    assert "0 new notes dropped" in out, out
    assert "queue limit" not in err, err
    if arranger == "model":
        assert "catching up:" in out, out


def _balanced(messages: list[list[int]]) -> bool:
    """Every note-on so far has its note-off (on its channel); a late probe note-off from
    the connection check must not pass for the panic's own."""
    open_notes: dict[tuple[int, int], int] = {}
    for m in messages:
        kind, key = m[0] & 0xF0, (m[0] & 0x0F, m[1] if len(m) > 1 else -1)
        if kind == 0x90 and m[2] > 0:
            open_notes[key] = open_notes.get(key, 0) + 1
        elif kind in (0x80, 0x90) and open_notes.get(key):
            open_notes[key] -= 1
    return not any(open_notes.values())


def test_sysex_without_its_end_does_not_swallow_note_offs(satb, jack_server, tmp_path):
    proc = _satb(tmp_path)
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        for p in (60, 64, 67):
            kb.send([0x90, p, 90])
        assert ls.wait_count(_counts(3, 0)), ls.summary()
        kb.send([0xF0, 0x7E, 0x7F, 0x06, 0x01])                   # no F7, ever
        for p in (60, 64, 67):
            kb.send([0x80, p, 0])
        assert ls.wait_count(_counts(3, 3)), f"note-offs after the SysEx lost: {ls.summary()}"
        kb.send([0x90, 72, 90])                                   # playing goes on
        kb.send([0x90, 48, 90])
        assert ls.wait_count(_counts(5, 3)), ls.summary()
        kb.send([0xF0, 0x43, 0x10])                               # again, then All Notes Off
        kb.send([0xB0, 123, 0])
        assert ls.wait_count(lambda ms: _counts(5, 5)(ms) and _balanced(ms)), \
            f"CC123 after the SysEx lost: {ls.summary()}"
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        _stop(proc)
    _check_closed(got, {p.channel for p in satb.parts})


def test_running_status_across_jack_events_stops_its_note(satb, jack_server, tmp_path):
    """A note-off sent as its data bytes alone, an event of its own after its note-on
    (running status across JACK events), stops the note at once."""
    proc = _satb(tmp_path)
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        kb.send([0x90, 60, 90])
        assert ls.wait_count(_counts(1, 0)), ls.summary()
        kb.send([60, 0])                                          # note-off, running status
        kb.send([64, 90])                                         # and a note-on
        kb.send([64, 0])
        assert ls.wait_count(lambda ms: _counts(2, 2)(ms) and _balanced(ms)), \
            f"running status not taken: {ls.summary()}"
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        _stop(proc)
    _check_closed(got, {p.channel for p in satb.parts})


def test_glissando_with_the_sustain_pedal_down_leaves_nothing_sounding(satb, jack_server,
                                                                       tmp_path):
    proc = _satb(tmp_path)
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        kb.send([0xB0, 64, 127])
        keys = list(range(36, 97)) + list(range(95, 35, -1))     # up and down again
        for p in keys:
            kb.send([0x90, p, 70])
            time.sleep(0.001)
            kb.send([0x80, p, 0])
        kb.send([0xB0, 64, 0])
        assert ls.wait_count(lambda ms: _counts(len(keys), len(keys))(ms) and sum(
            1 for m in ms if m[0] & 0xF0 == 0xB0 and m[1] == 64 and m[2] == 0) >= 4, 10.0), \
            ls.summary()
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        _stop(proc)
    assert [m[1] for m in got if _is_on(m)] == keys
    _check_closed(got, {p.channel for p in satb.parts})
    downs = [i for i, m in enumerate(got) if m[0] & 0xF0 == 0xB0 and m[1] == 64 and m[2]]
    ups = [i for i, m in enumerate(got) if m[0] & 0xF0 == 0xB0 and m[1] == 64 and not m[2]]
    assert len(downs) == len(ups) == 4 and max(downs) < min(ups)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_a_signal_with_a_chord_held_releases_it_and_saves_the_take(satb, jack_server,
                                                                   tmp_path, sig):
    take = tmp_path / "take.mid"
    proc = _satb(tmp_path, "--record", str(take))
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        for p in (48, 60, 64, 67):
            kb.send([0x90, p, 90])
        assert ls.wait_count(_counts(4, 0)), ls.summary()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
        assert ls.wait_count(_counts(4, 4), 3.0), f"chord left sounding: {ls.summary()}"
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    _check_closed(got, {p.channel for p in satb.parts})
    assert f"wrote {take}" in out
    mid = mido.MidiFile(str(take))
    ons = sum(1 for t in mid.tracks for m in t if m.type == "note_on" and m.velocity)
    offs = sum(1 for t in mid.tracks for m in t
               if m.type == "note_off" or (m.type == "note_on" and not m.velocity))
    assert ons == offs == 5                                       # the chord + the probe


_SYNTH = """
import sys, time, rtmidi
inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="fakesynth")
inp.open_virtual_port("in")
print("ready", flush=True)
while True:
    while (got := inp.get_message()) is not None:
        print(*got[0], flush=True)
    time.sleep(0.002)
"""


class _Lines:
    """Collects a process's stderr lines on a thread of its own."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait(self, text: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False


def _fake_synth() -> subprocess.Popen[str]:
    synth = subprocess.Popen([sys.executable, "-c", _SYNTH], stdout=subprocess.PIPE,
                             text=True)
    assert synth.stdout is not None and synth.stdout.readline().strip() == "ready"
    return synth


def test_an_output_port_killed_and_back_is_reported_and_reconnected(satb, jack_server,
                                                                    tmp_path):
    synth = _fake_synth()
    proc = _start_play(tmp_path, "--out", "fakesynth:in", "--preset", "satb",
                       "--arranger", "closest-pitch", "--horizon-ms", "0")
    messages = _Lines(proc.stderr)
    try:
        kb = Keyboard("livearranger:in")
        synth.kill()                                              # SIGKILL, no goodbye
        synth.wait()
        assert messages.wait("'fakesynth:in' disappeared"), messages.lines
        synth = _fake_synth()
        assert messages.wait("'fakesynth:in' is back: reconnected"), messages.lines
        heard = _Lines(synth.stdout)
        time.sleep(0.2)
        kb.send([0x90, 72, 90])
        soprano = 0x90 | satb.parts[0].channel
        assert heard.wait(f"{soprano} 72 90"), f"the reconnected output is silent: {heard.lines}"
        kb.close()
    finally:
        synth.kill()
        proc.send_signal(signal.SIGTERM)
        out = proc.stdout.read()
        proc.wait(15)
    assert proc.returncode == 0, messages.lines
    assert "note: MIDI output 'fakesynth:in' disappeared" in out, out
    assert not [p for p in jack_ports() if p.startswith("livearranger")], jack_ports()


_FEEDER = """
import time, rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="feeder")
out.open_port([i for i, p in enumerate(out.get_ports()) if p == "livearranger:in"][0])
time.sleep(1.5)                  # connected for a while: the session's looks have seen it
for p in (48, 60, 64, 67):
    out.send_message([0x90, p, 90])
print("chord down", flush=True)
time.sleep(60)
"""


def test_a_killed_program_feeding_the_virtual_input_stops_its_notes(satb, jack_server,
                                                                    tmp_path):
    proc = _satb(tmp_path)
    messages = _Lines(proc.stderr)
    try:
        wait_for_port("livearranger-out:out")
        kb, ls = connect_live("livearranger-out:out", "livearranger:in")
        feeder = subprocess.Popen([sys.executable, "-c", _FEEDER], stdout=subprocess.PIPE,
                                  text=True)
        assert feeder.stdout is not None and feeder.stdout.readline().strip() == "chord down"
        assert ls.wait_count(_counts(4, 0)), ls.summary()
        feeder.kill()                                             # SIGKILL, keys still down
        feeder.wait()
        assert ls.wait_count(_counts(4, 4)), f"chord left sounding: {ls.summary()}"
        assert messages.wait("lost 'feeder:"), messages.lines
        kb.send([0x90, 72, 90])                                   # the keyboard plays on
        kb.send([0x80, 72, 0])
        assert ls.wait_count(_counts(5, 5)), ls.summary()
        got = ls.take()
        kb.close()
        ls.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.stdout.read()
        proc.wait(15)
    _check_closed(got, {p.channel for p in satb.parts})
