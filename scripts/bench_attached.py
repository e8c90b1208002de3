"""Latency through real JACK ports: the headless instrument alone vs with a TUI attached.

One run, one private dummy jackd, one ``livearranger play --headless`` (satb,
closest-pitch, horizon 0) between a keyboard client and a sink; a plain MIDI thru in
the peer process (``livearranger.lab.bench``) is the baseline of each note.  Blocks
alternate: headless, then the real TUI app attached over OSC in a process of its own
(Textual's headless driver: it lays out and renders every redraw, 30 Hz by default,
and writes nothing to a terminal), and so on.  Prints p50/p99/max of both, and the
difference, then JSON (also written to bench-results/bench-attached.json).

    .venv/bin/python scripts/bench_attached.py [--notes 1500] [--blocks 4] [--speed 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np

from livearranger.io.midi_io import close_client
from livearranger.lab.bench import RESULTS_DIR, _match, _Peer, _stats, _wait, play_tagged
from livearranger.presets import load_preset


def ui_main(port: int, hz: float) -> int:
    """The attached TUI: ``ready`` once stats arrive; ``quit`` on stdin ends it."""
    from livearranger.client import ControlClient
    from livearranger.tui.app import LiveArrangerApp
    from livearranger.tui.remote import RemoteController

    ctrl = RemoteController(port, stats_hz=hz)
    app = LiveArrangerApp(ctrl, poll_hz=hz)
    start = time.monotonic()
    seen: list[ControlClient] = []

    def watch() -> None:
        while ctrl.client is None or ctrl.client.periods == 0:
            time.sleep(0.02)
        seen.append(ctrl.client)
        print("ready", flush=True)
        sys.stdin.readline()
        app.call_from_thread(app.exit)

    threading.Thread(target=watch, daemon=True).start()
    app.run(headless=True, size=(120, 40))
    ctrl.close()
    periods = seen[0].periods if seen else 0
    seconds = time.monotonic() - start
    print(json.dumps({"periods": periods, "seconds": round(seconds, 2)}), flush=True)
    return 0


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _block(kbd: Any, peer: _Peer, notes: int, speed: float, first_vel: int) -> dict[str, Any]:
    """Play ``notes`` of the chorale; latency (ms) of the instrument and the thru."""
    peer.ask("clear")
    sends = play_tagged(kbd, notes, speed, first_vel)
    n = len(sends)
    _wait(lambda: all(c[0] >= n for c in peer.ask("counts").values()), 5.0, 0.1)
    got = peer.ask("dump")
    preset = load_preset("satb")
    shift = {p.channel: (p.transpose, p.velocity_offset) for p in preset.parts}
    lat_m, _ = _match(sends, got["model"], shift)
    lat_t, _ = _match(sends, got["thru"], None)
    both = sorted(set(lat_m) & set(lat_t))
    return {"notes": n, "lost": n - len(lat_m),
            "inst": [lat_m[i] for i in both], "thru": [lat_t[i] for i in both]}


def main(argv: list[str]) -> int:
    if argv[:1] == ["_ui"]:
        return ui_main(int(argv[1]), float(argv[2]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=1500, help="note-ons per block")
    ap.add_argument("--blocks", type=int, default=4, help="headless and attached, alternating")
    ap.add_argument("--speed", type=float, default=4.0, help="times the chorale's tempo")
    ap.add_argument("--hz", type=float, default=30.0, help="the TUI's redraw rate")
    args = ap.parse_args(argv)
    import rtmidi

    from livearranger.lab.jackd import JackServer

    RESULTS_DIR.mkdir(exist_ok=True)
    tag = f"{os.getpid() % 1000}a"
    port = _free_port()
    results: dict[str, dict[str, list[float]]] = {
        m: {"inst": [], "thru": []} for m in ("headless", "attached")}
    lost = {"headless": 0, "attached": 0}
    ui_stats: list[dict[str, Any]] = []
    with JackServer(log=RESULTS_DIR / "jackd-attached.log"):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))   # names the server
        kbd = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"kbd{tag}")
        kbd.open_virtual_port("out")
        peer = _Peer(tag, f"kbd{tag}:out")
        inst = subprocess.Popen(
            [sys.executable, "-m", "livearranger", "play", "--headless", "--api", "jack",
             "--in", f"kbd{tag}:out", "--out", f"sinkm{tag}:in", "--preset", "satb",
             "--arranger", "closest-pitch", "--horizon-ms", "0", "--osc-port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert inst.stdout is not None
            line = inst.stdout.readline()
            if not line.startswith("playing"):
                inst.kill()
                raise SystemExit(f"the instrument did not start: {line!r} "
                                 f"{inst.communicate()[1][-500:]}")
            time.sleep(0.5)
            kbd.send_message([0x90, 60, 1])
            kbd.send_message([0x80, 60, 0])
            if not _wait(lambda: all(c[1] > 0 for c in peer.ask("counts").values()), 5.0):
                raise SystemExit("a JACK client delivers nothing: run again")
            for b in range(args.blocks):
                mode = "attached" if b % 2 else "headless"
                ui = None
                if mode == "attached":
                    ui = subprocess.Popen([sys.executable, __file__, "_ui", str(port),
                                           str(args.hz)], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True, env=env)
                    assert ui.stdout is not None and ui.stdin is not None
                    if ui.stdout.readline().strip() != "ready":
                        raise SystemExit("the attached TUI did not start")
                    time.sleep(0.5)
                r = _block(kbd, peer, args.notes, args.speed, b * 37)
                results[mode]["inst"] += r["inst"]
                results[mode]["thru"] += r["thru"]
                lost[mode] += r["lost"]
                if ui is not None:
                    out, _ = ui.communicate("quit\n", timeout=20)
                    ui_stats.append(json.loads(out.strip().splitlines()[-1]))
                print(f"block {b + 1}/{args.blocks} {mode}: {r['notes']} notes, "
                      f"{r['lost']} lost", flush=True)
        finally:
            inst.terminate()
            report, _err = inst.communicate(timeout=20)
            peer.close()
            close_client(kbd, "jack")
    summary: dict[str, Any] = {"bench": "attached", "notes_per_block": args.notes,
                               "blocks": args.blocks, "speed": args.speed, "hz": args.hz,
                               "ui": ui_stats, "cpus": os.cpu_count()}
    for mode, r in results.items():
        inst_ms, thru_ms = np.array(r["inst"]), np.array(r["thru"])
        summary[mode] = {"notes": len(inst_ms), "lost": lost[mode], **_stats(inst_ms),
                         "added": _stats(inst_ms - thru_ms), "thru": _stats(thru_ms)}
    h, a = summary["headless"], summary["attached"]
    summary["attached_minus_headless"] = {
        k: round(a[k] - h[k], 4) for k in ("p50_ms", "p99_ms", "max_ms")}
    summary["added_attached_minus_headless"] = {
        k: round(a["added"][k] - h["added"][k], 4) for k in ("p50_ms", "p99_ms")}
    for mode in ("headless", "attached"):
        m = summary[mode]
        print(f"{mode:>9}: {m['notes']} notes  p50 {m['p50_ms']:.3f} ms  "
              f"p99 {m['p99_ms']:.3f} ms  max {m['max_ms']:.3f} ms  "
              f"(added over thru p50 {m['added']['p50_ms']:.3f} p99 "
              f"{m['added']['p99_ms']:.3f})")
    d = summary["attached_minus_headless"]
    print(f"attached - headless: p50 {d['p50_ms']:+.3f} ms  p99 {d['p99_ms']:+.3f} ms  "
          f"max {d['max_ms']:+.3f} ms;  added over thru: p99 "
          f"{summary['added_attached_minus_headless']['p99_ms']:+.3f} ms;  UI stats periods: "
          + ", ".join(f"{u['periods']} in {u['seconds']} s" for u in ui_stats))
    text = json.dumps(summary)
    (RESULTS_DIR / "bench-attached.json").write_text(text + "\n")
    print(text)
    print(report.strip().splitlines()[0] if report.strip() else "", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
