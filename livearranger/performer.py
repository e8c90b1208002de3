"""The performer: the musical decision for every event, in one synchronous object.

Each note-on is given a part by the arranger and sounds at once; its note-off follows it
to that part; pedal, bend and controllers go to every part.  With a correction horizon
(``livearranger.chords``) the keys of a chord are decided again together when the chord
is complete or ``horizon`` seconds after its first key, and a key whose part changed
*moves*; a key that arrives crossing its chord puts the chord's keys back in pitch order
on the spot.  A preset's hints (``livearranger.hints``) force keys to a part above any
arranger and are never moved; an arranger may double a chord's key onto a free part
(``livearranger.unisons``).

Everything that decides a key lives here, and everything that plays a performance drives
it: the live engine (``livearranger.engine``, which adds the thread, the clock and the
overload rules), offline ``arrange``, evaluation and training's replay.  They learn what
was decided through ``Observer`` callbacks, never by reading the performer's state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from livearranger.arrangers.base import Arranger
from livearranger.chords import HorizonGroup, check_horizon, chord_size
from livearranger.clock import MidiClock
from livearranger.events import ALL_NOTES_OFF, ALL_SOUND_OFF, SUSTAIN, Kind, NoteEvent
from livearranger.hints import Hints
from livearranger.presets import Preset
from livearranger.router import Router
from livearranger.state import PerformanceState
from livearranger.stats import PartActivity
from livearranger.unisons import Unisons

_BANK_SELECT = (0, 32)


class Observer:
    """Told what the performer does, as it does it; each hook is empty by default."""

    def sounded(self, note: NoteEvent, part: int) -> None:
        """``note``'s key started to sound on ``part`` (its first decision)."""

    def moved(self, note: NoteEvent, old: int, part: int, at: float) -> None:
        """``note``'s sounding key moved from part ``old`` to ``part``; ``at``: when the
        decision was taken (performance seconds)."""

    def settled(self, notes: Sequence[NoteEvent], at: float) -> None:
        """A chord's keys were decided again together (lowest first), at ``at``."""

    def doubled(self, note: NoteEvent, part: int) -> None:
        """``note``'s key also sounds on ``part`` (a unison)."""


def no_clock() -> float:
    """A performance clock that stays at 0: times are the events' own (offline)."""
    return 0.0


