"""Embeddings of fixed texts (labelled example questions, user phrasings of passages),
computed once per embedder and kept in the data dir beside the index.

The file name carries a digest of the texts and the embedder id, so a change to either
is a different file; old files are removed when a new one is written. An unreadable
file is embedded again; a data dir that cannot be written embeds per process.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Callable

import numpy as np

from .files import atomic_write


def embedded(embedder, texts: list[str], cache_dir: Path | None, name: str,
             progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Unit-length float32 rows for `texts`, from the cache when it holds them."""
    digest = hashlib.sha256("\n".join([embedder.id, *texts]).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / f"{name}-{digest}.npz" if cache_dir else None
    if path is not None and path.is_file() and not path.is_symlink():
        try:
            with np.load(path, allow_pickle=False) as data:
                vectors = data["vectors"]
            if vectors.shape == (len(texts), embedder.dim):
                return vectors
        except Exception:
            pass  # unreadable: embed again and rewrite it
    if progress:
        progress(f"embedding {len(texts)} {name} (once)")
    vectors = np.asarray(embedder.embed_passages(texts), dtype=np.float32).reshape(len(texts), -1)
    if path is not None:
        try:
            buffer = io.BytesIO()
            np.savez(buffer, vectors=vectors)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, buffer.getvalue())
            for old in path.parent.glob(f"{name}-*.npz"):
                if old != path and not old.is_symlink():
                    old.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only data dir: embed per process
    return vectors
