"""The OpenAI-compatible backend: the same tool loop over chat-completions function calling,
for a local model (Ollama, llama.cpp's llama-server, vLLM) or any OpenAI-compatible endpoint.

Settings: the server from OPENAI_BASE_URL (default Ollama's http://localhost:11434/v1), the
model from SALES_ITERABLE_OPENAI_MODEL (required: it is what makes `auto` try this backend),
the key from OPENAI_API_KEY, optional (local servers check none, but the SDK refuses to run
without one, so a placeholder is sent when it is unset). The system prompt, the tools
(search, route, submit), the deadline, the redaction of streamed text and the `Answer` are
those every model backend shares (conversation.py); this module is the chat-completions
dialect only.

Tool calls decide before `finish_reason` does: local servers end a tool-call reply with
"stop" as often as with "tool_calls". A call's arguments arrive as a JSON string that may
not parse or fit: the model reads what is wrong in the tool message, as with Claude. A
reply cut at `length`, filtered, or ended without a reason is never an answer. Streamed
tool calls are joined by index; a new id at an index already seen is a new call (Ollama
sends every call of a batch whole, at index 0).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, NamedTuple, Sequence
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from ..answer import Answer, Usage
from ..deadline import Deadline, DeadlineExceeded
from ..language import Lang
from ..retrieve import Retriever
from .base import BackendError, ConfigError, Options, Turn, env_key
from .conversation import (ToolResult, ToolSession, bounded, deadline_setting, messages_for, prepare, shown, streamed,
                           system_prompt)

MODEL_ENV = "SALES_ITERABLE_OPENAI_MODEL"
BASE_URL_ENV = "OPENAI_BASE_URL"
DEFAULT_BASE_URL = "http://localhost:11434/v1"  # Ollama's; llama-server listens on :8080/v1, vLLM on :8000/v1
# Local servers ignore the key, but the SDK will not start without one. Never shown.
PLACEHOLDER_KEY = "sk-no-key-required"
# user:password@ in a URL, which no message may repeat
_CREDENTIALS = re.compile(r"(?<=//)[^/@]*@")


def _without_credentials(url: str) -> str:
    return _CREDENTIALS.sub("", url)


class OpenAIConfig(BaseModel):
    model: str = Field(default_factory=lambda: (os.environ.get(MODEL_ENV) or "").strip())
    base_url: str = Field(default_factory=lambda: (os.environ.get(BASE_URL_ENV) or "").strip() or DEFAULT_BASE_URL,
                          validate_default=True)  # the environment's value is checked like a passed one
    max_tokens: int = Field(default=4000, ge=1)
    max_tool_turns: int = 6
    max_consecutive_faults: int = 3
    timeout: float = 120.0  # one HTTP attempt: a local model can be slow to write a whole reply
    # One retry: a server that is down should hand over to the next backend quickly.
    max_retries: int = 1
    # One whole answer: every attempt, retry and tool turn (env SALES_ITERABLE_OPENAI_DEADLINE).
    deadline: float = deadline_setting("SALES_ITERABLE_OPENAI_DEADLINE")
    budget_tokens: int = 1800

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            url = urlsplit(value)
            url.port  # noqa: B018 - parsing the port is what rejects ':abc'
        except ValueError:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"{BASE_URL_ENV} {shown(_without_credentials(value), 80)!r} is not an http(s):// URL")
        return value.rstrip("/")

    def where(self) -> str:
        """The server, as an error message names it (never with credentials typed into the URL)."""
        url = urlsplit(self.base_url)
        return f"{url.scheme}://{url.netloc.rpartition('@')[2]}{url.path}"


class OpenAIError(BackendError):
    """The OpenAI-compatible backend could not produce an answer; the message is safe to show."""


def _sdk():
    try:
        import openai
    except ImportError:
        raise ConfigError("the openai backend needs the openai package: pip install 'sales-iterable[openai]'") from None
    return openai


def make_client(config: OpenAIConfig, event_hooks: dict[str, list] | None = None):
    openai = _sdk()
    http_client = openai.DefaultHttpxClient(event_hooks=event_hooks) if event_hooks else None
    return openai.OpenAI(base_url=config.base_url, api_key=OpenAIBackend.key() or PLACEHOLDER_KEY,
                         timeout=config.timeout, max_retries=config.max_retries, http_client=http_client)


class Call(NamedTuple):
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


class Reply(NamedTuple):
    text: str
    calls: list[Call]
    finish: str | None
    usage: Usage


def _function(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool as chat completions declares it: the same JSON schema, as `parameters`."""
    return {"type": "function", "function": {"name": schema["name"], "description": schema["description"],
                                             "parameters": schema["input_schema"]}}


