"""Offline evals: score answers against cases (`sales-iterable eval`).

Case files use skill-creator's evals.json shape, `{"skill_name", "evals": [{"id",
"prompt", "expected_output", "assertions": [{"name", "description"}]}]}` (or
`expectations` as plain strings), extended with deterministic checks per assertion
(`any_of`, `all_of`, `none_of`, `regex`) and per case (`expect_route`, `language`,
`max_questions`, `min_assumptions`). An assertion with no deterministic check is graded
only by the LLM judge (`--judge`); offline it is reported as ungraded, never as passed.
Files with `retrieval_cases` are scored as recall@k and MRR per language.

The runner lives in the package (not in evals/) because the CLI below it runs it;
evals/ holds the cases as data.
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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import metrics
from .corpus import count_tokens, detect_language, han_count
from .policy import MAX_QUESTIONS, Answer

RETRIEVAL_K = 5


# --- case files ------------------------------------------------------------------------


class Assertion(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    description: str = ""
    any_of: list[str] | None = None
    all_of: list[str] | None = None
    none_of: list[str] | None = None
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    @property
    def deterministic(self) -> bool:
        return any(v is not None for v in (self.any_of, self.all_of, self.none_of, self.regex))


class Case(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | int
    prompt: str = Field(min_length=1)
    expected_output: str = ""
    assertions: list[Assertion] = Field(default_factory=list)
    expectations: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    expect_route: str | None = None  # absent: not checked; null: must not route
    language: Literal["en", "zh"] | None = None
    max_questions: int = Field(default=MAX_QUESTIONS, ge=0)
    min_assumptions: int = Field(default=0, ge=0)
    family: str = "general"

    @field_validator("expect_route")
    @classmethod
    def _slash(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"/sales-[a-z0-9-]+", value):
            raise ValueError("must be a slash command like /sales-deliverability, or null")
        return value

    @model_validator(mode="after")
    def _something_to_check(self) -> "Case":
        if not (self.assertions or self.expectations or "expect_route" in self.model_fields_set or self.language):
            raise ValueError("a case needs assertions, expectations, expect_route or language")
        return self

    @property
    def checks_route(self) -> bool:
        return "expect_route" in self.model_fields_set


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    skill_name: str
    evals: list[Case]


class RetrievalCase(BaseModel):
    query: str = Field(min_length=1)
    language: Literal["en", "zh"]
    expect: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class RetrievalFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    retrieval_cases: list[RetrievalCase]


class CaseFileError(ValueError):
    """A case file is unusable; the message names the file, the case and the field."""


def _describe(path: Path, data: Any, exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = list(first["loc"])
    case = ""
    if len(loc) >= 2 and loc[0] in ("evals", "retrieval_cases") and isinstance(loc[1], int):
        items = data.get(loc[0], []) if isinstance(data, dict) else []
        item = items[loc[1]] if loc[1] < len(items) and isinstance(items[loc[1]], dict) else {}
        case = f" case {item.get('id', item.get('query', '#' + str(loc[1])))!r}"
        loc = loc[2:]
    where = ".".join(str(p) for p in loc) or "(top level)"
    return f"{path}:{case} field {where}: {first['msg']}"


def load_case_files(paths: list[Path]) -> tuple[list[tuple[Path, Case]], list[RetrievalCase]]:
    cases: list[tuple[Path, Case]] = []
    retrieval: list[RetrievalCase] = []
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.json"))
        elif path.is_file():
            files.append(path)
        else:
            raise CaseFileError(f"{path}: no such case file or directory")
    if not files:
        raise CaseFileError(f"no case files (*.json) in {', '.join(map(str, paths))}")
    seen: dict[str, Path] = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CaseFileError(f"{path}: not valid JSON ({exc})") from None
        try:
            if isinstance(data, dict) and "retrieval_cases" in data:
                retrieval += RetrievalFile.model_validate(data).retrieval_cases
                continue
            parsed = CaseFile.model_validate(data)
        except ValidationError as exc:
            raise CaseFileError(_describe(path, data, exc)) from None
        for case in parsed.evals:
            key = str(case.id)
            if key in seen:
                raise CaseFileError(f"{path}: case {key!r} field id: duplicate (also in {seen[key]})")
            seen[key] = path
            cases.append((path, case))
    return cases, retrieval


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
        match = re.search(assertion.regex, text, re.I)
        passed &= match is not None
        notes.append(f"regex matched {match.group()!r}" if match else f"regex {assertion.regex!r} did not match")
    return passed, "; ".join(notes)


def in_language(text: str, lang: str) -> bool:
    """The answer text is written in `lang`: judged on its prose, not on code or names."""
    prose = re.sub(r"`[^`]*`|\[[a-z0-9-]+\]|https?://\S+", "", text)
    if lang == "zh":
        return han_count(prose) >= 10 or detect_language(prose) == "zh"
    return detect_language(prose) == "en"


@dataclass
class Expectation:
    text: str
    passed: bool | None  # None: ungraded
    evidence: str

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "passed": self.passed, "evidence": self.evidence}


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
            out.append(Expectation(label, None, "ungraded: needs the LLM judge (--judge)"))
    for i, expectation in enumerate(case.expectations):
        key = f"expectation-{i + 1}"
        verdict = judged.get(key)
        out.append(Expectation(expectation, verdict[0] if verdict else None,
                               f"judge: {verdict[1]}" if verdict else "ungraded: needs the LLM judge (--judge)"))
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
    passed = sum(e.passed is True for e in expectations)
    failed = sum(e.passed is False for e in expectations)
    ungraded = sum(e.passed is None for e in expectations)
    rate = passed / (passed + failed) if passed + failed else None
    return {"passed": passed, "failed": failed, "ungraded": ungraded, "pass_rate": rate}


# --- retrieval cases -------------------------------------------------------------------


def score_retrieval(retriever, cases: list[RetrievalCase], k: int = RETRIEVAL_K) -> dict[str, dict[str, float]]:
    """Section-level recall@1, recall@k and MRR per language (agent/metrics.py)."""
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

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.expectations)


@dataclass
class RunResult:
    label: str
    results: list[CaseResult] = field(default_factory=list)

    def pass_rate(self) -> float | None:
        return summarize([e for r in self.results for e in r.expectations])["pass_rate"]


def _safe_name(case_id: str | int) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(case_id)) or "case"


class Progress:
    """A bar on stderr when it is a terminal; one line per case otherwise."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.tty = sys.stderr.isatty()

    def step(self, case_id: str | int, ok: bool | None) -> None:
        self.done += 1
        mark = {True: "pass", False: "FAIL", None: "ungraded"}[ok]
        if self.tty:
            filled = int(30 * self.done / max(self.total, 1))
            print(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {str(case_id)[:30]:30s}",
                  end="", file=sys.stderr, flush=True)
            if self.done == self.total:
                print(file=sys.stderr)
        else:
            print(f"{self.label} {self.done}/{self.total} {case_id}: {mark}", file=sys.stderr, flush=True)


