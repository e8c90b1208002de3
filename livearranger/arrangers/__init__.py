"""Arrangers by name: the rules, and the learned model when it is installed."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from livearranger.arrangers.base import Arranger
from livearranger.errors import LiveArrangerError
from livearranger.presets import Preset
from livearranger.registry import REGISTRY, arranger_names


class ArrangerError(LiveArrangerError):
    """An arranger that cannot be made (unknown name, model that will not load)."""


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
