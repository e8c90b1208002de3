"""Run under ``pw-jack`` (PipeWire's JACK): play notes into ``livearranger:in`` and count
what comes back from ``livearranger-out:out``; prints one JSON line.  A process of its
own, because a process that has loaded JACK2's client library cannot reach PipeWire."""

from __future__ import annotations

import json
import sys
import time

from livearranger.io.midi_io import list_ports, match_port  # loads the system libjack


def main(n: int) -> int:
    import rtmidi  # after livearranger.io.midi_io: rtmidi then talks through PipeWire

    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        ins, outs = list_ports("jack")
        if any("livearranger:in" in p for p in outs) and any(
                "livearranger-out:out" in p for p in ins):
            break
        time.sleep(0.1)
    kb = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="pw-keyboard")
    kb.open_port(match_port(kb.get_ports(), "livearranger:in"), "out")
    ls = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="pw-listener", queue_size_limit=8192)
    ls.open_port(match_port(ls.get_ports(), "livearranger-out:out"), "in")
    time.sleep(0.5)
    got: list[list[int]] = []
    for i in range(n):
        kb.send_message([0x90, 48 + i % 36, 90])
        time.sleep(0.005)
        kb.send_message([0x80, 48 + i % 36, 0])
        time.sleep(0.005)
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        msg = ls.get_message()
        if msg is None:
            if sum(1 for m in got if m[0] & 0xF0 == 0x80) >= n:
                break
            time.sleep(0.002)
            continue
        got.append(msg[0])
    ons = sum(1 for m in got if m[0] & 0xF0 == 0x90 and m[2] > 0)
    offs = sum(1 for m in got if m[0] & 0xF0 == 0x80)
    print(json.dumps({"sent": n, "ons": ons, "offs": offs, "ports": list_ports("jack")}))
    ls.close_port()
    kb.close_port()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
