"""The index heals itself (issue 10): a damaged snapshot, a corrupted Chroma store, a full
disk, a read-only data directory, leftovers of old builds, a long-lived process whose
collection was rebuilt away, and links planted where the index writes. Real Chroma,
real files, real commands; the tiny hash embedder keeps builds short."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sales_iterable.embed import HashEmbedder, USEEmbedder
from sales_iterable.index import build, chroma_dir, connect, open_index, snapshot_path, status
from sales_iterable.retrieve import open_retriever
from fs_faults import read_only, small_disk

SEGMENT_NAME = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALES_ITERABLE_")}
    return {**env, "SALES_ITERABLE_DATA_DIR": str(settings.data_dir), "SALES_ITERABLE_EMBEDDER": "hash",
            "SALES_ITERABLE_CORPUS_DIR": str(settings.corpus_dir)}


def _cli(settings, *args: str, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sales_iterable.cli", *args], env=_env(settings), capture_output=True,
                          text=True, timeout=120, preexec_fn=preexec)


def _searches(settings, preexec=None) -> None:
    """Two `search` commands in a row both answer: the first heals, the second is not
    left with anything broken."""
    for _ in range(2):
        done = _cli(settings, "search", "--json", "-k", "3", "Smart Ingest sync", preexec=preexec)
        assert done.returncode == 0, done.stderr
        results = json.loads(done.stdout)["results"]
        assert len(results) == 3 and any(r["section"].startswith("smart-ingest") for r in results), results


def _segment_folders(settings) -> list[str]:
    import re

    return [p.name for p in chroma_dir(settings).iterdir() if re.match(SEGMENT_NAME, p.name)]


@pytest.fixture(scope="module")
def built_store(tmp_path_factory):
    """One built hash index (store and snapshot), copied into each test that damages it."""
    from sales_iterable.config import Settings
    from conftest import CORPUS

    settings = Settings(data_dir=tmp_path_factory.mktemp("pristine") / "data", embedder="hash", corpus_dir=CORPUS)
    manifest = build(settings, progress=lambda m: None)
    _forget_clients()
    return settings, manifest


@pytest.fixture
def damaged(built_store, tmp_path):
    """A private copy of the built index to damage."""
    settings, manifest = built_store
    target = tmp_path / "data"
    shutil.copytree(settings.data_dir, target, symlinks=True)
    return settings.model_copy(update={"data_dir": target}), manifest


# --- 1. snapshot validation --------------------------------------------------------------


def _rewrite(path: Path, *, vectors=None, meta=None, keys=("vectors", "meta")) -> None:
    with np.load(path) as data:
        old_vectors, old_meta = data["vectors"], json.loads(data["meta"].tobytes())
    vectors = old_vectors if vectors is None else vectors(old_vectors)
    meta = old_meta if meta is None else meta(old_meta)
    arrays = {"vectors": vectors, "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    path.unlink()
    with open(path, "wb") as handle:
        np.savez(handle, **{k: arrays[k] for k in keys})


def _drop_chunks(meta, n=10):
    dropped = set(meta["ids"][:n])
    return {**meta, "ids": meta["ids"][n:], "chunks": {k: v for k, v in meta["chunks"].items() if k not in dropped}}


SNAPSHOT_DAMAGE = {
    "a directory in its place": lambda p: (p.unlink(), p.mkdir(), (p / "x").write_text("x")),
    "wrong vector dimension": lambda p: _rewrite(p, vectors=lambda v: np.ascontiguousarray(v[:, :100])),
    "no vectors key": lambda p: _rewrite(p, keys=("meta",)),
    "no meta key": lambda p: _rewrite(p, keys=("vectors",)),
    "no ids in meta": lambda p: _rewrite(p, meta=lambda m: {k: v for k, v in m.items() if k != "ids"}),
    "no chunks": lambda p: _rewrite(p, vectors=lambda v: v[:0], meta=lambda m: {**m, "ids": [], "chunks": {}}),
    "fewer chunks than the manifest": lambda p: _rewrite(p, vectors=lambda v: v[10:], meta=_drop_chunks),
    "ids and vectors disagree": lambda p: _rewrite(p, vectors=lambda v: v[1:]),
    "NaN vectors": lambda p: _rewrite(p, vectors=lambda v: np.full_like(v, np.nan)),
    "a chunk without fields": lambda p: _rewrite(p, meta=lambda m: {**m, "chunks": {**m["chunks"], m["ids"][0]: {}}}),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:5000]),
    "not a zip at all": lambda p: p.write_bytes(b"garbage" * 100),
}


@pytest.mark.fault("index")
@pytest.mark.parametrize("damage", list(SNAPSHOT_DAMAGE))
def test_a_damaged_snapshot_is_discarded_and_rebuilt(damaged, damage, monkeypatch):
    settings, manifest = damaged
    path = snapshot_path(settings)
    SNAPSHOT_DAMAGE[damage](path)
    index = open_index(settings, progress=lambda m: None)
    assert len(index.chunks) == manifest["chunks"] and index.manifest["collection"] == manifest["collection"]
    hits = index.dense(HashEmbedder().embed_query("Smart Ingest"), 5)
    assert len(hits) == 5 and all(np.isfinite(score) for _, score in hits)
    # rewritten whole: the next process answers from it without touching Chroma
    assert path.is_file() and not path.is_symlink()
    import sales_iterable.index as index_module

    monkeypatch.setattr(index_module, "connect", lambda settings: pytest.fail("the snapshot was not rewritten"))
    again = open_index(settings, progress=lambda m: None)
    assert again.vectors is not None and len(again.chunks) == manifest["chunks"]


@pytest.mark.fault("index")
@pytest.mark.parametrize("damage", ["a directory in its place", "wrong vector dimension"])
def test_commands_keep_working_after_snapshot_damage(damaged, damage):
    settings, _ = damaged
    SNAPSHOT_DAMAGE[damage](snapshot_path(settings))
    _searches(settings)


# --- 2. store errors on open ---------------------------------------------------------------


def _corrupt_table(db: Path, table: str) -> int:
    """Overwrite every page SQLite gives to `table` with random bytes (the file's header
    page is left alone: this is damage in the middle of the file)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        pages = sorted(row[0] for row in con.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,)))
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    assert pages and 1 not in pages
    rng = random.Random(7)
    with open(db, "r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(rng.randbytes(page_size))
    return len(pages)


def _forget_clients() -> None:
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def _drop_current_collection(settings, manifest) -> None:
    connect(settings).delete_collection(manifest["collection"])
    _forget_clients()


STORE_DAMAGE = {
    # chromadb 1.5's Rust layer panics (pyo3 PanicException, a BaseException) reading it
    "migrations table corrupted (panic)": lambda s, m: _corrupt_table(chroma_dir(s) / "chroma.sqlite3", "migrations"),
    # "Error in compaction" / "Failed to pull logs from the log store"
    "log corrupted (compaction error)": lambda s, m: _corrupt_table(chroma_dir(s) / "chroma.sqlite3", "embeddings_queue"),
    # "database disk image is malformed" on every read of the chunks
    "metadata corrupted (malformed)": lambda s, m: _corrupt_table(chroma_dir(s) / "chroma.sqlite3", "embedding_metadata"),
    "segment folders deleted": lambda s, m: [shutil.rmtree(chroma_dir(s) / name) for name in _segment_folders(s)],
    "collection dropped behind the pointer": _drop_current_collection,
}


@pytest.mark.fault("index")
@pytest.mark.parametrize("damage", list(STORE_DAMAGE))
def test_a_corrupted_store_is_rebuilt(damaged, damage):
    settings, manifest = damaged
    snapshot_path(settings).unlink()  # otherwise the snapshot answers and the store is never read
    STORE_DAMAGE[damage](settings, manifest)
    _searches(settings)
    _forget_clients()  # the commands above replaced the store under this process's feet
    assert status(settings)["current"] is True


@pytest.mark.fault("index")
@pytest.mark.parametrize("table", ["migrations", "embeddings_queue"])
def test_rebuild_itself_recovers_a_corrupted_store(damaged, table):
    settings, _ = damaged
    _corrupt_table(chroma_dir(settings) / "chroma.sqlite3", table)
    done = _cli(settings, "index", "--rebuild")
    assert done.returncode == 0, done.stderr
    assert "moved it to" in done.stderr and "Traceback" not in done.stderr
    assert list(settings.data_dir.glob("chroma.broken-*"))  # moved aside, not deleted
    assert _cli(settings, "index", "--check").returncode == 0


# --- 3. write failures never move a healthy store aside ----------------------------------


@pytest.mark.fault("index")
def test_full_disk_rebuild_fails_clearly_and_keeps_the_previous_index(tmp_path, corpus_copy):
    from sales_iterable.config import Settings

    with small_disk(tmp_path / "disk") as disk:
        settings = Settings(data_dir=disk.root / "data", embedder="hash", corpus_dir=corpus_copy)
        first = _cli(settings, "index", "--rebuild")
        assert first.returncode == 0, first.stderr
        before = json.loads(_cli(settings, "index", "--check").stdout)["manifest"]["collection"]
        disk.fill()
        failed = _cli(settings, "index", "--rebuild", preexec=disk.preexec)
        assert failed.returncode == 1, (disk.mode, failed.stderr)
        last = failed.stderr.strip().splitlines()[-1]
        assert "could not write the index" in last and "Traceback" not in failed.stderr, failed.stderr
        assert not list(settings.data_dir.glob("chroma.broken-*"))  # the healthy store stayed
        _searches(settings, preexec=disk.preexec)  # and stays in use
        disk.free()
        check = _cli(settings, "index", "--check")
        assert check.returncode == 0, check.stdout
        assert json.loads(check.stdout)["manifest"]["collection"] == before
        assert _cli(settings, "index", "--rebuild").returncode == 0
        assert len(_segment_folders(settings)) <= 2  # the failed build's leftovers are pruned


@pytest.mark.fault("index")
def test_read_only_data_dir_answers_from_a_healthy_store(damaged):
    settings, manifest = damaged
    snapshot_path(settings).unlink()
    with read_only(settings.data_dir) as how:
        _searches(settings)
        rebuilt = _cli(settings, "index", "--rebuild")
        assert rebuilt.returncode == 1 and len(rebuilt.stderr.strip().splitlines()) == 1, (how, rebuilt.stderr)
        assert "Traceback" not in rebuilt.stderr
        check = _cli(settings, "index", "--check")
        assert check.returncode == 0 and json.loads(check.stdout)["state"] == "current", check.stdout
    assert not list(settings.data_dir.glob("chroma.broken-*")), how  # never attempted a move
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["chroma", "index.lock"]


@pytest.mark.fault("index")
def test_read_only_data_dir_with_a_stale_index_says_so(damaged, tmp_path):
    settings, _ = damaged
    snapshot_path(settings).unlink()
    stale = settings.model_copy(update={"corpus_dir": tmp_path / "corpus-changed"})
    shutil.copytree(settings.corpus_dir, stale.corpus_dir)
    en = stale.corpus_dir / "en.md"
    en.write_text(en.read_text(encoding="utf-8").replace("Drag-and-drop editor", "Drag and drop editor"),
                  encoding="utf-8")
    with read_only(settings.data_dir):
        done = _cli(stale, "search", "Smart Ingest")
    assert done.returncode == 1 and "stale" in done.stderr and "writable" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


# --- 4. nothing left behind ------------------------------------------------------------------


@pytest.mark.fault("files")
def test_rebuilds_leave_no_orphaned_collections_or_segment_folders(hash_settings):
    for _ in range(6):
        manifest = build(hash_settings, progress=lambda m: None)
    names = {c.name for c in connect(hash_settings).list_collections()}
    assert len(names) == 3 and manifest["collection"] in names  # pointer, current, previous
    assert len(_segment_folders(hash_settings)) <= 2  # one per kept build (the pointer has none)


@pytest.mark.fault("files")
def test_use_unpacking_leaves_no_temporary_folder_even_on_a_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", size_mb=2) as disk:
        if disk.mode != "tmpfs":
            pytest.skip("needs a real small file system to run out of space")
        cache = disk.root / "models"
        cache.mkdir()
        embedder = USEEmbedder(cache_dir=cache)
        (cache / f"{embedder._cache.name}.999999999.tmp").mkdir()  # a killed process's (no such pid)
        vector = embedder.embed_query("welcome journey")  # unpacks: fails for want of space
        assert vector.shape == (512,) and np.isfinite(vector).all()
        assert not list(cache.glob("*.tmp")), list(cache.iterdir())


@pytest.mark.fault("files")
def test_use_cache_never_writes_through_a_planted_link(tmp_path):
    cache = tmp_path / "models"
    cache.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    embedder = USEEmbedder(cache_dir=cache)
    (cache / embedder._cache.name).symlink_to(elsewhere, target_is_directory=True)
    embedder.embed_query("welcome journey")
    assert not list(elsewhere.iterdir())  # nothing written where the link pointed
    assert embedder._cache.is_dir() and not embedder._cache.is_symlink()
    assert (embedder._cache / "complete").is_file() and not list(cache.glob("*.tmp"))


# --- 5. a long-lived process survives rebuilds elsewhere -----------------------------------


@pytest.mark.fault("index")
def test_a_long_lived_retriever_keeps_working_after_rebuilds_in_another_process(damaged):
    settings, _ = damaged
    snapshot_path(settings).unlink()  # opened on the Chroma path, as a chat started after a build would be
    retriever = open_retriever(settings, progress=lambda m: None, embedder=HashEmbedder())
    for _ in range(2):  # after two rebuilds the collection it opened is deleted
        assert _cli(settings, "index", "--rebuild").returncode == 0
    hits = retriever.search("Smart Ingest sync", k=3)
    assert len(hits) == 3 and any(hit.section.startswith("smart-ingest") for hit in hits)


# --- 7. --check reads the store, not the snapshot ----------------------------------------------


@pytest.mark.fault("index")
def test_check_is_not_fooled_by_the_snapshot_over_an_empty_store(damaged):
    settings, _ = damaged
    shutil.rmtree(chroma_dir(settings))
    check = _cli(settings, "index", "--check")
    assert check.returncode == 1, check.stdout
    report = json.loads(check.stdout)
    assert report["current"] is False and report["snapshot"] == "current"
    fixed = _cli(settings, "index")  # the explicit command makes the store whole again
    assert fixed.returncode == 0, fixed.stderr
    assert _cli(settings, "index", "--check").returncode == 0


@pytest.mark.fault("index")
def test_check_reports_damage_that_reads_do_not_hit(damaged):
    settings, _ = damaged
    _corrupt_table(chroma_dir(settings) / "chroma.sqlite3", "embedding_fulltext_search_data")
    report = status(settings)
    assert report["current"] is False and report["state"].startswith("damaged"), report
    healed = _cli(settings, "index")
    assert healed.returncode == 0 and "moved it to" in healed.stderr, healed.stderr
    assert _cli(settings, "index", "--check").returncode == 0


# --- 8. planted links --------------------------------------------------------------------------


@pytest.mark.fault("files")
@pytest.mark.parametrize("name", ["snapshot.npz", "old-temp-name", "index.lock"])
def test_a_link_planted_where_the_index_writes_is_never_followed(hash_settings, tmp_path, name):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    hash_settings.data_dir.mkdir(parents=True)
    if name == "old-temp-name":  # the predictable name earlier versions wrote the snapshot to
        name = f"snapshot.{os.getpid()}.tmp.npz"
    (hash_settings.data_dir / name).symlink_to(victim)
    build(hash_settings, progress=lambda m: None)
    assert victim.read_text() == "precious"
    snap = snapshot_path(hash_settings)
    assert snap.is_file() and not snap.is_symlink()
    with np.load(snap) as data:  # whole
        assert data["vectors"].shape[0] == len(json.loads(data["meta"].tobytes())["ids"])
    assert open_index(hash_settings, progress=lambda m: None).vectors is not None
