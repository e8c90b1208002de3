"""The ``livearranger`` command: demo, arrange, play, ports, presets, tui, train, evaluate,
bench.

Every failure a player can cause (bad port, preset, model, file, no JACK server, no
soundfont) is a ``LiveArrangerError`` and ends in one readable line on stderr and exit
status 2, never a traceback (set ``LIVEARRANGER_DEBUG=1`` to see one).  Anything else is
a bug: its traceback is shown, with a line asking to report it, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from livearranger import __version__
from livearranger.chords import check_horizon
from livearranger.cli_args import build_parser
from livearranger.errors import LiveArrangerError, one_line, printable
from livearranger.events import KIND_MASK, NOTE_ON
from livearranger.launch import end_startup
from livearranger.presets import (
    MAX_HORIZON_MS,
    PresetError,
    list_presets,
    load_preset,
    user_preset_dir,
)
from livearranger.report import print_report
from livearranger.tui.signals import STOP_SIGNALS
from livearranger.watchdog import StopWatchdog

if TYPE_CHECKING:
    from livearranger.offline import ArrangeResult
    from livearranger.presets import Preset
    from livearranger.session import SessionConfig

EXIT_ERROR = 2      # an error of ours: one line
EXIT_BUG = 1        # anything else: a traceback and a bug-report hint


class CliError(LiveArrangerError):
    """A usage problem found after parsing (one line)."""


def cmd_demo(args: argparse.Namespace) -> int:
    from livearranger.offline import run_demo

    preset = load_preset(args.preset)
    print(f"demo: BWV 66.6 played on one keyboard -> {printable(preset.name)} "
          f"({printable(', '.join(preset.part_names))}) at {args.speed:g}x", flush=True)
    result = run_demo(args.out, preset, args.arranger, args.speed, args.soundfont,
                      horizon_ms=_horizon_ms(args))
    print_report(result.snapshot)
    out = Path(args.out)
    wav = result.wav or {}
    print(f"wrote {out / 'demo.mid'} ({len(preset.parts)} tracks) and {out / 'demo.wav'} "
          f"({wav.get('seconds', 0):.1f} s, peak {wav.get('peak', 0):.2f})")
    return 0


def cmd_arrange(args: argparse.Namespace) -> int:
    from livearranger.offline import arrange_file
    from livearranger.progress import Bar, clock_text

    preset = load_preset(args.preset)
    sampling = args.temperature is not None or args.top_k is not None or args.seed is not None
    if sampling and args.alternatives is None:
        raise CliError("--temperature, --top-k and --seed choose how --alternatives N "
                       "are sampled; add --alternatives N")
    rolls = _roll_targets(args)                 # before any work: never "wrote" nothing
    if args.alternatives is not None:
        return _arrange_alternatives(args, preset, rolls)
    bar = Bar("arranging", after_s=1.0)        # a file of a few seconds shows none

    def progress(done: float) -> None:
        bar(done, f"{Path(args.input).name}: {100 * done:3.0f}%  "
                  f"{clock_text(bar.eta(done))} left")

    try:
        result = arrange_file(args.input, args.output, preset, args.arranger, args.wav,
                              args.soundfont, horizon_ms=_horizon_ms(args),
                              progress=progress)
    finally:
        bar.clear()
    print_report(result.snapshot)
    _draw_rolls(rolls, [result], preset, [Path(args.output)])
    print(f"wrote {args.output}" + (f" and {args.wav}" if args.wav else ""))
    return 0


def _roll_targets(args: argparse.Namespace) -> list[Path]:
    """The --roll pictures to draw (one per arrangement written), checked up front."""
    if not args.roll:
        return []
    from livearranger.alternatives import alternative_path
    from livearranger.roll import check_roll_target

    targets = [check_roll_target(args.roll)]
    for i in range(1, (args.alternatives or 0) + 1):
        targets.append(check_roll_target(alternative_path(args.roll, i)))
    return targets


def _draw_rolls(rolls: list[Path], results: list[ArrangeResult], preset: Preset,
                sources: list[Path]) -> None:
    from livearranger.roll import draw_roll, recorded_notes

    for target, result, source in zip(rolls, results, sources, strict=False):
        draw_roll(recorded_notes(result.recorder), preset.part_names, target,
                  title=f"{source.name}: {preset.name}, {result.snapshot.arranger}")
        print(f"drew {target}")


def _arrange_alternatives(args: argparse.Namespace, preset: Preset, rolls: list[Path]) -> int:
    from livearranger.alternatives import arrange_alternatives, check_alternatives

    if args.wav:
        raise CliError("--wav renders one arrangement; leave it out with --alternatives")
    temperature = 1.0 if args.temperature is None else args.temperature
    if not math.isfinite(temperature):
        raise CliError(f"--temperature must be a finite number above 0 to sample "
                       f"alternatives, got {temperature:g}")
    top_k = args.top_k or 0
    seed = args.seed or 0
    if seed < 0:
        raise CliError(f"--seed must be 0 or more (the same seed, the same files), "
                       f"got {seed}")
    check_alternatives(args.arranger or preset.arranger, args.alternatives, temperature,
                       top_k)
    alts = arrange_alternatives(args.input, args.output, preset, args.alternatives,
                                temperature, top_k, seed, horizon_ms=_horizon_ms(args))
    print_report(alts.greedy.snapshot)
    _draw_rolls(rolls, [alts.greedy, *alts.results], preset,
                [Path(args.output), *alts.paths])
    notes = alts.greedy.snapshot.notes_in
    print(f"{args.alternatives} alternatives sampled at temperature {temperature:g}, "
          f"top-k {top_k or 'all'}, seed {seed}: share of the {notes} notes on another part")
    width = max(len(str(p)) for p in alts.paths)
    for path, greedy, others in zip(alts.paths, alts.vs_greedy(), alts.vs_others(),
                                    strict=True):
        line = f"  {str(path):<{width}}  vs greedy {greedy:6.1%}"
        if len(alts.paths) > 1:
            line += f"  vs the other alternatives (mean) {others:6.1%}"
        print(line)
    summary = f"mean: vs greedy {sum(alts.vs_greedy()) / len(alts.paths):.1%}"
    if len(alts.paths) > 1:
        summary += f", between alternatives {alts.pairwise_mean():.1%}"
    print(summary)
    print(f"wrote {args.output} (greedy) and {len(alts.paths)} alternatives "
          f"{alts.paths[0].name} ... {alts.paths[-1].name}")
    return 0


def _config(args: argparse.Namespace) -> SessionConfig:
    from livearranger.session import SessionConfig

    outputs = [o.strip() for spec in args.out for o in spec.split(",") if o.strip()]
    if args.record is not None and not args.record.strip():
        raise CliError("--record needs a file name (--record FILE.mid); it was empty")
    return SessionConfig(
        preset=args.preset, arranger=args.arranger, api=args.api,
        input=None if args.input == "none" else args.input, outputs=outputs,
        record=args.record, soundfont=args.soundfont, audio_driver=args.audio_driver,
        temperature=_temperature(args.temperature), provider=args.provider,
        horizon_ms=_horizon_ms(args),
        daw_mode=args.daw_mode, synth_mode=args.synth_mode, osc_port=_osc_port(args),
        osc_host=args.osc_host,
    )


def _temperature(value: float) -> float:
    """``--temperature`` of the live instrument checked: finite, 0 or more."""
    if not (math.isfinite(value) and value >= 0):
        raise CliError(f"--temperature must be a finite number, 0 or more (0: always the "
                       f"model's best part), got {value:g}")
    return value


def _osc_port(args: argparse.Namespace) -> int:
    """``--osc-port`` checked: 0 (off) or 1..65535."""
    if not 0 <= args.osc_port <= 65535:
        raise CliError(f"--osc-port must be 1-65535, or 0 for no OSC control; "
                       f"got {args.osc_port}")
    return int(args.osc_port)


def cmd_play(args: argparse.Namespace) -> int:
    config = _config(args)
    if not args.headless:
        return _run_tui(config, args)
    # From the first moment: Ctrl-C, SIGTERM and SIGHUP (the terminal closed) all end the
    # session the same way, with a panic and the take saved, even during start-up.
    stop = threading.Event()
    got: list[int] = []
    hint = (f"; the take's journal is kept: livearranger recover {config.record}"
            if config.record else "")
    watchdog = StopWatchdog(hint=hint)

    def on_signal(signum: int, _frame: object) -> None:
        got.append(signum)
        stop.set()
        watchdog.start()               # the stop that follows must end, whatever hangs

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    from livearranger.session import Session

    session = Session(config)
    if stop.is_set():                  # asked to stop while starting: nothing played yet
        session.stop()
        watchdog.done()
        _say(f"livearranger: stopped by {signal.Signals(got[0]).name} while starting",
             sys.stderr)
        return 0
    try:
        session.start()
        for warning in session.warnings:
            print(f"warning: {printable(warning)}", file=sys.stderr)
        inp = session.input.name if session.input else "no input"
        line = (f"playing {session.preset.name} with {session.engine.arranger.describe()}: "
                f"in {inp}; out {', '.join(session.output_names) or 'none'}"
                + (f"; recording to {session.recording}" if session.recording else ""))
        print(printable(line), flush=True)
        while not stop.wait(0.5):
            for message in session.check():
                print(printable(message), file=sys.stderr, flush=True)
            if session.server_lost:    # nothing left to play on: stop, keep the take
                break
    finally:
        watchdog.start()               # however the loop ended (a signal, an error)
        session.stop()                 # panic, take saved: before anything is printed
        watchdog.done()
    try:
        print_report(session.snapshot())
    except OSError:                    # SIGHUP: the terminal may be gone
        pass
    if session.record_error:
        raise CliError(session.record_error)      # a take not saved is an error
    if config.record:
        _say(f"wrote {config.record}", sys.stdout)
    if session.server_lost:
        raise CliError(session.server_lost)
    return 0


def _say(line: str, file: TextIO) -> None:
    """Print one line, where the terminal may already be gone (SIGHUP)."""
    try:
        print(line, file=file, flush=True)
    except OSError:
        pass


def cmd_recover(args: argparse.Namespace) -> int:
    from livearranger.journal import recover

    rec, written, skipped = recover(args.take, args.output)
    notes = sum(1 for _t, _p, m in rec.events if m[0] & KIND_MASK == NOTE_ON and m[2])
    damaged = f"; skipped {skipped} damaged journal records" if skipped else ""
    print(f"recovered {notes} notes into {written} ({len(rec.parts)} tracks){damaged}")
    return 0


def cmd_ports(args: argparse.Namespace) -> int:
    from livearranger.io.midi_io import list_ports

    inputs, outputs = list_ports(args.api)
    print(f"MIDI inputs ({args.api}):")
    for name in inputs or ["(none)"]:
        print(f"  {name}")
    print(f"MIDI outputs ({args.api}):")
    for name in outputs or ["(none)"]:
        print(f"  {name}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    for name, path in list_presets():
        try:
            preset = load_preset(str(path))
            parts = printable(", ".join(preset.part_names))
            print(f"{printable(name):<16} {preset.arranger:<14} {parts}  "
                  f"({printable(str(path))})")
        except PresetError as exc:
            print(f"{printable(name):<16} BROKEN: {one_line(exc)}")
    print(f"your own presets go in {user_preset_dir()}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Fine-tune the ensemble model on a folder of the player's .mid files (PyTorch is
    imported only here, inside ``livearranger.lab.finetune``)."""
    from livearranger.lab import finetune

    opt = finetune.Options(
        data=Path(args.data).expanduser(), preset=load_preset(args.preset), name=args.name,
        source=args.source, minutes=args.minutes, mapping=args.map or (),
        command="livearranger train " + " ".join(args.argv))
    return finetune.run(opt)


