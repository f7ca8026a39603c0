"""The Chroma store as a place on disk or on a server: connecting (with bounded waits),
telling a broken store from a failed write, moving a broken store aside, pruning what
old builds leave behind, checking integrity, and reading a store that cannot be opened
where it is. What the store holds (manifest, builds) is sales_iterable/index.py's business.

Chroma reports a damaged store in many ways: SQLite errors ("database disk image is
malformed"), "Error in compaction", and pyo3 `PanicException`s, which derive from
BaseException. Every Chroma call made through `faults()` turns any of them into one
StoreFault. A fault caused by a failed *write* (disk full, read-only, no permission) says
so: such a store is healthy and must never be moved aside.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from .config import Settings

T = TypeVar("T")
Progress = Callable[[str], None]

_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO}
# How SQLite (codes 8 READONLY, 10 IOERR, 13 FULL) and Rust (os error N) word the same.
_WRITE_WORDS = re.compile(
    r"disk is full|no space left|quota exceeded|read-?only (file ?system|database)|permission denied"
    r"|file too large|disk i/o error|\(code: (8|10|13)\)|os error (5|13|27|28|30|122)\b",
    re.IGNORECASE,
)
_SEGMENT_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Headroom beyond the current store's size that a fresh build needs before a broken store
# is moved aside; with less, moving it would only trade one failure for another.
_SPARE_BYTES = 4 * 1024 * 1024


class IndexError_(RuntimeError):
    """The index cannot be opened or built; the message says what to do."""


class Damaged(Exception):
    """SQLite's integrity check failed on a store Chroma still reads."""


class StoreFault(Exception):
    """A Chroma call failed. `write_failure`: the store could not be written (it is not
    broken); `gone`: the collection asked for does not exist (any more)."""

    def __init__(self, cause: BaseException) -> None:
        first_line = (str(cause).strip().splitlines() or [""])[0]
        self.reason = f"{type(cause).__name__}: {first_line[:200]}" if first_line else type(cause).__name__
        super().__init__(self.reason)
        self.cause = cause
        self.write_failure = _is_write_failure(cause)
        self.gone = type(cause).__name__ == "NotFoundError"


def _is_write_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _WRITE_ERRNOS:
            return True
        if _WRITE_WORDS.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def faults() -> Iterator[None]:
    """Run Chroma calls; anything they raise, panics included, comes out as StoreFault.
    Interrupts, exits and our own messages pass through untouched."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit, StoreFault, IndexError_):
        raise
    except BaseException as exc:  # pyo3's PanicException is a BaseException
        raise StoreFault(exc) from exc


def chroma_dir(settings: Settings) -> Path:
    return settings.data_dir / "chroma"


def where(settings: Settings) -> str:
    return settings.chroma_url or str(chroma_dir(settings))


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def connect(settings: Settings, path: Path | None = None):
    """A Chroma client: the user's server when a URL is set, else the embedded store (at
    `path` when given). Embedded faults raise StoreFault; server faults IndexError_."""
    import chromadb

    if settings.chroma_url:
        return _connect_server(settings)
    path = path or chroma_dir(settings)
    with faults():
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def _connect_server(settings: Settings):
    import chromadb
    import httpx

    url, seconds = settings.chroma_url, settings.chroma_timeout
    timeout = httpx.Timeout(seconds, connect=min(5.0, seconds))
    advice = "start it (chroma run --path DIR --port N) or unset SALES_ITERABLE_CHROMA_URL"
    try:
        # chromadb's own session has no timeout and sends requests while it is being
        # built, so first make sure something answers HTTP there within the time allowed.
        httpx.get(f"{url}/api/v2/heartbeat", timeout=timeout)
    except httpx.TimeoutException as exc:
        raise IndexError_(f"the Chroma server at {url} did not answer within {seconds:g} s "
                          f"({type(exc).__name__}); {advice}") from None
    except httpx.HTTPError as exc:
        raise IndexError_(f"cannot reach the Chroma server at {url} ({type(exc).__name__}); {advice}") from None
    host, _, port = url.split("://", 1)[1].rpartition(":")
    try:
        with faults():
            client = chromadb.HttpClient(host=host.strip("[]"), port=int(port), ssl=url.startswith("https:"),
                                         settings=_chroma_settings())
            session = getattr(getattr(client, "_server", None), "_session", None)
            if session is not None:  # bound every later request too
                session.timeout = timeout
            client.heartbeat()
    except StoreFault as fault:
        raise IndexError_(f"the Chroma server at {url} failed ({fault.reason}); {advice}") from None
    return client


def forget_clients() -> None:
    """Drop Chroma's cached clients so the next connect opens the files afresh."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


