"""Grading one answer against one eval case: every check passed, failed or (for a check only
the LLM judge can decide) ungraded, and the pass rate skill-creator computes from them."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Any

import regex

from .answer import Answer
from .evalcases import Assertion, Case
from .language import detect_language, han_count

# A case's regex gets this long per answer: ample for any sane pattern, and a bound on
# one that backtracks catastrophically (the `regex` engine enforces it).
REGEX_SECONDS = 1.0


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
        return han_count(prose) >= 10 or detect_language(prose).lang == "zh"
    return detect_language(prose).lang == "en"


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


def summarize_cases(results: list[Any]) -> dict[str, Any]:
    """Counts over several case results (each with a `summary`); `pass_rate` is the mean of
    their pass rates."""
    summaries = [r.summary for r in results]
    rates = [s["pass_rate"] for s in summaries if s["pass_rate"] is not None]
    out = {k: sum(s[k] for s in summaries) for k in ("passed", "failed", "ungraded", "total")}
    return {"cases": len(results), **out, "pass_rate": statistics.mean(rates) if rates else None}
