"""The figures a run ends with: per-part notes, corrections, latency, input, errors."""

from __future__ import annotations

import sys
from typing import TextIO

from livearranger.errors import printable
from livearranger.stats import Snapshot


def _fmt_ms(d: dict[str, float]) -> str:
    return f"p50 {d['p50_ms']:.3f} ms  p99 {d['p99_ms']:.3f} ms  max {d['max_ms']:.3f} ms"


def print_report(snap: Snapshot, file: TextIO = sys.stdout) -> None:
    """Per-part note counts and the engine's latency figures (names from files as
    ``printable`` shows them)."""
    names = [printable(n) for n in snap.part_names]
    width = max(len(n) for n in names)
    print(f"preset {printable(snap.preset)}, arranger {printable(snap.arranger)}: "
          f"{snap.notes_in} notes in", file=file)
    for name, count in zip(names, snap.counts, strict=True):
        print(f"  {name:<{width}}  {count:5d} notes", file=file)
    if snap.horizon_ms:
        print(f"correction horizon {snap.horizon_ms:g} ms: every key sounds at once; "
              f"{snap.moves} moved to a better part as their chord arrived", file=file)
    if snap.doubles:
        print(f"unisons: {snap.doubles} keys also sung by a voice left without one",
              file=file)
    if snap.latency["count"]:
        print(f"latency callback->sent ({snap.latency['count']} notes): "
              f"{_fmt_ms(snap.latency)}", file=file)
    print(f"arranger step: {_fmt_ms(snap.assign)}", file=file)
    print(f"input: {snap.ignored} messages ignored (system, program change, bank select, "
          f"malformed); {snap.dropped_note_ons} new notes dropped under overload "
          "(note-offs are never dropped)", file=file)
    if snap.caught_up:
        from livearranger.engine import CATCH_UP_LAG_NS

        print(f"catching up: {snap.caught_up} notes of a burst placed by the quick rule "
              f"(the engine was over {CATCH_UP_LAG_NS // 1_000_000} ms behind its input)",
              file=file)
    if snap.realtime is False:
        print("note: the engine ran at ordinary priority (realtime was refused: see "
              "README, 'Realtime priority'); under load, bursts may drop new notes",
              file=file)
    for notice in snap.notices:
        print(f"note: {printable(notice)}", file=file)
    if snap.tempo_bpm is not None:
        print(f"MIDI clock in: {snap.tempo_bpm:.1f} bpm", file=file)
    hidden = snap.errors_total - len(snap.errors)
    if hidden > 0:                     # the snapshot carries the latest errors only
        print(f"warning: {hidden} earlier errors not shown", file=file)
    for err in snap.errors:
        print(f"warning: {printable(err)}", file=file)
