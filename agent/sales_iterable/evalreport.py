"""Our own figures beside skill-creator's benchmark.json, and the Markdown report."""

from __future__ import annotations

import math
import statistics
from typing import Any, Callable

from .answer import Usage
from .evaluate import RETRIEVAL_K, CaseResult, RunResult
from .grading import summarize_cases

NO_USAGE = "no API usage reported (offline answers call no model)"


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "stddev": 0.0}
    return {"mean": statistics.mean(values), "stddev": statistics.pstdev(values)}


def usage(results: list[CaseResult]) -> dict[str, Any]:
    """What the answers cost a model backend, as the API reported it: totals and means per
    answer over the answers that called a model; the others are counted, never estimated."""
    used = [r.usage for r in results if r.usage is not None]
    figures: dict[str, Any] = {"answers": len(results), "answers_with_usage": len(used)}
    if len(used) < len(results):
        figures["note"] = f"{len(results) - len(used)} of {len(results)} answers: {NO_USAGE}"
    if not used:
        return {**figures, "total": None, "mean_per_answer": None, "cache_read_share": None}
    total = sum(used, Usage())
    counts = {**total.model_dump(), "total_tokens": total.total_tokens}
    all_input = total.input_tokens + total.cache_read_tokens + total.cache_write_tokens
    return {**figures, "total": counts,
            "mean_per_answer": {name: round(value / len(used), 1) for name, value in counts.items()},
            # the share of all input the prompt cache served
            "cache_read_share": round(total.cache_read_tokens / all_input, 4) if all_input else None}


def figures(run: RunResult, retrieval: dict[str, Any] | None) -> dict[str, Any]:
    """Pass rates overall, per family, per language and per case; per-assertion counts;
    routing accuracy; time and context per case; API usage in total and per case; retrieval
    recall and MRR."""
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
        "usage": usage(results),
        "per_case_usage": {str(r.case.id): r.usage.model_dump() if r.usage else None for r in results},
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
    lines += ["", "## API usage", ""] + usage_lines(bench["usage"])
    lines += ["", "## Cases", "",
              "| case | family | passed | failed | ungraded | pass rate | seconds | context tokens | API tokens |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in run.results:
        s = r.summary
        lines.append(f"| {r.case.id} | {r.case.family} | {s['passed']} | {s['failed']} | {s['ungraded']} | "
                     f"{pct(s['pass_rate'])} | {r.seconds:.3f} | {r.context_tokens} | "
                     f"{r.usage.total_tokens if r.usage else 'none'} |")
    t, c = bench["seconds"], bench["context_tokens"]
    lines += ["", f"Time per case {t['mean']:.3f} ± {t['stddev']:.3f} s; context {c['mean']:.0f} ± {c['stddev']:.0f} tokens."]
    return "\n".join(lines) + "\n"


USAGE_COLUMNS = [("requests", "requests"), ("tool_calls", "tool calls"), ("input_tokens", "input"),
                 ("output_tokens", "output"), ("cache_read_tokens", "cache read"),
                 ("cache_write_tokens", "cache write"), ("total_tokens", "all tokens")]


def usage_summary(figures: dict[str, Any]) -> str:
    """One line for the terminal."""
    if figures["total"] is None:
        return f"API usage: {NO_USAGE}"
    t, n = figures["total"], figures["answers_with_usage"]
    line = (f"API usage over {n} answer{'' if n == 1 else 's'}: {t['requests']} requests, input {t['input_tokens']}, "
            f"output {t['output_tokens']}, cache read {t['cache_read_tokens']}, cache write {t['cache_write_tokens']} "
            f"tokens (mean {figures['mean_per_answer']['total_tokens']:.0f} per answer)")
    return line + (f"; {figures['note']}" if "note" in figures else "")


def usage_lines(figures: dict[str, Any]) -> list[str]:
    """The usage figures as Markdown: a table of totals and means, or why there are none."""
    if figures["total"] is None:
        return [f"None: {NO_USAGE}. benchmark.json's `tokens` is then the reference context read plus the "
                "answer written: a size, not a cost."]
    lines = [f"As the API reported it, summed over every request of {figures['answers_with_usage']} answers "
             "(tool turns, continuations and retries included). Input, cache read and cache write are disjoint.", "",
             "| | " + " | ".join(label for _, label in USAGE_COLUMNS) + " |", "|---" * (len(USAGE_COLUMNS) + 1) + "|",
             "| total | " + " | ".join(f"{figures['total'][k]}" for k, _ in USAGE_COLUMNS) + " |",
             "| mean per answer | " + " | ".join(f"{figures['mean_per_answer'][k]:.1f}" for k, _ in USAGE_COLUMNS) + " |"]
    if figures["cache_read_share"] is not None:
        lines += ["", f"The prompt cache served {pct(figures['cache_read_share'])} of all input."]
    if "note" in figures:
        lines += ["", figures["note"] + "."]
    return lines
