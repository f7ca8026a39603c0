"""Eval results on disk, in skill-creator's workspace layout.

anthropics/skills' skill-creator reads a workspace through two scripts:
`scripts/aggregate_benchmark.py` walks `eval-*/<configuration>/run-*/grading.json` (and a
sibling `timing.json`), taking each eval's id from `eval-*/eval_metadata.json`;
`eval-viewer/generate_review.py` shows every folder that has an `outputs/` folder, with
the prompt from an `eval_metadata.json` in that run folder or its parent. So a run of
`sales-iterable eval --out DIR` writes

    DIR/benchmark.json                  skill-creator's schema (metadata, runs, run_summary, notes)
    DIR/benchmark.extra.json            our own figures: families, languages, routing, API usage, retrieval
    DIR/report.md                       failing checks first, then the tables
    DIR/eval-<case>/eval_metadata.json  eval_id (a number), eval_name (our case id), prompt
    DIR/eval-<case>/<configuration>/run-1/
        eval_metadata.json              the same, where the viewer looks
        outputs/answer.md               the answer as `ask` prints it (the viewer lists it first)
        outputs/answer_data.json        the Answer as data
        grading.json                    expectations [{text, passed, evidence}], summary
        timing.json                     total_tokens, duration_ms, total_duration_seconds

with `with_skill` (retrieval on) as the configuration, and `without_skill` (the same
backend with retrieval off) beside it under --compare. skill-creator's expectations are
booleans, so an ungraded check is written as `passed: false`, flagged `ungraded: true`,
and listed again under `ungraded_expectations`; `summary.failed` counts only checks that
were graded and failed, so passed + failed + ungraded = total.

Every file goes through the redaction boundary and is written atomically without
following links (sales_iterable.safety, sales_iterable.files).
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

from .evalcases import CaseFileError, safe_name
from .evaluate import CaseResult, RunResult
from .files import atomic_write, make_dirs
from .safety import redact, redact_data

GENERATOR = "sales-iterable eval"
EXTRA = "benchmark.extra.json"


def _json(path: Path, data: Any) -> None:
    atomic_write(path, json.dumps(redact_data(data), ensure_ascii=False, indent=2) + "\n")


def _text(path: Path, text: str) -> None:
    atomic_write(path, redact(text))


def stats(values: list[float]) -> dict[str, float]:
    """mean, sample stddev, min and max, rounded as skill-creator's aggregate does."""
    if not values:
        return {"mean": 0.0, "stddev": 0.0, "min": 0.0, "max": 0.0}
    mean = sum(values) / len(values)
    stddev = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return {"mean": round(mean, 4), "stddev": round(stddev, 4), "min": round(min(values), 4), "max": round(max(values), 4)}


def prepare(out: Path) -> None:
    """Make `out` ready for a run. An empty or missing folder is used as it is; a folder
    holding an earlier run of ours loses that run's eval-* folders (skill-creator's
    scripts read every eval-* folder they find, so stale ones would be counted); any
    other folder is refused, so nothing the user had is touched."""
    if out.exists() and not out.is_dir():
        raise CaseFileError(f"--out {out}: not a directory")
    if not out.exists() or not any(out.iterdir()):
        return
    if not (out / EXTRA).is_file():
        raise CaseFileError(f"--out {out}: the folder is not empty and holds no earlier eval run; "
                            "choose a new or empty folder")
    for child in out.glob("eval-*"):
        if child.is_dir() and not child.is_symlink() and (child / "eval_metadata.json").is_file():
            shutil.rmtree(child)


def render_answer_markdown(result: CaseResult) -> str:
    from .repl import render_answer  # the text `ask` prints, so the viewer shows what a user sees

    return render_answer(result.answer).rstrip() + "\n"


def grading(result: CaseResult, answer_chars: int) -> dict[str, Any]:
    summary = result.summary
    expectations = []
    for e in result.expectations:
        item = {"text": e.text, "passed": e.passed is True, "evidence": e.evidence}
        if e.passed is None:
            item["ungraded"] = True
        expectations.append(item)
    return {
        "expectations": expectations,
        "summary": {"passed": summary["passed"], "failed": summary["failed"], "total": summary["total"],
                    "pass_rate": round(summary["pass_rate"] or 0.0, 4), "ungraded": summary["ungraded"]},
        "ungraded_expectations": [e.text for e in result.expectations if e.passed is None],
        "execution_metrics": {"total_tool_calls": result.tool_calls, "errors_encountered": 0,
                              "output_chars": answer_chars},
    }


def timing(result: CaseResult) -> dict[str, Any]:
    seconds = round(result.seconds, 3)
    return {"total_tokens": result.tokens, "duration_ms": round(result.seconds * 1000), "total_duration_seconds": seconds}


