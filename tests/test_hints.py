"""Hints: a silent key zone and a controller force keys to a part, above every arranger."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import pytest

from livearranger.arrangers import arranger_names
from livearranger.events import Kind, NoteEvent
from livearranger.presets import HintSpec, parse_preset, preset_to_toml

ZONE = (21, 24)   # A0..C1: soprano, alto, tenor, bass
CC = 20
HINTS = HintSpec(zone=ZONE, cc=CC)


@pytest.fixture()
def make(satb, engine_rig):
    """``make(arranger="voice-leading", horizon=None, hints=HINTS)``: (engine, its
    output) playing satb with ``hints``."""
    def build(arranger="voice-leading", horizon=None, hints=HINTS):
        rig = engine_rig(replace(satb, hints=hints), arranger, horizon=horizon)
        rig.out.messages.clear()
        return rig.engine, rig.out
    return build


def on(p, t=0.0, v=90):
    return NoteEvent(Kind.NOTE_ON, t, p, v)


def off(p, t=0.0):
    return NoteEvent(Kind.NOTE_OFF, t, p, 0)


def cc(number, value, t=0.0):
    return NoteEvent(Kind.CONTROL, t, number, value)


def sent(out):
    """(kind, channel, key) of every note message sent."""
    return [(m[0] & 0xF0, m[0] & 0x0F, m[1]) for _t, _p, m in out.messages
            if m[0] & 0xF0 in (0x80, 0x90)]


def assert_all_closed(out):
    open_notes: dict[tuple[int, int], int] = {}
    for _t, _p, m in out.messages:
        kind, key = m[0] & 0xF0, (m[0] & 0x0F, m[1])
        if kind == 0x90 and m[2] > 0:
            open_notes[key] = open_notes.get(key, 0) + 1
        elif kind in (0x80, 0x90):
            assert open_notes.get(key, 0) > 0, m
            open_notes[key] -= 1
    assert not any(open_notes.values())


def test_a_held_hint_forces_every_key_to_its_part_and_never_sounds(make):
    engine, out = make()
    engine.process(on(ZONE[0] + 3, 0.0))            # bass hint down
    for i, key in enumerate((60, 62, 64)):          # alto/tenor pitches, all in bass range
        engine.process(on(key, 0.1 * (i + 1)))
        engine.process(off(key, 0.1 * (i + 1) + 0.05))
    engine.process(off(ZONE[0] + 3, 0.5))
    assert {ch for kind, ch, _k in sent(out) if kind == 0x90} == {3}
    assert all(key >= 31 for _kind, _ch, key in sent(out))     # no zone key sent
    assert engine.hinted == 3
    engine.process(on(64, 1.0))                     # hint gone: the arranger chooses
    assert engine.hinted == 3
    engine.stop()
    assert_all_closed(out)


def test_a_hint_out_of_the_parts_range_leaves_the_key_to_the_arranger(make):
    engine, out = make()
    engine.process(on(ZONE[0], 0.0))                # soprano hint held
    engine.process(on(40, 0.1))                     # below the soprano's range
    assert engine.state.held[40] != 0
    assert engine.hinted == 0
    engine.process(on(70, 0.2))                     # in range: forced
    assert engine.state.held[70] == 0
    engine.stop()
    assert_all_closed(out)


def test_a_released_hint_is_a_one_shot_and_the_latest_hint_wins(make):
    engine, out = make()
    engine.process(on(ZONE[0] + 2))                 # tenor, tapped
    engine.process(off(ZONE[0] + 2))
    engine.process(on(55, 0.1))
    engine.process(on(57, 0.2))
    assert engine.state.held[55] == 2
    assert engine.hinted == 1                       # spent by the first key
    engine.process(on(ZONE[0] + 3, 0.3))            # bass, then alto held: alto wins
    engine.process(on(ZONE[0] + 1, 0.3))
    engine.process(on(62, 0.4))
    assert engine.state.held[62] == 1
    engine.process(off(ZONE[0] + 1, 0.5))           # used: no one-shot; bass still held
    engine.process(on(48, 0.6))
    assert engine.state.held[48] == 3
    engine.process(off(ZONE[0] + 3, 0.7))
    engine.stop()
    assert_all_closed(out)
    assert not [m for m in sent(out) if ZONE[0] <= m[2] <= ZONE[1]]


def test_the_hint_controller_holds_and_taps_a_part_and_goes_nowhere(make):
    engine, out = make()
    engine.process(cc(CC, 2, 0.0))                  # alto held
    engine.process(on(55, 0.1))
    engine.process(cc(CC, 0, 0.2))
    engine.process(cc(CC, 4, 0.3))                  # bass tapped: a one-shot
    engine.process(cc(CC, 0, 0.3))
    engine.process(on(50, 0.4))
    engine.process(cc(CC, 5, 0.5))                  # 5 wraps round to the soprano
    engine.process(on(72, 0.6))
    assert engine.state.held == {55: 1, 50: 3, 72: 0}
    assert not [m for _t, _p, m in out.messages if m[0] & 0xF0 == 0xB0 and m[1] == CC]
    engine.stop()
    assert_all_closed(out)


@pytest.mark.parametrize("name", ["voice-leading", "closest-pitch", "model"])
def test_hinted_keys_are_never_moved_by_the_horizon(make, name):
    engine, out = make(name, horizon=0.030)
    # the tenor hinted on the chord's top key: every arranger would give it the soprano
    engine.process(on(ZONE[0] + 2, 0.0))
    engine.process(on(67, 0.001))
    engine.process(off(ZONE[0] + 2, 0.002))
    for i, key in enumerate((48, 55, 64)):
        engine.process(on(key, 0.005 + 0.005 * i))
    engine.settle()
    assert engine.state.held[67] == 2
    moved_67 = [m for m in sent(out) if m[2] == 67]
    assert moved_67 == [(0x90, 2, 67)]              # sounded once, on the tenor, never moved
    assert len(set(engine.state.held.values())) == 4    # the others decided around it
    engine.stop()
    assert_all_closed(out)


def test_the_arranger_hears_of_the_forced_part(make):
    """Voice-leading's chord bookkeeping records the hinted part, so the next key of the
    chord is not put on the same mono part."""
    engine, _out = make("voice-leading")
    engine.process(on(ZONE[0], 0.0))
    engine.process(on(60, 0.001))                   # forced to the soprano
    engine.process(off(ZONE[0], 0.001))
    engine.process(on(72, 0.002))                   # same chord, above: not the soprano
    assert engine.state.held[60] == 0
    assert engine.state.held[72] != 0


@pytest.mark.parametrize("name", arranger_names())
def test_hint_keys_leave_nothing_sounding(make, name):
    engine, out = make(name, horizon=0.030)
    t = 0.0
    for step in range(40):
        t += 0.004
        hint = ZONE[0] + step % 6                   # keys 4 and 5 of the zone: unused
        engine.process(on(hint, t))
        engine.process(on(48 + (step * 7) % 30, t))
        if step % 3:
            engine.process(off(hint, t))
        if step % 5 == 0:
            engine.process(off(48 + ((step - 5) * 7) % 30, t))
    engine.stop()
    assert_all_closed(out)
    assert not engine.errors


def test_presets_without_hints_are_unchanged(preset):
    for name in ("satb", "string-quartet", "pop-band", "chiptune"):
        assert preset(name).hints is None


def test_hints_round_trip_through_toml(satb):
    import tomllib
    preset = replace(satb, hints=HintSpec(zone=(21, 26), cc=20))
    back = parse_preset(tomllib.loads(preset_to_toml(preset)))
    assert back.hints == HintSpec(zone=(21, 26), cc=20)
    only_cc = replace(preset, hints=HintSpec(cc=21))
    assert parse_preset(tomllib.loads(preset_to_toml(only_cc))).hints == HintSpec(cc=21)


MIX = HintSpec(zone=ZONE, cc=CC, mute_zone=(26, 30), solo_zone=(31, 34), mute_cc=21,
               solo_cc=22)


def test_mute_and_solo_keys_switch_a_part_and_never_sound(make):
    engine, out = make(hints=MIX)
    engine.process(on(64, 0.0))
    part = engine.state.held[64]
    engine.process(on(26 + part, 0.1))               # its mute key: it stops at once
    assert engine.router.muted == {part}
    assert sent(out)[-1][0] == 0x80 and sent(out)[-1][2] == 64
    engine.process(off(26 + part, 0.15))             # the release does nothing
    engine.process(on(26 + part, 0.2))               # pressed again: heard again
    assert engine.router.muted == set()
    engine.process(on(31 + 1, 0.3))                  # alto soloed
    engine.process(off(31 + 1, 0.3))
    assert engine.router.soloed == {1}
    engine.process(on(31 + 1, 0.4))
    assert engine.router.soloed == set()
    engine.process(on(30, 0.5))                      # past the fourth part: nothing
    assert engine.router.muted == set() and engine.notes_in == 1
    engine.process(off(64, 0.6))
    engine.stop()
    assert_all_closed(out)
    assert not [m for m in sent(out) if 26 <= m[2] <= 34]


def test_mute_and_solo_controllers_switch_the_part_their_value_names(make):
    engine, out = make(hints=MIX)
    engine.process(cc(21, 4, 0.0))                   # mute the bass
    engine.process(cc(21, 0, 0.05))                  # a pad's release: nothing
    engine.process(cc(22, 1, 0.1))                   # solo the soprano
    assert engine.router.muted == {3} and engine.router.soloed == {0}
    engine.process(cc(21, 8, 0.2))                   # 8 wraps round to the bass: unmuted
    assert engine.router.muted == set()
    assert not [m for _t, _p, m in out.messages if m[0] & 0xF0 == 0xB0 and m[1] in (21, 22)]


def test_mute_and_solo_hints_round_trip_through_toml(satb):
    preset = replace(satb, hints=MIX)
    again = parse_preset(tomllib.loads(preset_to_toml(preset)), "again")
    assert again.hints == MIX
