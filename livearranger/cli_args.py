"""The ``livearranger`` command line: every command's arguments, and nothing they do
(``livearranger.cli`` carries the commands out)."""

from __future__ import annotations

import argparse

from livearranger import __version__
from livearranger.arrangers import arranger_names
from livearranger.io.midi_io import API_NAMES, default_api
from livearranger.io.output import DAW_MODES
from livearranger.osc import DEFAULT_OSC_HOST, DEFAULT_OSC_PORT
from livearranger.presets import MAX_HORIZON_MS


def add_horizon(p: argparse.ArgumentParser) -> None:
    p.add_argument("--horizon-ms", type=float, default=None, metavar="MS",
                   help=f"every key sounds at once; within this many ms of its chord's "
                   f"first key its part may still be corrected, 0-{MAX_HORIZON_MS:g} "
                   f"(0: never; default: the preset's horizon_ms)")


def add_live_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="satb", help="preset name or .toml file")
    p.add_argument("--arranger", choices=arranger_names(), help="default: the preset's")
    p.add_argument("--api", default=default_api(), choices=API_NAMES,
                   help="MIDI API (default: %(default)s)")
    p.add_argument("--in", dest="input", default="virtual",
                   help="input port name or prefix, 'virtual' (default) or 'none'")
    p.add_argument("--out", action="append", default=None,
                   help="synth | virtual | virtual-per-part | PORT (repeat or comma-separate)")
    p.add_argument("--record", metavar="FILE.mid", help="record the arranged performance")
    p.add_argument("--soundfont", help="General MIDI .sf2 for the built-in synth")
    p.add_argument("--audio-driver", help="FluidSynth audio driver (alsa, pulseaudio, jack, ...)")
    p.add_argument("--temperature", type=float, default=0.0,
                   help="sampling temperature of the learned model (0: greedy)")
    p.add_argument("--provider", default="cpu", choices=["cpu", "cuda"],
                   help="onnxruntime provider for the learned model")
    p.add_argument("--daw-mode", default="live", choices=DAW_MODES,
                   help="MIDI port outputs: 'live' (corrections heard as moves) or 'print' "
                   "(every message delayed by exactly the horizon, final parts only)")
    p.add_argument("--synth-mode", default="live", choices=DAW_MODES,
                   help="the built-in synth: 'live' (default) or 'print' (every key "
                   "sounds exactly the horizon late, on its final part: with "
                   "--horizon-ms 10 a constant 10 ms and no move ever heard)")
    add_horizon(p)
    p.add_argument("--osc-port", type=int, default=DEFAULT_OSC_PORT, metavar="N",
                   help="OSC control on this UDP port (default: %(default)s; 0: none); "
                   "see README, 'OSC control'")
    p.add_argument("--osc-host", default=DEFAULT_OSC_HOST, metavar="ADDR",
                   help="address OSC control listens on (default: %(default)s, this machine "
                   "only; another lets anyone who reaches it control the instrument)")


def add_attach(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spawn", action="store_true",
                   help="when no instrument answers on --osc-port, start one (`play "
                   "--headless` with these options, in the background; it plays on after "
                   "the TUI quits) and attach to it; see README, 'The TUI as a client'")


def build_parser() -> argparse.ArgumentParser:
    """The command line; ``args.command`` names the command (None: the TUI)."""
    parser = argparse.ArgumentParser(
        prog="livearranger",
        description="A real-time intelligent keyboard: every note you play goes to one part "
                    "of an ensemble.  With no command, opens the terminal UI.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("demo", help="play the built-in performance: writes demo.mid and .wav")
    p.add_argument("--out", default="livearranger-demo", help="output folder")
    p.add_argument("--preset", default="satb")
    p.add_argument("--arranger", choices=arranger_names())
    p.add_argument("--speed", type=float, default=1.0, help="times real time (default 1)")
    p.add_argument("--soundfont")
    add_horizon(p)

    p = sub.add_parser("arrange", help="arrange a .mid file into one track per part")
    p.add_argument("input", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mid")
    p.add_argument("--preset", default="satb")
    p.add_argument("--arranger", choices=arranger_names())
    p.add_argument("--wav", metavar="FILE.wav", help="also render audio")
    p.add_argument("--soundfont")
    add_horizon(p)
    p.add_argument("--roll", metavar="FILE.png|FILE.svg",
                   help="also draw the arrangement as a piano roll coloured by part "
                   "(needs the 'pictures' extra); with --alternatives also FILE-1.png ...")
    p.add_argument("--alternatives", type=int, metavar="N",
                   help="also write N alternatives sampled from the learned model under "
                   "the preset's constraints, to OUT-1.mid ... OUT-N.mid (OUT.mid: the "
                   "greedy arrangement), and print how much they differ")
    p.add_argument("--temperature", type=float, metavar="T",
                   help="sampling temperature of --alternatives, above 0 (default 1)")
    p.add_argument("--top-k", type=int, metavar="K",
                   help="--alternatives draw among the K best allowed parts only "
                   "(default: all)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="seed of --alternatives: the same seed, the same files (default 0)")

    p = sub.add_parser("play", help="the live instrument")
    add_live_options(p)
    p.add_argument("--headless", action="store_true",
                   help="no terminal UI: run until Ctrl-C/SIGTERM, then print stats")
    add_attach(p)

    p = sub.add_parser("tui", help="the terminal UI (default command)")
    add_live_options(p)
    add_attach(p)

    p = sub.add_parser("recover", help="rebuild a take from its journal after a crash")
    p.add_argument("take", metavar="TAKE.mid", help="the --record file of the lost take")
    p.add_argument("-o", "--output", metavar="OUT.mid",
                   help="write the take here instead (default: TAKE.mid)")

    p = sub.add_parser("ports", help="list MIDI inputs and outputs")
    p.add_argument("--api", default=default_api(), choices=API_NAMES)

    p = sub.add_parser("presets", help="list presets (shipped and your own)")

    p = sub.add_parser("train", help="fine-tune the model on your own multitrack .mid files "
                       "and write a preset that plays it (needs the 'train' extra)")
    p.add_argument("--data", required=True, metavar="FOLDER",
                   help="folder of .mid files, one part per track (or per channel)")
    p.add_argument("--preset", required=True, metavar="P",
                   help="the ensemble the files are for (name or .toml)")
    p.add_argument("--from", dest="source", metavar="MODEL.npz",
                   help="weights to start from (default: the shipped ensemble.npz, else "
                   "from scratch)")
    p.add_argument("--name", metavar="NAME",
                   help="the new preset and model (default: PRESET-FOLDER)")
    p.add_argument("--minutes", type=float, default=10.0, metavar="M",
                   help="time limit of the training (default: %(default)g; it may stop "
                   "early, and resumes after Ctrl-C)")
    p.add_argument("--map", action="append", metavar="TRACK=PART",
                   help="give the track (name, 'track N' or 'channel N') to this part of "
                   "the preset, or '-' to leave it out; repeat for more")

    # evaluate and bench parse their own arguments
    sub.add_parser("evaluate", help="accuracy of an arranger on a dataset split",
                   add_help=False)
    sub.add_parser("bench", help="latency, throughput and memory benchmarks", add_help=False)
    return parser
