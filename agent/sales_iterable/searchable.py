"""The searchable index: typed chunks, their BM25 over aligned pairs, and dense search in
memory (the embedded store's vectors) or on a Chroma server."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import numpy as np

from . import store
from .chunks import Chunk
from .lexical import BM25, chunk_tokens
from .store import IndexError_, StoreFault


@dataclass
class Index:
    manifest: dict[str, Any]
    chunks: dict[str, Chunk]
    lexical: BM25  # keyed by unit ("studio.3"): both languages of a pair in one document
    collection: Any = None  # dense search on a Chroma server...
    vectors: np.ndarray | None = None  # ...or in memory (the embedded store's contents)
    ids: list[str] | None = None
    # Server mode: opens the current index again when this one's collection is gone
    # (another process rebuilt twice since this one opened it).
    reopen: Callable[[], "Index"] | None = None

    @cached_property
    def lexical_by_lang(self) -> dict[str, BM25]:
        """One BM25 per language, without pairing: built only when a benchmark measures
        what pairing adds, never on the search path."""
        docs: dict[str, dict[str, list[str]]] = defaultdict(dict)
        for chunk in self.chunks.values():
            docs[chunk.lang][chunk.unit] = chunk_tokens(chunk)
        return {lang: BM25(d) for lang, d in docs.items()}

    def dense(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) for the n nearest chunks."""
        n = min(n, len(self.chunks))
        if self.vectors is not None and self.ids is not None:
            sims = self.vectors @ vector.astype(np.float32)
            top = np.argpartition(-sims, n - 1)[:n]
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(self.ids[i], float(sims[i])) for i in top]
        try:
            with store.faults():
                result = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        except StoreFault as fault:
            fresh = self.reopen() if self.reopen is not None else None
            if fresh is None or fresh.manifest["collection"] == self.manifest["collection"]:
                raise IndexError_(f"cannot query the index collection {self.manifest['collection']} "
                                  f"({fault.reason})") from None
            self._become(fresh)
            return self.dense(vector, n)
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0])]

    def _become(self, other: "Index") -> None:
        """Take over another Index's contents in place, so whoever holds this one (a
        Retriever, a chat session) searches the new build from now on."""
        self.__dict__.pop("lexical_by_lang", None)
        self.manifest, self.chunks, self.lexical = other.manifest, other.chunks, other.lexical
        self.collection, self.vectors, self.ids = other.collection, other.vectors, other.ids


def make_index(manifest: dict[str, Any], chunks: dict[str, Chunk], **dense: Any) -> Index:
    docs: dict[str, list[str]] = defaultdict(list)
    for chunk in chunks.values():
        docs[chunk.unit].extend(chunk_tokens(chunk))
    return Index(manifest=manifest, chunks=chunks, lexical=BM25(dict(docs)), **dense)
