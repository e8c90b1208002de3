"""The suite's own rules: every test that starts a JACK server is marked ``jack`` (so
``-m "not jack"`` starts none), checked over the tests collected in this run and, for
servers started by code a test calls, when it starts one; and the tests mirror the
runtime package, a test file named after each module."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from livearranger.lab.jackd import JackServer
from tests.conftest import JACK_FIXTURES, mark_jack_users


def _starts_jack(item: pytest.Item) -> bool:
    if JACK_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    function = getattr(item, "function", None)
    if function is None:
        return False
    source = inspect.getsource(function)      # a server run as a command of its own
    return any(words in source for words in ('"jackd"', '"pw-jack"', "pipewire_probe"))


class _Item:
    def __init__(self, *fixturenames: str) -> None:
        self.fixturenames = list(fixturenames)
        self.markers: list[str] = []

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        self.markers.append(mark.name)


def test_a_test_using_a_jack_fixture_is_marked_jack():
    direct, through, pipewire, none = (_Item("tmp_path", "jack_server"),
                                       _Item("tui", "jack_server", "tmp_path"),
                                       _Item("pipewire"), _Item("tmp_path", "user_presets"))
    mark_jack_users([direct, through, pipewire, none])      # type: ignore[list-item]
    assert [i.markers for i in (direct, through, pipewire, none)] == [
        ["jack"], ["jack"], ["jack"], []]


def test_every_collected_test_that_starts_jack_is_marked(request: pytest.FixtureRequest):
    unmarked = [item.nodeid for item in request.session.items
                if _starts_jack(item) and item.get_closest_marker("jack") is None]
    assert unmarked == []


def test_a_test_not_marked_jack_cannot_start_jackd(tmp_path):
    server = JackServer(log=tmp_path / "jackd.log")
    try:
        with pytest.raises(RuntimeError, match="mark it @pytest.mark.jack"):
            server.start()
    finally:
        if server.proc is not None:          # the guard failed: stop what it started
            server.stop()


# ------------------------------------------------------------ tests mirror the package
ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "livearranger"
TRAINING_AREA = PACKAGE / "lab"          # evaluated by its own tests, not mirrored


def _runtime_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if TRAINING_AREA not in p.parents
                  and p.name not in ("__init__.py", "__main__.py"))


def _test_files(module: Path) -> list[Path]:
    """Where the tests of ``module`` live: livearranger/x/y.py -> tests/x/test_y.py, or
    tests/test_y.py."""
    rel = module.relative_to(PACKAGE)
    name = f"test_{rel.name}"
    return [ROOT / "tests" / rel.parent / name, ROOT / "tests" / name]


def test_every_runtime_module_has_a_test_file_of_its_name():
    modules = _runtime_modules()
    assert len(modules) > 40                  # the walk found the package
    untested = [str(m.relative_to(ROOT)) for m in modules
                if not any(t.is_file() for t in _test_files(m))]
    assert untested == [], "runtime modules without a test file of their name"
