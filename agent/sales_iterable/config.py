"""One settings object for the whole program (env prefix ``SALES_ITERABLE_``)."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def _data_root(name: str) -> Path:
    """Where repo-level data (corpus/, skill/) lives: at the top of the checkout in a source
    or editable install (the package sits in its `agent/` folder), or inside the package
    (``sales_iterable/_data``) in a wheel."""
    checkout = PACKAGE_DIR.parents[1] / name
    if PACKAGE_DIR.parent.name == "agent" and checkout.is_dir():
        return checkout
    return PACKAGE_DIR / "_data" / name


def default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "sales-iterable"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALES_ITERABLE_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    corpus_dir: Path = Field(default_factory=lambda: _data_root("corpus"))
    skill_dir: Path = Field(default_factory=lambda: _data_root("skill") / "sales-iterable")
    evals_dir: Path = Field(default_factory=lambda: _data_root("evals"))
    # use | e5 | hash | st:<sentence-transformers model name or path>
    embedder: str = "use"
    chroma_url: str | None = None
    # Seconds a Chroma server may take to accept a connection and to answer a request.
    chroma_timeout: float = Field(default=30.0, gt=0, le=3600)
    # Retrieval defaults; the CLI can override per call.
    top_k: int = 5
    budget_tokens: int = 1800
    max_query_chars: int = 2000

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, value: str | None) -> str | None:
        """Blank means the embedded store; anything else must be http(s)://HOST[:PORT], and
        is stored normalized (scheme and port spelled out) so every later use agrees."""
        value = (value or "").strip()
        return normalize_chroma_url(value) if value else None


def normalize_chroma_url(value: str) -> str:
    """`http://HOST:PORT` for what a user typed (`HOST:PORT` alone means http); a
    ValueError naming the problem for anything that is not a Chroma server address."""
    shown = repr(re.sub(r"//[^/@]*@", "//***@", value))  # never echo credentials typed into a URL
    expected = "expected http://HOST:PORT or https://HOST:PORT"
    try:
        url = urlsplit(value if "://" in value else f"http://{value}")
        port = url.port  # parsing the port is what rejects ':abc' and ':99999'
    except ValueError as exc:
        raise ValueError(f"bad Chroma URL {shown} ({exc}); {expected}") from None
    if url.scheme not in ("http", "https"):
        problem = f"scheme {url.scheme!r} is not http or https"
    elif not url.hostname:
        problem = "no host"
    elif url.username is not None or url.password is not None:
        problem = "credentials in the URL are not supported"
    elif url.path not in ("", "/") or url.query or url.fragment:
        problem = "a path, query or fragment is not supported"
    elif port == 0:
        problem = "port 0"
    else:
        host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
        return f"{url.scheme}://{host}:{port or (443 if url.scheme == 'https' else 8000)}"
    raise ValueError(f"bad Chroma URL {shown}: {problem}; {expected}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
