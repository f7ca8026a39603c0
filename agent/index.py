"""Build, open and check the retrieval index: a Chroma collection of chunk embeddings
(both languages) and a BM25 lexical index over aligned chunk pairs.

Atomic builds: every build writes a *new* collection, and only when it is complete does
one small "pointer" collection's metadata switch to it (a single Chroma call). An
interrupted build leaves the pointer, and so the previous index, untouched. Builds are
serialized by a file lock. The manifest (corpus hash, embedder id, chunker version) lives
in the pointer's metadata; a mismatch means stale, and stale indexes rebuild themselves.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import numpy as np

from .config import Settings
from .corpus import CHUNKER_VERSION, Chunk, corpus_hash, load_chunks
from .embed import Embedder, embedder_for, embedder_id
from .lexical import BM25, chunk_tokens, lexical_tokens  # noqa: F401  lexical_tokens: still imported from here by offline.py and tests

POINTER = "sales-iterable-current"
COLLECTION_PREFIX = "si-"
BATCH = 32

Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class IndexError_(RuntimeError):
    """The index cannot be opened or built; the message says what to do."""


# --- Chroma ----------------------------------------------------------------------------


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def chroma_dir(settings: Settings) -> Path:
    return settings.data_dir / "chroma"


def connect(settings: Settings):
    """A Chroma client: the user's server when a URL is set, else the embedded store."""
    import chromadb

    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise IndexError_(f"bad Chroma URL {settings.chroma_url!r}: expected http://HOST:PORT")
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
            client.heartbeat()
        except Exception as exc:
            raise IndexError_(
                f"cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}); "
                "start it (chroma run --path DIR --port N) or unset SALES_ITERABLE_CHROMA_URL"
            ) from None
        return client
    path = chroma_dir(settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def _quarantine(settings: Settings, progress: Progress, why: str) -> None:
    """Move an unreadable local store aside (never delete what a user might want)."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    path = chroma_dir(settings)
    if path.exists():
        aside = path.with_name(f"chroma.broken-{int(time.time())}")
        shutil.move(str(path), str(aside))
        progress(f"index store at {path} was unreadable ({why}); moved it to {aside} and rebuilding")


# --- manifest, build, open -------------------------------------------------------------


def expected_manifest(settings: Settings) -> dict[str, str]:
    return {
        "corpus_hash": corpus_hash(settings.corpus_dir),
        "embedder": embedder_id(settings.embedder),
        "chunker_version": CHUNKER_VERSION,
    }


def _names(client) -> set[str]:
    return {col if isinstance(col, str) else col.name for col in client.list_collections()}


def read_manifest(client) -> dict[str, Any] | None:
    # Listing first: a missing pointer is "no index yet", while any error raised here
    # means the store itself is broken and propagates.
    if POINTER not in _names(client):
        return None
    pointer = client.get_collection(POINTER)
    meta = dict(pointer.metadata or {})
    return meta if "collection" in meta else None


def _is_current(manifest: dict[str, Any] | None, expected: dict[str, str]) -> bool:
    return bool(manifest) and all(manifest.get(k) == v for k, v in expected.items())


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "section": chunk.section,
        "section_path": "/".join(chunk.section_path),
        "heading": chunk.heading,
        "lang": chunk.lang,
        "ordinal": chunk.ordinal,
        "pair_id": chunk.pair_id,
        "context": chunk.context,
        "tokens": chunk.tokens,
        "label": chunk.label,
    }


def _lock(settings: Settings, progress: Progress):
    from filelock import FileLock, Timeout

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.data_dir / "index.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        progress("another index build is running; waiting for it to finish")
        try:
            lock.acquire(timeout=600)
        except Timeout:
            raise IndexError_(f"the index lock {lock.lock_file} is held by another process for over 10 minutes") from None
    return lock


def _open_store(settings: Settings, progress: Progress):
    """(client, manifest or None); a local store that cannot be read is moved aside."""
    try:
        client = connect(settings)
        return client, read_manifest(client)
    except IndexError_:
        raise
    except Exception as exc:
        if settings.chroma_url:
            raise IndexError_(f"the Chroma server at {settings.chroma_url} failed: {exc}") from None
        _quarantine(settings, progress, type(exc).__name__)
        return connect(settings), None


def build(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress = stderr_progress,
    force: bool = True,
    client=None,
) -> dict[str, Any]:
    """Build a complete new collection, then switch the pointer to it. With force=False
    an index that became current while we waited for the lock is kept."""
    lock = _lock(settings, progress)
    try:
        if client is None:
            client, current = _open_store(settings, progress)
        else:
            current = read_manifest(client)
        expected = expected_manifest(settings)
        if not force and _is_current(current, expected) and _collection_complete(client, current):
            return current
        started = time.perf_counter()
        chunks = load_chunks(settings.corpus_dir)
        embedder = embedder or embedder_for(settings)
        if embedder.id != expected["embedder"]:
            raise IndexError_(f"embedder {embedder.id} does not match the configured {expected['embedder']}")
        name = f"{COLLECTION_PREFIX}{expected['corpus_hash'][:8]}-{time.time_ns()}"
        collection = client.create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
        progress(f"building index: {len(chunks)} chunks with {embedder.id}")
        all_vectors = []
        for start in range(0, len(chunks), BATCH):
            batch = chunks[start : start + BATCH]
            vectors = embedder.embed_passages([c.context for c in batch])
            all_vectors.append(vectors)
            collection.add(
                ids=[c.id for c in batch],
                embeddings=vectors.tolist(),
                documents=[c.text for c in batch],
                metadatas=[_chunk_metadata(c) for c in batch],
            )
            progress(f"  embedded {min(start + BATCH, len(chunks))}/{len(chunks)}")
        manifest = {**expected, "collection": name, "chunks": len(chunks), "built_at": int(time.time())}
        pointer = client.get_or_create_collection(POINTER, embedding_function=None)
        pointer.modify(metadata=manifest)  # the switch: one call, after the build is whole
        _drop_old(client, keep={name, (current or {}).get("collection")})
        if not settings.chroma_url:
            stored = {c.id: {**_chunk_metadata(c), "text": c.text} for c in chunks}
            _write_snapshot(settings, manifest, stored, np.concatenate(all_vectors), [c.id for c in chunks])
        progress(f"index ready in {time.perf_counter() - started:.1f}s")
        return manifest
    finally:
        lock.release()


def _drop_old(client, keep: set[str | None]) -> None:
    """Delete collections from older builds, keeping the new one and the one it replaced
    (a process that opened the previous index a moment ago can finish its query)."""
    for name in _names(client):
        if name.startswith(COLLECTION_PREFIX) and name not in keep:
            try:
                client.delete_collection(name)
            except Exception:
                pass  # another process may have deleted it already


def _collection_complete(client, manifest: dict[str, Any] | None) -> bool:
    if not manifest:
        return False
    try:
        return client.get_collection(manifest["collection"]).count() == manifest.get("chunks")
    except Exception:
        return False


@dataclass
class Index:
    manifest: dict[str, Any]
    chunks: dict[str, dict[str, Any]]  # chunk id -> {"text", metadata...}
    lexical: BM25  # keyed by unit ("studio.3"): both languages of a pair in one document
    collection: Any = None  # dense search through Chroma (server mode, first open)...
    vectors: np.ndarray | None = None  # ...or through the local snapshot
    ids: list[str] | None = None

    @cached_property
    def lexical_by_lang(self) -> dict[str, BM25]:
        """One BM25 per language, without pairing: built only when a benchmark measures
        what pairing adds, never on the search path."""
        docs: dict[str, dict[str, list[str]]] = defaultdict(dict)
        for cid, chunk in self.chunks.items():
            docs[chunk["lang"]][unit_of(cid)] = chunk_tokens(chunk)
        return {lang: BM25(d) for lang, d in docs.items()}

    def dense(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) for the n nearest chunks."""
        n = min(n, len(self.chunks))
        if self.vectors is not None and self.ids is not None:
            sims = self.vectors @ vector.astype(np.float32)
            top = np.argpartition(-sims, n - 1)[:n]
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(self.ids[i], float(sims[i])) for i in top]
        result = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0])]


