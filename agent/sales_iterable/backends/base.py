"""What every answer backend is: the `Backend` protocol, the conversation it is given,
and the two ways it can fail.

A backend is a class with a `name`, a `needs_key` / `key_env` declaration (the key it
reads, if any, and from which environment variable: only the backend itself reads it),
a `configured()` check that `auto` uses without spending anything, and `answer()`. It is
built with `Options` and raises `BackendError` for a failure `auto` may fall back on, or
`ConfigError` for a bad setting (exit 2, never a fallback).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, ClassVar, NamedTuple, Protocol, Sequence

if TYPE_CHECKING:  # the registry imports this module; keep `--help` from loading pydantic models
    from ..answer import Answer
    from ..language import Lang


# NamedTuples, not dataclasses: `--help` imports the registry, and dataclasses costs ~20 ms.


class Turn(NamedTuple):
    """One earlier exchange of the conversation: what was asked and the answer's text.
    Each backend reads what it needs (the offline composer only the questions)."""

    question: str
    answer: str = ""


class Options(NamedTuple):
    """How a run wants its backends built (the same for every backend)."""

    # False: the eval baseline, answering without the reference (skill-creator's without_skill).
    use_retrieval: bool = True
    # httpx event hooks for a backend's HTTP client: the eval runner records exchanges with them.
    event_hooks: dict[str, list[Callable[[Any], None]]] | None = None


class BackendError(RuntimeError):
    """A backend could not produce an answer; the message is safe to show."""


class ConfigError(BackendError):
    """A backend cannot run with these settings (no usable key...): a bad setting, not a
    failure, so `auto` never falls back on it."""


def env_key(name: str, error: type[ConfigError] = ConfigError) -> str:
    """The key in environment variable `name` ("" when unset); `error` when it holds what
    could never be sent as a header (non-ASCII or control characters)."""
    key = os.environ.get(name) or ""
    if key and not (key.isascii() and key.isprintable()):
        raise error(f"{name} holds non-ASCII or control characters, so it cannot be an API key: check its value")
    return key


class Backend(Protocol):
    name: ClassVar[str]
    title: ClassVar[str]  # how a notice names it ("Claude failed …")
    needs_key: ClassVar[bool]
    key_env: ClassVar[str | None]

    @classmethod
    def configured(cls) -> bool:
        """Whether `auto` should try it: its key (if it needs one) is set."""
        ...

    def answer(
        self,
        question: str,
        retriever: Any,
        *,
        lang: Lang | None = None,
        history: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer `question` (in `lang`, default the question's), streaming redacted text
        to `on_text` when the backend streams. Raises BackendError."""
        ...
