"""``livearranger train`` end to end on a folder of Bach chorales written as multitrack .mid
files (plus a drum track, a junk file and a one-part file it must name), with a tiny
starting model: interrupted and resumed, the preset it writes arranged with and played by
the engine; the matching of tracks to parts; and bad input in one line."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from livearranger.cli import main
from livearranger.events import Kind, NoteEvent
from livearranger.lab.datasets import MidiTrack, load_pieces
from livearranger.lab.finetune import (
    INTERRUPTED,
    ProgressBar,
    Seen,
    draw_pictures,
    hold_out,
    match_tracks,
    parse_mapping,
)
from livearranger.presets import Part, Preset, load_preset
from livearranger.recorder import Recorder

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = dict(d_model=32, n_layers=1, n_heads=2, window=16, d_ff=64, d_part=16)


def _write(path: Path, piece, names: tuple[str, ...], drums: bool = False) -> None:
    """``piece`` as a type-1 .mid with a track per part named ``names`` (and a drum
    track on channel 10 when asked), written by the instrument's own recorder."""
    parts = [Part(name, 52, ch) for ch, name in enumerate(names)]
    if drums:
        parts.append(Part("Drums", 0, 9))
    rec = Recorder(Preset("chorale", tuple(parts)))
    for on, off, pitch, part in zip(piece.onset, piece.offset, piece.pitch, piece.part,
                                    strict=True):
        if part < len(names):
            rec.send(int(part), [0x90 | int(part), int(pitch), 80], float(on))
            rec.send(int(part), [0x80 | int(part), int(pitch), 0], float(off))
    if drums:
        for k in range(16):
            rec.send(len(names), [0x99, 36, 100], 0.5 * k)
            rec.send(len(names), [0x89, 36, 0], 0.5 * k + 0.1)
    rec.save(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("songs")
    for i, piece in enumerate(load_pieces("bach", "train", 6)):
        _write(folder / f"chorale{i}.mid", piece, VOICES, drums=i == 0)
    _write(folder / "solo.mid", load_pieces("bach", "train", 1)[0], VOICES[:1])
    (folder / "junk.mid").write_bytes(b"this is not a MIDI file at all")
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    import torch

    from livearranger.features import FEATURE_VERSION
    from livearranger.lab.model import EnsembleTransformer, save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("start") / "tiny.npz"
    return save_weights(path, EnsembleTransformer(**TINY), {"feature_version": FEATURE_VERSION})


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "livearranger", *args]


def _env(presets: Path) -> dict[str, str]:
    return {**os.environ, "LIVEARRANGER_PRESETS": str(presets), "PYTHONUNBUFFERED": "1"}


