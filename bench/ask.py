"""Figures for `ask`: offline cold start (a new process, index built) and warm latency
(in-process), the context Claude would receive per search, the prefix it can cache (tool
definitions and system prompt, as the Claude backend sends them) against the default
model's minimum cacheable length, and the size of the whole bilingual reference.

Per-question figures use the tune half of the question set only (evals/questions/tune.json);
the held-out half is never read here.

    python bench/ask.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from answers import load  # noqa: E402

from sales_iterable.backends.claude import DEFAULT_MODEL, system_blocks  # noqa: E402
from sales_iterable.backends.conversation import ToolSession  # noqa: E402
from sales_iterable.backends.offline import compose  # noqa: E402
from sales_iterable.config import Settings  # noqa: E402
from sales_iterable.chunker import load_chunks  # noqa: E402
from sales_iterable.tokens import count_tokens  # noqa: E402
from sales_iterable.retrieve import open_retriever  # noqa: E402

COMMAND = str(Path(sys.executable).with_name("sales-iterable"))
# The default model's minimum cacheable prompt length (Anthropic's model overview for
# claude-sonnet-5-5); a shorter prefix is silently not cached.
MIN_CACHEABLE = 512


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
    questions = load("tune")
    compose(questions[0]["question"], retriever)  # warm up
    timings = []
    for q in questions:
        started = time.perf_counter()
        compose(q["question"], retriever, history=q.get("history") or [])
        timings.append((time.perf_counter() - started) * 1000)
    print(f"warm offline answer, {len(questions)} tune questions: p50 {statistics.median(timings):.0f} ms, "
          f"p95 {sorted(timings)[int(len(timings) * 0.95)]:.0f} ms, max {max(timings):.0f} ms")

    # What Claude receives: the tools and system prompt of one answer, as claude._call sends them.
    session = ToolSession(retriever, settings.budget_tokens)
    search = session.by_name["search_reference"]
    context = [count_tokens(search.call({"query": q["question"]})) for q in questions]
    print(f"context sent to Claude per search (passages + pair text as JSON, budget {settings.budget_tokens}): "
          f"mean {statistics.mean(context):.0f}, max {max(context)} tokens")
    system = count_tokens(system_blocks()[0]["text"])
    tools = count_tokens(json.dumps([t.schema() for t in session.tools], ensure_ascii=False))
    prefix = system + tools
    print(f"cacheable prefix (cl100k_base, an estimate: Claude's tokenizer is not available offline): tool "
          f"definitions {tools} + system prompt {system} = {prefix} tokens; {DEFAULT_MODEL}'s minimum is "
          f"{MIN_CACHEABLE}: {'cached' if prefix >= MIN_CACHEABLE else 'NOT cached'} ({prefix / MIN_CACHEABLE:.1f}x)")
    reference = sum(c.tokens for c in load_chunks(settings.corpus_dir))
    print(f"the whole bilingual reference is {reference} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
