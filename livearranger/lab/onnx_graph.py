"""The last step of every export: an exported ONNX graph gets its metadata and is checked.

Training-time only (the ``onnx`` package).  Both step graphs (the per-ensemble
``export/export_onnx.py`` and the ensemble model's ``export_step``) end here, so their
metadata are written one way: sorted keys, strings as they are, anything else as JSON.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from livearranger.graph import INT8, META_WEIGHTS, meta_value


def stamp(path: str | Path, props: dict[str, Any], doc: str = "") -> None:
    """Replace the graph's metadata_props at ``path`` with ``props`` (and its doc string
    with ``doc`` when given), check the graph and save it in place."""
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
    by reading its weights, so this is the speed-up (about a fifth of the step on the
    shipped graphs here; accuracy within 0.3 points, ``models/README.md``).  The metadata are
    kept, with ``weights`` = ``int8``; a graph that has them already is copied as it is."""
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
