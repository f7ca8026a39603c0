"""The question side of the answering policy: what is a question (the skill's own
invocation is not part of it, and it is clipped to a bound), and the wording of the
clarifying questions a backend may ask (English here, Chinese beside SKILL.md)."""

from __future__ import annotations

from pathlib import Path

from .language import Lang
from .skill import load_zh_wording

SKILL_INVOCATION = "/sales-iterable"

_QUESTIONS = {
    "area": "Which part of Iterable is this about (for example Studio journeys, a campaign, push, or Smart Ingest)?",
    "role": "Are you working in the Iterable UI, or integrating through the API/SDK?",
    "goal": "Are you setting this up for the first time, optimizing an existing setup, or troubleshooting a problem?",
    "details": "What exactly do you see (the error message or the metric that looks wrong)?",
    "follows": "What was the earlier question this one follows up on?",
}


def question_text(key: str, lang: Lang, skill_dir: Path | None = None) -> str:
    """The wording of one clarifying question ("area", "role", "goal", "details", "follows")."""
    return _QUESTIONS[key] if lang == "en" else load_zh_wording(skill_dir)["questions"][key]


def clip(text: str, limit: int, what: str = "question") -> tuple[str, str | None]:
    """`text` cut to `limit` characters, and the notice to show when it was cut."""
    if len(text) <= limit:
        return text, None
    return text[:limit], f"{what} truncated from {len(text)} to {limit} characters"


def strip_invocation(question: str) -> str:
    """A leading `/sales-iterable` is the skill's own invocation, not part of the question."""
    stripped = question.strip()
    if stripped.startswith(SKILL_INVOCATION) and (len(stripped) == len(SKILL_INVOCATION) or stripped[len(SKILL_INVOCATION)].isspace()):
        return stripped[len(SKILL_INVOCATION):].strip()
    return stripped