def unit_of(chunk_id: str) -> str:
    return chunk_id.rsplit(".", 1)[0]


def _make_index(manifest: dict[str, Any], chunks: dict[str, dict[str, Any]], **dense: Any) -> Index:
    docs: dict[str, list[str]] = defaultdict(list)
    for cid, chunk in chunks.items():
        docs[unit_of(cid)].extend(chunk_tokens(chunk))
    return Index(manifest=manifest, chunks=chunks, lexical=BM25(dict(docs)), **dense)


# --- the local snapshot ----------------------------------------------------------------
# Importing chromadb costs about two seconds on a small machine, more than the whole
# budget of a cold `search`. So with the embedded store, every successful open also
# writes what it read (chunks and vectors, a few hundred KB) to one .npz file, and later
# processes whose expected manifest matches it answer from that file without importing
# chromadb. The manifest pins corpus, embedder and chunker, so a matching snapshot holds
# exactly what the collection holds (tests/test_index.py checks both rank alike). A
# Chroma server, when configured, is always queried directly.


def snapshot_path(settings: Settings) -> Path:
    return settings.data_dir / "snapshot.npz"


def _write_snapshot(
    settings: Settings, manifest: dict[str, Any], chunks: dict[str, dict[str, Any]], vectors: np.ndarray, ids: list[str]
) -> None:
    meta = json.dumps({"manifest": manifest, "ids": ids, "chunks": chunks}, ensure_ascii=False)
    path = snapshot_path(settings)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, vectors=vectors.astype(np.float32), meta=np.frombuffer(meta.encode("utf-8"), dtype=np.uint8))
    os.replace(tmp, path)  # readers see the old file or the new one, never half of one


