"""The live engine: the realtime pump around the performer.

One thread takes timestamped MIDI from a queue (or polls the keyboard's port itself,
``set_input_poll``), parses it and hands each event to the ``Performer``
(``livearranger.performer``), which decides and sounds it.  The engine owns what is
about time and threads: arrival stamps, the engine thread at realtime priority, waking
when a chord is due to be settled or a delayed output is due, overload (a note-on that
waited too long is dropped; one behind the input is placed by the quick rule), keeping
the model warm while idle, and latency figures.  No Python runs on the MIDI API's thread,
which must never wait for the interpreter lock (JACK's is realtime) and, waiting for it,
deadlocks with closing the port.  Control calls from other threads (preset or arranger
change, panic) travel through the same queue, so the performer has one owner.  ``process``
plays one event synchronously (tests, offline replay).  The engine knows no UI.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from livearranger.arrangers.base import Arranger
from livearranger.chords import check_horizon
from livearranger.errors import ErrorLog
from livearranger.events import (
    KIND_MASK,
    LONE_EOX,
    NOTE_ON,
    SYSTEM,
    Kind,
    NoteEvent,
    RunningStatus,
    parse,
    split_messages,
)
from livearranger.performer import Observer, Performer, no_clock
from livearranger.presets import Preset
from livearranger.priority import raise_thread_priority
from livearranger.router import Router
from livearranger.state import PerformanceState
from livearranger.stats import LatencyRing, Snapshot

_STOP = object()
POLL_INTERVAL_S = 0.00025   # how often a polled input is read while nothing else happens
WARM_INTERVAL_S = 0.002     # while idle, an arranger with ``keep_warm`` runs this often
# A polled note-on that waited longer than this (a burst beyond what we can handle) is
# dropped and counted: new notes go first, so the backlog clears and latency recovers;
# note-offs and everything else are never dropped.
MAX_INPUT_LAG_NS = 200_000_000
# A note-on that waited longer than this for the engine (a burst: no one plays a chord
# whose keys the model cannot keep up with) is placed by the arranger's quick rule
# (``Arranger.decide_quickly``) and is not corrected: the backlog clears in a fraction
# of the time and nothing is lost.  Playing never comes near it: a chord of every key a
# hand can strike is decided well within it.
CATCH_UP_LAG_NS = 10_000_000


class Engine(Observer):
    """Plays every incoming event of ``preset`` through a ``Performer`` and ``router``.

    ``clock_ns`` gives arrival stamps (``time.perf_counter_ns`` live).  Performance
    time, in seconds, counts from the engine's creation for live input, multiplied by
    ``time_scale`` (a demo played N times faster than written records at written time).
    ``horizon``: seconds after a chord's first key in which its keys' parts may still be
    corrected (None or 0: never).  ``replay``: the events are a replay of timed ones
    (offline): performance time is theirs alone (what the engine sends itself, the
    set-up's program changes included, is stamped with the latest event's time) and
    ``clock_ns`` times only the arranger's steps.
    """

    def __init__(self, preset: Preset, arranger: Arranger, router: Router,
                 clock_ns: Callable[[], int] = time.perf_counter_ns,
                 time_scale: float = 1.0, horizon: float | None = None,
                 replay: bool = False) -> None:
        self._clock_ns = clock_ns
        self._t0 = clock_ns()
        self._ns_to_s = 1e-9 * time_scale
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._poll: Callable[[], Any] | None = None
        self._input_idle: Callable[[int], None] | None = None
        self.latency = LatencyRing()
        self.assign_time = LatencyRing()
        self.junk = 0               # messages that were no event at all
        self.dropped_note_ons = 0   # new notes dropped because input came faster than us
        self._status = RunningStatus()
        # the engine thread runs at realtime priority (None: no thread started yet)
        self.realtime: bool | None = None
        self._overloaded = False
        # one log for the engine and each router it plays through, in order
        self.errors = ErrorLog()
        router.errors = self.errors
        self.performer = Performer(preset, arranger, router, horizon,
                                   no_clock if replay else self.now, self._error)
        self.performer.observers.append(self)
        self._install(arranger, router)

    def _install(self, arranger: Arranger, router: Router) -> None:
        self._keep_warm = arranger.keep_warm if arranger.keeps_warm else None
        self._delayed = router.delayed

    # what is playing, as the performer has it
    @property
    def preset(self) -> Preset:
        return self.performer.preset

    @property
    def arranger(self) -> Arranger:
        return self.performer.arranger

    @property
    def router(self) -> Router:
        return self.performer.router

    @property
    def state(self) -> PerformanceState:
        return self.performer.state

    @property
    def moves(self) -> int:
        return self.performer.moves

    @property
    def doubles(self) -> int:
        return self.performer.doubles

    @property
    def hinted(self) -> int:
        return self.performer.hinted

    @property
    def notes_in(self) -> int:
        return self.performer.notes_in

    @property
    def caught_up(self) -> int:
        return self.performer.caught_up

    @property
    def ignored(self) -> int:
        return self.performer.ignored + self.junk

    def sounded(self, note: NoteEvent, part: int) -> None:
        """(Observer) a key sounded: its latency, arrival to sound, when it was live."""
        if note.stamp:
            self.latency.add((self._clock_ns() - note.stamp) * 1e-6)

    def now(self) -> float:
        """Seconds on the performance clock."""
        return (self._clock_ns() - self._t0) * self._ns_to_s

    def event_time(self) -> float:
        """Time for a message the engine makes itself (panic, set-up): now, but never
        before the latest event handled (a replay's times may run ahead of the clock)."""
        return self.performer.event_time()

    # ------------------------------------------------------------------ input
    def feed(self, data: list[int], stamp_ns: int | None = None) -> None:
        """Enqueue one raw MIDI message (any thread; does nothing else)."""
        self._queue.put((self._clock_ns() if stamp_ns is None else stamp_ns, data))

    def set_input_poll(self, poll: Callable[[], Any] | None,
                       idle: Callable[[int], None] | None = None) -> None:
        """Read input by calling ``poll()`` (python-rtmidi's ``get_message``: a message
        and its delta time in seconds since the previous one, or None) on the engine
        thread every ``POLL_INTERVAL_S``, and ``idle(now_ns)`` each time it has nothing
        more; None stops polling.  Takes effect in order with the queue (any thread).

        Each message is stamped with its arrival, estimated from the deltas (it may have
        waited in the port's queue): latency figures include that wait, and a note-on
        that waited more than ``MAX_INPUT_LAG_NS`` is dropped and counted."""
        def install() -> None:
            self._poll = poll
            self._input_idle = idle
        self.call(install)

    def call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the engine thread, in order with the notes (or now, if not running)."""
        if self.running:
            self._queue.put((0, fn))
        else:
            fn()

    # ------------------------------------------------------------- the thread
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the engine thread."""
        if self.running:
            return
        self._thread = threading.Thread(target=self._run, name="livearranger-engine",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0, time_s: float | None = None) -> None:
        """Drain what is queued, panic (at ``time_s``, default now), close the outputs
        and stop the thread.  The outputs are touched from here only once the engine
        thread has ended (a port being reopened there can take seconds on a busy JACK
        server: two threads on one rtmidi client crash it); after ``timeout`` it waits
        on, saying so."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put((0, _STOP))
            thread.join(timeout)
            if thread.is_alive():
                self._error(f"engine thread busy after {timeout:g} s at stop: waiting")
                thread.join()
        self._thread = None
        self.drain()
        self.performer.settle()
        self.performer.panic(time_s)
        self.router.close()

    def drain(self) -> None:
        """Process whatever is still queued, on the calling thread."""
        while True:
            try:
                stamp, data = self._queue.get_nowait()
            except queue.Empty:
                return
            if data is not _STOP:
                self._handle(stamp, data)

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Block until everything queued so far has been handled (tests, demo)."""
        done = threading.Event()
        self.call(done.set)
        return done.wait(timeout)

    def _run(self) -> None:
        self.realtime = raise_thread_priority()
        get = self._queue.get
        clock = self._clock_ns
        perf = time.perf_counter
        performer = self.performer
        last_busy = perf()
        arrived = empty_at = clock()       # latest arrival; when the input was last empty
        while True:
            poll = self._poll
            if poll is not None:
                try:
                    while (got := poll()) is not None:
                        now = clock()
                        # after the previous one by its delta; not before the input was
                        # last seen empty, not after now
                        arrived += int(got[1] * 1e9)
                        if arrived < empty_at:
                            arrived = empty_at
                        elif arrived > now:
                            arrived = now
                        empty_at = arrived
                        if now - arrived > MAX_INPUT_LAG_NS:
                            self._late(arrived, got[0])
                        else:
                            self._overloaded = False
                            self._handle(arrived, got[0])
                        last_busy = perf()
                    empty_at = clock()
                    idle = self._input_idle
                    if idle is not None:
                        idle(empty_at)
                except Exception as exc:   # port gone under us: stop polling it
                    self._poll = None
                    self._error(f"MIDI input failed: {exc}")
            warm = self._keep_warm
            timeout: float | None = None if poll is None else POLL_INTERVAL_S
            due = performer.due()
            if due is not None:            # a chord may be corrected: wake when it is due
                wait = due - self.now()
                if wait <= 0.0:
                    performer.settle()
                    continue
                timeout = wait if timeout is None else min(wait, timeout)
            if self._delayed:              # print outputs: wake when the next is due
                due = self.router.tick(self._delayed, self.now())
                if due is not None:
                    wait = max(due - self.now(), 0.0)
                    timeout = wait if timeout is None else min(wait, timeout)
            if warm is not None and (timeout is None or timeout > WARM_INTERVAL_S):
                timeout = WARM_INTERVAL_S
            try:
                stamp, data = get(timeout=timeout)
            except queue.Empty:
                if warm is not None and perf() - last_busy >= WARM_INTERVAL_S:
                    warm()                 # idle: keep the model's weights in cache
                    last_busy = perf()
                continue
            if data is _STOP:
                return
            self._handle(stamp, data)
            last_busy = perf()

    def _late(self, stamp: int, data: Any) -> None:
        """A polled message that waited too long: a new note-on is dropped (counted, and
        said once per overload), anything else is handled as usual."""
        if len(data) == 3 and data[0] & KIND_MASK == NOTE_ON and data[2]:
            self.dropped_note_ons += 1
            if not self._overloaded:
                self._overloaded = True
                self._error("input overloaded: new notes dropped until it caught up "
                            "(every note-off kept)")
            return
        self._handle(stamp, data)

    def _handle(self, stamp: int, data: Any) -> None:
        performer = self.performer
        if callable(data):
            due = performer.due()
            if due is not None and self.now() >= due:   # a due chord first
                performer.settle()
            try:
                data()
            except Exception as exc:
                self._error(f"engine command failed: {exc}")
            return
        if data == LONE_EOX:               # our input's own SysEx terminator: no message
            return
        t = (stamp - self._t0) * self._ns_to_s
        data = self._status.feed(data)
        if data and data[0] >= SYSTEM and performer.clock.handle(data, t):
            return                         # MIDI clock: tempo and beat, nothing to play
        event = parse(data, t, stamp)
        if event is not None:
            self._play(event)
            return
        # several messages in one, a SysEx with messages caught in it, or junk
        events = [e for m in split_messages(data) if (e := parse(m, t, stamp))]
        if not events:
            self.junk += 1
        for event in events:
            self._play(event)

    def _play(self, event: NoteEvent) -> None:
        try:
            self.process(event)
        except Exception as exc:  # the show goes on: report, never die mid-song
            self._error(f"note dropped: {type(exc).__name__}: {exc}")

    def process(self, ev: NoteEvent) -> None:
        """Play one event now (engine thread, or synchronously while not running).  A
        note-on that waited more than ``CATCH_UP_LAG_NS`` is placed by the quick rule."""
        performer = self.performer
        if ev.kind is not Kind.NOTE_ON or not ev.velocity:
            performer.process(ev)
            return
        t = self._clock_ns()
        keys = performer.notes_in
        performer.process(ev, ev.stamp != 0 and t - ev.stamp > CATCH_UP_LAG_NS)
        if performer.notes_in != keys:    # a key, not a hint: what deciding it took
            self.assign_time.add((self._clock_ns() - t) * 1e-6)

    def settle(self) -> None:
        """Settle the open chord now (engine thread, or while not running)."""
        self.performer.settle()

    def _error(self, text: str) -> None:
        self.errors.add(text)

    # ------------------------------------------------------------- controls
    def panic(self, time_s: float | None = None) -> int:
        """All notes off now (``Performer.panic``); returns how many notes it stopped.
        Call from the engine thread or when it is stopped (``request_panic`` otherwise)."""
        return self.performer.panic(time_s)

    def request_panic(self) -> None:
        """Panic from any thread, in order with the notes."""
        self.call(self.panic)

    def set_preset(self, preset: Preset, arranger: Arranger, router: Router | None = None,
                   close_old: bool = False) -> None:
        """Switch ensemble (any thread): panic on the old one, then play the new one."""
        def swap() -> None:
            performer = self.performer
            performer.panic()
            old = performer.router
            new_router = router if router is not None else Router(preset, old.outputs)
            for out in new_router.outputs:       # e.g. a recorder starts new tracks
                out.preset_changed(preset)
            if close_old and new_router is not old:
                old.close()
            new_router.errors = self.errors
            performer.install(preset, arranger, new_router)
            self._install(arranger, new_router)
        self.call(swap)

    def set_arranger(self, arranger: Arranger) -> None:
        """Switch arranger for the same preset (any thread); held notes stay where they are."""
        def swap() -> None:
            self.performer.set_arranger(arranger)
            self._keep_warm = arranger.keep_warm if arranger.keeps_warm else None
        self.call(swap)

    def set_mute(self, part: int, on: bool) -> None:
        """Mute or unmute ``part`` (0-based) from any thread: what it sounds stops at once.
        A preset switch clears every mute and solo."""
        self.call(lambda: self.router.set_mute(part, on, self.event_time()))

    def set_solo(self, part: int, on: bool) -> None:
        """Solo ``part`` (0-based) or end its solo, from any thread (see ``Router.set_solo``)."""
        self.call(lambda: self.router.set_solo(part, on, self.event_time()))

    @property
    def horizon(self) -> float | None:
        """The correction horizon in seconds, or None."""
        return self.performer.horizon

    def set_horizon(self, horizon: float | None) -> None:
        """Change the correction horizon (seconds; None or 0 for none), from any thread;
        an open chord is settled first.  ValueError when out of range."""
        check_horizon(horizon)            # said to the caller, not on the engine thread
        self.call(lambda: self.performer.set_horizon(horizon))

    def snapshot(self) -> Snapshot:
        """Figures for a UI or a report (any thread)."""
        performer = self.performer
        act = performer.activity
        router = performer.router
        clock = performer.clock
        horizon = performer.horizon
        recent = self.latency.values()[-64:]
        return Snapshot(
            part_names=list(act.names),
            counts=list(act.counts),
            sounding=[sorted(s) for s in act.sounding],
            recent=[list(r) for r in act.recent],
            latency=self.latency.summary(),
            assign=self.assign_time.summary(),
            latency_recent=[float(x) for x in recent],
            notes_in=performer.notes_in,
            ignored=self.ignored,
            dropped_note_ons=self.dropped_note_ons,
            caught_up=performer.caught_up,
            last_input=performer.last_input,
            arranger=performer.arranger.describe(),
            preset=performer.preset.name,
            errors=self.errors.latest(10), errors_total=self.errors.total,
            horizon_ms=0.0 if horizon is None else horizon * 1000.0,
            moves=performer.moves,
            doubles=performer.doubles,
            realtime=self.realtime,
            tempo_bpm=clock.tempo_bpm if clock.running else None,
            beat=clock.beat(self.now()),
            muted=sorted(router.muted),
            soloed=sorted(router.soloed),
        )
