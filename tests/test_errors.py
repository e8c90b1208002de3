"""The one error concept: the base class, the one-line formatter, the bounded log."""

from __future__ import annotations

import threading

import pytest

from livearranger.errors import BadValue, ErrorLog, LiveArrangerError, one_line, printable


def test_our_errors_read_as_their_message_on_one_line() -> None:
    assert one_line(LiveArrangerError("x.toml:  name  must not be empty\nmore")) == \
        "x.toml: name must not be empty"
    assert one_line(ValueError("pitch 200 is outside 0..127")) == "pitch 200 is outside 0..127"
    assert one_line(BadValue("pitch 200 is outside 0..127")) == "pitch 200 is outside 0..127"


def test_other_errors_say_their_type() -> None:
    assert one_line(KeyError("x")) == "KeyError: 'x'"
    assert one_line(ZeroDivisionError()) == "ZeroDivisionError"
    assert one_line(LiveArrangerError()) == "LiveArrangerError"


def test_an_os_error_names_its_file() -> None:
    with pytest.raises(OSError) as caught:
        open("/nonexistent/take.mid")                       # noqa: SIM115
    assert one_line(caught.value).count("/nonexistent/take.mid") == 1


def test_control_characters_from_a_file_are_shown_not_obeyed() -> None:
    hostile = "alto\x1b[2J\x1b]0;owned\x07\u202eevil\x9b"
    shown = printable(hostile)
    assert shown.isprintable()
    assert shown == "alto\\x1b[2J\\x1b]0;owned\\x07\\u202eevil\\x9b"   # readable
    assert printable("Sopran, Alt") == "Sopran, Alt"             # names as they are
    assert one_line(LiveArrangerError(f"{hostile}.mid: cannot read")).isprintable()


def test_a_long_message_is_cut() -> None:
    text = one_line(LiveArrangerError("x" * 1000), limit=50)
    assert len(text) == 50 and text.endswith("...")


def test_every_exception_class_of_the_package_is_ours() -> None:
    import importlib
    import pkgutil

    import livearranger

    seen = []
    for info in pkgutil.walk_packages(livearranger.__path__, "livearranger."):
        if info.name.endswith("__main__"):          # runs the program
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:                     # an extra not installed (torch, textual)
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) \
                    and value.__module__ == module.__name__:
                seen.append(value)
    assert len(seen) >= 15
    # a stop signal while starting is not an error: it unwinds past every handler
    signals = [c for c in seen if not issubclass(c, Exception)]
    assert [c.__name__ for c in signals] == ["StartupStop"]
    assert [c for c in seen if c not in signals and not issubclass(c, LiveArrangerError)] == []


def test_the_log_keeps_the_latest_and_counts_them_all() -> None:
    log = ErrorLog(limit=3)
    assert log.total == 0 and log.latest(5) == [] and log.since(0) == []
    for i in range(5):
        log.add(f"e{i}")
    assert log.total == 5
    assert log.latest(2) == ["e3", "e4"]
    assert log.latest(10) == ["e2", "e3", "e4"]
    assert log.latest(0) == []
    assert list(log) == ["e2", "e3", "e4"] and len(log) == 3


def test_since_gives_what_a_reader_has_not_seen() -> None:
    log = ErrorLog(limit=3)
    log.add("a")
    seen = log.total
    assert log.since(seen) == []
    log.add("b")
    log.add("c")
    assert log.since(seen) == ["b", "c"]
    for text in "defg":
        log.add(text)
    assert log.since(seen) == ["e", "f", "g"]      # the rest are gone
    assert log.since(log.total - 1) == ["g"]
    assert log.since(log.total + 5) == ["e", "f", "g"]   # a reader of another log


def test_a_reader_never_pairs_a_total_with_entries_of_another_moment() -> None:
    log = ErrorLog(limit=4)
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            log.add(str(i))
            i += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(20000):
            total, entries = log._read()
            assert entries == [str(i) for i in range(max(0, total - 4), total)]
    finally:
        stop.set()
        writer.join()


def test_a_log_keeps_something() -> None:
    with pytest.raises(ValueError):
        ErrorLog(limit=0)
