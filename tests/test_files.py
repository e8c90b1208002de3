"""Bounded reads of untrusted files, write targets checked up front, atomic replace."""

from __future__ import annotations

import os

import pytest

from livearranger.files import FileProblem, check_writable, read_limited, replace_atomically


def test_read_limited_reads_a_regular_file_within_the_limit(tmp_path):
    path = tmp_path / "a.toml"
    path.write_bytes(b"x" * 10)
    assert read_limited(path, 10) == b"x" * 10
    with pytest.raises(FileProblem,
                       match=r"a.toml: preset is too large \(10 bytes; the limit is 9\)"):
        read_limited(path, 9, "preset")


def test_read_limited_refuses_what_is_not_a_regular_file_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)                           # opened blocking, this would hang
    with pytest.raises(FileProblem, match="pipe: cannot read take: not a regular file"):
        read_limited(fifo, 100, "take")
    with pytest.raises(FileProblem, match="cannot read file: a directory"):
        read_limited(tmp_path, 100)
    with pytest.raises(FileProblem, match="missing.mid: no such file"):
        read_limited(tmp_path / "missing.mid", 100)


def test_check_writable_makes_the_folder_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "new" / "take.mid"
    assert check_writable(target) == target
    assert target.parent.is_dir() and list(target.parent.iterdir()) == []


def test_check_writable_refuses_a_folder_or_a_file_in_the_way(tmp_path):
    with pytest.raises(FileProblem, match="it is a directory"):
        check_writable(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(FileProblem, match="is not a folder"):
        check_writable(tmp_path / "file" / "take.mid", "take")


def test_replace_atomically_moves_or_removes_the_partial_file(tmp_path):
    tmp, target = tmp_path / "t.part", tmp_path / "t.mid"
    tmp.write_text("new")
    target.write_text("old")
    replace_atomically(tmp, target)
    assert target.read_text() == "new" and not tmp.exists()
    tmp.write_text("newer")
    with pytest.raises(FileProblem, match="t.mid: cannot write"):
        replace_atomically(tmp, tmp_path / "no-such-folder" / "t.mid")
    assert not tmp.exists()
