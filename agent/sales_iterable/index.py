"""Build, open, heal and check the retrieval index: a Chroma collection of chunk embeddings
(both languages), searched as a `searchable.Index`; the manifest and contents checks are
manifest.py's, the store as a place store.py's, the snapshot snapshot.py's.

Atomic builds: every build writes a *new* collection, and only when it is complete does
one small "pointer" collection's metadata switch to it (a single Chroma call). An
interrupted or failed build leaves the pointer, and so the previous index, untouched.
Builds are serialized by a file lock. The manifest (corpus hash, embedder id, chunker
version) lives in the pointer's metadata; a mismatch means stale.

Healing: a missing, stale or incomplete index, or one whose contents fail validation, is
rebuilt; a local store Chroma cannot read at all is moved aside (once, under the lock)
and rebuilt fresh. A store that merely cannot be *written* (disk full, read-only) is
healthy: it is never moved aside, and is read through a temporary copy when it cannot
be opened in place. After a successful build, older collections and the segment folders
Chroma leaves behind are removed. The embedded store's contents are also kept in a local
snapshot (sales_iterable/snapshot.py) that later processes search without importing chromadb.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from . import snapshot, store
from .chunker import load_chunks
from .config import Settings
from .embed import Embedder, embedder_for, known_dim
from .files import make_way
from .manifest import POINTER, Contents, expected_manifest, inspect, read_manifest
from .searchable import Index, make_index
from .store import IndexError_, StoreFault, chroma_dir, connect  # noqa: F401  re-exported for the CLI and tests

COLLECTION_PREFIX = "si-"
BATCH = 32
Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def snapshot_path(settings: Settings) -> Path:
    return settings.data_dir / "snapshot.npz"


@contextmanager
def _locked(settings: Settings, progress: Progress) -> Iterator[None]:
    from filelock import FileLock, Timeout

    path = settings.data_dir / "index.lock"
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        make_way(path)  # a link planted at the lock's name is removed, never opened
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            progress("another index build is running; waiting for it to finish")
            try:
                lock.acquire(timeout=600)
            except Timeout:
                raise IndexError_(f"the index lock {path} is held by another process for over 10 minutes") from None
    except OSError as exc:
        raise IndexError_(f"cannot take the index lock {path} ({exc.strerror or exc}); "
                          f"is {settings.data_dir} writable?") from None
    try:
        yield
    finally:
        lock.release()


def open_index(
    settings: Settings,
    progress: Progress = stderr_progress,
    embedder: Embedder | None = None,
    auto_build: bool = True,
    use_snapshot: bool = True,
) -> Index:
    """Open the current index; build it first when it is missing, stale or broken."""
    expected = expected_manifest(settings)
    dim = embedder.dim if embedder is not None else known_dim(settings.embedder)
    if use_snapshot and not settings.chroma_url:
        path = snapshot_path(settings)
        try:
            snap = snapshot.read(path, expected, dim)
            return make_index(snap.manifest, snap.chunks, vectors=snap.vectors, ids=snap.ids)
        except snapshot.Unusable as why:
            if why.damaged:
                progress(f"the index snapshot {path} is unusable ({why}); reading the index store instead")
    try:
        state, contents = inspect(connect(settings), expected, dim, vectors=not settings.chroma_url)
        if contents is not None and not settings.chroma_url and (damage := store.integrity(settings)):
            state, contents = f"damaged ({damage})", None
    except StoreFault as fault:
        if settings.chroma_url:
            raise _server_failed(settings, fault) from None
        if fault.write_failure or store.cannot_write(settings):
            return _open_copy(settings, progress, embedder, expected, dim, fault)
        state, contents = f"unreadable ({fault.reason})", None
    if contents is not None:
        return _finish(settings, progress, embedder, contents)
    if not auto_build:
        raise IndexError_(f"the index is {state}: run `sales-iterable index`")
    progress(f"index {state}: building it now (once)")
    with _locked(settings, progress):
        return _heal(settings, progress, embedder, expected, dim, force=False)


def build(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Progress = stderr_progress,
    force: bool = True,
) -> dict[str, Any]:
    """Build a complete new collection, then switch the pointer to it. With force=False
    an index that became current while we waited for the lock is kept."""
    expected = expected_manifest(settings)
    dim = embedder.dim if embedder is not None else known_dim(settings.embedder)
    with _locked(settings, progress):
        return _heal(settings, progress, embedder, expected, dim, force=force).manifest


def _heal(settings: Settings, progress: Progress, embedder: Embedder | None, expected: dict[str, str],
          dim: int | None, force: bool) -> Index:
    """With the build lock held: open the store, build unless (force=False) it already
    holds the current index, and move a store Chroma cannot read aside once."""
    for attempt in (1, 2):
        try:
            if not settings.chroma_url:
                # Reconnect: while this process waited for the lock, another may have moved
                # the store it had open aside and built a fresh one.
                store.forget_clients()
            client = connect(settings)
            if not settings.chroma_url and (damage := store.integrity(settings)):
                raise StoreFault(store.Damaged(f"SQLite integrity check: {damage}"))
            if not force:
                _, contents = inspect(client, expected, dim, vectors=not settings.chroma_url)
                if contents is not None:
                    return _finish(settings, progress, embedder, contents)
            return _finish(settings, progress, embedder, _build_into(client, settings, progress, embedder, expected))
        except StoreFault as fault:
            if settings.chroma_url:
                raise _server_failed(settings, fault) from None
            if fault.write_failure:
                raise IndexError_(
                    f"could not write the index at {chroma_dir(settings)} ({fault.reason}); nothing was moved "
                    "and the previous index, if any, is still in use: free some space or make the data "
                    "directory writable, then run `sales-iterable index --rebuild`") from None
            why_not = store.cannot_write(settings)
            if why_not or attempt == 2:
                raise IndexError_(
                    f"the index store at {chroma_dir(settings)} cannot be read ({fault.reason})"
                    + (f" and cannot be rebuilt here: {why_not}; it was left as it is" if why_not else
                       " even after moving the broken one aside")) from None
            try:
                store.quarantine(settings, progress, fault.reason)
            except OSError as exc:
                raise IndexError_(f"the index store at {chroma_dir(settings)} cannot be read ({fault.reason}) "
                                  f"and could not be moved aside ({exc.strerror or exc})") from None
    raise AssertionError("unreachable")


def _build_into(client, settings: Settings, progress: Progress, embedder: Embedder | None,
                expected: dict[str, str]) -> Contents:
    started = time.perf_counter()
    previous = read_manifest(client)
    chunks = load_chunks(settings.corpus_dir)
    embedder = embedder or embedder_for(settings)
    if embedder.id != expected["embedder"]:
        raise IndexError_(f"embedder {embedder.id} does not match the configured {expected['embedder']}")
    name = f"{COLLECTION_PREFIX}{expected['corpus_hash'][:8]}-{time.time_ns()}"
    with store.faults():
        collection = client.create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
    progress(f"building index: {len(chunks)} chunks with {embedder.id}")
    all_vectors = []
    try:
        for start in range(0, len(chunks), BATCH):
            batch = chunks[start : start + BATCH]
            vectors = embedder.embed_passages([c.context for c in batch])
            all_vectors.append(vectors)
            with store.faults():
                collection.add(
                    ids=[c.id for c in batch],
                    embeddings=vectors.tolist(),
                    documents=[c.text for c in batch],
                    metadatas=[{k: v for k, v in c.record().items() if k != "text"} for c in batch],
                )
            progress(f"  embedded {min(start + BATCH, len(chunks))}/{len(chunks)}")
        manifest = {**expected, "collection": name, "chunks": len(chunks), "built_at": int(time.time())}
        with store.faults():
            pointer = client.get_or_create_collection(POINTER, embedding_function=None)
            pointer.modify(metadata=manifest)  # the switch: one call, after the build is whole
    except StoreFault:
        try:  # a failed write must not leave a half-built collection behind (if it can help it)
            with store.faults():
                client.delete_collection(name)
        except StoreFault:
            pass  # the next successful build prunes it
        raise
    # Keep the collection this build replaced: a process that opened it a moment ago can
    # finish its query (and a long-lived one re-resolves the pointer when it is gone).
    keep = {name} | ({previous["collection"]} if previous else set())
    store.prune(client, settings, COLLECTION_PREFIX, keep)
    progress(f"index ready in {time.perf_counter() - started:.1f}s")
    ids = [c.id for c in chunks]
    return Contents(manifest, {c.id: c for c in chunks}, ids, np.concatenate(all_vectors).astype(np.float32), collection)


def _finish(settings: Settings, progress: Progress, embedder: Embedder | None, contents: Contents) -> Index:
    """The Index for checked contents. Embedded: searched in memory (so it keeps working
    whatever later happens to the collection) and saved as the snapshot. Server: queried
    there, re-resolving the pointer if its collection disappears."""
    if settings.chroma_url:
        index = make_index(contents.manifest, contents.chunks, collection=contents.collection)
        index.reopen = lambda: open_index(settings, progress, embedder, use_snapshot=False)
        return index
    problem = snapshot.write(snapshot_path(settings), snapshot.Snapshot(
        contents.manifest, contents.chunks, contents.vectors, contents.ids))
    if problem:
        progress(f"(could not save the index snapshot in {settings.data_dir}: {problem}; searches start slower)")
    return make_index(contents.manifest, contents.chunks, vectors=contents.vectors, ids=contents.ids)


def _open_copy(settings: Settings, progress: Progress, embedder: Embedder | None, expected: dict[str, str],
               dim: int | None, fault: StoreFault) -> Index:
    """The store cannot be opened where it is because it cannot be written: read a copy."""
    location = chroma_dir(settings)
    if not location.is_dir():
        raise IndexError_(f"there is no index at {location} and none can be built there ({fault.reason}): "
                          f"make {settings.data_dir} writable or free some space, then run `sales-iterable index`")
    try:
        state, contents = store.read_copy(settings, lambda client: inspect(client, expected, dim, vectors=True))
    except (StoreFault, OSError) as exc:
        raise IndexError_(f"cannot open the index at {location} ({fault.reason}) nor read a copy of it "
                          f"({getattr(exc, 'reason', None) or exc}); make {settings.data_dir} writable or free "
                          "some space") from None
    if contents is None:
        raise IndexError_(f"the index at {location} is {state} and cannot be rebuilt there ({fault.reason}): "
                          f"make {settings.data_dir} writable or free some space, then run `sales-iterable index`")
    return _finish(settings, progress, embedder, contents)


def _server_failed(settings: Settings, fault: StoreFault) -> IndexError_:
    return IndexError_(f"the Chroma server at {settings.chroma_url} failed ({fault.reason})")


def status(settings: Settings) -> dict[str, Any]:
    """What `sales-iterable index --check` reports. It reads the store itself, never only
    the snapshot, and changes nothing: `current` means the store holds the expected build,
    whole and valid (and, for the embedded store, that SQLite finds its file sound)."""
    expected = expected_manifest(settings)
    dim = known_dim(settings.embedder)
    local = not settings.chroma_url
    state, manifest = "missing", None
    try:
        if local and not chroma_dir(settings).exists():
            state = f"missing (no store at {chroma_dir(settings)})"
        else:
            client = connect(settings)
            manifest = read_manifest(client)
            state, _ = inspect(client, expected, dim, vectors=local)
    except StoreFault as fault:
        if local and (fault.write_failure or store.cannot_write(settings)):
            try:
                manifest, (state, _) = store.read_copy(settings, lambda client: (
                    read_manifest(client), inspect(client, expected, dim, vectors=True)))
            except (StoreFault, OSError) as again:
                state = f"unreadable ({getattr(again, 'reason', None) or again})"
        else:
            state = f"unreadable ({fault.reason})"
    except IndexError_ as exc:
        state = f"unreachable ({exc})"
    if local and state == "current":
        damage = store.integrity(settings)
        if damage:
            state = f"damaged ({damage})"
    report = {
        "location": store.where(settings),
        "current": state == "current",
        "state": state,
        "manifest": manifest,
        "expected": expected,
    }
    if local:
        report["snapshot"] = snapshot.state(snapshot_path(settings), expected, dim)
    return report
