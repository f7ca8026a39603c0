"""The LLM judge (`eval --judge`): Claude grades the checks that have no deterministic form,
quoting the answer as evidence.

The default model refuses forced tool use (`tool_choice` "tool" or "any"), so the grading
tool is offered with `strict: true` (its input then always fits the schema) and the prompt
says to call it. A reply without a usable call (prose, a cut-off or refused reply) leaves
the checks ungraded, never passed."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError

from .answer import Answer
from .evalcases import Case
from .grading import checked_text


def judge_client():
    from .backends.claude import ClaudeConfig, make_client

    return make_client(ClaudeConfig())


def judge_model() -> str:
    from .backends.claude import ClaudeConfig

    return ClaudeConfig().model


# Only a reply that ended on its own carries a whole verdict.
_FINISHED = ("tool_use", "end_turn")


class Grade(BaseModel):
    name: str = Field(description="the check's name as given")
    passed: bool
    evidence: str = Field(description="a quote from the answer, or what is missing")


def judge_assertions(
    client, case: Case, answer: Answer, model: str | None = None
) -> dict[str, tuple[bool, str]]:
    """Ask Claude to grade the checks that have no deterministic form, with evidence."""
    from anthropic import transform_schema

    from .backends.claude import ClaudeConfig
    from .tools import tool_from_function

    todo = {a.name: a.description or a.name for a in case.assertions if not a.deterministic}
    todo.update({f"expectation-{i + 1}": text for i, text in enumerate(case.expectations)})
    if not todo:
        return {}

    def record_grades(grades: list[Grade]) -> None:
        """Record a verdict for every check, quoting the answer as evidence."""

    tool = tool_from_function(record_grades)
    schema = tool.schema()
    # strict needs additionalProperties false on every object; the SDK's transform adds it
    schema = {**schema, "input_schema": transform_schema(schema["input_schema"]), "strict": True}
    rubric = (
        "You grade an answer from an Iterable help assistant against checks. For each check decide passed true "
        "or false; quote the part of the answer that decides it as evidence (or say what is missing). Be strict: "
        "a check passes only if the answer clearly satisfies it. Give your verdicts by calling the "
        f"`{tool.name}` tool once, with one grade per check; write nothing else.\n\n"
        f"Question:\n{case.prompt}\n\nExpected (from the worked example):\n{case.expected_output or '-'}\n\n"
        f"Answer:\n{checked_text(answer)}\n\nChecks:\n" + "\n".join(f"- {k}: {v}" for k, v in todo.items())
    )
    config = ClaudeConfig()
    response = client.messages.create(
        model=model or config.model, max_tokens=config.max_tokens, tools=[schema],
        messages=[{"role": "user", "content": rubric}], **config.request_settings(),
    )
    verdicts: dict[str, tuple[bool, str]] = {}
    if getattr(response, "stop_reason", None) not in _FINISHED:
        return verdicts
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
