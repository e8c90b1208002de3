"""The Output base: hooks behind send and close, and wrappers that say what they wrap."""

from __future__ import annotations

import pytest

from livearranger.io.output import (
    DelayedOutput,
    MemoryOutput,
    Output,
    PartFilter,
    chain,
    innermost,
    replace,
)


class Port(MemoryOutput):
    """A destination that counts its closes."""

    def __init__(self) -> None:
        super().__init__()
        self.closes = 0

    def _close(self) -> None:
        self.closes += 1


def test_send_reaches_the_hook_until_closed_and_close_runs_once() -> None:
    port = Port()
    port.send(0, [0x90, 60, 100], 1.0)
    port.close()
    port.close()
    assert port.messages == [(1.0, 0, [0x90, 60, 100])] and port.closes == 1
    with pytest.raises(ValueError, match="Port is closed"):
        port.send(0, [0x80, 60, 0], 2.0)
    assert len(port.messages) == 1


def test_an_output_without_a_send_hook_says_so() -> None:
    with pytest.raises(NotImplementedError):
        Output().send(0, [0x90, 60, 100], 0.0)


def test_wrappers_expose_what_they_wrap_down_to_the_destination() -> None:
    port = Port()
    outer = DelayedOutput(PartFilter(1, port), 0.01)
    assert [type(o) for o in chain(outer)] == [DelayedOutput, PartFilter, Port]
    assert innermost(outer) is port and innermost(port) is port


def test_replace_swaps_a_destination_at_the_top_or_under_wrappers() -> None:
    bare, wrapped, other = Port(), Port(), Port()
    part = PartFilter(0, wrapped)
    outputs: list[Output] = [bare, DelayedOutput(part, 0.01)]
    new_bare, new_wrapped = Port(), Port()
    assert replace(outputs, bare, new_bare) and outputs[0] is new_bare
    assert replace(outputs, wrapped, new_wrapped) and part.inner is new_wrapped
    assert not replace(outputs, other, Port())
    outputs[1].send(0, [0x90, 60, 100], 0.0)
    outputs[1].close()                               # flushes into the new destination
    assert new_wrapped.messages == [(0.01, 0, [0x90, 60, 100])] and new_wrapped.closes == 1
    assert wrapped.messages == [] and wrapped.closes == 0


def test_a_part_filter_passes_its_part_only() -> None:
    port = Port()
    only = PartFilter(1, port)
    only.send(0, [0x90, 60, 100], 0.0)
    only.send(1, [0x91, 48, 90], 0.0)
    assert port.messages == [(0.0, 1, [0x91, 48, 90])]