def test_train_interrupted_resumed_then_played(data, tiny, tmp_path, monkeypatch):
    presets = tmp_path / "presets"
    cmd = _cli("train", "--data", str(data), "--preset", "satb", "--from", str(tiny),
               "--name", "mine", "--minutes", "0.2")
    # first run: Ctrl-C once the first epoch is saved
    proc = subprocess.Popen(cmd, env=_env(presets), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("epoch"):
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate(timeout=60)
    out = "".join(seen) + rest
    assert proc.returncode == 130, out + err
    assert INTERRUPTED in err
    assert (presets / "mine.state.pt").exists()
    # it named what it could not use, and why
    assert "chorale0.mid: track 'Drums': skipped (drums, channel 10)" in out
    assert "junk.mid: skipped (not a readable MIDI file" in out
    assert "solo.mid: skipped (a single part" in out
    assert "6 of 8 files usable (24 tracks" in out
    assert "holding out 1 for validation" in out
    # the same command again resumes and finishes
    done = subprocess.run(cmd, env=_env(presets), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming" in done.stdout
    assert not (presets / "mine.state.pt").exists()
    for ext in ("npz", "onnx", "toml"):
        assert (presets / f"mine.{ext}").is_file()
    for row in ("mine (trained)", "starting model (zero-shot)", "voice-leading",
                "closest-pitch"):
        assert row in done.stdout
    # ... with a piano roll of a held-out file and the confusion matrix beside the model
    for picture in ("mine-roll.png", "mine-confusion.png"):
        png = (presets / picture).read_bytes()
        assert png.startswith(PNG_SIGNATURE) and len(png) > 5_000, picture
        assert f"drew {presets / picture} (" in done.stdout
    # the preset plays the new graph: arrange a file with it ...
    arranged = tmp_path / "arranged.mid"
    r = subprocess.run(_cli("arrange", str(data / "chorale1.mid"), "-o", str(arranged),
                            "--preset", "mine"), env=_env(presets), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert arranged.stat().st_size > 100 and "model mine.onnx" in r.stdout
    # ... and in the engine, in this process
    monkeypatch.setenv("LIVEARRANGER_PRESETS", str(presets))
    preset = load_preset("mine")
    assert preset.arranger == "model" and preset.model == str((presets / "mine.onnx").resolve())
    # what it learnt from: the 5 files it trained on, not the 6 it found usable
    assert preset.description == (f"satb fine-tuned on 5 files of {data.resolve()} "
                                  "(1 more held out for validation)")
    assert preset.part_names == load_preset("satb").part_names
    from livearranger.arrangers import make_arranger
    from livearranger.engine import Engine
    from livearranger.router import Router

    arranger = make_arranger("model", preset)
    engine = Engine(preset, arranger, Router(preset, []), clock_ns=lambda: 0)
    for k, chord in enumerate([(48, 55, 64, 72), (50, 57, 65, 74), (43, 59, 62, 67)]):
        notes = [NoteEvent(Kind.NOTE_ON, float(k), p, 80) for p in chord]
        for note in notes:
            engine.process(note)
        engine.settle()
        for note in notes:
            assert preset.parts[note.part].in_range(note.pitch)
        for note in notes:
            engine.process(NoteEvent(Kind.NOTE_OFF, k + 0.9, note.pitch, 0))


@pytest.mark.parametrize("kind", ["missing", "empty", "junk", "preset"])
def test_bad_input_is_one_line_and_exit_2(kind, tmp_path):
    folder = tmp_path / "songs"
    preset = "satb"
    if kind != "missing":
        folder.mkdir()
    if kind == "junk":
        (folder / "junk.mid").write_bytes(b"MThd garbage")
    if kind == "preset":
        preset = "no-such-ensemble"
    r = subprocess.run(_cli("train", "--data", str(folder), "--preset", preset, "--name",
                            "x", "--minutes", "0.1"), env=_env(tmp_path / "presets"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    want = {"missing": f"{folder}: no such folder", "empty": f"{folder}: no .mid files",
            "junk": f"{folder}: no usable .mid file: junk.mid: skipped (not a readable",
            "preset": "no preset named 'no-such-ensemble'"}[kind]
    assert want in lines[0]
    assert not (tmp_path / "presets" / "x.toml").exists()


def test_without_torch_it_says_what_to_install(data, monkeypatch, capsys, user_presets):
    monkeypatch.setitem(sys.modules, "torch", None)        # import torch now fails
    assert main(["train", "--data", str(data), "--preset", "satb", "--name", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'livearranger[train]'" in err[0]


def test_unusable_starting_model_is_one_line(data, tmp_path, capsys, user_presets):
    graph = tmp_path / "model.onnx"
    graph.write_bytes(b"x")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not numpy")
    for source, want in ((graph, "a step graph cannot be trained"),
                         (bad, "not an ensemble model's weights"),
                         (tmp_path / "none.npz", "no such weights file")):
        assert main(["train", "--data", str(data), "--preset", "satb", "--from",
                     str(source)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and want in err[0], err


def test_a_damaged_resume_state_is_one_line(data, tiny, capsys, user_presets):
    Path(user_presets).mkdir(parents=True, exist_ok=True)
    (Path(user_presets) / "mine.state.pt").write_bytes(b"half a file")
    assert main(["train", "--data", str(data), "--preset", "satb", "--from", str(tiny),
                 "--name", "mine"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mine.state.pt: not a resumable training state" in err[0]


def _track(index, name="", program=None, pitch=60, channel=0) -> MidiTrack:
    return MidiTrack(index, name, program, channel, False, [(0.0, 0.0, pitch, 80, 1.0)])


def test_tracks_match_by_map_then_name_then_family():
    quartet = load_preset("string-quartet")
    names = quartet.part_names
    # by name (an unnamed track is called by its program); the rest by GM family, in
    # pitch order
    tracks = [_track(1, program=42, pitch=48), _track(2, program=40, pitch=69),
              _track(3, "Viola", program=41, pitch=60), _track(4, program=40, pitch=76),
              _track(5, "Kit", channel=9), _track(6, program=0, pitch=60), _track(7)]
    got, guessed, problems = match_tracks(tracks, quartet, {})
    assert {t: names[p] for t, p in got.items()} == {
        0: "cello", 1: "violin2", 2: "viola", 3: "violin1"}
    assert guessed == ["track 4 (Violin) -> violin1 (GM family Strings)",
                       "track 2 (Violin) -> violin2 (GM family Strings)"]
    assert problems[0] == "track 'Kit': skipped (drums, channel 10)"
    assert problems[1].startswith("track 6 (Acoustic Grand Piano): skipped (no part of "
                                  "string-quartet has its name, and no part is of its "
                                  "family (Piano); use --map")
    assert problems[2].startswith("track 7: skipped") and "--map" in problems[2]
    # --map wins, and '-' leaves a track out
    mapping = parse_mapping(["track 7=violin1", "Viola=-"], quartet)
    got, _, problems = match_tracks(tracks, quartet, mapping)
    assert names[got[6]] == "violin1" and 2 not in got
    assert "track 'Viola': skipped (left out by --map)" in problems
    assert [names[got[t]] for t in (0, 3, 1)] == ["cello", "violin2", "viola"]
    with pytest.raises(RuntimeError, match="has no part 'tuba'"):
        parse_mapping(["x=tuba"], quartet)


def test_hold_out_is_a_fifth_at_least_one_and_by_name():
    names = [f"song{i}.mid" for i in range(10)]
    held = hold_out(names)
    assert len(held) == 2 and held == hold_out(list(reversed(names)))
    assert len(hold_out(names[:3])) == 1 and hold_out(names[:1]) == set()


def test_progress_is_a_bar_on_a_terminal_and_tenths_otherwise():
    from livearranger.lab.trainer import Progress

    plain = io.StringIO()
    bar = ProgressBar(2.0, stream=plain, out=io.StringIO(), tty=False)
    for k in range(101):
        bar(Progress(k // 20, k / 100, 1.0, 50.0))
    lines = plain.getvalue().splitlines()
    assert len(lines) == 11 and lines[5].startswith("training:  50%")
    assert "at most 1:00 left" in lines[5]
    term = io.StringIO()
    clock = iter(range(100))
    bar = ProgressBar(2.0, stream=term, out=io.StringIO(), tty=True,
                      clock=lambda: float(next(clock)))
    bar(Progress(0, 0.25, 1.0, -1.0))
    assert term.getvalue().startswith("\r\x1b[K[######------------------]  25%")
    assert "best valid -" in term.getvalue() and "1:30 left" in term.getvalue()


def _seen() -> Seen:
    import numpy as np

    from livearranger.roll import RollNote

    satb = load_preset("satb")
    notes = [RollNote(0.5 * k, 0.5 * k + 0.4, 60 + k, k % 4, wrong=k == 3) for k in range(8)]
    return Seen(satb, np.diag([5, 6, 7, 8]), "song.mid", notes, files=1)


def test_pictures_without_matplotlib_or_a_place_are_one_line(tmp_path, monkeypatch):
    """Neither fails the training: one line each, the model and preset stand."""
    said: list[str] = []
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "matplotlib", None)          # `import matplotlib` fails
        assert draw_pictures(_seen(), tmp_path / "mine", "mine", said.append) == []
    assert said == ["no pictures of the result: they need matplotlib: "
                    "pip install 'livearranger[pictures]'"]
    assert not list(tmp_path.iterdir())
    said.clear()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert draw_pictures(_seen(), blocker / "mine", "mine", said.append) == []
    assert len(said) == 2 and all(line.startswith("could not draw the ") and
                                  line.endswith("; the model and preset are written")
                                  and "\n" not in line for line in said), said
    assert "mine-roll.png" in said[0] and "mine-confusion.png" in said[1]