def _usage(usage: Any) -> Usage:
    """One request's usage; cached prompt tokens are part of prompt_tokens here (unlike the
    Anthropic API), and a server may report none at all."""

    def count(source: Any, name: str) -> int:
        value = getattr(source, name, None)
        return value if isinstance(value, int) and value > 0 else 0

    cached = count(getattr(usage, "prompt_tokens_details", None), "cached_tokens")
    return Usage(requests=1, input_tokens=max(count(usage, "prompt_tokens") - cached, 0),
                 output_tokens=count(usage, "completion_tokens"), cache_read_tokens=cached)


def _call(client, config: OpenAIConfig, deadline: Deadline, messages: list[dict], tools: list[dict],
          on_text: Callable[[str], None] | None) -> Reply:
    if deadline.remaining() <= 0:  # off the main thread nothing else stops a late answer
        raise DeadlineExceeded()
    request = dict(model=config.model, messages=messages, tools=tools, max_tokens=config.max_tokens,
                   timeout=min(config.timeout, deadline.remaining()))
    if on_text is None:
        return _whole(client.chat.completions.create(**request))
    return _streamed(client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True}),
                     on_text)


def _whole(response: Any) -> Reply:
    # The SDK builds replies leniently: a body of the wrong shape still "parses".
    choices = getattr(response, "choices", None)
    message = getattr(choices[0], "message", None) if isinstance(choices, list) and choices else None
    text = getattr(message, "content", None)
    if message is None or not isinstance(text, (str, type(None))):
        raise OpenAIError("the server sent a reply that is not a chat completion")
    calls = []
    for position, tool_call in enumerate(getattr(message, "tool_calls", None) or []):
        function = getattr(tool_call, "function", None)
        name, arguments = getattr(function, "name", None), getattr(function, "arguments", None)
        if not isinstance(name, str) or not isinstance(arguments, (str, type(None))):
            raise OpenAIError("the server sent a tool call without a name or arguments")
        calls.append(Call(getattr(tool_call, "id", None) or f"call_{position}", name, arguments or ""))
    return Reply(text or "", calls, getattr(choices[0], "finish_reason", None), _usage(getattr(response, "usage", None)))


def _streamed(stream: Any, on_text: Callable[[str], None]) -> Reply:
    text: list[str] = []
    slots: list[dict[str, str]] = []
    at_index: dict[int, dict[str, str]] = {}
    finish, usage = None, Usage(requests=1)
    with streamed(on_text) as feed, stream:
        for chunk in stream:
            if getattr(chunk, "usage", None) is not None:  # the last chunk, when include_usage is honoured
                usage = _usage(chunk.usage)
            if not getattr(chunk, "choices", None):
                continue
            choice = chunk.choices[0]
            delta = getattr(choice, "delta", None)
            if isinstance(getattr(delta, "content", None), str) and delta.content:
                text.append(delta.content)
                feed(delta.content)
            for piece in getattr(delta, "tool_calls", None) or []:
                slot = at_index.get(piece.index)
                if slot is None or (piece.id and slot["id"] and piece.id != slot["id"]):
                    slot = at_index[piece.index] = {"id": "", "name": "", "arguments": ""}
                    slots.append(slot)
                slot["id"] = piece.id or slot["id"]
                if piece.function is not None:
                    slot["name"] = slot["name"] or piece.function.name or ""
                    slot["arguments"] += piece.function.arguments or ""
            finish = getattr(choice, "finish_reason", None) or finish
    calls = [Call(s["id"] or f"call_{i}", s["name"], s["arguments"]) for i, s in enumerate(slots)]
    return Reply("".join(text), calls, finish, usage)


def _run(session: ToolSession, call: Call) -> ToolResult:
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError as exc:
        return ToolResult(f"the arguments of {call.name} are not valid JSON ({exc}); send one JSON object",
                          is_error=True)
    return session.run(call.name, arguments)


def _failure(exc: Exception, seconds: float, config: OpenAIConfig) -> OpenAIError:
    """An OpenAIError that says what went wrong, with nothing from the reply's text in it."""
    openai = _sdk()
    where = shown(config.where(), 120)
    if isinstance(exc, openai.AuthenticationError):
        return OpenAIError(f"the server at {where} rejected the API key (401): check OPENAI_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return OpenAIError(f"the server at {where} answered 404: does it serve the model "
                           f"{shown(config.model, 80)!r} ({MODEL_ENV})?")
    if isinstance(exc, openai.APIStatusError):
        retried = exc.status_code in (408, 409, 429) or exc.status_code >= 500  # the SDK retries these
        return OpenAIError(f"the server at {where} answered {exc.status_code}{' after retries' if retried else ''}")
    if isinstance(exc, openai.APITimeoutError):  # a kind of connection error: asked first
        return OpenAIError(f"the server at {where} did not answer (gave up after {seconds:.0f} s)")
    if isinstance(exc, openai.APIConnectionError):
        return OpenAIError(f"cannot reach the server at {where} (connection failed): is it running? ({BASE_URL_ENV})")
    return OpenAIError(f"the server at {where} sent a reply that could not be used ({type(exc).__name__})")


