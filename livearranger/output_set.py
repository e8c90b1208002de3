"""The session's outputs for one preset: built from the set-up, rebuilt on a switch.

Some outputs serve every preset: the recorder tap, the built-in synth and a port given
by name (or ``virtual``).  The others belong to the preset's parts: ``virtual-per-part``
(a port per part, named after it) and a part's own ``port``.  A preset switch builds
these again for the new parts, keeping the ports of the parts both presets share (a DAW
track stays connected), and closes the rest once the engine no longer sends to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from livearranger.io.midi_io import MidiIOError, PerPartOutput, PortOutput
from livearranger.io.output import (
    DAW_MODES,
    DelayedOutput,
    Output,
    PartFilter,
    close_outputs,
    innermost,
    replace,
)
from livearranger.io.synth import Synth, SynthOutput
from livearranger.presets import Preset
from livearranger.recorder import Recorder

OUTPUT_KINDS = ("synth", "virtual", "virtual-per-part")


class RecorderTap(Output):
    """Forwards to whichever recorder is current (``inner``), so that recording can start
    and stop while the engine plays: the engine thread alone swaps it (``engine.call``)."""

    def __init__(self) -> None:
        self.inner: Recorder | None = None
        self.error: str | None = None     # why the last recording could not be saved

    def _send(self, part: int, message: list[int], time: float) -> None:
        rec = self.inner
        if rec is not None:
            rec.send(part, message, time)

    def move(self, old_part: int, off: list[int], new_part: int, on: list[int],
             onset: float, time: float) -> None:
        rec = self.inner
        if rec is not None:
            rec.move(old_part, off, new_part, on, onset, time)

    def late_note_on(self, part: int, message: list[int], onset: float,
                     time: float) -> None:
        rec = self.inner
        if rec is not None:
            rec.late_note_on(part, message, onset, time)

    def preset_changed(self, preset: Preset) -> None:
        rec = self.inner
        if rec is not None:
            rec.preset_changed(preset)

    def _close(self) -> None:
        rec, self.inner = self.inner, None
        if rec is not None:
            try:
                rec.close()
            except OSError:
                self.error = rec.error


@dataclass(frozen=True)
class OutputPlan:
    """What to open: ``kinds`` (``OUTPUT_KINDS`` or a port name) on ``api`` as
    ``client``, MIDI ports in ``daw_mode`` and the synth in ``synth_mode``."""

    api: str
    client: str
    kinds: tuple[str, ...]
    daw_mode: str = "live"
    synth_mode: str = "live"
    soundfont: str | None = None
    audio_driver: str | None = None
    period_size: int = 128


class OutputSet:
    """Every output of a session: ``outputs`` (the router's), ``names`` (for people),
    the recorder ``tap``, the ``synth`` if any.  ``delay``: ``print`` mode's, in
    seconds, kept for the whole session (a DAW compensates one constant offset)."""

    def __init__(self, plan: OutputPlan, preset: Preset, delay: float) -> None:
        for mode in (plan.daw_mode, plan.synth_mode):
            if mode not in DAW_MODES:
                raise MidiIOError(f"unknown output mode {mode!r} "
                                  f"(choose from {', '.join(DAW_MODES)})")
        self.plan = plan
        self.delay = delay
        self.tap = RecorderTap()
        self.synth: Synth | None = None
        self.audio_latency_ms: float | None = None
        self.shared: list[Output] = [self.tap]   # for every preset
        self.own: list[Output] = []              # for this preset's parts
        self._shared_names: list[str] = []
        self._own_names: list[str] = []
        self._retiring: list[Output] = []
        self._errors: list[str] = []             # from ``flush``, for ``retire``
        self._kept: set[int] = set()             # ids of ports the new preset keeps
        try:
            self._open_shared(preset)
            self.own, self._own_names = self._open_own(preset, [])
        except BaseException:
            close_outputs(self.shared)   # the set-up's own error is the one raised
            raise

    @property
    def outputs(self) -> list[Output]:
        return [*self.shared, *self.own]

    @property
    def names(self) -> list[str]:
        return [*self._shared_names, *self._own_names]

    def _mode(self, output: Output, mode: str) -> Output:
        """``output`` as ``mode`` wants it: ``print`` delays it and gives it final parts
        only."""
        return DelayedOutput(output, self.delay) if mode == "print" else output

    def _open_shared(self, preset: Preset) -> None:
        plan = self.plan
        for kind in plan.kinds:
            if kind == "synth":
                self.synth = synth = Synth(preset, plan.soundfont)
                self.audio_latency_ms = ms = synth.start_audio(plan.audio_driver,
                                                               plan.period_size)
                self.shared.append(self._mode(SynthOutput(synth), plan.synth_mode))
                self._shared_names.append(f"synth ({synth.driver}, {ms:.1f} ms buffer)")
            elif kind != "virtual-per-part":
                port = PortOutput(plan.api, kind, plan.client)
                self.shared.append(self._mode(port, plan.daw_mode))
                self._shared_names.append(port.name)

    def _open_own(self, preset: Preset,
                  old: list[Output]) -> tuple[list[Output], list[str]]:
        """The outputs of ``preset``'s parts, reusing the ports in ``old`` (the last
        preset's) that serve a part of the same name; ids of those reused go to
        ``_kept``.  Nothing of ``old`` is closed or changed when one cannot be opened."""
        plan = self.plan
        previous = [innermost(out) for out in old]
        ports = {(o.spec, o.virtual_name): o for o in previous if isinstance(o, PortOutput)}
        outputs: list[Output] = []
        names: list[str] = []
        fresh: list[Output] = []          # opened here: closed again if a later one fails
        try:
            for i, part in enumerate(preset.parts):
                if not part.port:
                    continue
                port = ports.get((part.port, f"to-{part.name}"))
                if port is None:
                    port = PortOutput(plan.api, part.port, plan.client,
                                      virtual_name=f"to-{part.name}")
                    fresh.append(port)
                else:
                    self._kept.add(id(port))
                outputs.append(self._mode(PartFilter(i, port), plan.daw_mode))
                names.append(f"{part.name} -> {port.name}")
            if "virtual-per-part" in plan.kinds:   # last: it takes over old ports
                last = next((o for o in previous if isinstance(o, PerPartOutput)), None)
                per_part = (last.for_parts(preset.part_names) if last is not None
                            else PerPartOutput(plan.api, preset.part_names, plan.client))
                outputs.insert(0, self._mode(per_part, plan.daw_mode))
                names[:0] = per_part.names
        except BaseException:
            self._kept.clear()
            close_outputs(fresh)
            raise
        return outputs, names

    def switch(self, preset: Preset) -> list[Output]:
        """Open ``preset``'s own outputs (MidiIOError, nothing changed, when one cannot
        be opened) and make them current; returns the old ones, for ``flush`` and
        ``retire``."""
        self._kept.clear()
        own, names = self._open_own(preset, self.own)
        old, self.own, self._own_names = self.own, own, names
        self._retiring = old
        return old

    def flush(self) -> None:
        """Deliver what the outputs replaced by ``switch`` still hold (``print`` mode's
        queue).  On the engine thread, right after the switch: a kept port is the new
        preset's too, and two threads on one rtmidi client crash it."""
        for out in self._retiring:
            try:
                out.tick(math.inf)
            except Exception as exc:
                self._errors.append(f"{type(out).__name__}: {exc}")

    def retire(self) -> list[str]:
        """Close the outputs replaced by ``switch`` (once the engine sends to them no
        more, after ``flush``), except the ports the new preset kept; what failed."""
        old, self._retiring = self._retiring, []
        kept, self._kept = self._kept, set()
        errors, self._errors = self._errors, []
        errors += close_outputs([o for o in old if id(innermost(o)) not in kept])
        return errors

    def replace(self, old: Output, new: Output) -> None:
        """Put ``new`` where ``old`` is (a port reopened), wrappers and all."""
        for outputs in (self.shared, self.own):
            if replace(outputs, old, new):
                return

    def close(self) -> list[str]:
        """Close every output (the engine's stop closes those it has; this is for a
        set-up that failed before it had them)."""
        return close_outputs(self.outputs)
