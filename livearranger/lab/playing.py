"""How pianists really play a chord and join two notes, measured from performances aligned
note by note to their scores ((n)ASAP's Bach, ``livearranger.lab.collections.asap_bach``).

    python -m livearranger.lab.playing --data ../shared/data [--split train]

A chord is the notes of one performance that share a score onset (two or more).  For
each: its spread (the last key's arrival after the first's), which key came first (the
lowest, the highest or an inner one), the local tempo (quarter notes a minute over the
two score onsets either side) and its loudness (mean velocity).  Joins: two notes of one
notated voice where the first's written end is the second's written start; the overlap is
the first's release after the second's arrival (> 0: legato, < 0: a gap).

It writes the figures to ``docs/playing.json`` and ``docs/playing.md`` and the
distributions ``humanize`` draws from to ``livearranger/data/playing.json`` (quantiles,
so that the simulated condition follows real playing, not a guess).  Measured on the
training split only: the validation split is where ``performed`` is evaluated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from livearranger.lab.collections.asap_bach import (
    Aligned,
    aligned,
    files,
    musical_voices,
    voice_check,
    voice_count,
)

PARAMS = Path(__file__).resolve().parent.parent / "data" / "playing.json"
# the quantiles kept for humanize: every 5 % to the 95th, then the 99th, so that an
# alignment's rare outlier (a chord "spread" over a second) is never drawn
PROBS = np.array([*np.linspace(0.0, 0.95, 20), 0.99])
TEMPO_SPAN = 2                              # score onsets either side for the local tempo
_EPS = 1e-6


def _q(values: Sequence[float] | np.ndarray, probs: Sequence[float] = (0.1, 0.25, 0.5, 0.75,
                                                                       0.9, 0.95, 0.99)
       ) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {}
    return {f"p{round(p * 100)}": round(float(np.quantile(v, p)), 2) for p in probs}


def chords(notes: Sequence[Aligned]) -> list[list[Aligned]]:
    """The notes of a performance grouped by score onset, in score order."""
    by: dict[float, list[Aligned]] = defaultdict(list)
    for n in notes:
        by[round(n.score_onset, 4)].append(n)
    return [by[k] for k in sorted(by)]


def local_tempo(groups: Sequence[Sequence[Aligned]]) -> np.ndarray:
    """Per group, quarter notes a minute over ``TEMPO_SPAN`` score onsets either side
    (NaN where the clock did not move)."""
    score = np.array([g[0].score_onset for g in groups])
    played = np.array([float(np.mean([n.onset for n in g])) for g in groups])
    out = np.full(len(groups), np.nan)
    for i in range(len(groups)):
        a, b = max(0, i - TEMPO_SPAN), min(len(groups) - 1, i + TEMPO_SPAN)
        ds, dp = score[b] - score[a], played[b] - played[a]
        if ds > _EPS and dp > _EPS:
            out[i] = 60.0 * ds / dp
    return out


def joins(notes: Sequence[Aligned]) -> list[float]:
    """Overlap in ms of each written join within a notated voice: the first note's release
    after the second's arrival (negative: a gap)."""
    by: dict[str, list[Aligned]] = defaultdict(list)
    for n in notes:
        by[n.voice].append(n)
    out = []
    for voice in by.values():
        voice.sort(key=lambda n: (n.score_onset, n.pitch))
        for a, b in zip(voice, voice[1:], strict=False):
            if abs(a.score_offset - b.score_onset) < 1e-3 and a.pitch != b.pitch:
                out.append(1000.0 * (a.offset - b.onset))
    return out


@dataclass
class Observed:
    """What the performances show, one entry per chord of 2+ keys (spread in ms, size,
    first key, local tempo, loudness), per chord with inner keys (their mean delay after
    the first, ms), per written join (overlap in ms) and per performance (legato share,
    velocity spread)."""

    spread: np.ndarray
    size: np.ndarray
    first: np.ndarray             # "lowest", "highest" or "inner"
    tempo: np.ndarray             # quarter notes a minute (NaN: the clock stood still)
    loud: np.ndarray
    inner_delay: np.ndarray
    overlaps: np.ndarray
    legato_share: np.ndarray
    velocity_sd: np.ndarray
    performances: int