def _play_args(args: argparse.Namespace) -> list[str]:
    """``args`` as the options of ``livearranger play --headless``, for ``--spawn``."""
    out = ["--preset", args.preset, "--api", args.api, "--in", args.input,
           "--temperature", repr(args.temperature), "--provider", args.provider,
           "--daw-mode", args.daw_mode, "--synth-mode", args.synth_mode,
           "--osc-port", str(args.osc_port),
           "--osc-host", args.osc_host]
    for spec in args.out:
        out += ["--out", spec]
    for flag, value in (("--arranger", args.arranger), ("--record", args.record),
                        ("--soundfont", args.soundfont),
                        ("--audio-driver", args.audio_driver),
                        ("--horizon-ms", args.horizon_ms)):
        if value is not None:
            out += [flag, str(Path(value).resolve()) if flag == "--record" else str(value)]
    return out


def _run_tui(config: SessionConfig, args: argparse.Namespace) -> int:
    """The TUI: attached to the instrument answering on ``--osc-port`` if one does, else
    (``--spawn``) one started for it, else in this process."""
    try:
        from livearranger.tui.run import run_tui
    except ImportError as exc:
        raise CliError(f"the terminal UI is not available ({exc}); use --headless") from None
    return run_tui(config, spawn_args=_play_args(args) if args.spawn else None)


