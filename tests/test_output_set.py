"""A session's outputs on a real JACK bus: built per preset, rebuilt on a switch."""

from __future__ import annotations

import pytest
import rtmidi

from livearranger.io.midi_io import MidiIOError, PerPartOutput, PortOutput
from livearranger.io.output import DelayedOutput, PartFilter, innermost
from livearranger.output_set import OutputPlan, OutputSet
from livearranger.presets import Part, Preset
from tests.midi_probe import Listener, jack_ports

pytestmark = pytest.mark.jack


def _preset(name: str, *parts: tuple[str, str]) -> Preset:
    """A preset of parts (name, own port or "") on channels 1, 2, ..."""
    return Preset(name, tuple(Part(part, 0, i, port=port)
                              for i, (part, port) in enumerate(parts)))


def _ours(client: str) -> set[str]:
    return {p for p in jack_ports() if p.startswith(client)}


def test_a_switch_that_cannot_open_a_port_changes_nothing(jack_server) -> None:
    outputs = OutputSet(OutputPlan(api="jack", client="la-set", kinds=("virtual-per-part",)),
                        _preset("duo", ("hi", ""), ("lo", "")), 0.0)
    try:
        before = (list(outputs.outputs), outputs.names, _ours("la-set"))
        with pytest.raises(MidiIOError, match="no MIDI port named 'ghost'"):
            outputs.switch(_preset("trio", ("hi", ""), ("mid", ""), ("lo", "ghost")))
        assert (list(outputs.outputs), outputs.names, _ours("la-set")) == before
        per_part = innermost(outputs.own[0])
        assert isinstance(per_part, PerPartOutput)
        per_part.send(1, [0x91, 40, 90], 0.0)        # its ports are all still open
        assert outputs.retire() == []                # and nothing is retired
        assert _ours("la-set") == before[2]
    finally:
        outputs.close()
    assert not _ours("la-set")


def test_a_parts_own_port_is_kept_across_a_switch_and_the_rest_closed(jack_server) -> None:
    sink = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="hw-sink")
    sink.open_virtual_port("in")
    plan = OutputPlan(api="jack", client="la-keep", kinds=(), daw_mode="print")
    outputs = OutputSet(plan, _preset("a", ("hi", "hw-sink:in"), ("lo", "hw-sink:in")), 0.5)
    try:
        hi_port, lo_port = (innermost(o) for o in outputs.own)
        old = outputs.switch(_preset("b", ("lo", "hw-sink:in"), ("new", "hw-sink:in")))
        assert [innermost(o) for o in old] == [hi_port, lo_port]
        lo, new = outputs.own
        assert isinstance(lo, DelayedOutput) and lo.delay == 0.5   # the session's delay
        assert isinstance(lo.inner, PartFilter) and lo.inner.part == 0
        assert lo.inner.inner is lo_port                  # "lo" keeps its port
        assert isinstance(innermost(new), PortOutput) and innermost(new) not in old
        assert outputs.names == ["lo -> hw-sink:in", "new -> hw-sink:in"]
        outputs.flush()
        assert outputs.retire() == []
        assert hi_port.closed and not lo_port.closed
        assert "la-keep-to-hi:to-hi" not in jack_ports()
        assert "la-keep-to-lo:to-lo" in jack_ports()
    finally:
        outputs.close()
        sink.delete()


def test_print_mode_delivers_the_last_presets_queue_through_kept_ports(jack_server) -> None:
    plan = OutputPlan(api="jack", client="la-print", kinds=("virtual-per-part",),
                      daw_mode="print")
    outputs = OutputSet(plan, _preset("duo", ("hi", ""), ("lo", "")), 10.0)
    track = Listener("la-print-lo:lo", name="track-lo")
    try:
        delayed = outputs.own[0]
        delayed.send(1, [0x81, 40, 0], 0.0)           # still queued at the switch
        outputs.switch(_preset("trio", ("hi", ""), ("mid", ""), ("lo", "")))
        outputs.flush()
        assert track.wait_count(lambda ms: [0x81, 40, 0] in ms)
        assert outputs.retire() == []
        assert "la-print-mid:mid" in jack_ports() and "la-print-lo:lo" in jack_ports()
        outputs.own[0].send(2, [0x82, 41, 0], 0.0)    # "lo" is part 3 now, same port
        outputs.own[0].tick(20.0)
        assert track.wait_count(lambda ms: [0x82, 41, 0] in ms)
    finally:
        track.close()
        outputs.close()
