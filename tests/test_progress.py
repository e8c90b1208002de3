"""The progress bar: in place on a terminal, tenths in a log, nothing for short work."""

from __future__ import annotations

import io
import math

from livearranger.progress import Bar, clock_text


def test_a_log_gets_one_line_per_tenth():
    out = io.StringIO()
    bar = Bar("arranging", stream=out, tty=False)
    for k in range(1001):
        bar(k / 1000, f"{k}")
    lines = out.getvalue().splitlines()
    assert lines[0] == "arranging: 0" and lines[5] == "arranging: 500" and len(lines) == 11


def test_a_terminal_is_redrawn_in_place_at_most_ten_times_a_second():
    out = io.StringIO()
    now = [0.0]
    bar = Bar("x", stream=out, tty=True, clock=lambda: now[0])
    for k in range(100):                  # 100 calls within 0.099 s: one drawing
        now[0] = k * 0.001
        bar(k / 200, "going")
    assert out.getvalue().count("\r\x1b[K") == 1
    now[0] = 1.0
    bar(1.0, "done")
    assert out.getvalue().endswith("\r\x1b[K[" + "#" * Bar.WIDTH + "] done")
    bar.clear()
    assert out.getvalue().endswith("\r\x1b[K") and not bar.drawn


def test_short_work_shows_no_bar_and_the_time_left_follows_the_pace():
    out = io.StringIO()
    now = [0.0]
    bar = Bar("x", stream=out, tty=True, clock=lambda: now[0], after_s=1.0)
    now[0] = 0.5
    bar(0.5, "half")
    assert out.getvalue() == ""
    assert bar.eta(0.25) == 1.5 and math.isinf(bar.eta(0.0))
    assert clock_text(bar.eta(0.0)) == "-:--"
    assert clock_text(61.4) == "1:01" and clock_text(3725) == "1:02:05"
