"""Figures for `ask`: offline cold start (a new process, index built) and warm latency
(in-process), and the context Claude would receive per question, beside the size of the
whole bilingual reference.

    python bench/ask.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from retrieval import load_devset  # noqa: E402

from sales_iterable.backends.claude import system_blocks  # noqa: E402
from sales_iterable.backends.offline import compose  # noqa: E402
from sales_iterable.config import Settings  # noqa: E402
from sales_iterable.chunker import load_chunks  # noqa: E402
from sales_iterable.tokens import count_tokens  # noqa: E402
from sales_iterable.retrieve import open_retriever  # noqa: E402
from sales_iterable.tools import make_tools  # noqa: E402

COMMAND = str(Path(sys.executable).with_name("sales-iterable"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="si-ask-"))
    env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(data)}
    env.pop("ANTHROPIC_API_KEY", None)
    subprocess.run([COMMAND, "index"], env=env, check=True, capture_output=True)
    for question in ("How do I build a welcome journey in Studio?", "苹果手机收不到推送怎么办"):
        walls = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([COMMAND, "ask", "--backend", "offline", question], env=env, check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
        print(f"cold `ask --backend offline {question!r}`: median {statistics.median(walls):.2f} s, max {max(walls):.2f} s")

    settings = Settings(data_dir=data)
    retriever = open_retriever(settings, progress=lambda m: None)
    cases = load_devset()
    compose(cases[0]["q"], retriever)  # warm up
    timings = []
    for case in cases:
        started = time.perf_counter()
        compose(case["q"], retriever)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"warm offline answer, {len(cases)} dev questions: p50 {statistics.median(timings):.0f} ms, "
          f"p95 {sorted(timings)[int(len(timings) * 0.95)]:.0f} ms, max {max(timings):.0f} ms")

    search = {t.name: t for t in make_tools(retriever, budget_tokens=settings.budget_tokens)}["search_reference"]
    context = [count_tokens(search.call({"query": c["q"]})) for c in cases]
    system = count_tokens(system_blocks()[0]["text"])
    reference = sum(c.tokens for c in load_chunks(settings.corpus_dir))
    print(f"context sent to Claude per search (passages + pair text as JSON, budget {settings.budget_tokens}): "
          f"mean {statistics.mean(context):.0f}, max {max(context)} tokens; system prompt (SKILL.md, cached) "
          f"{system} tokens; the whole bilingual reference is {reference} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
