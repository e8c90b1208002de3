"""The command line's arguments: every command, its defaults and the shared options."""

from __future__ import annotations

import pytest

from livearranger.cli import COMMANDS
from livearranger.cli_args import build_parser
from livearranger.io.output import DAW_MODES


def test_every_command_parses_to_one_that_is_carried_out():
    parser = build_parser()
    for name in COMMANDS:
        extra = {"arrange": ["in.mid", "-o", "out.mid"], "recover": ["take.mid"],
                 "train": ["--data", "d", "--preset", "satb"]}.get(name, [])
        assert parser.parse_args([name, *extra]).command == name
    assert parser.parse_args([]).command is None          # the TUI, by default


def test_live_options_and_their_defaults():
    args = build_parser().parse_args(["play", "--headless", "--out", "virtual",
                                      "--out", "synth", "--horizon-ms", "20"])
    assert args.headless and args.out == ["virtual", "synth"]
    assert args.horizon_ms == 20.0 and args.input == "virtual"
    assert args.daw_mode == args.synth_mode == "live" and "print" in DAW_MODES
    assert build_parser().parse_args(["tui"]).out is None  # main fills in the synth


@pytest.mark.parametrize("argv", [["play", "--daw-mode", "loud"], ["arrange", "x.mid"],
                                  ["play", "--arranger", "no-such-rule"]])
def test_arguments_it_cannot_use_end_the_parse(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err
