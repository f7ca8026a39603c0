"""What an index store holds: the pointer collection's manifest (corpus hash, embedder,
chunker version, the current collection) and the checked contents of that collection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import snapshot, store
from .chunker import CHUNKER_VERSION
from .chunks import Chunk
from .config import Settings
from .corpus import corpus_hash
from .embed import embedder_id
from .store import StoreFault

POINTER = "sales-iterable-current"


def expected_manifest(settings: Settings) -> dict[str, str]:
    return {
        "corpus_hash": corpus_hash(settings.corpus_dir),
        "embedder": embedder_id(settings.embedder),
        "chunker_version": CHUNKER_VERSION,
    }


def read_manifest(client) -> dict[str, Any] | None:
    # Listing first: a missing pointer is "no index yet", while any error raised here
    # means the store itself is broken and propagates (as a StoreFault).
    with store.faults():
        if POINTER not in {col if isinstance(col, str) else col.name for col in client.list_collections()}:
            return None
        meta = dict(client.get_collection(POINTER).metadata or {})
    return meta if "collection" in meta else None


def is_current(manifest: dict[str, Any] | None, expected: dict[str, str]) -> bool:
    return bool(manifest) and all(manifest.get(k) == v for k, v in expected.items())


@dataclass
class Contents:
    """What one collection holds, checked: chunks, and vectors unless they stay on a server."""

    manifest: dict[str, Any]
    chunks: dict[str, Chunk]
    ids: list[str]
    vectors: np.ndarray | None
    collection: Any


def inspect(client, expected: dict[str, str], dim: int | None, vectors: bool) -> tuple[str, Contents | None]:
    """("current", contents) when the pointer names a complete, valid collection of the
    expected build; else (what is wrong, None). Chroma faults raise StoreFault."""
    manifest = read_manifest(client)
    if not manifest:
        return "missing", None
    if not is_current(manifest, expected):
        return "stale", None
    try:
        with store.faults():
            collection = client.get_collection(manifest["collection"])
            data = collection.get(include=["documents", "metadatas"] + (["embeddings"] if vectors else []))
    except StoreFault as fault:
        if fault.gone:
            return "incomplete (its collection is gone)", None
        raise
    ids = list(data["ids"])
    chunks = snapshot.typed_chunks({cid: {**(meta or {}), "text": doc}
                                    for cid, doc, meta in zip(ids, data["documents"], data["metadatas"])})
    if isinstance(chunks, str):
        return f"incomplete ({chunks})", None
    matrix = np.asarray(data["embeddings"], dtype=np.float32) if vectors else None
    problem = snapshot.problems(manifest, chunks, ids, matrix, dim)
    if problem:
        return f"incomplete ({problem})", None
    return "current", Contents(manifest, chunks, ids, matrix, collection)
