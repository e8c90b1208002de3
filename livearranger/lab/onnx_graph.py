"""The last step of every export: an exported ONNX graph gets its metadata and is checked.

Training-time only (the ``onnx`` package).  Both step graphs (the per-ensemble
``export/export_onnx.py`` and the ensemble model's ``export_step``) end here, so their
metadata are written one way: sorted keys, strings as they are, anything else as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def stamp(path: str | Path, props: dict[str, Any], doc: str = "") -> None:
    """Replace the graph's metadata_props at ``path`` with ``props`` (and its doc string
    with ``doc`` when given), check the graph and save it in place."""
    import onnx

    graph = onnx.load(str(path))
    del graph.metadata_props[:]
    for key, value in sorted(props.items()):
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    if doc:
        graph.doc_string = doc
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))
