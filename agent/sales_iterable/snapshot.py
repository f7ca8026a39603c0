"""The local snapshot of the embedded index: its chunks and vectors in one .npz file.

Importing chromadb costs about two seconds on a small machine, more than the whole budget
of a cold `search`. So with the embedded store, every build and every open through Chroma
also writes what it read (chunks and vectors, a few hundred KB) to this file, and later
processes whose expected manifest matches it answer from it without importing chromadb.
The manifest pins corpus, embedder and chunker, so a matching snapshot holds exactly what
the collection holds (tests/test_index.py checks both rank alike).

A snapshot is only a cache. One that fails any check (not a regular file, keys, shapes,
vector dimension, counts against its manifest, ids against vectors and chunks, chunk
fields) is never used: the caller reads the store and writes a new one. Failing to write
one never fails a command. This module must not import chromadb.
"""

from __future__ import annotations

import io
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunks import Chunk
from .files import atomic_write, make_way

# Temporary files older than this are leftovers of a process killed while writing.
_STALE_TMP_SECONDS = 600


@dataclass
class Snapshot:
    manifest: dict[str, Any]
    chunks: dict[str, Chunk]
    vectors: np.ndarray
    ids: list[str]


class Unusable(Exception):
    """The snapshot cannot be used; `damaged` is False when it is simply absent or stale."""

    def __init__(self, reason: str, damaged: bool = True) -> None:
        super().__init__(reason)
        self.damaged = damaged


def typed_chunks(records: Any) -> dict[str, Chunk] | str:
    """The chunks stored records hold ({id: record}), or why they are not whole chunks."""
    if not isinstance(records, dict):
        return "chunks missing"
    chunks = {}
    for cid, record in records.items():
        try:
            chunks[cid] = Chunk.from_record(cid, record)
        except ValueError as exc:
            return f"chunk {cid} is {exc}"
    return chunks


def problems(manifest: Any, chunks: dict[str, Chunk], ids: Any, vectors: np.ndarray | None, dim: int | None) -> str | None:
    """Why these index contents cannot be searched, or None when they can. Used for the
    snapshot and for what a Chroma collection returns alike; `vectors` is None when the
    vectors stay on a Chroma server, `dim` None when the embedder's dimension is unknown
    without loading it."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("collection"), str):
        return "no manifest"
    if not isinstance(ids, list):
        return "chunk ids missing"
    if not ids:
        return "no chunks"
    if manifest.get("chunks") != len(ids):
        return f"{len(ids)} chunks where the manifest says {manifest.get('chunks')}"
    if len(set(ids)) != len(ids) or set(ids) != set(chunks):
        return "chunk ids and chunks disagree"
    if vectors is None:
        return None
    if vectors.ndim != 2 or vectors.shape[0] != len(ids):
        return f"{vectors.shape[0] if vectors.ndim else 0} vectors for {len(ids)} chunks"
    if dim is not None and vectors.shape[1] != dim:
        return f"vectors of dimension {vectors.shape[1]} where the embedder gives {dim}"
    if not np.isfinite(vectors).all():
        return "vectors hold NaN or infinity"
    return None


def read(path: Path, expected: dict[str, str], dim: int | None) -> Snapshot:
    """The snapshot at `path` if it is whole and matches `expected`; raises Unusable."""
    try:
        fd = os.open(path, os.O_RDONLY)  # reading may follow a link; writing never does (see write)
    except FileNotFoundError:
        raise Unusable("missing", damaged=False) from None
    except OSError as exc:
        raise Unusable(f"cannot open it: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise Unusable("not a regular file")
        with os.fdopen(fd, "rb") as handle:
            with np.load(handle, allow_pickle=False) as data:
                if not {"meta", "vectors"} <= set(data.files):
                    raise Unusable(f"keys {sorted(data.files)} instead of meta and vectors")
                meta = json.loads(data["meta"].tobytes().decode("utf-8"))
                vectors = data["vectors"]
    except Unusable:
        raise
    except Exception as exc:  # numpy, zipfile and json raise many types for a damaged file
        raise Unusable(f"unreadable: {type(exc).__name__}") from None
    if not isinstance(meta, dict):
        raise Unusable("no metadata")
    manifest = meta.get("manifest")
    if isinstance(manifest, dict) and any(manifest.get(k) != v for k, v in expected.items()):
        raise Unusable("stale", damaged=False)
    chunks = typed_chunks(meta.get("chunks"))
    if isinstance(chunks, str):
        raise Unusable(chunks)
    problem = problems(manifest, chunks, meta.get("ids"), vectors, dim)
    if problem:
        raise Unusable(problem)
    return Snapshot(manifest=manifest, chunks=chunks, vectors=vectors.astype(np.float32, copy=False), ids=meta["ids"])


def write(path: Path, snapshot: Snapshot) -> str | None:
    """Write `snapshot` atomically (never through a link, over a directory or to a
    predictable temporary name); returns why it could not be written, or None."""
    records = {cid: chunk.record() for cid, chunk in snapshot.chunks.items()}
    meta = json.dumps({"manifest": snapshot.manifest, "ids": snapshot.ids, "chunks": records}, ensure_ascii=False)
    buffer = io.BytesIO()
    np.savez(buffer, vectors=np.asarray(snapshot.vectors, dtype=np.float32),
             meta=np.frombuffer(meta.encode("utf-8"), dtype=np.uint8))
    try:
        _sweep(path)
        make_way(path)
        atomic_write(path, buffer.getvalue())
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def state(path: Path, expected: dict[str, str], dim: int | None) -> str:
    """One word or phrase for `index --check`: current, missing, stale, or unusable (why)."""
    try:
        read(path, expected, dim)
    except Unusable as why:
        return str(why) if not why.damaged else f"unusable ({why})"
    return "current"


def _sweep(path: Path) -> None:
    """Remove temporary snapshot files left by processes killed while writing one: ours
    (`.snapshot.npz.<random>.tmp`) and earlier versions' (`snapshot.<pid>.tmp.npz`)."""
    cutoff = time.time() - _STALE_TMP_SECONDS
    for pattern in (f".{path.name}.*.tmp", f"{path.stem}.*.tmp{path.suffix}"):
        for leftover in path.parent.glob(pattern):
            try:
                if leftover.is_file() and not leftover.is_symlink() and leftover.lstat().st_mtime < cutoff:
                    leftover.unlink()
            except OSError:
                pass
