"""The Claude backend: an Anthropic Messages API tool-use loop.

The system prompt is SKILL.md (cached with cache_control); the model may call
`search_reference` and `route_to_skill`, and finishes by calling `submit_answer`, whose
arguments become the validated `Answer`. Every tool_use gets a tool_result; bad tool input
and tool faults go back to the model as `is_error` results; the loop has a cap on turns
and on consecutive faults. Retries are the SDK's own; one deadline bounds the whole
answer (every attempt, retry and tool turn). Any failure is a `ClaudeError`, so `auto`
can fall back on it. Streamed text is redacted as it streams; the `Answer` redacts itself
when it is made, and carries the `Usage` of every request made for it. (What any model
backend shares, deadline and redaction included, is in conversation.py.)

Every `stop_reason` has one rule (`_converse`): `end_turn`, `stop_sequence` and `tool_use`
hand the content on; `max_tokens` is never an answer (a cut in prose is continued, a cut
anywhere else is asked again once with a larger limit); `pause_turn` sends the content back
as it is; `refusal`, `model_context_window_exceeded` and any value this code does not know
are a ClaudeError. Settings follow the guidance for the default model (claude-sonnet-5-5):
no `thinking` field (adaptive thinking, its default, since `disabled` and budgets are
refused), effort `medium`, `max_tokens` sized for thinking plus the answer and kept under
the SDK's non-streaming ceiling, no `tool_choice` (forced tool use is refused) and no
sampling parameters; thinking blocks go back to the API unchanged within a turn.

`ClaudeBackend` is this loop behind the `Backend` protocol; it alone reads ANTHROPIC_API_KEY.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Literal, Sequence

from pydantic import BaseModel, Field, model_validator

from ..answer import Answer, Usage
from ..deadline import Deadline, DeadlineExceeded
from ..language import Lang
from ..retrieve import Retriever
from ..tools import Tool
from .base import BackendError, ConfigError, Options, Turn, env_key
from .conversation import (ToolSession, bounded, deadline_setting, messages_for, prepare, shown, streamed,
                           system_prompt)

DEFAULT_MODEL = "claude-sonnet-5-5"
# The SDK wants streaming above this max_tokens on a call without its own timeout; every
# call here passes one, but a non-streamed call is kept under it all the same.
NON_STREAMING_CEILING = 21_333
Effort = Literal["low", "medium", "high", "xhigh", "max"]
CONTINUE = "Please continue from where you left off."


def _effort_from_env() -> str | None:
    """SALES_ITERABLE_CLAUDE_EFFORT: unset means medium; `default` (or empty) sends none,
    for a model that takes no effort setting."""
    value = os.environ.get("SALES_ITERABLE_CLAUDE_EFFORT")
    if value is None:
        return "medium"
    return None if value.strip().lower() in ("", "default") else value.strip().lower()


class ClaudeConfig(BaseModel):
    model: str = Field(default_factory=lambda: os.environ.get("SALES_ITERABLE_MODEL") or DEFAULT_MODEL)
    # Thinking tokens count toward max_tokens, and the default model thinks unless told not
    # to (it refuses `disabled`): room for the thinking and the answer.
    max_tokens: int = Field(default=8000, ge=1, le=NON_STREAMING_CEILING)
    # A reply cut anywhere but in prose is asked for again, once, with this limit.
    retry_max_tokens: int = Field(default=16000, ge=1, le=NON_STREAMING_CEILING)
    # medium: the guidance for tool-use loops and chat on the default model (its own default is high).
    effort: Effort | None = Field(default_factory=_effort_from_env, validate_default=True)
    max_tool_turns: int = 6
    max_consecutive_faults: int = 3
    timeout: float = 60.0  # one HTTP attempt
    max_retries: int = 2
    # One whole answer: every attempt, retry and tool turn (env SALES_ITERABLE_CLAUDE_DEADLINE).
    deadline: float = deadline_setting("SALES_ITERABLE_CLAUDE_DEADLINE")
    budget_tokens: int = 1800

    @model_validator(mode="after")
    def _retry_is_larger(self) -> "ClaudeConfig":
        self.retry_max_tokens = max(self.retry_max_tokens, self.max_tokens)
        return self

    def request_settings(self) -> dict[str, Any]:
        """What every request of an answer sends besides the conversation; the same on
        every turn, since a change of effort mid-loop would drop the cached prompt."""
        return {"output_config": {"effort": self.effort}} if self.effort else {}


class ClaudeError(BackendError):
    """The Claude backend could not produce an answer; the message is safe to show."""


class MissingKeyError(ClaudeError, ConfigError):
    """No usable API key: a bad setting, not a failure of Claude."""


def system_blocks() -> list[dict[str, Any]]:
    return [{"type": "text", "text": system_prompt(), "cache_control": {"type": "ephemeral"}}]


def make_client(config: ClaudeConfig, event_hooks: dict[str, list] | None = None):
    """The SDK client (the SDK reads ANTHROPIC_BASE_URL itself); `event_hooks` let evals
    record every request and response."""
    key = ClaudeBackend.key()
    import anthropic

    http_client = anthropic.DefaultHttpxClient(event_hooks=event_hooks) if event_hooks else None
    return anthropic.Anthropic(api_key=key, max_retries=config.max_retries, timeout=config.timeout,
                               http_client=http_client)


def _call(client, config: ClaudeConfig, deadline: Deadline, messages: list[dict], tools: list[Tool],
          on_text: Callable[[str], None] | None, max_tokens: int):
    if deadline.remaining() <= 0:  # off the main thread nothing else stops a late answer
        raise DeadlineExceeded()
    request = dict(
        model=config.model,
        max_tokens=max_tokens,
        system=system_blocks(),
        tools=[t.schema() for t in tools],
        messages=messages,
        timeout=min(config.timeout, deadline.remaining()),
        **config.request_settings(),
    )
    if on_text is None:
        return _checked(client.messages.create(**request))
    with streamed(on_text) as feed, client.messages.stream(**request) as stream:
        for piece in stream.text_stream:
            feed(piece)
        response = stream.get_final_message()
    return _checked(response)


def _checked(response: Any) -> Any:
    """`response` if it is a whole message (whatever its stop_reason); a ClaudeError for
    anything else."""
    # The SDK builds replies leniently: a body of the wrong shape still "parses".
    content = getattr(response, "content", None)
    if (
        not isinstance(content, list)
        or not isinstance(getattr(response, "stop_reason", None), str)
        or not all(_whole_block(block) for block in content)
    ):
        raise ClaudeError("the Anthropic API sent a reply that is not a message")
    return response


def usage_of(counts: Any, tool_calls: int = 0) -> Usage:
    """One request's `Usage` from the API's usage object as data (a mapping); a count it
    left out, null or not a count is 0. Evals read recorded transcripts with it too."""
    counts = counts if isinstance(counts, dict) else {}

    def count(name: str) -> int:
        value = counts.get(name)
        return value if isinstance(value, int) and value > 0 else 0

    return Usage(requests=1, tool_calls=tool_calls, input_tokens=count("input_tokens"),
                 output_tokens=count("output_tokens"), cache_read_tokens=count("cache_read_input_tokens"),
                 cache_write_tokens=count("cache_creation_input_tokens"))


def _usage(response: Any) -> Usage:
    usage = getattr(response, "usage", None)
    return usage_of(usage.model_dump() if hasattr(usage, "model_dump") else None)


def _refused(response: Any) -> ClaudeError:
    details = getattr(response, "stop_details", None)
    category = getattr(details, "category", None)
    explanation = getattr(details, "explanation", None)
    kind = f"refusal, category {shown(category, 40)}" if category else "refusal"
    return ClaudeError(f"Claude declined to answer ({kind})" + (f": {shown(explanation)}" if explanation else ""))


def _whole_block(block: Any) -> bool:
    kind = getattr(block, "type", None)
    if kind == "tool_use":
        return (isinstance(getattr(block, "id", None), str) and isinstance(getattr(block, "name", None), str)
                and isinstance(getattr(block, "input", None), dict))
    return isinstance(kind, str)


def _failure(exc: Exception, seconds: float) -> ClaudeError:
    """A ClaudeError that says what went wrong, with nothing from the reply's text in it."""
    import anthropic

    if isinstance(exc, anthropic.AuthenticationError):
        return ClaudeError("the Anthropic API rejected the API key (401): check ANTHROPIC_API_KEY")
    if isinstance(exc, anthropic.APIStatusError):
        retried = exc.status_code in (408, 409, 429) or exc.status_code >= 500  # the SDK retries these
        return ClaudeError(f"the Anthropic API answered {exc.status_code}{' after retries' if retried else ''}")
    if isinstance(exc, anthropic.APITimeoutError):
        return ClaudeError(f"the Anthropic API did not answer (gave up after {seconds:.0f} s)")
    if isinstance(exc, anthropic.APIConnectionError):
        return ClaudeError("cannot reach the Anthropic API (connection failed)")
    return ClaudeError(f"the Anthropic API sent a reply that could not be used ({type(exc).__name__})")


