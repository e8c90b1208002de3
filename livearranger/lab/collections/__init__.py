"""Readers of the training collections, one module each, every one yielding
``livearranger.lab.datasets.Piece``: ``pop909``, ``nes``, ``quartets``, ``choral`` and
``asap-bach`` (``asap_bach``), each a folder laid out as in the project's shared data.
Each module's docstring says how its parts are named and how it splits; ``common`` holds
the cache, the split by work and the error (``CollectionError``, one line naming the file).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from livearranger.lab.collections import asap_bach, choral, nes, pop909, quartets
from livearranger.lab.collections.common import CollectionError
from livearranger.lab.datasets import Piece

LOADERS: dict[str, Callable[..., list[Piece]]] = {
    "pop909": pop909.load, "nes": nes.load, "quartets": quartets.load,
    "choral": choral.load, "asap-bach": asap_bach.load,
}
COLLECTIONS = tuple(LOADERS)


def load_collection(name: str, root: str | Path, split: str = "train",
                    limit: int | None = None, use_cache: bool = True) -> list[Piece]:
    """The pieces of collection ``name`` in folder ``root`` (laid out as the shared data's
    ``<name>/``), of ``split`` (``train``, ``valid``, ``test`` or ``all``)."""
    loader = LOADERS.get(name)
    if loader is None:
        raise CollectionError(f"unknown collection {name!r} (known: {', '.join(COLLECTIONS)})")
    return loader(root, split, limit, use_cache)


__all__ = ["COLLECTIONS", "CollectionError", "load_collection"]
