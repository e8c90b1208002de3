"""The graph contract: torch-free, and every shipped graph is what it says it is."""

from __future__ import annotations

import subprocess
import sys

import onnxruntime as ort
import pytest

from livearranger import graph
from livearranger.arrangers.onnx_model import shipped_model_dir


def test_the_contract_imports_without_torch_or_onnx() -> None:
    code = ("import sys; sys.modules['torch'] = None; sys.modules['onnx'] = None; "
            "import livearranger.graph, livearranger.arrangers.onnx_model")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("path", sorted(shipped_model_dir().glob("*.onnx")),
                         ids=lambda p: p.name)
def test_shipped_graphs_have_their_formats_names_and_cache_layout(path) -> None:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    fmt = graph.PLAYABLE[meta[graph.META_FORMAT]]
    inputs = {i.name: i.shape for i in session.get_inputs()}
    assert sorted(inputs) == sorted(fmt.inputs)
    assert [o.name for o in session.get_outputs()] == list(fmt.outputs)
    cache = tuple(inputs[graph.PAST_KV])
    assert len(cache) == graph.CACHE_RANK
    assert list(cache) == graph.read_meta_value(meta[graph.META_CACHE_SHAPE])
    assert cache[graph.CACHE_WINDOW_AXIS] == graph.read_meta_value(meta[graph.META_WINDOW])
    present = {o.name: o.shape for o in session.get_outputs()}[graph.PRESENT_KV]
    assert tuple(present) == graph.present_shape(cache)
    assert (graph.META_MAX_PARTS in meta) == fmt.ensemble
    assert (graph.META_PARTS in meta) != fmt.ensemble


def test_metadata_values_round_trip() -> None:
    for value in ("satb data", ["S", "A"], 3, {"valid": 0.9}, None):
        assert graph.read_meta_value(graph.meta_value(value)) == value
