"""Ranking metrics, one implementation for the bench and the eval runner.

A ranking is a list of candidates, each a set of keys it answers to: a chunk unit
(``{"studio.3"}``) for chunk-level scoring, or a passage's section path
(``{"data-integration", "smart-ingest"}``) for section-level scoring. A case is found at
the first candidate sharing a key with what the case expects; any expected key counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from .chunks import unit_of


def first_relevant(ranking: Sequence[Collection[str]], expect: Collection[str]) -> int | None:
    """1-based rank of the first candidate that meets `expect`, or None."""
    wanted = set(expect)
    return next((rank for rank, keys in enumerate(ranking, 1) if wanted.intersection(keys)), None)


def unit_ranking(hit_ids: Iterable[str]) -> list[set[str]]:
    """Chunk-level candidates from hit ids (``studio.3.en`` answers to ``studio.3``)."""
    return [{unit_of(hit_id)} for hit_id in hit_ids]


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    return sum(r is not None and r <= k for r in ranks) / len(ranks) if ranks else 0.0


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank; a case not found in the ranking scores 0."""
    return sum(1 / r for r in ranks if r) / len(ranks) if ranks else 0.0


def summary(ranks: Sequence[int | None], k: int) -> dict[str, Any]:
    return {"cases": len(ranks), "recall@1": recall_at(ranks, 1), f"recall@{k}": recall_at(ranks, k), "mrr": mrr(ranks)}


def by_language(ranked: Iterable[tuple[str, int | None]], k: int) -> dict[str, dict[str, Any]]:
    """Summaries per language and for all cases, from (language, rank) pairs."""
    groups: dict[str, list[int | None]] = {}
    for lang, rank in ranked:
        groups.setdefault(lang, []).append(rank)
        groups.setdefault("all", []).append(rank)
    order = sorted(g for g in groups if g != "all") + ["all"]
    return {lang: summary(groups[lang], k) for lang in order if lang in groups}
