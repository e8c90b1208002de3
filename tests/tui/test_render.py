"""Drawing helpers: key strips, sparkline spikes, the live view text."""

from __future__ import annotations

import dataclasses

from livearranger.presets import Preset
from livearranger.stats import Snapshot
from livearranger.tui.render import is_spike, key_range, keyboard, live_view, sparkline


def test_key_range_fits_and_centres() -> None:
    assert key_range(31, 84, 100) == (8, 107)
    lo, hi = key_range(21, 108, 40)
    assert hi - lo + 1 == 40 and lo <= 64 <= hi
    assert key_range(0, 10, 60) == (0, 59)
    assert key_range(120, 127, 60) == (68, 127)


def test_keyboard_lights_sounding_keys_in_the_part_colour() -> None:
    strip = keyboard(60, 71, [64, 67], "#ff0000", 62, 69)
    assert len(strip.plain) == 12
    lit = [i for i, ch in enumerate(strip.plain) if ch == "█"]
    assert lit == [4, 7]
    assert strip.plain[0] == "·"                 # C is marked
    styles = {str(span.style) for span in strip.spans if span.start in (4, 7)}
    assert styles == {"#ff0000"}


def test_sparkline_marks_spikes_red() -> None:
    values = [0.2] * 10 + [3.0] + [0.25] * 3
    line = sparkline(values, 20, median=0.2)
    assert len(line.plain) == 14 and line.plain[10] == "█"
    red = [span.start for span in line.spans if "red" in str(span.style)]
    assert red == [10]
    assert is_spike(3.0, 0.2) and not is_spike(0.9, 0.2) and not is_spike(1.5, 0.5)


def _snap(names: list[str]) -> Snapshot:
    n = len(names)
    return Snapshot(part_names=names, counts=list(range(1, n + 1)),
                    sounding=[[60 + i] for i in range(n)], recent=[[60 + i] for i in range(n)],
                    latency={}, assign={}, latency_recent=[], notes_in=n, ignored=0,
                    last_input=(60, 100), arranger="zone", preset="satb", errors=[])


def test_live_view_tall_and_short(satb: Preset) -> None:
    snap = _snap(satb.part_names)
    tall = live_view(snap, satb, 60, 40).plain.splitlines()
    assert sum(1 for ln in tall if ln.startswith("■ ")) == 4
    assert any("C4" in ln and "soprano" in ln for ln in tall)
    short = live_view(snap, satb, 60, 6).plain.splitlines()
    assert len(short) == 5                      # IN line + one line per part
    assert all("█" in ln for ln in short[1:])
    assert live_view(None, None, 60).plain == "no instrument running"


def test_live_view_warns_only_when_realtime_was_refused(satb: Preset) -> None:
    for realtime, warned in ((None, False), (True, False), (False, True)):
        snap = dataclasses.replace(_snap(satb.part_names), realtime=realtime)
        assert ("not realtime" in live_view(snap, satb, 90, 40).plain) == warned