def _read_snapshot(settings: Settings, expected: dict[str, str]) -> Index | None:
    path = snapshot_path(settings)
    if settings.chroma_url or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            vectors = data["vectors"]
        if not _is_current(meta["manifest"], expected) or len(meta["ids"]) != len(vectors):
            return None
        return _make_index(meta["manifest"], meta["chunks"], vectors=vectors, ids=meta["ids"])
    except Exception:
        return None  # unreadable: the Chroma path rebuilds it


def _load(settings: Settings, collection, manifest: dict[str, Any]) -> Index:
    data = collection.get(include=["documents", "metadatas", "embeddings"])
    chunks = {cid: {**meta, "text": doc} for cid, doc, meta in zip(data["ids"], data["documents"], data["metadatas"])}
    index = _make_index(manifest, chunks, collection=collection)
    if not settings.chroma_url:
        _write_snapshot(settings, manifest, chunks, np.asarray(data["embeddings"], dtype=np.float32), list(data["ids"]))
    return index


def open_index(
    settings: Settings,
    progress: Progress = stderr_progress,
    embedder: Embedder | None = None,
    auto_build: bool = True,
    use_snapshot: bool = True,
) -> Index:
    """Open the current index; build it first when it is missing, stale or broken."""
    expected = expected_manifest(settings)
    if use_snapshot:
        cached = _read_snapshot(settings, expected)
        if cached is not None:
            return cached
    client, manifest = _open_store(settings, progress)
    if not (_is_current(manifest, expected) and _collection_complete(client, manifest)):
        if not auto_build:
            raise IndexError_("the index is missing or stale: run `sales-iterable index`")
        reason = "missing" if not manifest else "stale" if not _is_current(manifest, expected) else "incomplete"
        progress(f"index {reason}: building it now (once)")
        manifest = build(settings, embedder=embedder, progress=progress, force=False, client=client)
    return _load(settings, client.get_collection(manifest["collection"]), manifest)


def status(settings: Settings) -> dict[str, Any]:
    """What `sales-iterable index --check` reports."""
    expected = expected_manifest(settings)
    client = connect(settings)
    manifest = read_manifest(client)
    return {
        "location": settings.chroma_url or str(chroma_dir(settings)),
        "current": _is_current(manifest, expected) and _collection_complete(client, manifest),
        "manifest": manifest,
        "expected": expected,
    }
