"""Pure drawing helpers: engine figures in, Rich text out (no widgets, no I/O)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from livearranger.events import note_name
from livearranger.presets import Preset
from livearranger.stats import Snapshot

PART_COLOURS = ("#e5534b", "#57ab5a", "#539bf5", "#c69026", "#b083f0", "#39c5cf",
                "#e275ad", "#ae7c14", "#6cb6ff", "#8ddb8c", "#f69d50", "#dcbdfb",
                "#96d0ff", "#ff938a", "#c6e6ff")
BLOCKS = "▁▂▃▄▅▆▇█"
SPIKE_FLOOR_MS = 1.0      # the latency budget for our own path (design card)
SPIKE_FACTOR = 4.0        # or this many times the median, whichever is larger
_BLACK = {1, 3, 6, 8, 10}


def plain_text(renderable: RenderableType, width: int = 120) -> str:
    """What ``renderable`` shows, as plain text (tests, logs)."""
    text = io.StringIO()
    Console(file=text, width=width, color_system=None, legacy_windows=False).print(renderable)
    return text.getvalue()


def part_colour(index: int) -> str:
    """The colour of part ``index`` everywhere in the UI."""
    return PART_COLOURS[index % len(PART_COLOURS)]


def key_range(low: int, high: int, width: int) -> tuple[int, int]:
    """Keys to draw in ``width`` cells: the span low..high, centred and cut to fit."""
    width = max(1, width)
    if high - low + 1 <= width:
        extra = width - (high - low + 1)
        low = max(0, low - extra // 2)
        high = min(127, low + width - 1)
        low = max(0, high - width + 1)
        return low, high
    mid = (low + high) // 2
    low = max(0, mid - width // 2)
    return low, min(127, low + width - 1)


def keyboard(lo: int, hi: int, sounding: Sequence[int], colour: str,
             part_low: int = 0, part_high: int = 127) -> Text:
    """One cell per key lo..hi: sounding keys in ``colour``; keys outside the part's
    range darker; C keys marked with a dot."""
    down = set(sounding)
    text = Text()
    for pitch in range(lo, hi + 1):
        black = pitch % 12 in _BLACK
        inside = part_low <= pitch <= part_high
        if pitch in down:
            text.append("█", style=colour)
        elif black:
            text.append(" ", style="on #2b2b2b" if inside else "on #1c1c1c")
        else:
            mark = "·" if pitch % 12 == 0 else " "
            text.append(mark, style="#555555 on #c9c9c9" if inside else "#444444 on #6b6b6b")
    return text


def live_view(snap: Snapshot | None, preset: Preset | None, width: int,
              height: int = 100) -> Text:
    """Incoming notes and, per part, what sounds now, how many notes, the last ones.

    With room for it each part gets a line of figures and a key strip below; in a short
    panel each part gets one line: name, count and a narrower strip.
    """
    if snap is None:
        return Text("no instrument running", style="italic")
    out = Text()
    last = snap.last_input
    out.append("IN  ", style="bold")
    if last is None:
        out.append("waiting for notes", style="italic")
    else:
        out.append(f"{note_name(last[0]):<4}", style="bold reverse")
        out.append(f" vel {last[1]:<3}")
    out.append(f"   notes in {snap.notes_in}   ignored {snap.ignored}"
               f"   dropped {snap.dropped_note_ons}")
    if snap.caught_up:
        out.append(f"   caught up {snap.caught_up}", style="yellow")
    if snap.realtime is False:
        out.append("   not realtime", style="bold yellow")
    if snap.tempo_bpm is not None:
        out.append(f"   clock {snap.tempo_bpm:.1f} bpm")
        if snap.beat is not None:
            out.append(f" beat {snap.beat // 4 + 1:.0f}.{snap.beat % 4 + 1:.0f}")
    out.append("\n")
    parts = preset.parts if preset is not None else ()
    lows = [p.low for p in parts] or [36]
    highs = [p.high for p in parts] or [96]
    name_w = max([len(n) for n in snap.part_names] + [4])
    n = len(snap.part_names)
    roomy = height >= 3 + 3 * n
    compact = height < 2 + 2 * n
    strip_w = max(8, width - name_w - 10) if compact else width
    lo, hi = key_range(min(lows), max(highs), strip_w)
    everything = sorted({p for s in snap.sounding for p in s})
    if not compact:
        out.append_text(keyboard(lo, hi, everything, "bold white"))
        out.append("\n")
    for i, name in enumerate(snap.part_names):
        colour = part_colour(i)
        p_low, p_high = (parts[i].low, parts[i].high) if i < len(parts) else (0, 127)
        if roomy:
            out.append("\n")
        out.append("■ ", style=colour)
        out.append(f"{name:<{name_w}}", style=f"bold {colour}")
        if compact:
            out.append(f" {snap.counts[i]:>5}  ")
            out.append_text(keyboard(lo, hi, snap.sounding[i], colour, p_low, p_high))
            out.append("\n")
            continue
        out.append(f"  {snap.counts[i]:>5} notes  ")
        recent = " ".join(note_name(p) for p in snap.recent[i][-6:])
        out.append(recent or "-", style="dim" if not recent else "")
        out.append("\n")
        out.append_text(keyboard(lo, hi, snap.sounding[i], colour, p_low, p_high))
        out.append("\n")
    out.rstrip()
    return out


def is_spike(value: float, median: float) -> bool:
    """A latency worth highlighting: over the budget and well over the usual."""
    return value > max(SPIKE_FLOOR_MS, SPIKE_FACTOR * median)


def sparkline(values: Sequence[float], width: int, median: float) -> Text:
    """The last ``width`` latencies as bars; spikes in red."""
    vals = list(values)[-max(1, width):]
    if not vals:
        return Text("no notes yet", style="italic dim")
    top = max(vals) or 1.0
    text = Text()
    for v in vals:
        level = min(len(BLOCKS) - 1, int(v / top * (len(BLOCKS) - 1) + 0.5))
        text.append(BLOCKS[level], style="bold red" if is_spike(v, median) else "green")
    return text


def latency_table(snap: Snapshot | None) -> Table:
    """p50/p99/max of the engine's path and of the arranger's step alone."""
    table = Table(box=None, expand=False, pad_edge=False, padding=(0, 1))
    table.add_column("", style="bold")
    for col in ("p50 ms", "p99 ms", "max ms", "notes"):
        table.add_column(col, justify="right")
    rows = (("end-to-end", snap.latency if snap else {}),
            ("model step", snap.assign if snap else {}))
    for label, fig in rows:
        if not fig or not fig.get("count"):
            table.add_row(label, "-", "-", "-", "0")
            continue
        p50 = fig["p50_ms"]
        cells = []
        for key in ("p50_ms", "p99_ms", "max_ms"):
            v = fig[key]
            style = "bold red" if key != "p50_ms" and is_spike(v, p50) else ""
            cells.append(Text(f"{v:.3f}", style=style))
        table.add_row(label, *cells, str(int(fig["count"])))
    return table


def spikes(values: Sequence[float], median: float) -> int:
    """How many of ``values`` are spikes."""
    return sum(1 for v in values if is_spike(v, median))
