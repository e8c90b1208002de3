"""Readers of the training collections, one module each, every one yielding
``livearranger.lab.datasets.Piece``: ``pop909``, ``nes``, ``quartets``, ``choral`` and
``asap-bach`` (``asap_bach``), each a folder laid out as in the project's shared data.
Each module's docstring says how its parts are named and how it splits; ``common`` holds
the cache, the split by work and the error (``CollectionError``, one line naming the file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from livearranger.lab.collections import asap_bach, choral, nes, pop909, quartets
from livearranger.lab.collections.common import CollectionError, load_files
from livearranger.lab.datasets import CORPUS_SOURCE, Piece

READERS: dict[str, ModuleType] = {m.NAME: m for m in (pop909, nes, quartets, choral,
                                                       asap_bach)}
COLLECTIONS = tuple(READERS)


def load_collection(name: str, root: str | Path, split: str = "train",
                    limit: int | None = None, use_cache: bool = True,
                    sources: Sequence[str] | None = None,
                    unreadable: list[str] | None = None) -> list[Piece]:
    """The pieces of collection ``name`` in folder ``root`` (laid out as the shared data's
    ``<name>/``), of ``split`` (``train``, ``valid``, ``test`` or ``all``); with
    ``sources``, only the files under those top-level folders of it (a source whose
    license allows what the pieces are for: ``quartets`` ``openscore``, say);
    ``unreadable``: collect the files that cannot be read there instead of stopping
    (``common.load_files``)."""
    reader = READERS.get(name)
    if reader is None:
        raise CollectionError(f"unknown collection {name!r} (known: {', '.join(COLLECTIONS)})")
    root = Path(root)
    paths = reader.files(root, split)
    if sources is not None:
        paths = [p for p in paths if p.relative_to(root).parts[0] in sources]
    return load_files(reader.NAME, reader.VERSION, root, paths, reader.parse, limit,
                      use_cache, unreadable)


@dataclass(frozen=True)
class Provenance:
    """Where one dataset a model learned from comes from: a collection (its source, the
    licenses of the folders it was read from, its split) or a music21 corpus."""

    name: str
    source: str
    split: str
    licenses: dict[str, str]      # folder ("" for all of it) -> license; {} for a corpus
    sources: tuple[str, ...] = ()  # the folders it was kept to, if any


def provenance(datasets: str, sources: Sequence[str] | None = None) -> list[Provenance]:
    """Per dataset of a model's ``datasets`` ("a + b", as ``models.train`` records them),
    its provenance; ``sources`` the folders a collection was kept to."""
    out = []
    for name in (n for n in datasets.split(" + ") if n):
        reader = READERS.get(name)
        if reader is None:
            out.append(Provenance(name, f"music21 corpus: {name}, "
                                  + CORPUS_SOURCE.get(name, "(livearranger.lab.datasets)"),
                                  f"8:1:1 by file, seed 0 (livearranger/data/splits/"
                                  f"{name}.json)", {}))
            continue
        lic = {k: v for k, v in reader.LICENSES.items()
               if sources is None or k in sources or k == ""}
        out.append(Provenance(name, reader.SOURCE, reader.SPLIT, lic, tuple(sources or ())))
    return out


__all__ = ["COLLECTIONS", "CollectionError", "Provenance", "load_collection", "provenance"]