# --- a broken local store --------------------------------------------------------------


def cannot_write(settings: Settings) -> str | None:
    """Why a fresh store could not be built in the data directory now, or None."""
    data_dir, store = settings.data_dir, chroma_dir(settings)
    for place in (data_dir, store):
        if place.exists() and not os.access(place, os.W_OK):
            return f"{place} is not writable"
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError as exc:
        return f"cannot see free space in {data_dir} ({exc.strerror})"
    needed = size_of(store) + _SPARE_BYTES
    if free < needed:
        return f"only {free // 1024} KB free in {data_dir}, a fresh index needs about {needed // 1024} KB"
    return None


def size_of(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def quarantine(settings: Settings, progress: Progress, why: str) -> Path | None:
    """Move the local store aside (never delete what a user might want) so a fresh one
    can be built; returns where it went."""
    forget_clients()
    path = chroma_dir(settings)
    if not os.path.lexists(path):
        return None
    aside = path.with_name(f"chroma.broken-{time.time_ns()}")
    os.rename(path, aside)  # a plain rename: never into a directory planted at the new name
    progress(f"index store at {path} was unreadable ({why}); moved it to {aside} and rebuilding")
    return aside


# --- what builds leave behind ----------------------------------------------------------


def prune(client, settings: Settings, prefix: str, keep: set[str]) -> list[str]:
    """Delete collections named `prefix…` other than `keep`, then (embedded store) the
    HNSW segment folders no collection owns any more: Chroma 1.5 leaves a deleted
    collection's folder on disk. Best effort; returns the folders removed."""
    for name in _collection_names(client):
        if name.startswith(prefix) and name not in keep:
            try:
                with faults():
                    client.delete_collection(name)
            except StoreFault:
                pass  # another process may have deleted it already; the next build retries
    if settings.chroma_url:
        return []
    import sqlite3

    store = chroma_dir(settings)
    try:
        with sqlite3.connect(f"file:{store / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
            owned = {row[0] for row in db.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return []  # cannot tell which folders are in use: leave them all
    removed = []
    for folder in store.iterdir():
        if _SEGMENT_DIR.match(folder.name) and folder.name not in owned and not folder.is_symlink() and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def _collection_names(client) -> set[str]:
    with faults():
        return {col if isinstance(col, str) else col.name for col in client.list_collections()}


def integrity(settings: Settings) -> str | None:
    """SQLite's own quick check of the local store's database (a few ms): None when it is
    sound or not there yet. Damage in pages Chroma has not read yet shows up here first."""
    import sqlite3

    db_file = chroma_dir(settings) / "chroma.sqlite3"
    if not db_file.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as db:
            rows = [row[0] for row in db.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if rows == ["ok"] else " ".join("; ".join(str(row) for row in rows[:3]).split())


def read_copy(settings: Settings, read: Callable[[object], T]) -> T:
    """Run `read(client)` on a temporary copy of the local store: Chroma cannot open a
    store it cannot write to (a read-only data directory, a full disk), but a copy
    elsewhere it can. The copy is removed afterwards. Raises StoreFault or OSError."""
    scratch = Path(tempfile.mkdtemp(prefix="sales-iterable-store-"))
    try:
        copy = scratch / "chroma"
        shutil.copytree(chroma_dir(settings), copy, symlinks=True)
        return read(connect(settings, path=copy))
    finally:
        forget_clients()
        shutil.rmtree(scratch, ignore_errors=True)
