"""Retrieval quality and speed on the dev set (evals/retrieval.json).

Prints recall@1, recall@5 and MRR per language for BM25 alone, dense alone and hybrid,
the lift of the glossary bridge on Chinese questions, and warm query latency.

    python bench/retrieval.py [--embedders e5,use] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agent.config import Settings
from agent.corpus import detect_language
from agent.retrieve import Retriever, open_retriever

DEVSET = Path(__file__).resolve().parents[1] / "evals" / "retrieval.json"
HOLDOUT = DEVSET.with_name("retrieval-holdout.json")


def load_devset(path: Path = DEVSET) -> list[dict]:
    """The retrieval cases as {"q", "lang", "expect", "tags"}."""
    cases = json.loads(path.read_text(encoding="utf-8"))["retrieval_cases"]
    return [{"q": c["query"], "lang": c["language"], "expect": c["expect"], "tags": c.get("tags", [])} for c in cases]


def first_relevant_rank(retriever: Retriever, case: dict, k: int, **kw) -> int | None:
    for rank, hit in enumerate(retriever.search(case["q"], k=k, **kw), 1):
        if set(hit.section_path) & set(case["expect"]):
            return rank
    return None


def score(retriever: Retriever, cases: list[dict], k: int = 5, **kw) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lang in ("en", "zh", "all"):
        subset = [c for c in cases if lang == "all" or c["lang"] == lang]
        if not subset:
            continue
        ranks = [first_relevant_rank(retriever, c, k, **kw) for c in subset]
        out[lang] = {
            "n": len(subset),
            "r@1": sum(r == 1 for r in ranks) / len(subset),
            f"r@{k}": sum(r is not None for r in ranks) / len(subset),
            "mrr": sum(1 / r for r in ranks if r) / len(subset),
        }
    return out


def misses(retriever: Retriever, cases: list[dict], k: int = 5) -> list[str]:
    lines = []
    for case in cases:
        rank = first_relevant_rank(retriever, case, k)
        if rank != 1:
            top = [h.id for h in retriever.search(case["q"], k=3)]
            lines.append(f"  rank={rank} {case['q']!r} expect={case['expect']} got={top}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", default="use,e5")
    parser.add_argument("--data-dir", type=Path, default=None, help="index location (default: a fresh temp dir)")
    parser.add_argument("--misses", action="store_true", help="list questions not answered at rank 1")
    args = parser.parse_args()
    cases = load_devset()
    wrong_lang = [c["q"] for c in cases if detect_language(c["q"]) != c["lang"]]
    print(f"dev set: {len(cases)} questions ({sum(c['lang'] == 'zh' for c in cases)} zh, "
          f"{sum('mixed' in c.get('tags', []) for c in cases)} mixed); language detection misses: {len(wrong_lang)}")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="si-bench-"))
    for spec in args.embedders.split(","):
        settings = Settings(data_dir=data_dir / spec.replace(":", "_").replace("/", "_"), embedder=spec)
        started = time.perf_counter()
        retriever = open_retriever(settings, progress=lambda m: None)
        print(f"\n== embedder {spec}: index open/build {time.perf_counter() - started:.1f}s")
        for mode in ("lexical", "dense", "hybrid"):
            result = score(retriever, cases, mode=mode)
            print(f"{mode:8s} " + "  ".join(
                f"{lang}: r@1 {m['r@1']:.2f} r@5 {m['r@5']:.2f} mrr {m['mrr']:.2f}" for lang, m in result.items()))
        zh = [c for c in cases if "crossterm" in c.get("tags", [])]
        off = score(retriever, zh, use_bridge=False)["zh"]
        on = score(retriever, zh)["zh"]
        alone = score(retriever, zh, use_bridge=False, use_pairs=False)["zh"]
        print(f"cross-lingual, {len(zh)} zh questions naming products in Chinese (hybrid): zh passages only r@5 {alone['r@5']:.2f} mrr {alone['mrr']:.2f}"
              f" -> + aligned pairs r@5 {off['r@5']:.2f} mrr {off['mrr']:.2f}"
              f" -> + glossary bridge r@5 {on['r@5']:.2f} mrr {on['mrr']:.2f}")
        held = score(retriever, load_devset(HOLDOUT))
        print("held-out (hybrid) " + "  ".join(
            f"{lang}: r@1 {m['r@1']:.2f} r@5 {m['r@5']:.2f} mrr {m['mrr']:.2f}" for lang, m in held.items()))
        timings = []
        for case in cases:
            t = time.perf_counter()
            retriever.search(case["q"], k=5)
            timings.append((time.perf_counter() - t) * 1000)
        embed_ms = []
        for case in cases[:30]:
            t = time.perf_counter()
            retriever.embedder.embed_query(case["q"])
            embed_ms.append((time.perf_counter() - t) * 1000)
        print(f"warm query p50 {statistics.median(timings):.1f} ms, p95 {sorted(timings)[int(len(timings) * .95)]:.1f} ms "
              f"(query embedding alone p50 {statistics.median(embed_ms):.1f} ms)")
        if args.misses:
            print("\n".join(misses(retriever, cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
