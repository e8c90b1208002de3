"""Arrangers by name: the rules, and the learned model when it is installed."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from livearranger.arrangers.base import Arranger
from livearranger.errors import LiveArrangerError
from livearranger.presets import Preset

# The one list of arranger names (presets, the CLI and the TUI offer these, in this
# order): name -> "module:Class", imported on first use so that an unused arranger
# costs nothing.
REGISTRY: dict[str, str] = {
    "model": "livearranger.arrangers.onnx_model:OnnxArranger",
    "closest-pitch": "livearranger.arrangers.heuristics:ClosestPitchArranger",
    "zone": "livearranger.arrangers.heuristics:ZoneArranger",
    "top-bottom": "livearranger.arrangers.heuristics:TopBottomArranger",
    "most-common": "livearranger.arrangers.heuristics:MostCommonArranger",
    "voice-leading": "livearranger.arrangers.voice_leading:VoiceLeadingArranger",
}


class ArrangerError(LiveArrangerError):
    """An arranger that cannot be made (unknown name, model that will not load)."""


def arranger_names() -> list[str]:
    """Names accepted by ``make_arranger``."""
    return list(REGISTRY)


def make_arranger(name: str, preset: Preset, **options: Any) -> Arranger:
    """Build the arranger called ``name`` for ``preset``; raise ArrangerError if impossible."""
    target = REGISTRY.get(name)
    if target is None:
        raise ArrangerError(f"unknown arranger {name!r} (known: {', '.join(REGISTRY)})")
    module_name, _, cls_name = target.partition(":")
    try:
        cls: type[Arranger] = getattr(import_module(module_name), cls_name)
    except (ImportError, AttributeError) as exc:
        raise ArrangerError(f"arranger {name!r} is not available: {exc}") from None
    return cls(preset, **options)


__all__ = ["Arranger", "ArrangerError", "arranger_names", "make_arranger"]