def _block_dict(block: Any) -> dict[str, Any]:
    data = block.model_dump(exclude_none=True) if hasattr(block, "model_dump") else dict(block)
    allowed = {"text": ("type", "text"), "tool_use": ("type", "id", "name", "input")}.get(data.get("type"))
    return {k: v for k, v in data.items() if allowed is None or k in allowed}


def answer(
    question: str,
    retriever: Retriever,
    config: ClaudeConfig | None = None,
    client: Any = None,
    lang_override: Lang | None = None,
    on_text: Callable[[str], None] | None = None,
    history: Sequence[Turn] = (),
    use_retrieval: bool = True,
) -> Answer:
    """Answer `question`; `history` is the conversation so far.
    Raises ClaudeError for every failure, within `config.deadline` seconds."""
    config = config or ClaudeConfig()
    client = client or make_client(config)
    return bounded(config.deadline, lambda deadline: _converse(
        question, retriever, config, client, deadline, lang_override, on_text, history, use_retrieval),
        who="Claude", error=ClaudeError, failure=_failure)


def _converse(question: str, retriever: Retriever, config: ClaudeConfig, client: Any, deadline: Deadline,
              lang_override: Lang | None, on_text: Callable[[str], None] | None,
              history: Sequence[Turn], use_retrieval: bool) -> Answer:
    user, lang = prepare(question, lang_override)
    session = ToolSession(retriever, config.budget_tokens, use_retrieval)
    messages = messages_for(history, user)
    faults = 0
    usage = Usage()
    max_tokens = config.max_tokens
    cut_prose = ""  # prose written before a max_tokens cut, which the next reply continues
    for _ in range(config.max_tool_turns + 1):
        response = _call(client, config, deadline, messages, session.tools, on_text, max_tokens)
        usage += _usage(response)
        blocks = [_block_dict(b) for b in response.content]
        uses = [b for b in response.content if getattr(b, "type", None) == "tool_use"]
        match response.stop_reason:
            case "end_turn" | "stop_sequence" | "tool_use":
                pass  # a finished reply: its content decides, below (no stop sequences are sent)
            case "max_tokens":
                last = response.content[-1] if response.content else None
                if not uses and getattr(last, "type", None) == "text" and last.text.strip():
                    # Cut in prose: keep it and ask for the rest (a last assistant turn, prefill,
                    # is refused by the default model, so the request is a new user turn).
                    cut_prose += "".join(getattr(b, "text", "") for b in response.content)
                    messages += [{"role": "assistant", "content": blocks}, {"role": "user", "content": CONTINUE}]
                    continue
                if max_tokens < config.retry_max_tokens:
                    # Cut in a tool call (its input is incomplete) or while thinking: the same
                    # request again with room to finish; the partial reply is never sent back.
                    max_tokens = config.retry_max_tokens
                    continue
                raise ClaudeError(f"Claude's reply was cut off at the {max_tokens}-token limit: no complete answer")
            case "pause_turn":
                # The API paused its own turn: the content goes back as it is, to be resumed.
                messages.append({"role": "assistant", "content": blocks})
                continue
            case "refusal":
                raise _refused(response)
            case "model_context_window_exceeded":
                raise ClaudeError("Claude's reply filled the model's context window: no complete answer")
            case unknown:
                raise ClaudeError(f"Claude stopped for a reason this version does not know ({shown(unknown, 60)!r})")
        messages.append({"role": "assistant", "content": blocks})
        if not uses:
            text = (cut_prose + "".join(getattr(b, "text", "") for b in response.content)).strip()
            if text:  # the model answered in prose instead of submitting: accept it
                return session.answer({"answer": text}, lang, ClaudeBackend.name, usage)
            raise ClaudeError("the model ended without an answer")
        cut_prose = ""
        usage += Usage(tool_calls=len(uses))
        results = []
        for use in uses:
            result = session.run(use.name, use.input)
            block = {"type": "tool_result", "tool_use_id": use.id, "content": result.content}
            results.append({**block, "is_error": True} if result.is_error else block)
        if session.final is not None:
            return session.answer(session.final, lang, ClaudeBackend.name, usage)
        faults = faults + 1 if all(r.get("is_error") for r in results) else 0
        if faults >= config.max_consecutive_faults:
            raise ClaudeError(f"the model's tool calls failed {faults} times in a row")
        messages.append({"role": "user", "content": results})
    raise ClaudeError(f"no answer after {config.max_tool_turns} tool turns")


class ClaudeBackend:
    """The tool-use loop behind the `Backend` protocol. Its key and settings are checked
    when it is built, so a bad one is a bad setting before any question is asked."""

    name = "claude"
    title = "Claude"
    needs_key = True
    key_env = "ANTHROPIC_API_KEY"

    def __init__(self, options: Options = Options(), config: ClaudeConfig | None = None) -> None:
        self.options = options
        self.config = config or ClaudeConfig()
        self.key()

    @classmethod
    def configured(cls) -> bool:
        return bool(os.environ.get(cls.key_env))

    @classmethod
    def key(cls) -> str:
        """The API key; MissingKeyError when it is unset or could never be sent."""
        key = env_key(cls.key_env, MissingKeyError)
        if not key:
            raise MissingKeyError(
                f"the claude backend needs an API key: export {cls.key_env}=... (or use --backend offline)")
        return key

    def answer(self, question: str, retriever: Retriever, *, lang: Lang | None = None, history: Sequence[Turn] = (),
               on_text: Callable[[str], None] | None = None) -> Answer:
        client = make_client(self.config, self.options.event_hooks)
        return answer(question, retriever, self.config, client, lang_override=lang, on_text=on_text, history=history,
                      use_retrieval=self.options.use_retrieval)
