"""The figures a run ends with."""

from __future__ import annotations

import io

from livearranger.report import print_report
from livearranger.stats import Snapshot


def test_the_report_says_when_the_engine_was_not_realtime():
    def report(realtime):
        snap = Snapshot(part_names=["a"], counts=[1], sounding=[[]], recent=[[]],
                        latency={"count": 0}, assign={"p50_ms": 0, "p99_ms": 0,
                                                      "max_ms": 0},
                        latency_recent=[], notes_in=1, ignored=0, last_input=None,
                        arranger="zone", preset="p", errors=[], realtime=realtime)
        out = io.StringIO()
        print_report(snap, out)
        return out.getvalue()

    assert "ordinary priority" in report(False)
    assert "ordinary priority" not in report(True)
    assert "ordinary priority" not in report(None)



def test_the_report_shows_the_latest_errors_and_counts_the_rest():
    def report(errors, total):
        snap = Snapshot(part_names=["a"], counts=[1], sounding=[[]], recent=[[]],
                        latency={"count": 0}, assign={"p50_ms": 0, "p99_ms": 0,
                                                      "max_ms": 0},
                        latency_recent=[], notes_in=1, ignored=0, last_input=None,
                        arranger="zone", preset="p", errors=errors, errors_total=total)
        out = io.StringIO()
        print_report(snap, out)
        return [ln for ln in out.getvalue().splitlines() if ln.startswith("warning:")]

    assert report([], 0) == []
    assert report(["x", "y"], 2) == ["warning: x", "warning: y"]
    assert report(["x", "y"], 12) == ["warning: 10 earlier errors not shown",
                                      "warning: x", "warning: y"]
