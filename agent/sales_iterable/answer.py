"""The `Answer` every backend returns and every face renders: the answer, its stated
assumptions, at most two clarifying questions, a route to a sibling skill, the sources
and the language, and, from a model backend, what it cost (`Usage`). It redacts itself
as it is made."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from .language import Lang
from .safety import redact_data

MAX_QUESTIONS = 2


class Route(BaseModel):
    skill: str  # the slash command, e.g. "/sales-deliverability"
    reason: str


class Source(BaseModel):
    id: str
    section: str


class Usage(BaseModel):
    """What one answer cost a model backend, summed over every request it made (tool
    turns, continuations and retries included). The four token counts are disjoint, as
    the Anthropic API reports them: `input_tokens` is the input neither read from nor
    written to the prompt cache."""

    requests: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Every token the answer's requests read or wrote."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens + self.output_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in Usage.model_fields})


class Answer(BaseModel):
    """An answer from any backend. It never holds a secret: every string in it (the answer,
    assumptions, questions, the route's reason...) passes the redaction boundary as the
    Answer is made, so no caller can print, stream or store an unredacted one."""

    answer: str
    assumptions: list[str] = Field(default_factory=list)
    clarifying_questions: list[str] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    route: Route | None = None
    sources: list[Source] = Field(default_factory=list)
    language: Lang
    backend: str
    usage: Usage | None = None  # None from a backend that calls no model (offline)

    @field_validator("answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the answer is empty")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _redacted(cls, data, handler):
        return handler(redact_data(handler(data).model_dump()))


def trim_questions(questions: list[str]) -> list[str]:
    """Repair for a model answer that asks too much: drop blanks and repeats, keep two."""
    seen: list[str] = []
    for q in questions:
        q = q.strip()
        if q and q not in seen:
            seen.append(q)
    return seen[:MAX_QUESTIONS]
