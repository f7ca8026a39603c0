"""Answer backends: `offline` (deterministic, no network; the default) and `claude`.

`answer` picks one for `ask` and `chat` alike: `auto` means Claude when ANTHROPIC_API_KEY
is set, and the offline answer, after one notice, whenever Claude fails in any way.
"""

from __future__ import annotations

import os
from typing import Callable

from ..policy import Answer, Lang


def answer(
    question: str,
    retriever,
    backend: str,
    notify: Callable[[str], None],
    lang: Lang | None = None,
    on_text: Callable[[str], None] | None = None,
    history: list[tuple[str, str]] | None = None,
) -> Answer:
    """Answer with `backend` (auto, offline or claude); `notify` gets the one-line fallback notice."""
    from . import offline

    if backend == "auto" and not os.environ.get("ANTHROPIC_API_KEY"):
        backend = "offline"
    asked = [past for past, _ in history or []]  # the offline backend reads follow-ups with the questions
    if backend == "offline":
        return offline.compose(question, retriever, lang_override=lang, history=asked)
    from . import claude

    try:
        return claude.answer(question, retriever, lang_override=lang, on_text=on_text, history=history)
    except claude.ClaudeError as exc:
        if backend == "claude" or isinstance(exc, claude.MissingKeyError):
            raise
        notify(f"Claude failed ({exc}); answering offline instead")
        return offline.compose(question, retriever, lang_override=lang, history=asked)
