"""Fixtures for the TUI tests: the real engine on in-memory ports inside the app."""

from __future__ import annotations

import asyncio
import inspect
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widget import Widget

from livearranger.router import MemoryOutput
from livearranger.session import Session, SessionConfig
from livearranger.tui.app import LiveArrangerApp
from livearranger.tui.controller import Controller
from tests.conftest import DrivenClock

TEST_TIMEOUT_S = 90.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests on a fresh event loop, bounded so that none can hang."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name]
            for name in inspect.signature(pyfuncitem.obj).parameters}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**args), TEST_TIMEOUT_S))
    return True


FAKE_INPUTS = ["USB Keyboard:out"]
FAKE_OUTPUTS = ["Hardware Synth:in"]


def fake_ports(api: str) -> tuple[list[str], list[str]]:
    """A fixed port list, so screens look the same on every machine."""
    return list(FAKE_INPUTS), list(FAKE_OUTPUTS)


# the driven clock of each session memory_session made
_clocks: weakref.WeakKeyDictionary[Session, DrivenClock] = weakref.WeakKeyDictionary()


def memory_session(preset: str = "satb",
                   arranger: str | None = None) -> tuple[Session, MemoryOutput]:
    """A real Session (engine, router, recorder tap) with no MIDI ports: notes go in
    through ``engine.feed`` and come out into a MemoryOutput; its engine's clock moves
    only when a test moves it (``clock_of``).  ``arranger``: None plays the preset's own
    (the model for satb; its session takes seconds to open)."""
    clock = DrivenClock()
    session = Session(SessionConfig(preset=preset, arranger=arranger, input=None,
                                    outputs=[]), clock_ns=clock)
    _clocks[session] = clock
    out = MemoryOutput()
    session.engine.router.add_output(out)
    return session, out


def clock_of(session: Session) -> DrivenClock:
    """The engine clock of a session made by ``memory_session``."""
    return _clocks[session]


@dataclass
class Rig:
    app: LiveArrangerApp
    session: Session
    out: MemoryOutput
    controller: Controller

    def play(self, *messages: list[int]) -> None:
        """Feed raw MIDI into the engine as a keyboard would (all at one instant), and
        wait until handled and the chord they formed settled."""
        engine = self.session.engine
        for m in messages:
            engine.feed(m)
        assert engine.wait_idle(), "engine thread did not handle the notes"
        if engine.horizon:           # past the chord's deadline: the engine settles it
            clock_of(self.session).advance(engine.horizon + 0.001)
            assert engine.wait_idle(), "engine thread did not settle the chord"

    def sent(self, status: int) -> list[list[int]]:
        """Messages with status nibble ``status`` (e.g. 0x90) that reached the output."""
        return [m for _t, _p, m in self.out.messages if m[0] & 0xF0 == status]


@pytest.fixture()
def rig(user_presets: str, tmp_path: Path) -> Iterator[Rig]:
    session, out = memory_session()
    config = SessionConfig(preset="satb", input=None, outputs=[])
    controller = Controller(config, session=session, port_lister=fake_ports,
                            record_dir=tmp_path)
    app = LiveArrangerApp(controller, poll_hz=30)
    try:
        yield Rig(app, session, out, controller)
    finally:
        controller.close()


async def until(pilot, condition: Callable[[], bool], timeout: float = 5.0,
                what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds; fail clearly after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Host(App[None]):
    """An app holding only ``widgets``: one panel or screen tested on its own."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self.widgets = widgets
        self.results: list[object] = []       # what screens pushed with ``show`` returned

    def compose(self) -> ComposeResult:
        yield from self.widgets

    def show(self, screen) -> None:
        self.push_screen(screen, self.results.append)


KEY_CHARS = {"enter": "\r", "escape": "\x1b", "tab": "\t", "space": " ", "plus": "+",
             "minus": "-", "equals_sign": "=", "question_mark": "?"}


def type_ahead(app: App[object], *keys: str) -> None:
    """Queue ``keys`` as a terminal does when they come faster than the app handles
    them: all wait in the app's queue before the first is handled (``pilot.press``
    instead lets the app finish each key before the next)."""
    for key in keys:
        event = events.Key(key, KEY_CHARS.get(key, key if len(key) == 1 else None))
        event.set_sender(app)
        app.post_message(event)
