"""Evals: answer each case, grade the answer, and sum up (`sales-iterable eval`): the runner.

Cases come from sales_iterable.evalcases. Every check of a case is graded passed, failed or (for
a check only the LLM judge can decide, when `--judge` is off) ungraded. A case's pass
rate is passed / total with ungraded checks counted as not passed, and a run's pass rate
is the mean of its cases' rates: skill-creator's measure (its aggregate_benchmark.py
averages each run's grading summary), so our headline and its benchmark agree.
Retrieval cases are scored as recall@k and MRR per language.

The runner lives in the package (not in evals/) because the CLI runs it; evals/ holds the
cases as data. grading.py grades, judge.py asks the LLM judge, evalreport.py sums up,
evalworkspace.py writes the results, transcripts.py records and replays model calls.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import metrics, transcripts
from .answer import Answer, Usage
from .evalcases import Case, RetrievalCase
from .grading import Expectation, checked_text, grade, summarize, summarize_cases
from .judge import judge_assertions, judge_client
from .safety import redact_data, terminal_safe
from .tokens import count_tokens

RETRIEVAL_K = 5


def score_retrieval(retriever, cases: list[RetrievalCase], k: int = RETRIEVAL_K) -> dict[str, dict[str, float]]:
    """Section-level recall@1, recall@k and MRR per language (sales_iterable/metrics.py)."""
    ranked = [(c.language, metrics.first_relevant([h.section_path for h in retriever.search(c.query, k=k)], c.expect))
              for c in cases]
    return metrics.by_language(ranked, k)


@dataclass
class CaseResult:
    case: Case
    answer: Answer
    expectations: list[Expectation]
    seconds: float
    context_tokens: int
    # skill-creator's `tokens`: every token the API reported (usage.total_tokens) when a
    # model answered; offline, which calls no model, the context read plus the answer written.
    tokens: int
    usage: Usage | None  # None: no model was called for this answer

    @property
    def tool_calls(self) -> int:
        return self.usage.tool_calls if self.usage else 0

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.expectations)


@dataclass
class RunResult:
    label: str
    # skill-creator's configuration name: with_skill (retrieval on) or without_skill.
    configuration: str = "with_skill"
    backend: str = "offline"
    models: list[str] = field(default_factory=list)
    replayed_from: Path | None = None
    results: list[CaseResult] = field(default_factory=list)

    def pass_rate(self) -> float | None:
        return summarize_cases(self.results)["pass_rate"]


class Progress:
    """rich's progress bar on stderr when it is a terminal; one line per case otherwise."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, terminal_safe(label), 0
        self.bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress as Bar

            self.bar = Bar(console=Console(file=sys.stderr), transient=False)
            self.task = self.bar.add_task(self.label, total=total)
            self.bar.start()

    def step(self, case_id: str | int, ok: bool | None) -> None:
        self.done += 1
        mark = {True: "pass", False: "FAIL", None: "ungraded"}[ok]
        shown = terminal_safe(str(case_id))
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{self.label} {shown[:30]}")
            if self.done == self.total:
                self.bar.stop()
        else:
            print(f"{self.label} {self.done}/{self.total} {shown[:200]}: {mark}", file=sys.stderr, flush=True)


def _context_tokens(answer: Answer, retriever, exchanges: list[dict]) -> int:
    """Reference context the answer was made from: tool results sent to Claude, or the
    passages the offline composer used."""
    sent = [block.get("content", "") for ex in exchanges for msg in ex.get("request", {}).get("messages", [])[-1:]
            if isinstance(msg.get("content"), list) for block in msg["content"] if block.get("type") == "tool_result"]
    if sent:
        return sum(count_tokens(s if isinstance(s, str) else json.dumps(s, ensure_ascii=False)) for s in sent)
    return sum(chunk.tokens for s in answer.sources if (chunk := retriever.chunk(s.id)))


class _NoRetrieval:
    """A retriever that finds nothing: the baseline of the comparison mode. Everything
    else (the vocabulary, the embedder, the bridge) is the real retriever's."""

    def __init__(self, retriever) -> None:
        self._retriever = retriever

    def __getattr__(self, name: str) -> Any:
        return getattr(self._retriever, name)

    def search(self, *args: Any, **kwargs: Any) -> list:
        return []

    def section_hits(self, *args: Any, **kwargs: Any) -> list:
        return []


def run_cases(
    cases: list[Case],
    retriever,
    backend: str = "offline",
    use_retrieval: bool = True,
    judge: bool = False,
    record: Path | None = None,
    replay: Path | None = None,
    on_record: Callable[[Path], None] | None = None,
) -> RunResult:
    """Answer (or replay) every case and grade it. Every answer is redacted as soon as it
    exists, so grades, files and replays all see the same text."""
    from .backends import Options, answer_with_fallback

    if replay is not None:
        label = f"replay of {replay}"
    else:
        label = f"{backend}{'' if use_retrieval else ' without retrieval'}"
    run = RunResult(label=label, configuration="with_skill" if use_retrieval else "without_skill",
                    backend=backend, replayed_from=replay)
    progress = Progress(len(cases), label)
    source = retriever if use_retrieval else _NoRetrieval(retriever)
    grader = judge_client() if judge else None
    backends_seen: set[str] = set()
    for case in cases:
        recorder = transcripts.Recorder()
        started = time.perf_counter()
        if replay is not None:
            replayed = transcripts.read(replay, case.id, case.prompt)
            answer, recorder.exchanges = replayed.answer, replayed.exchanges
            seconds = replayed.seconds  # how long the answer took when it was recorded
            backends_seen.add(replayed.backend)
            if replayed.model:
                run.models.append(replayed.model)
        else:
            options = Options(use_retrieval=use_retrieval,
                              event_hooks={"request": [recorder.on_request], "response": [recorder.on_response]})
            answer = answer_with_fallback(backend, case.prompt, source, options=options,
                                          notify=lambda notice: print(terminal_safe(notice), file=sys.stderr))
            seconds = time.perf_counter() - started
            model = transcripts.model_of(recorder.exchanges)
            if model:
                run.models.append(model)
        answer = Answer.model_validate(redact_data(answer.model_dump(mode="json")))
        judged = judge_assertions(grader, case, answer) if grader else None
        expectations = grade(case, answer, judged)
        if record is not None:
            record.mkdir(parents=True, exist_ok=True)
            path = transcripts.write(record, case.id, case.prompt, answer, recorder.exchanges, seconds)
            if on_record:
                on_record(path)
        context = _context_tokens(answer, retriever, recorder.exchanges)
        usage = answer.usage or transcripts.usage(recorder.exchanges)
        tokens = usage.total_tokens if usage else context + count_tokens(checked_text(answer))
        result = CaseResult(case, answer, expectations, seconds, context, tokens, usage)
        run.results.append(result)
        s = result.summary
        progress.step(case.id, None if s["ungraded"] and not s["failed"] else s["failed"] == 0 and not s["ungraded"])
    if replay is not None:
        run.backend = ", ".join(sorted(backends_seen)) or backend
        run.label = f"{run.backend} (replayed from {replay})"
    run.models = sorted(set(run.models))
    return run
