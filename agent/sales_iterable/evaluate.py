"""Evals: answer each case, grade the answer, and sum up (`sales-iterable eval`).

Cases come from sales_iterable.evalcases. Every check of a case is graded passed, failed or (for
a check only the LLM judge can decide, when `--judge` is off) ungraded. A case's pass
rate is passed / total with ungraded checks counted as not passed, and a run's pass rate
is the mean of its cases' rates: skill-creator's measure (its aggregate_benchmark.py
averages each run's grading summary), so our headline and its benchmark agree.
Retrieval cases are scored as recall@k and MRR per language.

The runner lives in the package (not in evals/) because the CLI runs it; evals/ holds the
cases as data. sales_iterable.evalworkspace writes the results; sales_iterable.transcripts records and
replays model calls.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import regex
from pydantic import BaseModel, Field, ValidationError

from . import metrics, transcripts
from .corpus import count_tokens, detect_language, han_count
from .evalcases import Assertion, Case, RetrievalCase
from .policy import Answer
from .safety import redact_data, terminal_safe

RETRIEVAL_K = 5
# A case's regex gets this long per answer: ample for any sane pattern, and a bound on
# one that backtracks catastrophically (the `regex` engine enforces it).
REGEX_SECONDS = 1.0


# --- grading ---------------------------------------------------------------------------


def checked_text(answer: Answer) -> str:
    return "\n".join([answer.answer, *answer.assumptions, *answer.clarifying_questions])


def _snippet(text: str, needle: str, width: int = 40) -> str:
    at = text.lower().find(needle.lower())
    if at < 0:
        return ""
    return "…" + text[max(0, at - width): at + len(needle) + width].replace("\n", " ") + "…"


def check_assertion(assertion: Assertion, text: str) -> tuple[bool, str]:
    """(passed, evidence) for the deterministic checks of one assertion; all must hold."""
    lowered = text.lower()
    notes: list[str] = []
    passed = True
    if assertion.any_of is not None:
        hit = next((s for s in assertion.any_of if s.lower() in lowered), None)
        passed &= hit is not None
        notes.append(f"found {hit!r}: {_snippet(text, hit)}" if hit else f"none of {assertion.any_of} found")
    if assertion.all_of is not None:
        missing = [s for s in assertion.all_of if s.lower() not in lowered]
        passed &= not missing
        notes.append(f"missing {missing}" if missing else f"all of {assertion.all_of} found")
    if assertion.none_of is not None:
        present = [s for s in assertion.none_of if s.lower() in lowered]
        passed &= not present
        notes.append(f"must not contain {present}: {_snippet(text, present[0])}" if present else "none of the forbidden strings")
    if assertion.regex is not None:
        try:
            match = regex.search(assertion.regex, text, flags=regex.IGNORECASE, timeout=REGEX_SECONDS)
        except TimeoutError:
            passed = False
            notes.append(f"regex {assertion.regex!r} gave up after {REGEX_SECONDS:g} s (it backtracks "
                         "catastrophically on this answer; simplify it)")
        else:
            passed &= match is not None
            notes.append(f"regex matched {match.group()!r}" if match else f"regex {assertion.regex!r} did not match")
    return passed, "; ".join(notes)


def in_language(text: str, lang: str) -> bool:
    """The answer text is written in `lang`: judged on its prose, not on code or names."""
    prose = re.sub(r"`[^`]*`|\[[a-z0-9-]+\]|https?://\S+", "", text)
    if lang == "zh":
        return han_count(prose) >= 10 or detect_language(prose) == "zh"
    return detect_language(prose) == "en"


UNGRADED = "ungraded: needs the LLM judge (--judge); counted as not passed"


@dataclass
class Expectation:
    text: str
    passed: bool | None  # None: ungraded
    evidence: str


def grade(case: Case, answer: Answer, judged: dict[str, tuple[bool, str]] | None = None) -> list[Expectation]:
    """Every check of a case against one answer. `judged` holds the LLM judge's verdicts
    for the assertions that have no deterministic check."""
    judged = judged or {}
    text = checked_text(answer)
    out: list[Expectation] = []
    for assertion in case.assertions:
        label = f"{assertion.name}: {assertion.description}".rstrip(": ")
        if assertion.deterministic:
            passed, evidence = check_assertion(assertion, text)
            out.append(Expectation(label, passed, evidence))
        elif assertion.name in judged:
            passed, evidence = judged[assertion.name]
            out.append(Expectation(label, passed, f"judge: {evidence}"))
        else:
            out.append(Expectation(label, None, UNGRADED))
    for i, expectation in enumerate(case.expectations):
        verdict = judged.get(f"expectation-{i + 1}")
        out.append(Expectation(expectation, verdict[0] if verdict else None,
                               f"judge: {verdict[1]}" if verdict else UNGRADED))
    if case.checks_route:
        got = answer.route.skill if answer.route else None
        want = case.expect_route
        out.append(Expectation(f"route is {want or 'none (must not route)'}", got == want, f"routed to {got or 'nothing'}"))
    if case.language:
        ok = answer.language == case.language and in_language(answer.answer, case.language)
        out.append(Expectation(f"answers in {case.language}", ok,
                               f"Answer.language={answer.language}; text {'is' if in_language(answer.answer, case.language) else 'is not'} {case.language}"))
    n = len(answer.clarifying_questions)
    out.append(Expectation(f"at most {case.max_questions} clarifying questions", n <= case.max_questions, f"{n} asked"))
    if case.min_assumptions:
        k = len(answer.assumptions)
        out.append(Expectation(f"at least {case.min_assumptions} stated assumptions", k >= case.min_assumptions, f"{k} stated"))
    return out


def summarize(expectations: list[Expectation]) -> dict[str, Any]:
    """One case's counts; `pass_rate` is passed / total, ungraded counted as not passed."""
    passed = sum(e.passed is True for e in expectations)
    failed = sum(e.passed is False for e in expectations)
    ungraded = sum(e.passed is None for e in expectations)
    total = len(expectations)
    return {"passed": passed, "failed": failed, "ungraded": ungraded, "total": total,
            "pass_rate": passed / total if total else None}


