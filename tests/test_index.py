import os
import subprocess
import sys
import time

import pytest
from filelock import FileLock

from sales_iterable.embed import HashEmbedder
from sales_iterable.index import IndexError_, build, chroma_dir, connect, open_index, read_manifest, snapshot_path
from sales_iterable.lexical import BM25, lexical_tokens


def test_lexical_tokens_cover_both_languages():
    tokens = lexical_tokens("POST /api/users/bulkUpdate 分群筛选")
    assert {"post", "api", "user", "bulkupdate", "bulk", "update"} <= set(tokens)
    assert {"分群", "群筛", "筛选", "分", "群"} <= set(tokens)
    assert "the" not in lexical_tokens("the journeys")
    assert lexical_tokens("the journeys") == ["journey"]


def test_bm25_prefers_rare_matching_terms():
    bm25 = BM25({"a": lexical_tokens("push notification iOS certificate"),
                 "b": lexical_tokens("push campaign email"),
                 "c": lexical_tokens("email campaign blast")})
    scores = bm25.scores(lexical_tokens("iOS push"))
    assert max(scores, key=scores.get) == "a"
    assert "c" not in scores


def test_build_then_open_without_rebuilding(hash_settings, messages):
    manifest = build(hash_settings, progress=messages)
    assert manifest["embedder"] == "hash:v1" and manifest["chunks"] > 200
    assert messages.saw("index ready")
    messages.clear()
    index = open_index(hash_settings, progress=messages)
    assert index.manifest["collection"] == manifest["collection"]
    assert not messages.saw("building")
    assert len(index.chunks) == manifest["chunks"]


def test_missing_index_is_built_automatically(hash_settings, messages):
    index = open_index(hash_settings, progress=messages)
    assert messages.saw("index missing")
    assert index.manifest["corpus_hash"]


def test_corpus_change_makes_the_index_stale(hash_settings, messages):
    first = open_index(hash_settings, progress=messages).manifest
    en = hash_settings.corpus_dir / "en.md"
    en.write_text(en.read_text(encoding="utf-8").replace("Drag-and-drop editor", "Drag and drop editor"), encoding="utf-8")
    messages.clear()
    second = open_index(hash_settings, progress=messages)
    assert messages.saw("index stale")
    assert second.manifest["corpus_hash"] != first["corpus_hash"]
    assert any("Drag and drop editor" in c.text for c in second.chunks.values())


def test_interrupted_build_leaves_previous_index_usable(hash_settings, messages):
    before = build(hash_settings, progress=messages)

    class Interrupting(HashEmbedder):
        calls = 0

        def embed_passages(self, texts):
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt
            return super().embed_passages(texts)

    with pytest.raises(KeyboardInterrupt):
        build(hash_settings, embedder=Interrupting(), progress=messages)
    messages.clear()
    index = open_index(hash_settings, progress=messages)
    assert index.manifest["collection"] == before["collection"]
    assert not messages.saw("building")
    hits = index.dense(HashEmbedder().embed_query("Smart Ingest"), 3)
    assert len(hits) == 3
    # the next complete build clears the abandoned half-built collection
    after = build(hash_settings, progress=messages)
    names = {c.name for c in connect(hash_settings).list_collections()}
    assert names == {"sales-iterable-current", before["collection"], after["collection"]}


def test_half_built_collection_is_rebuilt(hash_settings, messages):
    manifest = build(hash_settings, progress=messages)
    collection = connect(hash_settings).get_collection(manifest["collection"])
    collection.delete(ids=collection.get(limit=5)["ids"])
    messages.clear()
    index = open_index(hash_settings, progress=messages, use_snapshot=False)
    assert messages.saw("index incomplete")
    assert len(index.chunks) == manifest["chunks"]


