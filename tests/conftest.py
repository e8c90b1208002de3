"""Shared fixtures: a private JACK server for the tests that need a real MIDI bus, and a
watchdog that turns a hung test into a failed run.  Every test that uses a JACK server
fixture, directly or through another fixture, is marked ``jack`` here, so that
``-m "not jack"`` never starts one."""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from livearranger.io.jacklib import use_system_jack
from livearranger.lab.jackd import JackServer

use_system_jack()   # before any test module imports rtmidi, as livearranger.io.midi_io does

# imported only after that (they may import rtmidi)
from livearranger.arrangers import Arranger, make_arranger  # noqa: E402
from livearranger.engine import Engine  # noqa: E402
from livearranger.presets import Preset, load_preset  # noqa: E402
from livearranger.router import MemoryOutput, Router  # noqa: E402

# No test takes a minute; one stuck this long is hung (e.g. inside a MIDI library call
# that holds the interpreter lock, which no Python-level timeout can interrupt).
TEST_LIMIT_S = 300.0
_stderr: dict[str, int] = {}


# fixtures that start a JACK server (jackd, or PipeWire's JACK)
JACK_FIXTURES = frozenset({"jack_server", "pipewire"})


def pytest_configure(config: pytest.Config) -> None:
    _stderr["fd"] = os.dup(sys.stderr.fileno())      # what pytest's capture does not take


@pytest.hookimpl(tryfirst=True)     # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_jack_users(items)


def mark_jack_users(items: list[pytest.Item]) -> None:
    """Mark ``jack`` every item whose fixture closure holds a JACK server fixture (a
    marker forgotten on one test would start jackd in a ``-m "not jack"`` run)."""
    for item in items:
        if JACK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.jack)


@pytest.fixture(autouse=True)
def _hang_watchdog() -> Iterator[None]:
    """After ``TEST_LIMIT_S`` print every thread's stack and end the run (exit code 1),
    from faulthandler's own C thread, which needs no interpreter lock: a hang fails in
    minutes and says where, instead of stalling CI until it is killed."""
    faulthandler.dump_traceback_later(TEST_LIMIT_S, exit=True, file=_stderr["fd"])
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _jack_only_when_marked(request: pytest.FixtureRequest,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A test not marked ``jack`` that starts a JACK server anyway (its own, or through
    code it calls, such as ``bench live``) fails, instead of slowing a quick run."""
    if request.node.get_closest_marker("jack") is None:
        def refuse(self: JackServer, wait: float = 10.0) -> JackServer:
            raise RuntimeError(f"{request.node.nodeid} starts jackd: mark it "
                               "@pytest.mark.jack")
        monkeypatch.setattr(JackServer, "start", refuse)


@pytest.fixture(scope="session")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JackServer]:
    """A ``jackd -d dummy`` of our own for the whole test session (stopped after)."""
    log = tmp_path_factory.mktemp("jack") / "jackd.log"
    server = JackServer(log=log)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def user_presets(tmp_path, monkeypatch) -> str:
    """An empty user preset folder, so tests never touch the real one."""
    folder = tmp_path / "presets"
    monkeypatch.setenv("LIVEARRANGER_PRESETS", str(folder))
    return str(folder)


@pytest.fixture(autouse=True)
def _no_jack_autostart(monkeypatch) -> None:
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    if "JACK_DEFAULT_SERVER" in os.environ:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", os.environ["JACK_DEFAULT_SERVER"])


@pytest.fixture(scope="session")
def pipewire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """PipeWire with its JACK emulation and no sound card (what a desktop runs), in a
    runtime folder and session bus of its own; yields the environment a client under
    ``pw-jack`` needs.  Everything it started is stopped afterwards."""
    import subprocess
    import time

    run_dir = tmp_path_factory.mktemp("pipewire-run")
    run_dir.chmod(0o700)
    env = {k: v for k, v in os.environ.items() if k != "JACK_DEFAULT_SERVER"}
    env["XDG_RUNTIME_DIR"] = str(run_dir)
    bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1",
                          "--print-pid=1"], capture_output=True, text=True, env=env,
                         timeout=10, check=True).stdout.split()
    env["DBUS_SESSION_BUS_ADDRESS"], bus_pid = bus[0], int(bus[1])
    log = open(run_dir / "pipewire.log", "w")   # noqa: SIM115 (closed below)
    procs = [subprocess.Popen([prog], env=env, stdout=log, stderr=log)
             for prog in ("pipewire", "wireplumber")]
    try:
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            probe = subprocess.run(["pw-jack", "jack_lsp"], env=env, capture_output=True,
                                   text=True, timeout=10)
            if probe.returncode == 0 and "not running" not in probe.stderr:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"PipeWire's JACK did not come up: {probe.stderr[-300:]}")
        yield env
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        try:
            os.kill(bus_pid, 15)
        except OSError:
            pass


# ------------------------------------------------------------ presets, clocks, engines
class DrivenClock:
    """A clock that moves only when the test moves it: called, nanoseconds (an engine's
    ``clock_ns``); ``seconds()`` for code that counts seconds.  It starts far from zero,
    as a monotonic clock does, so that nothing can rely on a zero start."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self.ns = round(start_s * 1e9)

    def __call__(self) -> int:
        return self.ns

    def seconds(self) -> float:
        return self.ns / 1e9

    def advance(self, seconds: float) -> None:
        self.ns += round(seconds * 1e9)


@pytest.fixture()
def driven_clock() -> DrivenClock:
    return DrivenClock()


@pytest.fixture(scope="session")
def preset() -> Callable[[str], Preset]:
    """``preset(name)``: a preset by name, as ``--preset`` finds it."""
    return load_preset


# a Preset is immutable (frozen, parts a tuple of frozen Parts): one for the session
@pytest.fixture(scope="session")
def satb() -> Preset:
    return load_preset("satb")


@pytest.fixture(scope="session")
def quartet() -> Preset:
    return load_preset("string-quartet")


@dataclass
class EngineRig:
    """An engine on no MIDI ports: notes go in through ``feed`` (or ``process``), come
    out into ``out``, and time moves only with ``clock``."""

    engine: Engine
    out: MemoryOutput
    clock: DrivenClock

    def sent(self, status: int) -> list[list[int]]:
        """Messages with status nibble ``status`` (e.g. 0x90) that reached the output."""
        return [m for _t, _p, m in self.out.messages if m[0] & 0xF0 == status]


@pytest.fixture()
def engine_rig(driven_clock: DrivenClock) -> Callable[..., EngineRig]:
    """``engine_rig(preset="satb", arranger="closest-pitch", horizon=None)``: an engine
    with a driven clock whose only output is in memory (its thread not started);
    ``preset`` a name or a Preset, ``arranger`` a name or an Arranger."""
    def build(preset: str | Preset = "satb", arranger: str | Arranger = "closest-pitch",
              horizon: float | None = None) -> EngineRig:
        chosen = load_preset(preset) if isinstance(preset, str) else preset
        arr = make_arranger(arranger, chosen) if isinstance(arranger, str) else arranger
        out = MemoryOutput()
        engine = Engine(chosen, arr, Router(chosen, [out]), clock_ns=driven_clock,
                        horizon=horizon)
        return EngineRig(engine, out, driven_clock)
    return build