def summarize_cases(results: list["CaseResult"]) -> dict[str, Any]:
    """Counts over several cases; `pass_rate` is the mean of their pass rates."""
    summaries = [r.summary for r in results]
    rates = [s["pass_rate"] for s in summaries if s["pass_rate"] is not None]
    out = {k: sum(s[k] for s in summaries) for k in ("passed", "failed", "ungraded", "total")}
    return {"cases": len(results), **out, "pass_rate": statistics.mean(rates) if rates else None}


# --- retrieval cases -------------------------------------------------------------------


def score_retrieval(retriever, cases: list[RetrievalCase], k: int = RETRIEVAL_K) -> dict[str, dict[str, float]]:
    """Section-level recall@1, recall@k and MRR per language (sales_iterable/metrics.py)."""
    ranked = [(c.language, metrics.first_relevant([h.section_path for h in retriever.search(c.query, k=k)], c.expect))
              for c in cases]
    return metrics.by_language(ranked, k)


# --- running ---------------------------------------------------------------------------


@dataclass
class CaseResult:
    case: Case
    answer: Answer
    expectations: list[Expectation]
    seconds: float
    context_tokens: int
    tokens: int  # the API's usage for Claude; offline, context read plus answer written
    tool_calls: int

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
    """A bar on stderr when it is a terminal; one line per case otherwise."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, terminal_safe(label), 0
        self.tty = sys.stderr.isatty()

    def step(self, case_id: str | int, ok: bool | None) -> None:
        self.done += 1
        mark = {True: "pass", False: "FAIL", None: "ungraded"}[ok]
        shown = terminal_safe(str(case_id))
        if self.tty:
            filled = int(30 * self.done / max(self.total, 1))
            print(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {shown[:30]:30s}",
                  end="", file=sys.stderr, flush=True)
            if self.done == self.total:
                print(file=sys.stderr)
        else:
            print(f"{self.label} {self.done}/{self.total} {shown[:200]}: {mark}", file=sys.stderr, flush=True)


def _context_tokens(answer: Answer, retriever, exchanges: list[dict]) -> int:
    """Reference context the answer was made from: tool results sent to Claude, or the
    passages the offline composer used."""
    sent = [block.get("content", "") for ex in exchanges for msg in ex.get("request", {}).get("messages", [])[-1:]
            if isinstance(msg.get("content"), list) for block in msg["content"] if block.get("type") == "tool_result"]
    if sent:
        return sum(count_tokens(s if isinstance(s, str) else json.dumps(s, ensure_ascii=False)) for s in sent)
    return sum(int(retriever.index.chunks.get(s.id, {}).get("tokens", 0)) for s in answer.sources)


def judge_client():
    from .backends.claude import ClaudeConfig, make_client

    return make_client(ClaudeConfig())


def judge_model() -> str:
    from .backends.claude import ClaudeConfig

    return ClaudeConfig().model


class Grade(BaseModel):
    name: str = Field(description="the check's name as given")
    passed: bool
    evidence: str = Field(description="a quote from the answer, or what is missing")


def judge_assertions(
    client, case: Case, answer: Answer, model: str | None = None
) -> dict[str, tuple[bool, str]]:
    """Ask Claude to grade the checks that have no deterministic form, with evidence."""
    from .tools import tool_from_function

    todo = {a.name: a.description or a.name for a in case.assertions if not a.deterministic}
    todo.update({f"expectation-{i + 1}": text for i, text in enumerate(case.expectations)})
    if not todo:
        return {}

    def record_grades(grades: list[Grade]) -> None:
        """Record a verdict for every check, quoting the answer as evidence."""

    tool = tool_from_function(record_grades)
    rubric = (
        "You grade an answer from an Iterable help assistant against checks. For each check decide passed true "
        "or false; quote the part of the answer that decides it as evidence (or say what is missing). Be strict: "
        "a check passes only if the answer clearly satisfies it.\n\n"
        f"Question:\n{case.prompt}\n\nExpected (from the worked example):\n{case.expected_output or '-'}\n\n"
        f"Answer:\n{checked_text(answer)}\n\nChecks:\n" + "\n".join(f"- {k}: {v}" for k, v in todo.items())
    )
    response = client.messages.create(
        model=model or judge_model(), max_tokens=1500,
        tools=[tool.schema()], tool_choice={"type": "tool", "name": tool.name},
        messages=[{"role": "user", "content": rubric}],
    )
    verdicts: dict[str, tuple[bool, str]] = {}
    for block in response.content:
        if getattr(block, "type", None) == "tool_use" and block.name == tool.name:
            try:
                grades = tool.arguments.model_validate(block.input).grades
            except ValidationError:
                continue  # an unusable verdict leaves the checks ungraded, never passed
            for item in grades:
                if item.name in todo:
                    verdicts[item.name] = (item.passed, item.evidence)
    return verdicts


class _NoRetrieval:
    """A retriever that finds nothing: the baseline of the comparison mode."""

    def __init__(self, retriever) -> None:
        self.index, self.glossary, self.embedder = retriever.index, retriever.glossary, retriever.embedder
        self.cache_dir, self.bridge = retriever.cache_dir, retriever.bridge

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
        tokens = transcripts.usage_tokens(recorder.exchanges) or context + count_tokens(checked_text(answer))
        result = CaseResult(case, answer, expectations, seconds, context, tokens, transcripts.tool_calls(recorder.exchanges))
        run.results.append(result)
        s = result.summary
        progress.step(case.id, None if s["ungraded"] and not s["failed"] else s["failed"] == 0 and not s["ungraded"])
    if replay is not None:
        run.backend = ", ".join(sorted(backends_seen)) or backend
        run.label = f"{run.backend} (replayed from {replay})"
    run.models = sorted(set(run.models))
    return run


# --- our own figures (beside skill-creator's benchmark.json) -----------------------------------


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "stddev": 0.0}
    return {"mean": statistics.mean(values), "stddev": statistics.pstdev(values)}


def figures(run: RunResult, retrieval: dict[str, Any] | None) -> dict[str, Any]:
    """Pass rates overall, per family, per language and per case; per-assertion counts;
    routing accuracy; time and context per case; retrieval recall and MRR."""
    results = run.results
    per_assertion: dict[str, dict[str, int]] = {}
    for r in results:
        for a, e in zip(r.case.assertions, r.expectations):
            slot = per_assertion.setdefault(a.name, {"passed": 0, "failed": 0, "ungraded": 0})
            slot["passed" if e.passed else "failed" if e.passed is False else "ungraded"] += 1

    def by(key: Callable[[CaseResult], str]) -> dict[str, dict[str, Any]]:
        return {value: summarize_cases([r for r in results if key(r) == value])
                for value in sorted({key(r) for r in results})}

    routed = [r for r in results if r.case.checks_route]
    route_ok = sum((r.answer.route.skill if r.answer.route else None) == r.case.expect_route for r in routed)
    return {
        "run": run.label,
        "configuration": run.configuration,
        "backend": run.backend,
        "replayed_from": str(run.replayed_from) if run.replayed_from else None,
        "pass_rate_means": "mean over cases of passed/total; ungraded checks count as not passed",
        "overall": summarize_cases(results),
        "per_family": by(lambda r: r.case.family),
        "per_language": by(lambda r: r.case.language or r.answer.language),
        "per_case": {str(r.case.id): r.summary for r in results},
        "per_assertion": per_assertion,
        "routing_accuracy": route_ok / len(routed) if routed else None,
        "seconds": _stats([r.seconds for r in results]),
        "context_tokens": _stats([float(r.context_tokens) for r in results]),
        "retrieval": retrieval,
    }


def pct(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def markdown_report(bench: dict[str, Any], run: RunResult, baseline: dict[str, Any] | None = None) -> str:
    lines = [f"# Eval report: {bench['run']}", ""]
    o = bench["overall"]
    lines.append(f"**Pass rate {pct(o['pass_rate'])}** (skill-creator's measure: the mean over {o['cases']} cases of "
                 f"passed/total, ungraded checks counted as not passed). Checks: {o['passed']} passed, "
                 f"{o['failed']} failed, {o['ungraded']} ungraded of {o['total']} (ungraded checks need `--judge`).")
    if bench["routing_accuracy"] is not None:
        lines.append(f"Routing accuracy: {pct(bench['routing_accuracy'])}.")
    if baseline:
        lift = ((o["pass_rate"] or 0) - (baseline["overall"]["pass_rate"] or 0)) * 100
        lines.append(f"Without retrieval the same cases pass {pct(baseline['overall']['pass_rate'])}: "
                     f"retrieval adds {lift:+.0f} points.")
    failures = [(r, e) for r in run.results for e in r.expectations if e.passed is False]
    lines += ["", "## Failing checks", ""]
    if not failures:
        lines.append("None.")
    for r, e in failures:
        lines.append(f"- **{r.case.id}** — {e.text}  \n  evidence: {e.evidence}")
    ungraded = [(r, e) for r in run.results for e in r.expectations if e.passed is None]
    if ungraded:
        lines += ["", "## Ungraded checks (counted as not passed)", ""]
        lines += [f"- **{r.case.id}** — {e.text}" for r, e in ungraded]
    lines += ["", "## Pass rate by family", "", "| family | cases | passed | failed | ungraded | pass rate |",
              "|---|---|---|---|---|---|"]
    for family, s in bench["per_family"].items():
        lines.append(f"| {family} | {s['cases']} | {s['passed']} | {s['failed']} | {s['ungraded']} | {pct(s['pass_rate'])} |")
    lines += ["", "## Pass rate by language", "", "| language | cases | pass rate |", "|---|---|---|"]
    for lang, s in bench["per_language"].items():
        lines.append(f"| {lang} | {s['cases']} | {pct(s['pass_rate'])} |")
    if bench.get("retrieval"):
        lines += ["", "## Retrieval", "", "| language | cases | recall@1 | recall@5 | MRR |", "|---|---|---|---|---|"]
        for lang, m in bench["retrieval"].items():
            lines.append(f"| {lang} | {m['cases']} | {m['recall@1']:.2f} | {m[f'recall@{RETRIEVAL_K}']:.2f} | {m['mrr']:.2f} |")
    lines += ["", "## Cases", "", "| case | family | passed | failed | ungraded | pass rate | seconds | context tokens |",
              "|---|---|---|---|---|---|---|---|"]
    for r in run.results:
        s = r.summary
        lines.append(f"| {r.case.id} | {r.case.family} | {s['passed']} | {s['failed']} | {s['ungraded']} | "
                     f"{pct(s['pass_rate'])} | {r.seconds:.3f} | {r.context_tokens} |")
    t, c = bench["seconds"], bench["context_tokens"]
    lines += ["", f"Time per case {t['mean']:.3f} ± {t['stddev']:.3f} s; context {c['mean']:.0f} ± {c['stddev']:.0f} tokens."]
    return "\n".join(lines) + "\n"
