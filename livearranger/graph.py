"""The graph contract: what an exported model is, written once.

The exporter (``livearranger.lab.export``) writes graphs from it and the runtime's loader
(``livearranger.arrangers.onnx_model``) reads them by it; neither spells a name, a format
or a metadata key of its own.  Torch-free and onnx-free, so the runtime can import it.

The step graph (opset ``OPSET``) decides one note per run:

    inputs   features   float32[1, F]             causal features of the new note
             tokens     int64[1, 2]               (pitch, previous part or P for none)
             beat       float32[1, N_BEAT]        ensemble formats: the note's beat row
             parts      float32[P, N_DESC]        ensemble formats: the parts, described
             past_kv    float32[L, 2, H, W, Dh]   ring buffer of keys/values, slot t % W
             pos        int64[1]                  slot of the new note
             valid      bool[W]                   slots holding one of the previous W-1
             hint       float32[1, P]             the hint format: 1 where a hint forced
    outputs  logits     float32[1, P]
             present_kv float32[L, 2, H, Dh]      the new note's keys/values

The caller writes ``present_kv`` into slot ``pos`` of its ring, marks the slot valid and
moves ``pos`` on modulo W (``livearranger.arrangers.kv_ring``).  A per-ensemble graph has
fixed shapes and names its preset's parts in the metadata; an ensemble graph takes the
parts as an input (P dynamic, up to ``max_parts``).  Metadata values are strings, JSON
for anything but a string (``meta_value`` / ``read_meta_value``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

OPSET = 17

# ------------------------------------------------------------------ names
FEATURES = "features"
TOKENS = "tokens"
BEAT = "beat"
PARTS = "parts"
PAST_KV = "past_kv"
POS = "pos"
VALID = "valid"
HINT = "hint"
LOGITS = "logits"
PRESENT_KV = "present_kv"


@dataclass(frozen=True)
class GraphFormat:
    """One kind of graph: its ``format`` metadata value, its inputs in the order of the
    exported module's arguments, its outputs and its dynamic axes (name -> axis -> label).
    ``ensemble``: the parts are an input, not the output size; ``hints``: it reads the
    player's hints."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = (LOGITS, PRESENT_KV)
    ensemble: bool = False
    hints: bool = False
    dynamic_axes: Mapping[str, Mapping[int, str]] = field(default_factory=dict)


_STEP_INPUTS = (FEATURES, TOKENS, PAST_KV, POS, VALID)
_ENSEMBLE_INPUTS = (FEATURES, TOKENS, BEAT, PARTS, PAST_KV, POS, VALID)
_PARTS_AXES: dict[str, dict[int, str]] = {
    FEATURES: {1: FEATURES}, PARTS: {0: PARTS}, LOGITS: {1: PARTS}}

STEP = GraphFormat("livearranger-step-1", _STEP_INPUTS)            # one preset's parts
ENSEMBLE = GraphFormat("livearranger-ensemble-1", _ENSEMBLE_INPUTS, ensemble=True,
                       dynamic_axes=_PARTS_AXES)                    # any parts, an input
HINTED = GraphFormat("livearranger-ensemble-2", (*_ENSEMBLE_INPUTS, HINT), ensemble=True,
                     hints=True, dynamic_axes={**_PARTS_AXES, HINT: {1: PARTS}})
# the cache-free graph over a window of notes: features [1,T,F], tokens [1,T,2] ->
# logits [1,T,P]; only the bench runs it (what "no cache" costs)
WINDOW = GraphFormat("livearranger-window-1", (FEATURES, TOKENS), outputs=(LOGITS,))

PLAYABLE: dict[str, GraphFormat] = {f.name: f for f in (STEP, ENSEMBLE, HINTED)}


def ensemble_format(hints: bool) -> GraphFormat:
    """The format of an ensemble model's step graph, with or without the hint input."""
    return HINTED if hints else ENSEMBLE


# ------------------------------------------------------------------ metadata keys
META_FORMAT = "format"                    # a GraphFormat's name
META_FEATURE_VERSION = "feature_version"  # livearranger.features.FEATURE_VERSION it reads
META_PARTS = "parts"                      # per-ensemble: the preset's part names
META_MAX_PARTS = "max_parts"              # ensemble: the most parts it plays
META_WINDOW = "window"                    # W
META_CACHE_SHAPE = "cache_shape"          # [L, 2, H, W, Dh]
META_CONFIG = "config"                    # the model's constructor arguments
META_N_PARTS = "n_parts"                  # per-ensemble: P
META_N_FEATURES = "n_features"            # per-ensemble: F
META_DATA = "data"                        # what it was trained on
META_SPLIT = "split"                      # the split of that data it was trained on
META_ACCURACY = "accuracy"
META_WEIGHTS = "weights"                  # INT8 once quantised
INT8 = "int8"


def meta_value(value: object) -> str:
    """A metadata value as stored: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def read_meta_value(text: str) -> object:
    """A stored metadata value back: its JSON when it parses, else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# ------------------------------------------------------------------ the KV cache
CACHE_RANK = 5        # [layers, 2 (keys, values), heads, W slots, d_head]
CACHE_WINDOW_AXIS = 3


def cache_shape(n_layers: int, n_heads: int, window: int, d_head: int) -> list[int]:
    """``past_kv``'s shape: [layers, 2, heads, W, d_head]."""
    return [n_layers, 2, n_heads, window, d_head]


def present_shape(cache: tuple[int, ...]) -> tuple[int, ...]:
    """``present_kv``'s shape for a cache of shape ``cache``: without the slot axis."""
    return cache[:CACHE_WINDOW_AXIS] + cache[CACHE_WINDOW_AXIS + 1:]