def cmd_tui(args: argparse.Namespace) -> int:
    return _run_tui(_config(args), args)


def _horizon_ms(args: argparse.Namespace) -> float | None:
    """``--horizon-ms`` checked: None (the preset's) or 0..MAX_HORIZON_MS."""
    if args.horizon_ms is None:
        return None
    ms = float(args.horizon_ms)
    try:
        check_horizon(ms / 1000.0)
    except ValueError:
        raise CliError(f"--horizon-ms must be 0-{MAX_HORIZON_MS:g} ms, got {ms:g}") from None
    return ms


COMMANDS = {"demo": cmd_demo, "arrange": cmd_arrange, "play": cmd_play, "tui": cmd_tui,
            "recover": cmd_recover, "ports": cmd_ports, "presets": cmd_presets,
            "train": cmd_train}


def _delegate(command: str, argv: list[str]) -> int:
    if command == "evaluate":
        from livearranger.lab.evaluate import main as run
    else:
        from livearranger.lab.bench import main as run
    return run(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``livearranger`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("evaluate", "bench"):
            end_startup()
            return _delegate(argv[0], argv[1:])
        parser = build_parser()
        args = parser.parse_args(argv)
        args.argv = argv[1:]
        if args.command is None:
            args = parser.parse_args(["tui"])
        if getattr(args, "out", None) is None and args.command in ("play", "tui"):
            args.out = ["synth"]
        if args.command not in ("play", "tui"):    # these set up their own handlers
            end_startup()
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except LiveArrangerError as exc:            # the player's to fix: one line
        if os.environ.get("LIVEARRANGER_DEBUG"):
            raise
        print(f"livearranger: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except MemoryError:                          # the machine's limit, not a bug
        print("livearranger: error: out of memory", file=sys.stderr)
        return EXIT_ERROR
    except Exception:                            # a bug: show it whole, ask for a report
        traceback.print_exc()
        print(f"livearranger {__version__}: this is a bug in livearranger, not something "
              "you did; please report it with the lines above", file=sys.stderr)
        return EXIT_BUG

if __name__ == "__main__":
    sys.exit(main())
