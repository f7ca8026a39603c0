"""The typed chunk survives the index and the snapshot; ids are built and parsed in one
place; a stored record that is not a whole chunk is refused, never half-read."""

import dataclasses

import pytest

from sales_iterable.chunker import load_chunks
from sales_iterable.chunks import Chunk, chunk_id, parse_id, unit_id, unit_of
from sales_iterable.config import get_settings


@pytest.fixture(scope="module")
def chunks():
    return load_chunks(get_settings().corpus_dir)


def test_ids_are_built_and_parsed_alike():
    assert chunk_id("smart-ingest", 3, "zh") == "smart-ingest.3.zh"
    assert parse_id("smart-ingest.3.zh") == ("smart-ingest", 3, "zh")
    assert unit_of("smart-ingest.3.zh") == "smart-ingest.3" and unit_id("smart-ingest.3", "en") == "smart-ingest.3.en"
    for bad in ("studio.3", "studio.x.en", "studio.3.fr", ".3.en"):
        with pytest.raises(ValueError):
            parse_id(bad)


def test_chunks_are_typed(chunks):
    kinds = {c.kind for c in chunks}
    assert kinds == {"paragraph", "bullet", "row", "steps"}
    rows = [c for c in chunks if c.kind == "row"]
    assert all(c.fields and c.label == c.fields[0][1] for c in rows)
    row = next(c for c in rows if c.label == "Brand Affinity")
    assert row.fields[0] == ("Feature", "Brand Affinity") and row.text.startswith("|")
    steps = [c for c in chunks if c.kind == "steps"]
    assert all("1)" in c.text or "1)" in c.text for c in steps)
    assert not any(c.fields for c in chunks if c.kind != "row")


def test_a_record_round_trips_and_a_broken_one_is_refused(chunks):
    for chunk in chunks:
        assert Chunk.from_record(chunk.id, chunk.record()) == chunk
    record = chunks[0].record()
    for broken in ({k: v for k, v in record.items() if k != "kind"}, {**record, "kind": "poem"},
                   {**record, "lang": "zh"}, {**record, "fields": "not json"}, {**record, "pair_id": "x.0.en"}, "text"):
        with pytest.raises(ValueError):
            Chunk.from_record(chunks[0].id, broken)


def test_the_index_and_its_snapshot_hold_chunks(retriever, use_settings):
    from sales_iterable import snapshot
    from sales_iterable.index import snapshot_path
    from sales_iterable.manifest import expected_manifest

    assert all(isinstance(c, Chunk) for c in retriever.index.chunks.values())
    snap = snapshot.read(snapshot_path(use_settings), expected_manifest(use_settings), None)
    assert snap.chunks == retriever.index.chunks
    hit = next(h for h in retriever.search("What does Brand Affinity score?", k=5) if h.chunk.kind == "row")
    assert hit.chunk == retriever.chunk(hit.id) and hit.chunk.fields
    assert "chunk" not in hit.model_dump()  # the JSON contract stays as it was


@pytest.mark.fault("index")
def test_a_snapshot_of_untyped_chunks_is_not_used(tmp_path, chunks):
    import numpy as np

    from sales_iterable import snapshot

    manifest = {"collection": "c", "chunks": 1}
    good = snapshot.Snapshot(manifest, {chunks[0].id: chunks[0]}, np.ones((1, 4), dtype=np.float32), [chunks[0].id])
    path = tmp_path / "snapshot.npz"
    assert snapshot.write(path, good) is None and snapshot.read(path, {}, 4).chunks == good.chunks
    old = dataclasses.replace(chunks[0], kind="poem")  # what an older or damaged writer might leave
    assert snapshot.write(path, dataclasses.replace(good, chunks={old.id: old})) is None
    with pytest.raises(snapshot.Unusable, match="malformed"):
        snapshot.read(path, {}, 4)