def answer(question: str, retriever: Retriever, config: OpenAIConfig, client: Any, lang_override: Lang | None = None,
           on_text: Callable[[str], None] | None = None, history: Sequence[Turn] = (),
           use_retrieval: bool = True) -> Answer:
    """Answer `question`; `history` is the conversation so far. Raises OpenAIError for
    every failure, within `config.deadline` seconds."""
    return bounded(config.deadline, lambda deadline: _converse(
        question, retriever, config, client, deadline, lang_override, on_text, history, use_retrieval),
        who=f"the model {shown(config.model, 80)!r}", error=OpenAIError, failure=lambda exc, seconds: _failure(exc, seconds, config))


def _converse(question: str, retriever: Retriever, config: OpenAIConfig, client: Any, deadline: Deadline,
              lang_override: Lang | None, on_text: Callable[[str], None] | None,
              history: Sequence[Turn], use_retrieval: bool) -> Answer:
    user, lang = prepare(question, lang_override)
    session = ToolSession(retriever, config.budget_tokens, use_retrieval)
    tools = [_function(t.schema()) for t in session.tools]
    messages = [{"role": "system", "content": system_prompt()}, *messages_for(history, user)]
    faults = 0
    usage = Usage()
    for _ in range(config.max_tool_turns + 1):
        reply = _call(client, config, deadline, messages, tools, on_text)
        usage += reply.usage
        match reply.finish:
            case "stop" | "tool_calls" | "function_call":
                pass  # a whole reply: its calls, if any, decide
            case "length":
                raise OpenAIError(f"the model's reply was cut off at the {config.max_tokens}-token limit: "
                                  "no complete answer")
            case "content_filter":
                raise OpenAIError("the model declined to answer (content filter)")
            case None:
                raise OpenAIError("the server ended the reply without saying it was complete")
            case unknown:
                raise OpenAIError(f"the reply ended for a reason this version does not know ({shown(unknown, 60)!r})")
        if not reply.calls:
            if reply.text.strip():  # the model answered in prose instead of submitting: accept it
                return session.answer({"answer": reply.text.strip()}, lang, OpenAIBackend.name, usage)
            raise OpenAIError("the model ended without an answer")
        usage += Usage(tool_calls=len(reply.calls))
        messages.append({"role": "assistant", "content": reply.text or None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.calls]})
        results = [_run(session, c) for c in reply.calls]
        # A tool message has no error flag: the text says so.
        messages += [{"role": "tool", "tool_call_id": c.id, "content": f"error: {r.content}" if r.is_error else r.content}
                     for c, r in zip(reply.calls, results)]
        if session.final is not None:
            return session.answer(session.final, lang, OpenAIBackend.name, usage)
        faults = faults + 1 if all(r.is_error for r in results) else 0
        if faults >= config.max_consecutive_faults:
            raise OpenAIError(f"the model's tool calls failed {faults} times in a row")
    raise OpenAIError(f"no answer after {config.max_tool_turns} tool turns")


class OpenAIBackend:
    """The loop behind the `Backend` protocol. Its settings and the SDK are checked when it
    is built, so a missing model or package is a bad setting before any question is asked."""

    name = "openai"
    title = "OpenAI-compatible"
    needs_key = False  # optional: sent when set
    key_env = "OPENAI_API_KEY"

    def __init__(self, options: Options = Options(), config: OpenAIConfig | None = None) -> None:
        self.options = options
        self.config = config or OpenAIConfig()
        if not self.config.model:
            raise ConfigError(f"the openai backend needs a model: export {MODEL_ENV}=... (a name the server at "
                              f"{BASE_URL_ENV}, default {DEFAULT_BASE_URL}, serves)")
        self.key()
        _sdk()

    @classmethod
    def configured(cls) -> bool:
        """`auto` tries it once a model is named: with no key needed, that is the opt-in."""
        return bool((os.environ.get(MODEL_ENV) or "").strip())

    @classmethod
    def key(cls) -> str:
        """OPENAI_API_KEY, or "" when unset; ConfigError when it could never be sent."""
        return env_key(cls.key_env)

    def answer(self, question: str, retriever: Retriever, *, lang: Lang | None = None, history: Sequence[Turn] = (),
               on_text: Callable[[str], None] | None = None) -> Answer:
        client = make_client(self.config, self.options.event_hooks)
        return answer(question, retriever, self.config, client, lang_override=lang, on_text=on_text, history=history,
                      use_retrieval=self.options.use_retrieval)
