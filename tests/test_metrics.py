import pytest

from sales_iterable import metrics


def test_first_relevant_takes_the_first_candidate_meeting_any_expected_key():
    ranking = [{"studio.1"}, {"ai-suite.0"}, {"studio.3"}]
    assert metrics.first_relevant(ranking, ["studio.3", "ai-suite.0"]) == 2
    assert metrics.first_relevant(ranking, ["pricing.0"]) is None
    # section level: a candidate answers to every part of its section path
    assert metrics.first_relevant([["data", "catalog"], ["data", "smart-ingest"]], ["smart-ingest"]) == 2


def test_unit_ranking_drops_the_language_suffix_only():
    assert metrics.unit_ranking(["ai-suite.0.en", "api-reference.14.zh"]) == [{"ai-suite.0"}, {"api-reference.14"}]


def test_recall_and_mrr_on_a_toy_case():
    ranks = [1, 2, None, 5]
    assert metrics.recall_at(ranks, 1) == 0.25
    assert metrics.recall_at(ranks, 2) == 0.5
    assert metrics.recall_at(ranks, 5) == 0.75
    assert metrics.mrr(ranks) == pytest.approx((1 + 1 / 2 + 0 + 1 / 5) / 4)
    assert metrics.mrr([]) == 0.0


def test_by_language_splits_and_totals():
    result = metrics.by_language([("zh", 1), ("en", None), ("en", 2)], k=5)
    assert list(result) == ["en", "zh", "all"]
    assert result["en"] == {"cases": 2, "recall@1": 0.0, "recall@5": 1 / 2, "mrr": 1 / 4}
    assert result["zh"]["recall@1"] == 1.0
    assert result["all"]["cases"] == 3 and result["all"]["mrr"] == pytest.approx(1.5 / 3)
