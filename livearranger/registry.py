"""The arrangers by name: the one list that presets, the command line and the TUI offer,
below everything that names one (``livearranger.arrangers.make_arranger`` builds them)."""

from __future__ import annotations

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


def arranger_names() -> list[str]:
    """Names accepted by ``make_arranger``, in the order they are offered."""
    return list(REGISTRY)
