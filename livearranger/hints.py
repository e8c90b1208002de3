"""Hints: the player says which part the next keys go to (the paper's entry hints, live).

A preset's ``[hints]`` (``presets.HintSpec``) names a **key zone** and/or a **controller**.

Zone: ``zone = [LOW, HIGH]``; key ``LOW`` is the top part, ``LOW + 1`` the next, and so
on (keys past the last part do nothing).  A key of the zone never sounds, nor does its
release.  While a hint key is held every key struck goes to its part; a hint key let go
before any key was struck while it was down arms a **one-shot**: the next key struck
goes to its part.  With several hints held the latest one wins; a new hint cancels a
one-shot not yet used.

Controller: ``cc = N``; a value v > 0 holds a hint for part (v - 1) % parts (1 is the
top part, 2 the next, ...), another v > 0 replaces it, and 0 lets it go (a one-shot if
no key was struck meanwhile), exactly like a hint key.  The controller goes to no part.

Mute and solo: ``mute_zone`` / ``solo_zone`` (one key per part from the top, like
``zone``) and ``mute_cc`` / ``solo_cc`` (value v > 0: part (v - 1) % parts, 0 nothing):
each press switches that part's mute or solo on or off (``Router.set_mute``,
``Router.set_solo``: a muted part's sounding notes stop at once).  Their keys never
sound and their controllers go to no part.  The OSC commands ``/livearranger/part/mute``
and ``/livearranger/part/solo`` do the same.

A hint is a hard constraint that every arranger obeys (an ensemble model trained with
simulated hints, format ``livearranger-ensemble-2``, also reads it as an input; the
shipped ones do not: it did not help, ``models/README.md``): the key goes to the
hinted part whenever that part's range holds its pitch (a monophonic part already
sounding takes it too: the player asked); otherwise the hint is not used for it and the
arranger chooses among the constraints' candidates as usual (a one-shot is spent either
way).  The arranger still hears of the forced part (``Arranger.force``), so its later
decisions follow it, and a hinted key is never moved by the correction horizon.
"""

from __future__ import annotations

from livearranger.presets import HintSpec, Preset

_CC = 128   # the controller's slot, after the 128 keys


class Hints:
    """The hints of one performance (engine side): which part, if any, the next key is
    forced to.  Keeps no history beyond the hints held and a one-shot; allocates only
    when a hint is pressed."""

    __slots__ = ("low", "high", "cc", "mute_cc", "solo_cc", "n_parts", "_mute", "_solo",
                 "_low_of", "_high_of", "_held", "_part", "_used", "_once")

    def __init__(self, preset: Preset) -> None:
        spec = preset.hints or HintSpec()
        none = (1, 0)                         # an empty zone
        self.low, self.high = spec.zone or none
        self._mute = spec.mute_zone or none
        self._solo = spec.solo_zone or none
        self.cc = -1 if spec.cc is None else spec.cc
        self.mute_cc = -1 if spec.mute_cc is None else spec.mute_cc
        self.solo_cc = -1 if spec.solo_cc is None else spec.solo_cc
        self.n_parts = len(preset.parts)
        self._low_of = [p.low for p in preset.parts]
        self._high_of = [p.high for p in preset.parts]
        self._held: list[int] = []            # hint sources down (keys, _CC), oldest first
        self._part = [-1] * (_CC + 1)         # source -> part it hints
        self._used = [False] * (_CC + 1)      # a key was struck while it was down
        self._once = -1                       # one-shot part, -1: none

    def is_hint_key(self, key: int) -> bool:
        """True when ``key`` is a hint, mute or solo key: it never sounds."""
        return (self.low <= key <= self.high or self._mute[0] <= key <= self._mute[1]
                or self._solo[0] <= key <= self._solo[1])

    def mute_part(self, key: int) -> int:
        """The part mute key ``key`` switches, or -1 (not a mute key, or past the parts)."""
        return self._zone_part(self._mute, key)

    def solo_part(self, key: int) -> int:
        """The part solo key ``key`` switches, or -1."""
        return self._zone_part(self._solo, key)

    def control_part(self, value: int) -> int:
        """The part a controller's ``value`` names (hint, mute or solo), or -1 (0)."""
        return (value - 1) % self.n_parts if value > 0 else -1

    def _zone_part(self, zone: tuple[int, int], key: int) -> int:
        index = key - zone[0]
        return index if zone[0] <= key <= zone[1] and index < self.n_parts else -1

    def press(self, key: int) -> None:
        """A hint key went down."""
        part = self._zone_part((self.low, self.high), key)
        if part >= 0:
            self._hold(key, part)

    def release(self, key: int) -> None:
        """A hint key came up."""
        self._let_go(key)

    def control(self, value: int) -> None:
        """The hint controller sent ``value``."""
        part = self.control_part(value)
        if part >= 0:
            self._hold(_CC, part)
        else:
            self._let_go(_CC)

    def _hold(self, source: int, part: int) -> None:
        held = self._held
        if source in held:
            held.remove(source)
        held.append(source)
        self._part[source] = part
        self._used[source] = False
        self._once = -1                       # the latest hint wins

    def _let_go(self, source: int) -> None:
        held = self._held
        if source not in held:
            return
        held.remove(source)
        if not self._used[source]:
            self._once = self._part[source]

    def take(self, key: int) -> int:
        """The part key ``key``, just struck, is forced to, or -1 (no hint, or the
        hinted part's range does not hold it: the arranger chooses)."""
        held = self._held
        if held:
            part = self._part[held[-1]]
            for source in held:
                self._used[source] = True
        elif self._once >= 0:
            part = self._once
            self._once = -1
        else:
            return -1
        return part if self._low_of[part] <= key <= self._high_of[part] else -1

    def clear(self) -> None:
        """Forget every hint (panic, preset change)."""
        self._held.clear()
        self._once = -1

    @property
    def armed(self) -> int:
        """The part the next key would be forced to (range aside), or -1."""
        return self._part[self._held[-1]] if self._held else self._once
