"""Retrieval quality and speed.

Chunk-level recall@1, recall@5 and MRR per language on the question set
(evals/questions/), for the tune halves (tune, tune-c … tune-h) and the frozen holdout halves
(holdout, holdout-c … holdout-h) separately, for BM25
alone, dense alone and the default hybrid; then the older section-level sets
(evals/retrieval*.json) as a regression check, what aligned pairs and the glossary add
for Chinese questions naming products in Chinese, and warm query latency.

The holdout halves are scored in aggregate only: this script never prints one of their
questions or a per-question result (`--misses` lists tune questions only).

    python bench/retrieval.py [--half tune|holdout|both] [--embedder e5] [--data-dir DIR] [--misses]

`--half tune` scores the tune halves alone (what to look at while choosing); the holdout
halves are then neither read nor scored.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sales_iterable import metrics
from sales_iterable.config import Settings
from sales_iterable.retrieve import Retriever, open_retriever
from sales_iterable.understand import with_previous

K = 5
EVALS = Path(__file__).resolve().parents[1] / "evals"
# Question sets, each split before tuning: the first (tune / holdout) and sets C to H.
HALVES = ("tune", "tune-c", "tune-d", "tune-e", "tune-f", "tune-g", "tune-h", "holdout", "holdout-c", "holdout-d", "holdout-e", "holdout-f", "holdout-g", "holdout-h")
REGRESSION = {"dev": EVALS / "retrieval.json", "old holdout": EVALS / "retrieval-holdout.json"}


def retrieval_case(question: dict) -> dict:
    """A follow-up is searched as the offline answer searches it: with the question it
    follows, its own words the focus."""
    history = question.get("history") or []
    query, focus = (with_previous(question["question"], history[-1]), question["question"]) if history else (question["question"], None)
    return {"q": query, "focus": focus, "lang": question["language"], "expect": question["expect"], "id": question.get("id", "")}


def load_half(name: str) -> list[dict]:
    """Questions of one half that name passages (kinds such as other-tool may not)."""
    data = json.loads((EVALS / "questions" / f"{name}.json").read_text(encoding="utf-8"))
    return [retrieval_case(q) for q in data["questions"] if q["expect"]]


def load_regression(path: Path) -> list[dict]:
    cases = json.loads(path.read_text(encoding="utf-8"))["retrieval_cases"]
    return [{"q": c["query"], "lang": c["language"], "expect": c["expect"], "tags": c.get("tags", [])} for c in cases]


def unit_rank(retriever: Retriever, case: dict, **kw) -> int | None:
    hits = retriever.search(case["q"], k=K, focus=case.get("focus"), **kw)
    return metrics.first_relevant(metrics.unit_ranking(h.id for h in hits), case["expect"])


def section_rank(retriever: Retriever, case: dict, **kw) -> int | None:
    hits = retriever.search(case["q"], k=K, focus=case.get("focus"), **kw)
    return metrics.first_relevant([h.section_path for h in hits], case["expect"])


def score(retriever: Retriever, cases: list[dict], rank=unit_rank, **kw) -> dict[str, dict]:
    return metrics.by_language(((c["lang"], rank(retriever, c, **kw)) for c in cases), K)


def cells(result: dict[str, dict]) -> str:
    return " | ".join(f"{lang} {m['recall@1']:.2f} {m[f'recall@{K}']:.2f} {m['mrr']:.2f}"
                      for lang, m in result.items() if lang != "all")


def misses(retriever: Retriever, cases: list[dict]) -> list[str]:
    lines = []
    for case in cases:
        rank = unit_rank(retriever, case)
        if rank != 1:
            top = [h.chunk.unit for h in retriever.search(case["q"], k=3, focus=case.get("focus"))]
            lines.append(f"  {case['id']} rank={rank} {case['q']!r} expect={case['expect']} got={top}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", action="append", default=[], metavar="SPEC",
                        help="also measure this embedder (e.g. e5) beside the default use")
    parser.add_argument("--data-dir", type=Path, default=None, help="index location (default: a fresh temp dir)")
    parser.add_argument("--misses", action="store_true", help="list tune questions not answered at rank 1")
    parser.add_argument("--half", choices=("tune", "holdout", "both"), default="both",
                        help="which halves of the question sets to score (default both)")
    args = parser.parse_args()
    halves = {name: load_half(name) for name in HALVES if args.half in (name.split("-")[0], "both")}
    regression = {name: load_regression(path) for name, path in REGRESSION.items()}
    print("chunk level, per language: r@1 r@5 mrr ("
          + ", ".join(f"{name} {sum(c['lang'] == 'en' for c in cs)} en / {sum(c['lang'] == 'zh' for c in cs)} zh"
                      for name, cs in halves.items()) + " questions with expected passages)")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="si-bench-"))
    for spec in dict.fromkeys(["use", *args.embedder]):
        settings = Settings(data_dir=data_dir / spec.replace(":", "_").replace("/", "_"), embedder=spec)
        started = time.perf_counter()
        retriever = open_retriever(settings, progress=lambda m: None)
        print(f"\n== embedder {spec}: index open/build {time.perf_counter() - started:.1f}s")
        modes = ("lexical", "dense", "hybrid") if spec == "use" else ("dense", "hybrid")
        for mode in modes:
            print(f"{mode:8s} " + "   ".join(f"{name}: {cells(score(retriever, cases, mode=mode))}"
                                          for name, cases in halves.items()))
        print("regression, section level (hybrid): " + "   ".join(
            f"{name}: {cells(score(retriever, cases, rank=section_rank))}" for name, cases in regression.items()))
        crossterm = [c for c in regression["dev"] if "crossterm" in c["tags"]]
        steps = {"Chinese passages only": {"use_bridge": False, "use_pairs": False},
                 "+ aligned pairs": {"use_bridge": False}, "+ glossary bridge": {}}
        print(f"cross-lingual, {len(crossterm)} dev questions naming products in Chinese (section level, hybrid): " + ", ".join(
            f"{step} MRR {score(retriever, crossterm, rank=section_rank, **kw)['zh']['mrr']:.2f}" for step, kw in steps.items()))
        timings = []
        for case in next(iter(halves.values())):
            t = time.perf_counter()
            retriever.search(case["q"], k=K, focus=case.get("focus"))
            timings.append((time.perf_counter() - t) * 1000)
        print(f"warm query p50 {statistics.median(timings):.1f} ms, p95 {sorted(timings)[int(len(timings) * .95)]:.1f} ms")
        if args.misses:
            for name in (n for n in halves if n.startswith("tune")):
                print(f"{name} misses (hybrid):\n" + "\n".join(misses(retriever, halves[name])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