def test_corrupt_store_is_moved_aside_and_rebuilt(hash_settings, messages):
    from chromadb.api.client import SharedSystemClient

    build(hash_settings, progress=messages)
    SharedSystemClient.clear_system_cache()
    snapshot_path(hash_settings).unlink(missing_ok=True)
    store = chroma_dir(hash_settings)
    (store / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    messages.clear()
    index = open_index(hash_settings, progress=messages)
    assert messages.saw("moved it to")
    assert len(index.chunks) > 200
    assert list(hash_settings.data_dir.glob("chroma.broken-*"))


def test_builds_are_serialized_by_a_file_lock(hash_settings, tmp_path):
    env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(hash_settings.data_dir),
           "SALES_ITERABLE_EMBEDDER": "hash", "SALES_ITERABLE_CORPUS_DIR": str(hash_settings.corpus_dir)}
    hash_settings.data_dir.mkdir(parents=True)
    lock = FileLock(str(hash_settings.data_dir / "index.lock"))
    lock.acquire()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "sales_iterable.cli", "index", "--rebuild"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        assert proc.poll() is None, proc.communicate()  # still waiting for our lock
        assert read_manifest(connect(hash_settings)) is None
    finally:
        lock.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "another index build is running" in err
    assert "chunks" in out


def test_unreachable_server_names_the_url(hash_settings):
    settings = hash_settings.model_copy(update={"chroma_url": "http://127.0.0.1:9"})
    with pytest.raises(IndexError_, match="127.0.0.1:9"):
        open_index(settings)


def test_snapshot_answers_like_chroma(hash_settings, messages, monkeypatch):
    manifest = build(hash_settings, progress=messages)
    assert snapshot_path(hash_settings).is_file()  # written by the build
    collection = connect(hash_settings).get_collection(manifest["collection"])
    from_store = open_index(hash_settings, progress=messages, use_snapshot=False)
    import sales_iterable.index as index_module

    monkeypatch.setattr(index_module, "connect", lambda settings: pytest.fail("snapshot path touched Chroma"))
    from_snapshot = open_index(hash_settings, progress=messages)
    assert from_snapshot.vectors is not None
    assert from_snapshot.chunks == from_store.chunks
    embedder = HashEmbedder()
    for query in ["Smart Ingest sync", "APNs certificate", "品牌亲和度"]:
        vector = embedder.embed_query(query)
        found = collection.query(query_embeddings=[vector.tolist()], n_results=10, include=["distances"])
        by_chroma = [(cid, 1.0 - dist) for cid, dist in zip(found["ids"][0], found["distances"][0])]
        by_snapshot = from_snapshot.dense(vector, 10)
        assert [cid for cid, _ in by_chroma[:5]] == [cid for cid, _ in by_snapshot[:5]]
        assert [round(s, 4) for _, s in by_chroma] == [round(s, 4) for _, s in by_snapshot]


def test_stale_or_broken_snapshot_falls_back_to_chroma(hash_settings, messages):
    open_index(hash_settings, progress=messages)
    snapshot_path(hash_settings).write_bytes(b"garbage")
    messages.clear()
    index = open_index(hash_settings, progress=messages)
    assert messages.saw("snapshot") and messages.saw("unusable")  # read through Chroma...
    assert len(index.chunks) == index.manifest["chunks"]
    messages.clear()
    assert open_index(hash_settings, progress=messages).vectors is not None  # ...and the snapshot rewritten
    assert not messages


def test_a_search_from_the_snapshot_never_imports_chromadb(hash_settings):
    build(hash_settings, progress=lambda m: None)
    code = (
        "import sys\n"
        "from sales_iterable.cli import main\n"
        "assert main(['search', '--json', 'welcome journey']) == 0\n"
        "assert 'chromadb' not in sys.modules, 'chromadb imported'\n"
    )
    env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(hash_settings.data_dir), "SALES_ITERABLE_EMBEDDER": "hash",
           "SALES_ITERABLE_CORPUS_DIR": str(hash_settings.corpus_dir)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