def observe(performances: Sequence[Sequence[Aligned]]) -> Observed:
    """One pass over ``performances`` (each its aligned notes): see ``Observed``."""
    spread, size, first, tempo, loud, inner_delay = [], [], [], [], [], []
    overlaps, legato_share, velocity_sd = [], [], []
    for notes in performances:
        groups = chords(notes)
        for g, t in zip(groups, local_tempo(groups), strict=True):
            if len(g) < 2:
                continue
            on = np.array([n.onset for n in g])
            pitch = np.array([n.pitch for n in g])
            spread.append(1000.0 * float(on.max() - on.min()))
            size.append(len(g))
            lead = int(np.argmin(on))
            first.append("lowest" if pitch[lead] == pitch.min() else
                         "highest" if pitch[lead] == pitch.max() else "inner")
            tempo.append(float(t))
            loud.append(float(np.mean([n.velocity for n in g])))
            inner = (pitch > pitch.min()) & (pitch < pitch.max())
            if inner.any():
                inner_delay.append(1000.0 * float(on[inner].mean() - on.min()))
        j = joins(notes)
        overlaps.extend(j)
        if j:
            legato_share.append(float(np.mean(np.array(j) > 0)))
        if notes:
            velocity_sd.append(float(np.std([n.velocity for n in notes])))
    a = np.array
    return Observed(a(spread), a(size), a(first), a(tempo), a(loud), a(inner_delay),
                    a(overlaps), a(legato_share), a(velocity_sd), len(performances))


def measure(obs: Observed) -> dict[str, Any]:
    """The figures of the module text."""
    s, size, firsts = obs.spread, obs.size, obs.first
    out: dict[str, Any] = {
        "performances": obs.performances, "chords": int(s.size),
        "spread_ms": _q(s), "spread_over_30ms": round(100.0 * float(np.mean(s > 30.0)), 2)
        if s.size else None,
        "spread_ms_by_size": {str(k) if k < 4 else "4+": _q(s[(size == k) if k < 4
                                                            else (size >= 4)])
                              for k in (2, 3, 4)},
        "first_key_share": {k: round(100.0 * float(np.mean(firsts == k)), 2)
                            for k in ("lowest", "highest", "inner")} if s.size else {},
        "inner_keys_after_first_ms": _q(obs.inner_delay),
    }
    for name, v in (("tempo", obs.tempo), ("velocity", obs.loud)):
        ok = ~np.isnan(v)
        if ok.sum() < 3:
            continue
        edges = np.quantile(v[ok], [1 / 3, 2 / 3])
        rows = {}
        for label, sel in (("low", v < edges[0]), ("mid", (v >= edges[0]) & (v < edges[1])),
                           ("high", v >= edges[1])):
            sel = sel & ok
            if not sel.any():             # every chord at one tempo or loudness
                continue
            rows[label] = {"range": [round(float(v[sel].min()), 1),
                                     round(float(v[sel].max()), 1)],
                           "median_spread_ms": round(float(np.median(s[sel])), 2),
                           "p90_spread_ms": round(float(np.quantile(s[sel], 0.9)), 2)}
        out[f"spread_by_{name}"] = rows
    o = obs.overlaps
    out["joins"] = int(o.size)
    if o.size:
        out["legato_share"] = round(100.0 * float(np.mean(o > 0)), 2)
        out["legato_overlap_ms"] = _q(o[o > 0])
        out["detached_gap_ms"] = _q(-o[o <= 0])
        out["legato_share_per_performance"] = _q(100.0 * obs.legato_share)
    out["velocity_sd_per_performance"] = _q(obs.velocity_sd)
    return out


def humanize_params(obs: Observed) -> dict[str, Any]:
    """The distributions ``humanize`` draws from, as quantiles at ``PROBS``: chord spread
    (s) for chords of 2, 3 and 4 or more keys, the first key's rank, legato overlap and
    detached gap (s), the share of legato joins per performance, and the velocity spread
    within a performance."""
    spread, o = obs.spread / 1000.0, obs.overlaps / 1000.0

    def quant(v: np.ndarray) -> list[float]:
        return [round(float(x), 5) for x in np.quantile(v, PROBS)]

    def of_size(k: int) -> np.ndarray:
        v = spread[np.minimum(obs.size, 4) == k]
        return v if v.size else spread        # a size never seen takes every chord's

    return {"probs": [round(float(p), 3) for p in PROBS],
            "spread": {str(k): quant(of_size(k)) for k in (2, 3, 4)},
            "first": {"lowest": round(float(np.mean(obs.first == "lowest")), 4),
                      "highest": round(float(np.mean(obs.first == "highest")), 4)},
            "legato_overlap": quant(o[o > 0]), "detached_gap": quant(-o[o <= 0]),
            "legato_share": quant(obs.legato_share), "velocity_sd": quant(obs.velocity_sd)}


