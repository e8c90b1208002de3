"""The one exporter: a part model, per-ensemble or ensemble, to its ONNX step graph.

Training-time only (torch, onnx; imported when first used, so that a fine-tuning
without torch can still quantize).  What a graph is (names, order, formats, metadata
keys, the cache layout) is ``livearranger.graph``; a model says which format it plays
and gives its step as a module with example inputs (``StepExportable``), and this
module writes every graph the same way: traced at ``graph.OPSET``, stamped with the
contract's metadata, checked, and put in place whole.  ``quantize`` is the last step
before a graph ships.  The command lines over it: ``python -m export.export_onnx``
(a per-ensemble checkpoint) and ``python -m export.quantize``; ``livearranger train``
and the ensemble trainer call it directly.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from livearranger.graph import (
    INT8,
    META_CACHE_SHAPE,
    META_CONFIG,
    META_FORMAT,
    META_WEIGHTS,
    META_WINDOW,
    OPSET,
    WINDOW,
    GraphFormat,
    cache_shape,
    meta_value,
)

if TYPE_CHECKING:       # torch only once a model is exported: quantize needs none
    from torch import Tensor, nn


class StepExportable(Protocol):
    """What a model gives the exporter (both part models implement it)."""

    n_layers: int
    n_heads: int
    window: int
    d_head: int
    config: dict[str, Any]
    graph_doc: str            # the graph's doc string: which model this is

    @property
    def graph_format(self) -> GraphFormat:
        """The format its step graph has."""
        ...

    def step_module(self) -> nn.Module:
        """Its one-note step as a module whose arguments are the format's inputs."""
        ...

    def step_example(self) -> tuple[Tensor, ...]:
        """Inputs of the step graph's shapes (an empty cache)."""
        ...

    def graph_metadata(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Its own metadata for the graph (beyond format, window, cache shape and config),
        given the training metadata ``meta``; ValueError when ``meta`` lacks what the
        graph needs."""
        ...


class WindowExportable(StepExportable, Protocol):
    """A model whose forward also runs as a cache-free graph over a window of notes."""

    def window_module(self) -> nn.Module:
        """Its forward over a window as a module whose arguments are ``WINDOW.inputs``."""
        ...

    def window_example(self, length: int) -> tuple[Tensor, ...]:
        """Inputs of the window graph's shapes over ``length`` notes."""
        ...


def contract_metadata(model: StepExportable, fmt: GraphFormat) -> dict[str, Any]:
    """The metadata every graph carries: its format, window, cache shape and config."""
    return {META_FORMAT: fmt.name, META_WINDOW: str(model.window),
            META_CACHE_SHAPE: cache_shape(model.n_layers, model.n_heads, model.window,
                                          model.d_head),
            META_CONFIG: model.config}


def export_step(model: StepExportable, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``model``'s one-note step graph to ``path`` with the training metadata
    ``meta`` (data, split, accuracy, ...) and the graph's own; return the path."""
    fmt = model.graph_format
    props = {**meta, **model.graph_metadata(meta), **contract_metadata(model, fmt)}
    axes = {name: dict(a) for name, a in fmt.dynamic_axes.items()} or None
    return _export(model.step_module(), model.step_example(), fmt, path, props,
                   model.graph_doc, axes)


def export_window(model: WindowExportable, path: str | Path, meta: dict[str, Any],
                  length: int | None = None) -> Path:
    """Write ``model``'s cache-free graph over ``length`` notes (default W) to ``path``
    (``graph.WINDOW``: what the bench times as "re-running without a cache"; only the
    model's receptive field of notes reproduces the stream exactly)."""
    props = {**meta, **model.graph_metadata(meta), **contract_metadata(model, WINDOW)}
    return _export(model.window_module(), model.window_example(length or model.window),
                   WINDOW, path, props, "", None)


def _export(module: nn.Module, example: tuple[Tensor, ...], fmt: GraphFormat,
            path: str | Path, props: dict[str, Any], doc: str,
            axes: dict[str, dict[int, str]] | None) -> Path:
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")     # replaced whole: never half a graph
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter's deprecation and its tracer's notes on fixed shapes
        warnings.simplefilter("ignore")
        # the exporter restores the module's mode on every submodule: keep it in eval
        torch.onnx.export(module.eval(), example, str(tmp),
                          input_names=list(fmt.inputs), output_names=list(fmt.outputs),
                          opset_version=OPSET, do_constant_folding=True, dynamo=False,
                          dynamic_axes=axes)
    stamp(tmp, props, doc)
    tmp.replace(path)
    return path


def stamp(path: str | Path, props: dict[str, Any], doc: str = "") -> None:
    """Replace the graph's metadata_props at ``path`` with ``props`` (sorted; values as
    ``graph.meta_value`` writes them) and its doc string with ``doc`` when given, check
    the graph and save it in place."""
    import onnx

    graph = onnx.load(str(path))
    del graph.metadata_props[:]
    for key, value in sorted(props.items()):
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, meta_value(value)
    if doc:
        graph.doc_string = doc
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))


def quantize(src: str | Path, dst: str | Path) -> Path:
    """Write ``src``'s graph to ``dst`` with int8 weights: every MatMul and Gemm becomes
    a dynamically quantised one (standard ONNX ops; weights per tensor, activations per
    step), a quarter of the bytes a step reads.  At one note per step the graph is bound
    by reading its weights, so this is the speed-up (``models/README.md`` has the
    figures and the accuracy kept).  The metadata are kept, with ``weights`` = ``int8``;
    a graph that has them already is copied as it is."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = Path(src), Path(dst)
    graph = onnx.load(str(src))
    props = {p.key: p.value for p in graph.metadata_props}
    if props.get(META_WEIGHTS) == INT8:
        if src.resolve() != dst.resolve():
            shutil.copyfile(src, dst)
        return dst
    doc = graph.doc_string
    del graph
    tmp = dst.with_name(dst.name + ".part")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)      # its advice to pre-process: not for a step graph
    try:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gemm"])
    finally:
        root.setLevel(level)
    stamp(tmp, {**props, META_WEIGHTS: INT8}, doc)
    tmp.replace(dst)
    return dst
