"""Shared fixtures. The real USE embedder and a real Chroma index are built once per
session; plumbing tests use the tiny hash embedder in their own temporary stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sales_iterable.config import Settings
from sales_iterable.embed import make_embedder

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def use_embedder():
    return make_embedder("use")


@pytest.fixture(scope="session")
def use_settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("use-index"), embedder="use", corpus_dir=CORPUS)


@pytest.fixture(scope="session")
def retriever(use_settings, use_embedder):
    from sales_iterable.retrieve import open_retriever

    return open_retriever(use_settings, progress=lambda m: None, embedder=use_embedder)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def hash_settings(tmp_path, corpus_copy) -> Settings:
    return Settings(data_dir=tmp_path / "data", embedder="hash", corpus_dir=corpus_copy)


class Messages(list):
    def __call__(self, message: str) -> None:
        self.append(message)

    def saw(self, fragment: str) -> bool:
        return any(fragment in m for m in self)


@pytest.fixture
def messages() -> Messages:
    return Messages()


@pytest.fixture(autouse=True)
def _no_real_model_api(monkeypatch):
    """No test may reach a real model API: drop any key, base URL and local model from the
    environment (a model named for the openai backend would make `auto` try it)."""
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
                 "SALES_ITERABLE_OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
