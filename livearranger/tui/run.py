"""The front panel from the command line: which instrument it drives (one answering on
the OSC port, one it starts, or one in this process), the signals that end it, and what
its exit says."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TextIO

from livearranger.client import ping
from livearranger.errors import BadValue
from livearranger.session import SessionConfig
from livearranger.tui.app import LiveArrangerApp
from livearranger.tui.controller import Controller
from livearranger.tui.controls import Controls
from livearranger.tui.remote import STATS_HZ, RemoteController, spawn
from livearranger.tui.signals import SignalStop, detach_terminal


def make_controller(config: SessionConfig, record_dir: str | Path | None = None,
                    spawn_args: list[str] | None = None) -> Controls:
    """Attach to the instrument that answers on ``config.osc_port`` if one does; else
    start one with ``spawn_args`` (``livearranger play --headless`` options) when given
    and attach to it; else play in this process as before."""
    port, host = config.osc_port, config.osc_host
    if port and ping(port, host):
        return RemoteController(port, host)
    if spawn_args is not None:
        if not port:
            raise BadValue("--spawn needs an OSC port (--osc-port N, not 0)")
        spawn(spawn_args, port, host)
        return RemoteController(port, host)
    return Controller(config, record_dir=record_dir)


def run_tui(config: SessionConfig, record_dir: str | Path | None = None,
            spawn_args: list[str] | None = None) -> int:
    """Open the front panel for ``config`` (attached to a running instrument if one
    answers, see ``make_controller``); returns the exit status."""
    controller = make_controller(config, record_dir, spawn_args)
    remote = isinstance(controller, RemoteController)
    app = LiveArrangerApp(controller, poll_hz=STATS_HZ if remote else 20.0)
    stops = SignalStop(app)
    stops.install()
    try:
        try:
            result = app.run()
        except KeyboardInterrupt:
            app.controller.close()
            return 130
        finally:
            app.controller.close()
        if isinstance(controller, RemoteController):
            _say(f"detached from the instrument on OSC port {controller.port}: it plays on")
        for path in app.controller.saved_recordings:
            _say(f"recording saved to {path}")
        if app.controller.record_errors:         # a take not saved is an error
            for problem in app.controller.record_errors:
                _say(f"livearranger: recording not saved: {problem}", sys.stderr)
            return 2
        if app.stopped_by is not None:
            _say(f"livearranger: stopped by {signal.Signals(app.stopped_by).name}")
            return 0
        code = app.return_code if app.return_code is not None else 0
        return int(result if isinstance(result, int) and code == 0 else code)
    finally:
        stops.restore()


def _say(line: str, file: TextIO | None = None) -> None:
    """Print one line, where the terminal may be gone (SIGHUP)."""
    try:
        print(line, file=file or sys.stdout, flush=True)
    except OSError:      # gone: what is left in the buffer must not fail the exit
        detach_terminal()