def _run_entry(eval_id: int, result: CaseResult, configuration: str, grade: dict[str, Any],
               times: dict[str, Any]) -> dict[str, Any]:
    s = grade["summary"]
    return {
        "eval_id": eval_id, "eval_name": str(result.case.id), "configuration": configuration, "run_number": 1,
        "result": {"pass_rate": s["pass_rate"], "passed": s["passed"], "failed": s["failed"], "total": s["total"],
                   "time_seconds": times["total_duration_seconds"], "tokens": times["total_tokens"],
                   "tool_calls": result.tool_calls, "errors": 0},
        "expectations": grade["expectations"],
        "notes": [f"{len(grade['ungraded_expectations'])} ungraded check(s) counted as not passed"]
        if grade["ungraded_expectations"] else [],
    }


def run_summary(runs: list[dict[str, Any]], configurations: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for config in configurations:
        mine = [r["result"] for r in runs if r["configuration"] == config]
        summary[config] = {
            "pass_rate": stats([r["pass_rate"] for r in mine]),
            "time_seconds": stats([r["time_seconds"] for r in mine]),
            "tokens": stats([r["tokens"] for r in mine]),
        }
    if len(configurations) >= 2:  # the first configuration minus the baseline
        a, b = summary[configurations[0]], summary[configurations[1]]
        summary["delta"] = {
            "pass_rate": f"{a['pass_rate']['mean'] - b['pass_rate']['mean']:+.2f}",
            "time_seconds": f"{a['time_seconds']['mean'] - b['time_seconds']['mean']:+.1f}",
            "tokens": f"{a['tokens']['mean'] - b['tokens']['mean']:+.0f}",
        }
    return summary


def write(
    out: Path,
    runs: list[RunResult],
    extra: dict[str, Any],
    report: str,
    skill_name: str,
    skill_path: Path,
    judge_model: str | None = None,
) -> dict[str, Any]:
    """Write the whole workspace for `runs` (the first is with_skill; a second, if any, the
    without_skill baseline) into `out`, which `prepare` accepted before the run, and
    return the benchmark written to benchmark.json."""
    make_dirs(out)
    bench_runs: list[dict[str, Any]] = []
    main = runs[0]
    for eval_id, first in enumerate(main.results, 1):
        case = first.case
        meta = {"eval_id": eval_id, "eval_name": str(case.id), "prompt": case.prompt,
                "assertions": [e.text for e in first.expectations], "expected_output": case.expected_output,
                "family": case.family, "generator": GENERATOR}
        name = f"eval-{safe_name(case.id)}"
        _json(make_dirs(out, name) / "eval_metadata.json", meta)
        for run in runs:
            result = next(r for r in run.results if r.case.id == case.id)
            run_dir = make_dirs(out, name, run.configuration, "run-1")
            outputs = make_dirs(out, name, run.configuration, "run-1", "outputs")
            markdown = render_answer_markdown(result)
            _text(outputs / "answer.md", markdown)
            _json(outputs / "answer_data.json", result.answer.model_dump(mode="json"))
            _json(run_dir / "eval_metadata.json", meta)
            grade = grading(result, len(markdown))
            times = timing(result)
            _json(run_dir / "grading.json", grade)
            _json(run_dir / "timing.json", times)
            bench_runs.append(_run_entry(eval_id, result, run.configuration, grade, times))
    configurations = [run.configuration for run in runs]
    ungraded = sum(r.summary["ungraded"] for r in main.results)
    total = sum(r.summary["total"] for r in main.results)
    notes = [
        f"pass_rate is passed/total per run, and run_summary's mean is the headline `sales-iterable eval` prints; "
        f"{ungraded} of {total} checks were ungraded (they need --judge) and count as not passed.",
        "with_skill answers with retrieval from the Iterable reference; without_skill is the same backend "
        "with retrieval turned off (--compare).",
        "eval_id numbers the cases in order; eval_name is the case id from evals/*.json.",
        "tokens: for an answer from a model, every token the API reported over its requests (input + cache "
        "read + cache write + output; the breakdown is in benchmark.extra.json under usage). Offline answers "
        "call no model and have no API usage: their tokens are the reference context the composer read plus "
        "the answer it wrote, a size and not a cost.",
    ]
    if len(runs) == 1:
        notes.append("One configuration only: run with --compare for the without_skill baseline and the delta.")
    if main.replayed_from:
        notes.append(f"Replayed from {main.replayed_from}: answers recorded with {main.backend}"
                     f"{' (' + ', '.join(main.models) + ')' if main.models else ''}; times are as recorded; "
                     "every transcript's digest was verified.")
    executor = ", ".join(main.models) if main.models else (
        "offline composer (no model)" if main.backend == "offline" else main.backend)
    benchmark = {
        "metadata": {
            "skill_name": skill_name,
            "skill_path": str(skill_path),
            "executor_model": executor + (" (replayed)" if main.replayed_from else ""),
            "analyzer_model": judge_model or "none (deterministic checks only)",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "evals_run": list(range(1, len(main.results) + 1)),
            "runs_per_configuration": 1,
        },
        "runs": bench_runs,
        "run_summary": run_summary(bench_runs, configurations),
        "notes": notes,
    }
    _json(out / "benchmark.json", benchmark)
    _json(out / EXTRA, extra)
    _text(out / "report.md", report)
    return benchmark

