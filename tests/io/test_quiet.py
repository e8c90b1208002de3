"""Silencing a C library's stderr while we probe."""

from __future__ import annotations

import os

from livearranger.io.quiet import quiet_stderr


def test_what_is_written_to_fd_2_inside_is_dropped_and_stderr_comes_back(capfd):
    os.write(2, b"before\n")
    with quiet_stderr():
        os.write(2, b"library noise\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before\nafter\n"


def test_stderr_comes_back_when_the_body_raises(capfd):
    try:
        with quiet_stderr():
            raise KeyError("x")
    except KeyError:
        pass
    os.write(2, b"still here\n")
    assert capfd.readouterr().err == "still here\n"
