"""The live engine: one thread takes timestamped MIDI from a queue, assigns, sends.

The engine thread polls the keyboard's port itself (``set_input_poll``): no Python runs
on the MIDI API's thread, which must never wait for the interpreter lock (JACK's is
realtime) and, waiting for it, deadlocks with closing the port.  ``feed`` timestamps
and enqueues bytes from anywhere else (offline replay, tests).  The engine thread parses,
asks the arranger for a part on note-on, remembers where each key went so its note-off
follows, forwards pedal/bend/aftertouch/controllers to every part, and keeps latency
figures.  Control calls from other threads (preset or
arranger change, panic) travel through the same queue, so the engine's state has one
owner.  ``process`` runs the same logic synchronously, for offline replay, evaluation
and tests.  Every key sounds the moment it arrives.  With a correction horizon
(``livearranger.chords``) the keys of a chord are decided again together when the chord
is complete or ``horizon`` seconds after its first key (the engine thread wakes then),
and a key whose part changed moves.  A preset's hints (``livearranger.hints``: a silent
key zone, a controller) force keys to a part above any arranger (``Arranger.decide``);
a hinted key is never moved.  The engine knows no UI.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from livearranger.arrangers.base import Arranger
from livearranger.chords import HorizonGroup, check_horizon, chord_size
from livearranger.clock import MidiClock
from livearranger.events import (
    ALL_NOTES_OFF,
    ALL_SOUND_OFF,
    SUSTAIN,
    Kind,
    NoteEvent,
    parse,
    split_messages,
)
from livearranger.hints import Hints
from livearranger.presets import Preset
from livearranger.priority import raise_thread_priority
from livearranger.router import Router
from livearranger.state import PerformanceState
from livearranger.stats import LatencyRing, PartActivity, Snapshot

_STOP = object()
_BANK_SELECT = (0, 32)
_KEYED = (Kind.NOTE_ON, Kind.NOTE_OFF, Kind.POLY_AFTERTOUCH)
POLL_INTERVAL_S = 0.00025   # how often a polled input is read while nothing else happens
WARM_INTERVAL_S = 0.002     # while idle, an arranger with ``keep_warm`` runs this often
# A polled note-on that waited longer than this (a burst beyond what we can handle) is
# dropped and counted: new notes go first, so the backlog clears and latency recovers;
# note-offs and everything else are never dropped.
MAX_INPUT_LAG_NS = 200_000_000
# A note-on that waited longer than this for the engine (a burst: no one plays a chord
# whose keys the model cannot keep up with) is placed by the arranger's quick rule
# (``Arranger.decide_quickly``) and is not corrected: the backlog clears in a fraction
# of the time and nothing is lost.  Playing never comes near it (a 16-key chord struck
# at one instant waits about 4 ms for the ensemble model on this 2-core machine).
CATCH_UP_LAG_NS = 10_000_000
_EOX = [0xF7]               # a lone End of Exclusive (MidiInput's own): not counted


class Engine:
    """Assigns every incoming note to a part of ``preset`` and routes it.

    ``clock_ns`` gives arrival stamps (``time.perf_counter_ns`` live).  Performance
    time, in seconds, counts from the engine's creation for live input, multiplied by
    ``time_scale`` (a demo played N times faster than written records at written time).
    ``horizon``: seconds after a chord's first key in which its keys' parts may still be
    corrected (None or 0: never).
    """

    def __init__(self, preset: Preset, arranger: Arranger, router: Router,
                 clock_ns: Callable[[], int] = time.perf_counter_ns,
                 time_scale: float = 1.0, horizon: float | None = None) -> None:
        self._clock_ns = clock_ns
        self._t0 = clock_ns()
        self._ns_to_s = 1e-9 * time_scale
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._poll: Callable[[], Any] | None = None
        self._input_idle: Callable[[int], None] | None = None
        self._last_time = 0.0   # latest event time seen (replayed times may run ahead)
        self.latency = LatencyRing()
        self.assign_time = LatencyRing()
        self.notes_in = 0
        self.moves = 0
        self.doubles = 0            # keys also sounded on a free part (unisons)
        self.hinted = 0             # keys a player's hint forced to a part
        # replay only: told of each doubling as it is made (None live)
        self.on_double: Callable[[NoteEvent, int], None] | None = None
        self.ignored = 0            # messages with nothing to play (system, program, junk)
        self.dropped_note_ons = 0   # new notes dropped because input came faster than us
        self.caught_up = 0          # notes placed by the quick rule while behind the input
        # the engine thread runs at realtime priority (None: no thread started yet)
        self.realtime: bool | None = None
        self._overloaded = False
        self.last_input: tuple[int, int] | None = None
        self.errors = router.errors    # one log, the engine's and the router's, in order
        self.clock = MidiClock()
        self._horizon = check_horizon(horizon)
        self._group: HorizonGroup | None = None
        self._settled: set[int] = set()   # keys of the group being settled that have a part
        self._install(preset, arranger, router)

    # ----------------------------------------------------------------- set-up
    def _install(self, preset: Preset, arranger: Arranger, router: Router) -> None:
        if [p.name for p in arranger.preset.parts] != [p.name for p in preset.parts]:
            raise ValueError("arranger was built for another preset")
        self.preset = preset
        self.arranger = arranger
        self._keep_warm = arranger.keep_warm if arranger.keeps_warm else None
        self.router = router
        self.state = PerformanceState(len(preset.parts))
        self.activity = PartActivity(preset.part_names)
        self._active: dict[int, tuple[int, int]] = {}   # key down -> (part, pitch sent)
        self._doubles: dict[int, tuple[int, int]] = {}  # key down -> its second part, pitch
        self._group = self._new_group()
        # a player's hints (None when the preset has none: the note path is unchanged)
        self._hints = Hints(preset) if preset.hints is not None else None
        self._hint_ccs: tuple[int, ...] = () if self._hints is None else tuple(
            c for c in (self._hints.cc, self._hints.mute_cc, self._hints.solo_cc) if c >= 0)
        self._transpose = [p.transpose for p in preset.parts]
        self._vel_offset = [p.velocity_offset for p in preset.parts]
        self._delayed = router.delayed
        router.setup(self.event_time())

    def _new_group(self) -> HorizonGroup | None:
        """The correction group for the current preset, or None without a horizon."""
        if self._horizon is None:
            return None
        size = chord_size(self.preset)
        ranges = None if size is None else [(p.low, p.high) for p in self.preset.parts]
        return HorizonGroup(self._horizon, size, ranges)

    def now(self) -> float:
        """Seconds on the performance clock."""
        return (self._clock_ns() - self._t0) * self._ns_to_s

    def event_time(self) -> float:
        """Time for a message the engine makes itself (panic, set-up): now, but never
        before the latest event handled (a replay's times may run ahead of the clock)."""
        return max(self.now(), self._last_time)

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
        self.settle()
        self.panic(time_s)
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
            group = self._group
            warm = self._keep_warm
            timeout: float | None = None if poll is None else POLL_INTERVAL_S
            if group:                      # a chord may be corrected: wake at its deadline
                wait = 0.0 if group.full else group.deadline - self.now()
                if wait <= 0.0:
                    self.settle()
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
        if len(data) == 3 and data[0] & 0xF0 == 0x90 and data[2]:
            self.dropped_note_ons += 1
            if not self._overloaded:
                self._overloaded = True
                self._error("input overloaded: new notes dropped until it caught up "
                            "(every note-off kept)")
            return
        self._handle(stamp, data)

    def _handle(self, stamp: int, data: Any) -> None:
        if callable(data):
            group = self._group
            if group and (group.full or self.now() >= group.deadline):   # a due chord first
                self.settle()
            try:
                data()
            except Exception as exc:
                self._error(f"engine command failed: {exc}")
            return
        t = (stamp - self._t0) * self._ns_to_s
        if data and data[0] >= 0xF0 and self.clock.handle(data, t):
            return                         # MIDI clock: tempo and beat, nothing to play
        event = parse(data, t, stamp)
        if event is not None:
            self._play(event)
            return
        # several messages in one, a SysEx with messages caught in it, or junk
        events = [e for m in split_messages(data) if (e := parse(m, t, stamp))]
        if not events and data != _EOX:
            self.ignored += 1
        for event in events:
            self._play(event)

    def _play(self, event: NoteEvent) -> None:
        try:
            self.process(event)
        except Exception as exc:  # the show goes on: report, never die mid-song
            self._error(f"note dropped: {type(exc).__name__}: {exc}")

    def _error(self, text: str) -> None:
        self.errors.add(text)

    # ------------------------------------------------------------ the logic
    def process(self, ev: NoteEvent) -> None:
        """Handle one event now (engine thread, or synchronous offline replay)."""
        self._last_time = ev.time
        kind = ev.kind
        group = self._group
        if group and group.closes_before(ev.time, ev.pitch if kind in _KEYED else None):
            self.settle()
        hints = self._hints
        if kind is Kind.NOTE_ON and ev.velocity > 0:
            if hints is not None and hints.is_hint_key(ev.pitch):
                self._hint_key(hints, ev.pitch, ev.time)   # sounds nothing
                return
            self._note_on(ev)
        elif kind is Kind.NOTE_OFF or kind is Kind.NOTE_ON:
            if hints is not None and hints.is_hint_key(ev.pitch):
                hints.release(ev.pitch)  # a mute or solo key's release does nothing
                return
            self._note_off(ev.pitch, ev.time, ev.velocity if kind is Kind.NOTE_OFF else 0)
        elif kind is Kind.CONTROL:
            self._control(ev)
        elif kind is Kind.PITCHBEND:
            self.router.to_all(kind, 0, ev.bend, ev.time)
        elif kind is Kind.AFTERTOUCH:
            self.router.to_all(kind, 0, ev.value, ev.time)
        elif kind is Kind.POLY_AFTERTOUCH:
            held = self._active.get(ev.pitch)
            if held is not None:
                self.router.to_part(held[0], kind, held[1], ev.value, ev.time)
        else:  # program change from the keyboard: the preset's programs stay
            self.ignored += 1

    @property
    def horizon_deadline(self) -> float | None:
        """When the open correction group closes at the latest (performance seconds), or
        None when no chord may be corrected now."""
        group = self._group
        return group.deadline if group else None

    @property
    def chord_complete(self) -> bool:
        """True when the open correction group is complete and settles next."""
        group = self._group
        return group is not None and group.full

    def settle(self) -> None:
        """Close the correction group: decide its keys again as one chord and move those
        whose part changed (engine thread, or when stopped)."""
        group = self._group
        if not group:
            return
        news = group.news
        notes = group.take()
        if not news:               # a lone key, nothing learnt since: it stays
            return
        for note in notes:         # hinted keys first: the others are decided around them
            if note.hint >= 0:
                notes.sort(key=_unhinted)
                break
        state = self.state
        self.arranger.rewind()
        state.rewind([n.pitch for n in notes])
        settled = self._settled
        settled.clear()
        try:
            self.arranger.assign_chord(notes, state, self._resettle)
        except Exception as exc:   # the show goes on: the keys keep the parts they have
            state.pending.clear()
            for note in notes:
                if note.part < 0:      # the completing key still sounds, where it would alone
                    self._send(note, note.hint if note.hint >= 0
                               else self._fallback_part(note, exc))
                elif note.pitch not in settled:
                    state.note_on(note.pitch, note.time, note.part)
            self._error(f"chord kept as it sounded: {type(exc).__name__}: {exc}")
            return
        try:
            doubled = self.arranger.doublings(notes, state)
        except Exception as exc:
            self._error(f"no unison doubled: {type(exc).__name__}: {exc}")
            return
        for note, part in doubled:
            self._double(note, part, notes)

    def _double(self, note: NoteEvent, part: int, chord: list[NoteEvent]) -> None:
        """Sound ``note``'s key on ``part`` too (a unison), where that is possible: the
        key still down on its own part, ``part`` another mono part in range with no key
        of the chord and nothing sounding.  The arranger never sees the second part: its
        view stays the one it was trained on."""
        key = note.pitch
        held = self._active.get(key)
        spec = self.preset.parts[part] if 0 <= part < len(self.preset.parts) else None
        if (held is None or held[0] != note.part or part == note.part or spec is None
                or not spec.mono or not spec.low <= key <= spec.high
                or key in self._doubles or self.state.part_held[part]
                or any(n.part == part for n in chord)
                or any(p == part for p, _ in self._doubles.values())):
            return
        pitch = self._out_pitch(key, part)
        self.router.double(part, pitch, self._out_velocity(note.velocity, part),
                           note.time, self.event_time())
        self._doubles[key] = (part, pitch)
        self.activity.on(part, pitch)
        self.doubles += 1
        if self.on_double is not None:
            self.on_double(note, part)

    def _end_double_on(self, part: int, time_s: float) -> None:
        """A new key goes to ``part``: the unison it was singing ends first (mono)."""
        for key, (p, pitch) in self._doubles.items():
            if p == part:
                del self._doubles[key]
                self.router.note_off(p, pitch, time_s, 0)
                self.activity.off(p, pitch)
                return

    def _resettle(self, note: NoteEvent, part: int) -> None:
        """``note`` of the group being settled is finally ``part``."""
        self._settled.add(note.pitch)
        if note.part < 0:                # the key that completed the chord sounds now
            self._send(note, part)
            return
        self.state.note_on(note.pitch, note.time, part)
        if part != note.part:
            self._move(note, part)

    def _note_on(self, ev: NoteEvent) -> None:
        key = ev.pitch
        if key in self._active:          # same key struck again while still down
            self._note_off(key, ev.time, 0)
        self.notes_in += 1
        self.last_input = (key, ev.velocity)
        self.state.beat = self.clock.beat(ev.time)
        t = self._clock_ns()
        behind = ev.stamp and t - ev.stamp > CATCH_UP_LAG_NS
        group = self._group
        if behind:                         # a burst: no chord is decided again now
            if group:
                self.settle()
            group = None
        elif group is not None and not group:   # a chord begins: it may be corrected
            self.arranger.mark()
            self.state.mark()
        hints = self._hints
        if hints is not None and (hint := hints.take(key)) >= 0:
            ev.hint = hint
            self.hinted += 1
        if group and len(group.notes) + 1 >= group.size:
            # the chord's last key: decided with the others before it sounds (settle
            # sounds the one key without a part yet), so it never moves
            group.add(ev)
            self.settle()
            self.assign_time.add((self._clock_ns() - t) * 1e-6)
            return
        try:
            arranger = self.arranger
            if behind:
                part = arranger.decide_quickly(ev, self.state)
                self.caught_up += 1
            elif ev.hint < 0:
                part = arranger.assign(ev, self.state)
            else:
                part = arranger.decide(ev, self.state)
        except Exception as exc:   # the show goes on: the key still sounds
            part = ev.hint if ev.hint >= 0 else self._fallback_part(ev, exc)
        if group and not behind and ev.hint < 0:
            parts = group.uncross(key, part)
            if parts is not None:
                part = self._uncross(group.notes, parts)
        self.assign_time.add((self._clock_ns() - t) * 1e-6)
        self._send(ev, part)
        if group is not None:
            group.add(ev)

    def _uncross(self, notes: list[NoteEvent], parts: list[int]) -> int:
        """The chord's keys so far go to ``parts`` (``HorizonGroup.uncross``); returns
        the part of the key arriving now, the last."""
        state = self.state
        for i, note in enumerate(notes):
            part = parts[i]
            if note.part != part:
                state.regive(note.pitch, note.time, part)
                self._move(note, part)
        return parts[-1]

    def _fallback_part(self, ev: NoteEvent, exc: Exception) -> int:
        """Where a key goes when the arranger failed on it: the first part the preset
        allows (the failure is reported)."""
        self._error(f"note given the preset's first allowed part: "
                    f"{type(exc).__name__}: {exc}")
        return self.arranger.constraints.candidates(ev.pitch, self.state, ev.time)[0]

    def _out_pitch(self, key: int, part: int) -> int:
        """The pitch ``part`` sounds for ``key`` (transposed, folded onto the keyboard)."""
        pitch = key + self._transpose[part]
        if pitch < 0 or pitch > 127:     # transposed off the keyboard: fold by octaves
            pitch = pitch % 12 + (0 if pitch < 0 else 120)
            if pitch > 127:
                pitch -= 12
        return pitch

    def _out_velocity(self, velocity: int, part: int) -> int:
        velocity += self._vel_offset[part]
        return 1 if velocity < 1 else (127 if velocity > 127 else velocity)

    def _move(self, ev: NoteEvent, part: int) -> None:
        """A sounding key goes to ``part``: note-off on its old part, note-on on the new
        one at the key's velocity (pedal and bend are on every part already)."""
        key = ev.pitch
        old_part, old_pitch = self._active[key]
        pitch = self._out_pitch(key, part)
        if self._doubles:
            self._end_double_on(part, self.event_time())
        self.router.move(old_part, old_pitch, part, pitch,
                         self._out_velocity(ev.velocity, part), ev.time, self.event_time())
        ev.part = part
        self._active[key] = (part, pitch)
        self.activity.moved(old_part, old_pitch, part, pitch)
        self.moves += 1

    def _send(self, ev: NoteEvent, part: int) -> None:
        """Sound a decided note-on on its part and record it."""
        key = ev.pitch
        pitch = self._out_pitch(key, part)
        velocity = self._out_velocity(ev.velocity, part)
        if self._doubles:
            self._end_double_on(part, ev.time)
        self.router.note_on(part, pitch, velocity, ev.time)
        ev.part = part
        self._active[key] = (part, pitch)
        self.state.note_on(key, ev.time, part)
        self.activity.on(part, pitch)
        if ev.stamp:
            self.latency.add((self._clock_ns() - ev.stamp) * 1e-6)

    def _note_off(self, key: int, time_s: float, velocity: int) -> None:
        held = self._active.pop(key, None)
        if held is None:
            return
        if self._group:                  # a legato key let go: the chord may read anew
            self._group.released = True
        part, pitch = held
        self.router.note_off(part, pitch, time_s, velocity)
        self.state.note_off(key)
        self.activity.off(part, pitch)
        if self._doubles:
            second = self._doubles.pop(key, None)
            if second is not None:
                self.router.note_off(second[0], second[1], time_s, velocity)
                self.activity.off(*second)

    def _hint_key(self, hints: Hints, key: int, time_s: float) -> None:
        """A key of the preset's hint, mute or solo zone went down."""
        if (part := hints.mute_part(key)) >= 0:
            self._switch(True, part, time_s)
        elif (part := hints.solo_part(key)) >= 0:
            self._switch(False, part, time_s)
        else:
            hints.press(key)             # arms its part (or, past the parts, nothing)

    def _switch(self, mute: bool, part: int, time_s: float) -> None:
        """A player's mute (else solo) key or pad for ``part``: on if it was off, else off."""
        router = self.router
        if mute:
            router.set_mute(part, part not in router.muted, time_s)
        else:
            router.set_solo(part, part not in router.soloed, time_s)

    def _control(self, ev: NoteEvent) -> None:
        number, value = ev.control, ev.value
        hints = self._hints
        if hints is not None and number in self._hint_ccs:   # these go to no part
            if number == hints.cc:
                hints.control(value)
            elif (part := hints.control_part(value)) >= 0:
                self._switch(number == hints.mute_cc, part, ev.time)
        elif number == SUSTAIN:
            self.router.to_all(Kind.CONTROL, SUSTAIN, value, ev.time)
        elif number in (ALL_NOTES_OFF, ALL_SOUND_OFF):
            self.panic(ev.time)
        elif number in _BANK_SELECT:
            self.ignored += 1            # would retune the parts' programs: ignored
        else:
            self.router.to_all(Kind.CONTROL, number, value, ev.time)

    # ------------------------------------------------------------- controls
    def panic(self, time_s: float | None = None) -> int:
        """All notes off now: explicit note-offs for what we sent, CC64 0, CC123.
        Returns how many notes it stopped.

        Call from the engine thread or when it is stopped (``request_panic`` otherwise).
        """
        t = self.event_time() if time_s is None else time_s
        if self._group:                  # the chord's keys stop where they sound
            self._group.take()
        if self._hints is not None:
            self._hints.clear()
        keys = list(self._active)
        for key in keys:
            self._note_off(key, t, 0)
        self._doubles.clear()            # the router stops what they sounded
        stopped = self.router.panic(t)
        self.activity.all_off()
        return len(keys) + stopped

    def request_panic(self) -> None:
        """Panic from any thread, in order with the notes."""
        self.call(self.panic)

    def set_preset(self, preset: Preset, arranger: Arranger, router: Router | None = None,
                   close_old: bool = False) -> None:
        """Switch ensemble (any thread): panic on the old one, then play the new one."""
        def swap() -> None:
            self.panic()
            old = self.router
            new_router = router if router is not None else Router(preset, old.outputs)
            for out in new_router.outputs:       # e.g. a recorder starts new tracks
                out.preset_changed(preset)
            if close_old and new_router is not old:
                old.close()
            self._install(preset, arranger, new_router)
        self.call(swap)

    def set_arranger(self, arranger: Arranger) -> None:
        """Switch arranger for the same preset (any thread); held notes stay where they are."""
        def swap() -> None:
            self.settle()
            arranger.reset()
            self.arranger = arranger
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
        return self._horizon

    def set_horizon(self, horizon: float | None) -> None:
        """Change the correction horizon (seconds; None or 0 for none), from any thread;
        an open group is settled first.  ValueError when out of range."""
        h = check_horizon(horizon)

        def swap() -> None:
            self.settle()
            self._horizon = h
            self._group = self._new_group()
        self.call(swap)

    def snapshot(self) -> Snapshot:
        """Figures for a UI or a report (any thread)."""
        act = self.activity
        recent = self.latency.values()[-64:]
        return Snapshot(
            part_names=list(act.names),
            counts=list(act.counts),
            sounding=[sorted(s) for s in act.sounding],
            recent=[list(r) for r in act.recent],
            latency=self.latency.summary(),
            assign=self.assign_time.summary(),
            latency_recent=[float(x) for x in recent],
            notes_in=self.notes_in,
            ignored=self.ignored,
            dropped_note_ons=self.dropped_note_ons,
            caught_up=self.caught_up,
            last_input=self.last_input,
            arranger=self.arranger.describe(),
            preset=self.preset.name,
            errors=self.errors.latest(10), errors_total=self.errors.total,
            horizon_ms=0.0 if self._horizon is None else self._horizon * 1000.0,
            moves=self.moves,
            doubles=self.doubles,
            realtime=self.realtime,
            tempo_bpm=self.clock.tempo_bpm if self.clock.running else None,
            beat=self.clock.beat(self.now()),
            muted=sorted(self.router.muted),
            soloed=sorted(self.router.soloed),
        )


def _unhinted(note: NoteEvent) -> bool:
    """Sort key: hinted keys first (stable: each kind stays lowest first)."""
    return note.hint < 0
