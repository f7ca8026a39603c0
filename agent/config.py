"""One settings object for the whole program (env prefix ``SALES_ITERABLE_``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def _data_root(name: str) -> Path:
    """Where repo-level data (corpus/, skill/) lives: beside the package in a source or
    editable install, or inside it (``agent/_data``) in a wheel."""
    beside = PACKAGE_DIR.parent / name
    if beside.is_dir():
        return beside
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
    # Retrieval defaults; the CLI can override per call.
    top_k: int = 5
    budget_tokens: int = 1800
    max_query_chars: int = 2000

    @field_validator("chroma_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