class Performer:
    """Decides and sounds every event of one performance through ``router``.

    ``now`` gives the performance clock in seconds (live: the engine's; offline: none,
    so a message the performer makes itself is stamped with the latest event's time).
    ``report`` is told each failure the show survives (an arranger that raised).
    """

    def __init__(self, preset: Preset, arranger: Arranger, router: Router,
                 horizon: float | None = None, now: Callable[[], float] = no_clock,
                 report: Callable[[str], None] | None = None) -> None:
        self._now = now
        self._report = report
        self._last_time = 0.0     # latest event time seen (replayed times may run ahead)
        self.observers: list[Observer] = []
        self.clock = MidiClock()
        self.notes_in = 0
        self.moves = 0
        self.doubles = 0          # keys also sounded on a free part (unisons)
        self.hinted = 0           # keys a player's hint forced to a part
        self.caught_up = 0        # keys placed by the quick rule (``process(quick=True)``)
        self.ignored = 0          # messages with nothing to play (program changes, ...)
        self.last_input: tuple[int, int] | None = None
        self._horizon = check_horizon(horizon)
        self._settled: set[int] = set()   # keys of the group being settled with a part
        self.install(preset, arranger, router)

    # ----------------------------------------------------------------- set-up
    def install(self, preset: Preset, arranger: Arranger, router: Router) -> None:
        """Play ``preset`` with ``arranger`` through ``router`` from now on (call after
        ``panic``: nothing of the old preset may still sound)."""
        if [p.name for p in arranger.preset.parts] != [p.name for p in preset.parts]:
            raise ValueError("arranger was built for another preset")
        self.preset = preset
        self.arranger = arranger
        self.router = router
        self.state = PerformanceState(len(preset.parts))
        self.activity = PartActivity(preset.part_names)
        self._active: dict[int, tuple[int, int]] = {}   # key down -> (part, pitch sent)
        self.unisons = Unisons(preset)
        self.group = self._new_group()
        # a player's hints (None when the preset has none: the note path is unchanged)
        self.hints = Hints(preset) if preset.hints is not None else None
        self._hint_ccs: tuple[int, ...] = () if self.hints is None else tuple(
            c for c in (self.hints.cc, self.hints.mute_cc, self.hints.solo_cc) if c >= 0)
        self._transpose = [p.transpose for p in preset.parts]
        self._vel_offset = [p.velocity_offset for p in preset.parts]
        router.setup(self.event_time())

    def set_arranger(self, arranger: Arranger) -> None:
        """Decide with ``arranger`` from now on; held keys stay where they sound."""
        self.settle()
        arranger.reset()
        self.arranger = arranger

    @property
    def horizon(self) -> float | None:
        """The correction horizon in seconds, or None."""
        return self._horizon

    def set_horizon(self, horizon: float | None) -> None:
        """Change the correction horizon (seconds; None or 0: none); an open chord is
        settled first.  ValueError when out of range."""
        h = check_horizon(horizon)
        self.settle()
        self._horizon = h
        self.group = self._new_group()

    def _new_group(self) -> HorizonGroup | None:
        if self._horizon is None:
            return None
        size = chord_size(self.preset)
        ranges = None if size is None else [(p.low, p.high) for p in self.preset.parts]
        return HorizonGroup(self._horizon, size, ranges)

    def event_time(self) -> float:
        """Time for a message the performer makes itself (a move, a panic): now, but
        never before the latest event handled (a replay's times may run ahead)."""
        now = self._now()
        return now if now > self._last_time else self._last_time

    def due(self) -> float | None:
        """When the open chord must be settled (performance seconds; -inf: at once),
        or None when no chord is open."""
        group = self.group
        if not group:
            return None
        return float("-inf") if group.full else group.deadline

    # ------------------------------------------------------------ the events
    def process(self, ev: NoteEvent, quick: bool = False) -> None:
        """Play one event.  ``quick``: the player is far ahead of us (a burst): a
        note-on is placed by the arranger's quick rule and opens no chord."""
        self._last_time = ev.time
        kind = ev.kind
        group = self.group
        if group and group.closes_before(ev.time, ev.pitch if kind in _KEYED else None):
            self.settle(min(group.deadline, ev.time))
        hints = self.hints
        if kind is Kind.NOTE_ON and ev.velocity > 0:
            if hints is not None and hints.is_hint_key(ev.pitch):
                self._hint_key(hints, ev.pitch, ev.time)   # sounds nothing
                return
            self._note_on(ev, quick)
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

    def _note_on(self, ev: NoteEvent, quick: bool) -> None:
        key = ev.pitch
        if key in self._active:          # same key struck again while still down
            self._note_off(key, ev.time, 0)
        self.notes_in += 1
        self.last_input = (key, ev.velocity)
        self.state.beat = self.clock.beat(ev.time)
        group = self.group
        if quick:                          # a burst: no chord is decided again now
            if group:
                self.settle()
            group = None
        elif group is not None and not group:   # a chord begins: it may be corrected
            self.arranger.mark()
            self.state.mark()
        hints = self.hints
        if hints is not None and (hint := hints.take(key)) >= 0:
            ev.hint = hint
            self.hinted += 1
        if group and len(group.notes) + 1 >= group.size:
            # the chord's last key: decided with the others before it sounds (the
            # settle sounds the one key without a part yet), so it never moves
            group.add(ev)
            self.settle(ev.time)
            return
        try:
            arranger = self.arranger
            if quick:
                part = arranger.decide_quickly(ev, self.state)
                self.caught_up += 1
            elif ev.hint < 0:
                part = arranger.assign(ev, self.state)
            else:
                part = arranger.decide(ev, self.state)
        except Exception as exc:   # the show goes on: the key still sounds
            part = ev.hint if ev.hint >= 0 else self._fallback_part(ev, exc)
        if group and ev.hint < 0:
            parts = group.uncross(key, part)
            if parts is not None:
                part = self._uncross(group.notes, parts, ev.time)
        self._sound(ev, part)
        if group is not None:
            group.add(ev)
            if group.full:               # a one-part ensemble: nothing to decide again
                self.settle(ev.time)

    def _note_off(self, key: int, time_s: float, velocity: int) -> None:
        held = self._active.pop(key, None)
        if held is None:
            return
        if self.group:                   # a legato key let go: the chord may read anew
            self.group.released = True
        part, pitch = held
        self.router.note_off(part, pitch, time_s, velocity)
        self.state.note_off(key)
        self.activity.off(part, pitch)
        if self.unisons and (second := self.unisons.release(key)) is not None:
            self.router.note_off(second[0], second[1], time_s, velocity)
            self.activity.off(*second)

    def _control(self, ev: NoteEvent) -> None:
        number, value = ev.control, ev.value
        hints = self.hints
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

    def _hint_key(self, hints: Hints, key: int, time_s: float) -> None:
        """A key of the preset's hint, mute or solo zone went down."""
        if (part := hints.mute_part(key)) >= 0:
            self._switch(True, part, time_s)
        elif (part := hints.solo_part(key)) >= 0:
            self._switch(False, part, time_s)
        else:
            hints.press(key)             # arms its part (or, past the parts, nothing)

    def _switch(self, mute: bool, part: int, time_s: float) -> None:
        """A player's mute (else solo) key or pad for ``part``: on if it was off."""
        router = self.router
        if mute:
            router.set_mute(part, part not in router.muted, time_s)
        else:
            router.set_solo(part, part not in router.soloed, time_s)

    # --------------------------------------------------------- the chord
    def settle(self, at: float | None = None) -> None:
        """Close the open chord: decide its keys again as one and move those whose part
        changed.  ``at``: when (for observers; default the chord's deadline)."""
        group = self.group
        if not group:
            return
        when = group.deadline if at is None else at
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
        self._settled.clear()

        def commit(note: NoteEvent, part: int) -> None:
            self._resettle(note, part, when)

        try:
            self.arranger.assign_chord(notes, state, commit)
        except Exception as exc:   # the show goes on: the keys keep the parts they have
            state.pending.clear()
            for note in notes:
                if note.part < 0:      # the completing key still sounds, where it would alone
                    self._sound(note, note.hint if note.hint >= 0
                                else self._fallback_part(note, exc))
                elif note.pitch not in self._settled:
                    state.note_on(note.pitch, note.time, note.part)
            self._error(f"chord kept as it sounded: {type(exc).__name__}: {exc}")
            return
        for observer in self.observers:
            observer.settled(notes, when)
        try:
            doubled = self.arranger.doublings(notes, state)
        except Exception as exc:
            self._error(f"no unison doubled: {type(exc).__name__}: {exc}")
            return
        for note, part in doubled:
            self._double(note, part, notes)

    def _resettle(self, note: NoteEvent, part: int, at: float) -> None:
        """``note`` of the chord being settled is finally ``part``."""
        self._settled.add(note.pitch)
        if note.part < 0:                # the key that completed the chord sounds now
            self._sound(note, part)
            return
        self.state.note_on(note.pitch, note.time, part)
        if part != note.part:
            self._move(note, part, at)

    def _uncross(self, notes: list[NoteEvent], parts: list[int], at: float) -> int:
        """The chord's keys so far go to ``parts`` (``HorizonGroup.uncross``); returns
        the part of the key arriving now, the last."""
        state = self.state
        for i, note in enumerate(notes):
            part = parts[i]
            if note.part != part:
                state.regive(note.pitch, note.time, part)
                self._move(note, part, at)
        return parts[-1]

    def _double(self, note: NoteEvent, part: int, chord: list[NoteEvent]) -> None:
        """Sound ``note``'s key on ``part`` too, where ``Unisons.allowed``."""
        key = note.pitch
        held = self._active.get(key)
        if not self.unisons.allowed(note, part, chord, None if held is None else held[0],
                                    self.state.part_held[part] > 0
                                    if 0 <= part < len(self.preset.parts) else True):
            return
        pitch = self._out_pitch(key, part)
        self.router.double(part, pitch, self._out_velocity(note.velocity, part),
                           note.time, self.event_time())
        self.unisons.add(key, part, pitch, note.time)
        self.activity.on(part, pitch)
        self.doubles += 1
        for observer in self.observers:
            observer.doubled(note, part)

    # ----------------------------------------------------------- sounding
    def _sound(self, ev: NoteEvent, part: int) -> None:
        """Sound a decided note-on on its part."""
        key = ev.pitch
        pitch = self._out_pitch(key, part)
        if self.unisons:
            self._yield_unison(part, ev.time)
        self.router.note_on(part, pitch, self._out_velocity(ev.velocity, part), ev.time)
        ev.part = part
        self._active[key] = (part, pitch)
        self.state.note_on(key, ev.time, part)
        self.activity.on(part, pitch)
        for observer in self.observers:
            observer.sounded(ev, part)

    def _move(self, ev: NoteEvent, part: int, at: float) -> None:
        """A sounding key goes to ``part``: note-off on its old part, note-on on the new
        one at the key's velocity (pedal and bend are on every part already)."""
        key = ev.pitch
        old_part, old_pitch = self._active[key]
        pitch = self._out_pitch(key, part)
        if self.unisons:
            self._yield_unison(part, self.event_time(), ev.time)
        self.router.move(old_part, old_pitch, part, pitch,
                         self._out_velocity(ev.velocity, part), ev.time, self.event_time())
        ev.part = part
        self._active[key] = (part, pitch)
        self.activity.moved(old_part, old_pitch, part, pitch)
        self.moves += 1
        for observer in self.observers:
            observer.moved(ev, old_part, part, at)

    def _yield_unison(self, part: int, time_s: float, moved_onset: float | None = None
                      ) -> None:
        """A key goes to ``part``: the unison it was singing ends first (one voice).  A
        moved key is written on ``part`` from its own onset (``moved_onset``: outputs
        retag its note-on), so the unison's note-off is stamped there, not at
        ``time_s`` (which would write the two keys on one voice at once), and not before
        the unison's own onset."""
        second = self.unisons.yield_part(part)
        if second is not None:
            p, pitch, began = second
            at = time_s if moved_onset is None else min(time_s, max(moved_onset, began))
            self.router.note_off(p, pitch, at, 0)
            self.activity.off(p, pitch)

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

    def _error(self, text: str) -> None:
        if self._report is not None:
            self._report(text)

    # ------------------------------------------------------------- controls
    def panic(self, time_s: float | None = None) -> int:
        """All notes off: explicit note-offs for what sounds, CC64 0, CC123.  Returns
        how many notes it stopped."""
        t = self.event_time() if time_s is None else time_s
        if self.group:                   # the chord's keys stop where they sound
            self.group.take()
        if self.hints is not None:
            self.hints.clear()
        keys = list(self._active)
        for key in keys:
            self._note_off(key, t, 0)
        self.unisons.clear()             # the router stops what they sounded
        stopped = self.router.panic(t)
        self.activity.all_off()
        return len(keys) + stopped


_KEYED = (Kind.NOTE_ON, Kind.NOTE_OFF, Kind.POLY_AFTERTOUCH)


def _unhinted(note: NoteEvent) -> bool:
    """Sort key: hinted keys first (stable: each kind stays lowest first)."""
    return note.hint < 0
