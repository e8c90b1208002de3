"""The one exporter and the command lines over it: every graph written from the contract."""

from __future__ import annotations

import onnx
import pytest
import torch

from export import export_onnx
from export import quantize as quantize_cli
from livearranger import graph
from livearranger.features import FEATURE_VERSION, feature_dim
from livearranger.lab.export import export_step
from livearranger.lab.model import EnsembleTransformer, PartTransformer, save_checkpoint

torch.set_num_threads(1)
PARTS = ["soprano", "alto", "tenor", "bass"]


def _meta(path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def _names(path) -> tuple[list[str], list[str]]:
    g = onnx.load(str(path)).graph
    return [i.name for i in g.input], [o.name for o in g.output]


def _tiny() -> PartTransformer:
    torch.manual_seed(0)
    return PartTransformer(feature_dim(4), 4, d_model=16, n_layers=1, n_heads=2, window=4,
                           d_ff=32)


def test_the_export_command_lines_write_the_step_window_and_int8_graphs(tmp_path, capsys):
    ckpt = tmp_path / "satb.pt"
    save_checkpoint(ckpt, _tiny(), {"parts": PARTS, "feature_version": FEATURE_VERSION,
                                    "dataset": "bach", "valid_accuracy": {"score": 50.0}})
    step, full = tmp_path / "satb.onnx", tmp_path / "satb.full.onnx"
    assert export_onnx.main([str(ckpt), str(step), "--full", str(full),
                             "--meta", "note=hi"]) == 0
    meta = _meta(step)
    assert meta[graph.META_FORMAT] == graph.STEP.name
    assert graph.read_meta_value(meta[graph.META_PARTS]) == PARTS
    assert meta["note"] == "hi" and "bach" in meta[graph.META_DATA]
    assert graph.read_meta_value(meta[graph.META_CACHE_SHAPE]) == graph.cache_shape(1, 2, 4, 8)
    assert _names(step) == (list(graph.STEP.inputs), list(graph.STEP.outputs))
    assert _meta(full)[graph.META_FORMAT] == graph.WINDOW.name
    assert _names(full) == (list(graph.WINDOW.inputs), list(graph.WINDOW.outputs))
    assert quantize_cli.main([str(step)]) == 0                       # in place
    assert _meta(step) == {**meta, graph.META_WEIGHTS: graph.INT8}
    assert not list(tmp_path.glob("*.part"))
    assert "step graph" in capsys.readouterr().out


@pytest.mark.parametrize("hints", [False, True])
def test_an_ensemble_graph_has_its_formats_names_and_dynamic_parts(tmp_path, hints):
    torch.manual_seed(0)
    model = EnsembleTransformer(d_model=16, n_layers=1, n_heads=2, window=4, d_ff=32,
                                d_part=8, hints=hints)
    path = export_step(model, tmp_path / "e.onnx", {graph.META_DATA: "test"})
    fmt = graph.ensemble_format(hints)
    meta = _meta(path)
    assert meta[graph.META_FORMAT] == fmt.name and meta[graph.META_DATA] == "test"
    assert graph.read_meta_value(meta[graph.META_FEATURE_VERSION]) == FEATURE_VERSION
    assert _names(path) == (list(fmt.inputs), list(fmt.outputs))
    shapes = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
              for i in onnx.load(str(path)).graph.input}
    assert shapes[graph.PARTS][0] == graph.PARTS
    assert (graph.HINT in shapes) == hints


def test_a_per_ensemble_graph_needs_its_parts_and_feature_version(tmp_path):
    with pytest.raises(ValueError, match="parts"):
        export_step(_tiny(), tmp_path / "x.onnx", {graph.META_FEATURE_VERSION: 3})
    with pytest.raises(ValueError, match="feature_version"):
        export_step(_tiny(), tmp_path / "x.onnx", {graph.META_PARTS: PARTS})
    assert not list(tmp_path.iterdir())


def test_a_graphs_data_and_split_name_each_collection_it_learned_from():
    d = export_onnx.describe_training({"dataset": "quartets + bach", "sources": ["openscore"],
                                       "valid_accuracy": {"score": 80.0}})
    assert "quartets (openscore): kern" in d[graph.META_DATA]      # the reader's source
    assert "music21 corpus: bach" in d[graph.META_DATA]
    assert "quartets: by work" in d[graph.META_SPLIT] and "bach.json" in d[graph.META_SPLIT]
    assert d[graph.META_ACCURACY] == {"valid": {"score": 80.0}}
