"""The arrangers by name: every name builds its arranger, and nothing else is one."""

from __future__ import annotations

from importlib import import_module

import pytest

from livearranger.arrangers import ArrangerError, make_arranger
from livearranger.arrangers.base import Arranger
from livearranger.registry import REGISTRY, arranger_names


def test_every_name_points_at_an_arranger_class():
    assert arranger_names() == list(REGISTRY) and len(set(REGISTRY)) == len(REGISTRY)
    for target in REGISTRY.values():
        module, _, cls = target.partition(":")
        assert issubclass(getattr(import_module(module), cls), Arranger)


def test_a_rule_is_built_by_its_name_and_an_unknown_name_is_refused(satb):
    assert make_arranger("closest-pitch", satb).preset is satb
    with pytest.raises(ArrangerError, match="unknown arranger 'lstm'"):
        make_arranger("lstm", satb)
