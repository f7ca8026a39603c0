"""How the two rankers are fused (sales_iterable/retrieve.py `fuse`), on toy scores and on the real
index with a stand-in dense ranking."""

import pytest

from sales_iterable.retrieve import fuse
from sales_iterable.understand import with_previous


def order(scores):
    return sorted(scores, key=lambda u: (-scores[u], u))


def test_tiny_dense_preferences_do_not_outweigh_a_clear_lexical_match():
    # BM25 prefers "a" four to one; the dense ranker puts it last, 0.03 of cosine behind.
    lexical = {"a": 15.0, "b": 3.8, "c": 3.6}
    dense = {"a": 0.34, "b": 0.37, "c": 0.355}
    assert order(fuse(lexical, dense))[0] == "a"


def test_a_clear_dense_preference_settles_a_lexical_near_tie():
    lexical = {"a": 25.2, "b": 24.4}
    dense = {"a": 0.30, "b": 0.50}
    assert order(fuse(lexical, dense))[0] == "b"


def test_fused_scores_depend_on_each_rankers_proportions_not_its_scale():
    lexical = {"a": 9.0, "b": 6.0, "c": 1.0}
    dense = {"a": 0.41, "b": 0.45, "c": 0.20}
    fused = fuse(lexical, dense)
    assert all(0.0 <= s <= 1.0 for s in fused.values())
    scaled = fuse({u: s * 10 for u, s in lexical.items()}, dense)
    assert fused == pytest.approx(scaled)


def test_one_ranker_alone_keeps_its_own_order():
    lexical = {"a": 2.0, "b": 7.0, "c": 5.0}
    assert order(fuse(lexical, {})) == ["b", "c", "a"]
    dense = {"a": 0.5, "b": 0.1, "c": 0.45}
    assert order(fuse({}, dense))[:2] == ["a", "c"]


def test_a_unit_only_one_ranker_found_still_competes():
    fused = fuse({"a": 4.0}, {"b": 0.6, "a": 0.2})
    assert set(fused) == {"a", "b"} and fused["a"] > 0 and fused["b"] > 0


def test_a_weak_dense_ranking_cannot_demote_a_strong_lexical_match(retriever, monkeypatch):
    query = "Which browsers does web push support?"
    lexical, _ = retriever.scores(query, "en", mode="lexical")
    best = max(lexical, key=lexical.get)
    assert best == "channels.3"
    # A dense ranker that puts BM25's clear winner last of all, every cosine within a few
    # hundredths of the next: rank fusion would sink it, score fusion must not.
    others = [u for u in sorted({cid.rsplit(".", 1)[0] for cid in retriever.index.chunks}) if u != best]
    ranking = [(f"{u}.en", 0.40 - 0.0005 * i) for i, u in enumerate([*others, best])]
    monkeypatch.setattr(retriever.index, "dense", lambda vector, n: ranking[:n])
    assert retriever.search(query, k=3)[0].id == f"{best}.en"


def test_the_dense_ranking_still_decides_between_close_lexical_matches(retriever, monkeypatch):
    query = "export rate limit"
    lexical, _ = retriever.scores(query, "en", mode="lexical")
    first, second = sorted(lexical, key=lexical.get, reverse=True)[:2]
    assert lexical[second] > 0.8 * lexical[first]
    ranking = [(f"{second}.en", 0.55), (f"{first}.en", 0.30)]
    monkeypatch.setattr(retriever.index, "dense", lambda vector, n: ranking[:n])
    monkeypatch.setattr(retriever, "phrasing_vectors", None)  # only the passages' own cosines
    assert retriever.search(query, k=3)[0].id == f"{second}.en"


def units(hits):
    return [h.chunk.unit for h in hits]


@pytest.mark.parametrize("query", [
    "Which endpoint sends an SMS? And what's the export rate limit?",
    "Which endpoint sends an SMS; and what's the export rate limit?",
])
def test_a_question_of_two_parts_leads_with_each_parts_best_passage_in_order(retriever, query):
    # Searched whole, the rate-limit words outweigh the SMS ones and the endpoint the
    # first part asks for comes third.
    first, second = ("Which endpoint sends an SMS?", "And what's the export rate limit?")
    best = [retriever.search(part, k=1)[0].chunk.unit for part in (first, second)]
    assert best[0] != best[1]
    assert units(retriever.search(query, k=2)) == best
    assert units(retriever.search(query, k=3, whole=True))[0] != best[0]  # what the split mends


