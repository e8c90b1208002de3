"""Unisons: which second voices may sound, and which end when their part is needed."""

from __future__ import annotations

import dataclasses

from livearranger.events import Kind, NoteEvent
from livearranger.unisons import Unisons


def _note(key, part):
    ev = NoteEvent(Kind.NOTE_ON, 0.0, key, 90)
    ev.part = part
    return ev


def test_a_key_may_double_onto_a_free_mono_part_in_range(satb):
    u = Unisons(satb)
    alto_key = _note(62, 1)
    assert u.allowed(alto_key, 0, [alto_key], held_part=1, part_busy=False)
    assert not u.allowed(alto_key, 1, [alto_key], 1, False)          # its own part
    assert not u.allowed(alto_key, 0, [alto_key], None, False)       # key already up
    assert not u.allowed(alto_key, 0, [alto_key], 2, False)          # moved since
    assert not u.allowed(alto_key, 0, [alto_key], 1, True)           # soprano sounding
    assert not u.allowed(alto_key, 9, [alto_key], 1, False)          # no such part
    assert not u.allowed(_note(30, 1), 0, [], 1, False)              # out of range
    assert not u.allowed(alto_key, 0, [alto_key, _note(72, 0)], 1, False)  # chord has one


def test_one_second_voice_per_key_and_per_part(satb):
    u = Unisons(satb)
    a = _note(62, 1)
    u.add(62, 0, 62, 0.0)
    assert u
    assert not u.allowed(a, 0, [a], 1, False)                        # key doubled already
    b = _note(60, 2)
    assert not u.allowed(b, 0, [b], 2, False)                        # soprano sings one


def test_a_poly_part_is_never_a_second_voice(satb):
    poly = dataclasses.replace(satb.parts[0], mono=False)
    preset = dataclasses.replace(satb, parts=[poly, *satb.parts[1:]])
    a = _note(62, 1)
    assert not Unisons(preset).allowed(a, 0, [a], 1, False)


def test_a_part_given_a_key_ends_the_unison_it_sang_and_release_ends_it_too(satb):
    u = Unisons(satb)
    u.add(62, 0, 62, 1.5)
    u.add(50, 3, 50, 1.5)
    assert u.yield_part(2) is None
    assert u.yield_part(0) == (0, 62, 1.5)
    assert u.yield_part(0) is None
    assert u.release(62) is None                 # gone with its part
    assert u.release(50) == (3, 50)
    assert not u
    u.add(55, 2, 55, 2.0)
    u.clear()
    assert not u and u.release(55) is None
