"""A private ``jackd -d dummy`` server: a real MIDI bus with no sound card.

Used by the integration tests and the benchmarks.  Each server gets its own name
(``jackd -n``) and ``JACK_DEFAULT_SERVER`` points this process and its children at it,
so that concurrent runs never share or kill each other's server.  The settings
(``-t 2000 -d dummy -r 48000 -p 256``) give a slow, loaded machine a generous client
timeout and a period short enough for the latency tests.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from livearranger.errors import LiveArrangerError


class JackError(LiveArrangerError):
    """The JACK server could not be started."""


REGISTRY = Path("/dev/shm/jack-shm-registry")
_MAGIC = b"KCAJ"           # 0x4a41434b little-endian
_SLOTS_AT, _SLOT_SIZE, _MAX_SERVERS = 24, 264, 8   # jack_shm_header_t.server[8]: pid, name


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started us dies (Linux), so a
    killed test run leaves no jackd behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim_stale_servers(registry: Path = REGISTRY) -> int:
    """Free the server slots of jackd processes that died without unregistering.

    JACK2 keeps 8 server slots in its shared registry and reclaims a dead server's slot
    only for a server of the *same name*; servers with fresh names (ours, one per test
    session) that were killed would fill it for good ("Too many servers already active").
    A slot is cleared only when it holds a JACK server name and its pid is gone.
    Returns how many slots were freed.
    """
    try:
        with open(registry, "r+b") as f:
            head = f.read(_SLOTS_AT + _SLOT_SIZE * _MAX_SERVERS)
            if head[:4] != _MAGIC or len(head) < _SLOTS_AT + _SLOT_SIZE * _MAX_SERVERS:
                return 0
            freed = 0
            for i in range(_MAX_SERVERS):
                at = _SLOTS_AT + i * _SLOT_SIZE
                pid = int.from_bytes(head[at:at + 4], "little", signed=True)
                name = head[at + 4:at + 4 + 5]
                if pid > 0 and name == b"jack-" and not _alive(pid):
                    f.seek(at)
                    f.write(bytes(_SLOT_SIZE))
                    freed += 1
            return freed
    except OSError:
        return 0


class JackServer:
    """Context manager: start a dummy jackd, point JACK clients at it, stop it after."""

    def __init__(self, name: str | None = None, period: int = 256, rate: int = 48000,
                 timeout_ms: int = 2000, log: str | Path | None = None) -> None:
        self.name = name or f"la-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.period = period
        self.rate = rate
        self.timeout_ms = timeout_ms
        self.log_path = Path(log) if log else None
        self.proc: subprocess.Popen[bytes] | None = None
        self._old_env: str | None = None

    @property
    def period_ms(self) -> float:
        return 1000.0 * self.period / self.rate

    def start(self, wait: float = 10.0) -> JackServer:
        """Start jackd and wait until a client can connect; raise JackError otherwise."""
        jackd = shutil.which("jackd")
        if jackd is None:
            raise JackError("jackd is not installed (Debian: apt install jackd2)")
        reclaim_stale_servers()
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
        self.proc = subprocess.Popen(
            [jackd, "-n", self.name, "-t", str(self.timeout_ms), "-d", "dummy",
             "-r", str(self.rate), "-p", str(self.period)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True, preexec_fn=_die_with_parent,
        )
        self._old_env = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise JackError(f"jackd exited at start (code {self.proc.returncode})")
            probe = subprocess.run(["jack_lsp", "-s", self.name], capture_output=True,
                                   timeout=10, env=dict(os.environ, JACK_NO_START_SERVER="1"))
            if probe.returncode == 0 and b"JACK server not running" not in probe.stderr:
                return self
            time.sleep(0.2)
        self.stop()
        raise JackError(f"jackd {self.name!r} did not come up within {wait:.0f} s")

    def stop(self) -> None:
        """Stop jackd, wait for it to exit, remove its shared-memory files."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self._old_env is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = self._old_env
        for leftover in Path("/dev/shm").glob(f"jack_{self.name}*"):
            try:
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            except OSError:
                pass

    def xruns(self) -> list[str]:
        """The clients jackd found unfinished at a cycle's end so far (one name per xrun;
        needs ``log``).  MIDI a late client should have passed on in that cycle is lost
        inside JACK, before any client sees it."""
        if self.log_path is None or not self.log_path.exists():
            return []
        text = self.log_path.read_text(errors="replace")
        return re.findall(r"XRun: client = (\S+) was not finished", text)

    def __enter__(self) -> JackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
