"""Answer backends: a name -> class registry, imported lazily, and the one fallback rule.

`REGISTRY` is the only list of backends: the CLI's and the REPL's choices, the eval's,
and `auto` all come from it. `auto` tries the backends in registry order, skipping those
not configured (each backend says what that takes: a key, a model), and falls back down
the list, with one notice, when one fails; `offline` is last and always configured.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable, Sequence

from .base import Backend, BackendError, ConfigError, Options, Turn

__all__ = ["AUTO", "REGISTRY", "Backend", "BackendError", "ConfigError", "Options", "Turn", "answer_with_fallback",
           "auto_help", "auto_notice", "backend_class", "choices", "create", "resolve"]

AUTO = "auto"
# One line per backend: name -> "module:class". Order is auto's order of preference.
REGISTRY: dict[str, str] = {
    "claude": "sales_iterable.backends.claude:ClaudeBackend",
    "openai": "sales_iterable.backends.openai_compatible:OpenAIBackend",
    "offline": "sales_iterable.backends.offline:OfflineBackend",
}


def choices(auto: bool = True) -> list[str]:
    """Backend names for a command line or a REPL command, `auto` first."""
    return ([AUTO] if auto else []) + list(REGISTRY)


def backend_class(name: str) -> type[Backend]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown backend {name!r}; choose one of {', '.join(choices())}") from None
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def create(name: str, options: Options = Options()) -> Backend:
    """A backend ready to answer; ConfigError (or a pydantic ValidationError for a bad
    setting) when it cannot run here."""
    return backend_class(name)(options)


def auto_help() -> str:
    """`auto` in one line for --help, from the registry (no backend module imported)."""
    return "the first configured backend in the order " + ", ".join(REGISTRY) + "; on a failure, the next"


def resolve(choice: str) -> list[str]:
    """The backends to try, in order, for a choice: `auto` is every configured backend."""
    if choice != AUTO:
        backend_class(choice)  # an unknown name fails here, before any work
        return [choice]
    return [name for name in REGISTRY if backend_class(name).configured()]


def auto_notice(choice: str) -> str | None:
    """What `ask` says when `auto` skips a backend for want of its key."""
    if choice != AUTO:
        return None
    missing = [cls.key_env for cls in map(backend_class, REGISTRY) if cls.needs_key and not cls.configured()]
    chain = resolve(choice)
    if not missing or not chain:
        return None
    return f"no {' or '.join(missing)} set; the {chain[0]} backend answers"


def answer_with_fallback(
    choice: str,
    question: str,
    retriever,
    *,
    notify: Callable[[str], None],
    lang=None,
    history: Sequence[Turn] = (),
    on_text: Callable[[str], None] | None = None,
    options: Options = Options(),
):
    """Answer with `choice` (a backend name or `auto`). A named backend's failure is the
    caller's; under `auto` a failing backend hands over to the next one, and `notify`
    gets one line saying so. ConfigError is never fallen back on."""
    chain = resolve(choice)
    for position, name in enumerate(chain):
        backend = create(name, options)
        try:
            return backend.answer(question, retriever, lang=lang, history=history, on_text=on_text)
        except ConfigError:
            raise
        except BackendError as exc:
            if position == len(chain) - 1:
                raise
            notify(f"{backend.title} failed ({exc}); answering {chain[position + 1]} instead")
    raise ConfigError("no backend is configured")  # unreachable while offline is registered