def _context_tokens(answer: Answer, retriever, exchanges: list[dict]) -> int:
    """Reference context the answer was made from: tool results sent to Claude, or the
    passages the offline composer used."""
    sent = [block.get("content", "") for ex in exchanges for msg in ex.get("request", {}).get("messages", [])[-1:]
            if isinstance(msg.get("content"), list) for block in msg["content"] if block.get("type") == "tool_result"]
    if sent:
        return sum(count_tokens(s if isinstance(s, str) else json.dumps(s, ensure_ascii=False)) for s in sent)
    return sum(int(retriever.index.chunks.get(s.id, {}).get("tokens", 0)) for s in answer.sources)


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "stddev": 0.0}
    return {"mean": statistics.mean(values), "stddev": statistics.pstdev(values)}


def benchmark(run: RunResult, retrieval: dict[str, Any] | None) -> dict[str, Any]:
    results = run.results
    per_case = {str(r.case.id): r.summary for r in results}
    per_assertion: dict[str, dict[str, int]] = {}
    for r in results:
        for a in r.case.assertions:
            e = next(e for e in r.expectations if e.text.startswith(a.name))
            slot = per_assertion.setdefault(a.name, {"passed": 0, "failed": 0, "ungraded": 0})
            slot["passed" if e.passed else "failed" if e.passed is False else "ungraded"] += 1
    by = lambda key: {  # noqa: E731
        value: summarize([e for r in results if key(r) == value for e in r.expectations])
        for value in sorted({key(r) for r in results})
    }
    routed = [r for r in results if r.case.checks_route]
    route_ok = sum((r.answer.route.skill if r.answer.route else None) == r.case.expect_route for r in routed)
    return {
        "run": run.label,
        "overall": summarize([e for r in results for e in r.expectations]),
        "per_family": by(lambda r: r.case.family),
        "per_language": by(lambda r: r.case.language or r.answer.language),
        "per_case": per_case,
        "per_assertion": per_assertion,
        "routing_accuracy": route_ok / len(routed) if routed else None,
        "seconds": _stats([r.seconds for r in results]),
        "context_tokens": _stats([float(r.context_tokens) for r in results]),
        "retrieval": retrieval,
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def markdown_report(bench: dict[str, Any], run: RunResult, baseline: dict[str, Any] | None = None) -> str:
    lines = [f"# Eval report: {bench['run']}", ""]
    o = bench["overall"]
    lines.append(f"**Pass rate {_pct(o['pass_rate'])}**: {o['passed']} passed, {o['failed']} failed, "
                 f"{o['ungraded']} ungraded (ungraded checks need `--judge` and never count as passed).")
    if bench["routing_accuracy"] is not None:
        lines.append(f"Routing accuracy: {_pct(bench['routing_accuracy'])}.")
    if baseline:
        lines.append(f"Without retrieval the same cases pass {_pct(baseline['overall']['pass_rate'])}: "
                     f"retrieval adds {((o['pass_rate'] or 0) - (baseline['overall']['pass_rate'] or 0)) * 100:+.0f} points.")
    failures = [(r, e) for r in run.results for e in r.expectations if e.passed is False]
    lines += ["", "## Failing checks", ""]
    if not failures:
        lines.append("None.")
    for r, e in failures:
        lines.append(f"- **{r.case.id}** — {e.text}  \n  evidence: {e.evidence}")
    lines += ["", "## Pass rate by family", "", "| family | passed | failed | ungraded | pass rate |", "|---|---|---|---|---|"]
    for family, s in bench["per_family"].items():
        lines.append(f"| {family} | {s['passed']} | {s['failed']} | {s['ungraded']} | {_pct(s['pass_rate'])} |")
    lines += ["", "## Pass rate by language", "", "| language | pass rate |", "|---|---|"]
    for lang, s in bench["per_language"].items():
        lines.append(f"| {lang} | {_pct(s['pass_rate'])} |")
    if bench.get("retrieval"):
        lines += ["", "## Retrieval", "", "| language | cases | recall@1 | recall@5 | MRR |", "|---|---|---|---|---|"]
        for lang, m in bench["retrieval"].items():
            lines.append(f"| {lang} | {m['cases']} | {m['recall@1']:.2f} | {m[f'recall@{RETRIEVAL_K}']:.2f} | {m['mrr']:.2f} |")
    lines += ["", "## Cases", "", "| case | family | passed | failed | ungraded | seconds | context tokens |",
              "|---|---|---|---|---|---|---|"]
    for r in run.results:
        s = r.summary
        lines.append(f"| {r.case.id} | {r.case.family} | {s['passed']} | {s['failed']} | {s['ungraded']} | "
                     f"{r.seconds:.3f} | {r.context_tokens} |")
    t, c = bench["seconds"], bench["context_tokens"]
    lines += ["", f"Time per case {t['mean']:.3f} ± {t['stddev']:.3f} s; context {c['mean']:.0f} ± {c['stddev']:.0f} tokens."]
    return "\n".join(lines) + "\n"


# --- model calls: recording, replay, the judge ---------------------------------------------


def scrub(value: Any, secrets: list[str]) -> Any:
    """A copy of `value` with auth headers and secret values removed."""
    if isinstance(value, dict):
        return {k: ("[scrubbed]" if k.lower() in {"x-api-key", "authorization"} else scrub(v, secrets))
                for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            if secret:
                value = value.replace(secret, "[scrubbed]")
        return value
    return value


class Recorder:
    """httpx event hooks that keep every request and response of one case."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []

    def on_request(self, request) -> None:
        try:
            body = json.loads(request.content or b"{}")
        except (ValueError, UnicodeDecodeError):
            body = {"raw": "(not JSON)"}
        self.exchanges.append({"request": body, "method": request.method, "url": str(request.url),
                               "headers": dict(request.headers)})

    def on_response(self, response) -> None:
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:2000]}
        if self.exchanges:
            self.exchanges[-1].update({"status": response.status_code, "response": body})


def claude_client(recorder: Recorder | None = None):
    from .backends.claude import ClaudeConfig, make_client

    hooks = {"request": [recorder.on_request], "response": [recorder.on_response]} if recorder else None
    return make_client(ClaudeConfig(), event_hooks=hooks)


class Grade(BaseModel):
    name: str = Field(description="the check's name as given")
    passed: bool
    evidence: str = Field(description="a quote from the answer, or what is missing")


def judge_assertions(
    client, case: Case, answer: Answer, model: str | None = None
) -> dict[str, tuple[bool, str]]:
    """Ask Claude to grade the checks that have no deterministic form, with evidence."""
    from .backends.claude import ClaudeConfig
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
        model=model or ClaudeConfig().model, max_tokens=1500,
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
    label: str = "",
) -> RunResult:
    """Answer (or replay) every case and grade it."""
    import os

    from .backends import offline

    run = RunResult(label=label or f"{backend}{'' if use_retrieval else ' without retrieval'}")
    progress = Progress(len(cases), run.label)
    source = retriever if use_retrieval else _NoRetrieval(retriever)
    secrets = [os.environ.get("ANTHROPIC_API_KEY", "")]
    judge_client = claude_client() if judge else None
    for case in cases:
        recorder = Recorder()
        started = time.perf_counter()
        if replay is not None:
            path = replay / f"{_safe_name(case.id)}.json"
            if not path.is_file():
                raise CaseFileError(f"{replay}: no transcript for case {case.id!r} ({path.name}); record it first")
            transcript = json.loads(path.read_text(encoding="utf-8"))
            answer = Answer.model_validate(transcript["answer"])
            recorder.exchanges = transcript.get("exchanges", [])
        elif backend == "claude":
            from .backends import claude

            answer = claude.answer(case.prompt, source, client=claude_client(recorder), use_retrieval=use_retrieval)
        else:
            answer = offline.compose(case.prompt, source)
        seconds = time.perf_counter() - started
        judged = judge_assertions(judge_client, case, answer) if judge_client else None
        expectations = grade(case, answer, judged)
        if record is not None:
            record.mkdir(parents=True, exist_ok=True)
            transcript = {"case": str(case.id), "prompt": case.prompt, "backend": answer.backend,
                          "answer": answer.model_dump(mode="json"), "exchanges": recorder.exchanges}
            (record / f"{_safe_name(case.id)}.json").write_text(
                json.dumps(scrub(transcript, secrets), ensure_ascii=False, indent=2), encoding="utf-8")
        result = CaseResult(case, answer, expectations, seconds, _context_tokens(answer, retriever, recorder.exchanges))
        run.results.append(result)
        s = result.summary
        progress.step(case.id, None if s["pass_rate"] is None else s["failed"] == 0)
    return run


def write_outputs(out: Path, run: RunResult, bench: dict[str, Any], baseline: dict[str, Any] | None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for r in run.results:
        case_dir = out / _safe_name(r.case.id)
        case_dir.mkdir(exist_ok=True)
        grading = {"expectations": [e.as_dict() for e in r.expectations], "summary": r.summary}
        (case_dir / "grading.json").write_text(json.dumps(grading, ensure_ascii=False, indent=2), encoding="utf-8")
        (case_dir / "answer.json").write_text(r.answer.model_dump_json(indent=2), encoding="utf-8")
    payload = {**bench, "baseline": baseline}
    (out / "benchmark.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    report = out / "report.md"
    report.write_text(markdown_report(bench, run, baseline), encoding="utf-8")
    return report