def test_a_question_of_one_part_ranks_as_before(retriever):
    query = "What's the export rate limit?"  # and no section title named: no prior either
    assert units(retriever.search(query, k=8)) == units(retriever.search(query, k=8, whole=True))
    hits = retriever.search("导出用户调哪个接口?限流是多少?", k=8)
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("query, section", [
    ("help with journeys", "studio"),  # "Studio (Journey Builder)"; Journey Assist's AI rows matched more words
    ("分群咋做", "segmentation"),  # 分群; the checklist's 搭建分群 step matched more
])
def test_a_query_naming_a_section_title_finds_that_section_first(retriever, query, section):
    assert retriever.search(query, k=1)[0].section == section
    assert retriever.search(query, k=1, whole=True)[0].section != section  # the prior is what finds it


def test_a_troubleshooting_title_is_no_prior_for_questions_about_its_product(retriever):
    # "Brand Affinity准确率低" names Brand Affinity: asking what it is must not land on the fix list
    hits = retriever.search("Brand Affinity呢? STO是什么?", k=3)
    assert not hits[0].chunk.troubleshooting, [h.id for h in hits]
    assert all(0.0 <= h.score <= 1.0 for h in hits)


@pytest.mark.parametrize("follow_up, previous, expected", [
    ("what about exports?", "What's the rate limit for bulk event tracking?", "4 req/min"),
    ("and Enterprise?", "How much is Iterable's Growth plan?", "$10K+/mo"),
])
def test_a_follow_ups_own_words_decide_what_it_is_searched_for(retriever, follow_up, previous, expected):
    # Searched with the question it follows, the earlier question's words outnumber the
    # follow-up's: the bulk-tracking limit, the Growth price came first.
    query = with_previous(follow_up, previous)
    assert expected in retriever.search(query, k=1, focus=follow_up)[0].text
    assert expected not in retriever.search(query, k=1, whole=True)[0].text  # what the focus mends
    hits = retriever.search(query, k=5, focus=follow_up)
    assert all(0.0 <= h.score <= 1.0 for h in hits)


@pytest.mark.parametrize("query, later, expected", [
    ("Can we send in-app messages purely from our backend through the API? What's the endpoint?",
     "What's the endpoint?", "/api/inApp/target"),
    ("Where do I switch on send time optimization, and should we do it in our first weeks on the platform?",
     "should we do it in our first weeks on the platform?", "Enable per campaign or journey step"),
])
def test_a_later_part_that_leans_on_the_first_is_searched_with_it(retriever, query, later, expected):
    # Alone, "What's the endpoint?" finds any endpoint and "first weeks" any onboarding
    # line; each such best passage took a top place from the first part's topic.
    assert expected not in " ".join(h.text for h in retriever.search(later, k=3))
    assert expected in " ".join(h.text for h in retriever.search(query, k=2))


def test_a_chinese_name_in_an_english_question_is_searched_by_its_english_label_too(retriever):
    # the aligned passages' labels: 同期群 is "Cohorts"; a Chinese question needs no English
    assert retriever.bridge("what is 同期群 in iterable segmentation?").endswith("Cohorts")
    assert retriever.bridge("同期群是什么") == "同期群是什么"
    assert retriever.bridge("what are 用户 fields?") == "what are 用户 fields?"  # too short to name one thing


def test_a_troubleshooting_entrys_fix_takes_the_best_place_the_entry_earned(retriever):
    # the complaint matches the entry's symptom best, which only restates it
    query = "smart ingest job says it ran, but zero users changed in Iterable"
    plain = retriever.search(query, k=3, whole=True)
    assert plain[0].chunk.troubleshooting and "Symptom" in plain[0].text  # what the ranking mends
    hits = retriever.search(query, k=5)
    entry = [h for h in hits if h.section == plain[0].section]
    assert hits[0] is entry[0] and "Solution" in hits[0].text.split(":")[0], hits[0].text
    assert [h.chunk.ordinal for h in entry] == sorted((h.chunk.ordinal for h in entry), reverse=True)

    # the entry holds the places it earned and no more: every other passage keeps its score
    fused = fuse(*retriever.scores(query, "en"))
    moved = retriever._entries_whole(fused)
    assert sorted(moved.values()) == sorted(fused.values())
    assert all(moved[u] == fused[u] for u in fused if not retriever.chunk(f"{u}.en").troubleshooting)