def check_voices(root: Path, split: str) -> list[dict[str, Any]]:
    """Per piece (its first performance), the notated voices against the musical ones
    (``asap_bach.musical_voices``): how many, and the share of notes overlapping another
    note of their own voice in written time."""
    out, seen = [], set()
    for path in files(root, split):
        if path.parent in seen:
            continue
        seen.add(path.parent)
        rows = aligned(path.read_bytes())
        rel = path.relative_to(root).parent.as_posix()
        known = voice_count(path.relative_to(root).as_posix())
        names = sorted({r.voice for r in rows})
        notated = [names.index(r.voice) for r in rows]
        musical = musical_voices(rows, known)
        out.append({"piece": rel, "written_voices": known, "notated": len(names),
                    "musical": max(musical) + 1,
                    "overlap_notated_pct": round(voice_check(rows, notated), 2),
                    "overlap_musical_pct": round(voice_check(rows, musical), 2)})
    return out


def load(root: Path, split: str) -> list[list[Aligned]]:
    """The aligned notes of every performance of ``split`` under ``root``."""
    return [aligned(p.read_bytes()) for p in files(root, split)]


def markdown(fig: dict[str, Any]) -> str:
    """The figures as a short page."""
    lines = ["# How pianists play a chord ((n)ASAP Bach, generated)", "",
             "Generated by `python -m livearranger.lab.playing` "
             f"({fig['performances']} performances, {fig['chords']} chords of 2+ keys, "
             f"{fig['joins']} written joins within a voice). Spreads and overlaps in ms.", "",
             "| | p10 | p25 | p50 | p75 | p90 | p95 | p99 |", "| --- |" + " --- |" * 7]

    def row(name: str, q: dict[str, float]) -> None:
        if q:
            lines.append(f"| {name} | " + " | ".join(str(q[k]) for k in
                                                    ("p10", "p25", "p50", "p75", "p90",
                                                     "p95", "p99")) + " |")
    row("chord spread", fig["spread_ms"])
    for k, q in fig["spread_ms_by_size"].items():
        row(f"spread, {k} keys", q)
    row("inner keys after the first (3+ keys)", fig["inner_keys_after_first_ms"])
    row("legato overlap", fig.get("legato_overlap_ms", {}))
    row("detached gap", fig.get("detached_gap_ms", {}))
    row("legato share per performance (%)", fig.get("legato_share_per_performance", {}))
    row("velocity s.d. per performance", fig["velocity_sd_per_performance"])
    fk = fig["first_key_share"]
    lines += ["", f"Chords spread over more than 30 ms: {fig['spread_over_30ms']} %. "
              f"First key: lowest {fk['lowest']} %, highest {fk['highest']} %, inner "
              f"{fk['inner']} %. Legato joins: {fig.get('legato_share')} %.", "",
              "| by | third | range | median spread | p90 spread |",
              "| --- | --- | --- | --- | --- |"]
    for name in ("tempo", "velocity"):
        for label, r in fig.get(f"spread_by_{name}", {}).items():
            unit = " q/min" if name == "tempo" else ""
            lines.append(f"| {name} | {label} | {r['range'][0]}-{r['range'][1]}{unit} | "
                         f"{r['median_spread_ms']} | {r['p90_spread_ms']} |")
    lines += ["", "## Voices of the performed condition", "",
              "Notated voices merged into musical ones (`asap_bach.musical_voices`); a "
              "voice that is one line has no note overlapping another of its own.", "",
              "| piece | voices written | notated | musical | overlapping, notated % | "
              "overlapping, musical % |", "| --- | --- | --- | --- | --- | --- |"]
    for v in fig.get("voices", []):
        lines.append(f"| {v['piece']} | {v['written_voices'] or '-'} | {v['notated']} | "
                     f"{v['musical']} | {v['overlap_notated_pct']} | "
                     f"{v['overlap_musical_pct']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m livearranger.lab.playing",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, required=True,
                    help="the shared data folder, or its asap-bach/ folder")
    ap.add_argument("--split", default="train", choices=("train", "valid", "all"))
    ap.add_argument("--out", type=Path, default=Path("docs/playing"),
                    help="figures: OUT.json and OUT.md")
    ap.add_argument("--params", type=Path, default=PARAMS,
                    help="where humanize's distributions are written")
    a = ap.parse_args(argv)
    root = a.data / "asap-bach" if (a.data / "asap-bach").is_dir() else a.data
    perfs = load(root, a.split)
    if not perfs:
        print(f"error: {root}: no .match file of the {a.split} split", file=sys.stderr)
        return 2
    obs = observe(perfs)
    fig = {"split": a.split, **measure(obs),
           "voices": check_voices(root, "all" if a.split == "train" else a.split)}
    a.out.with_suffix(".json").write_text(json.dumps(fig, indent=1) + "\n")
    a.out.with_suffix(".md").write_text(markdown(fig))
    a.params.write_text(json.dumps(humanize_params(obs), indent=1) + "\n")
    print(f"wrote {a.out.with_suffix('.json')}, {a.out.with_suffix('.md')}, {a.params}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
