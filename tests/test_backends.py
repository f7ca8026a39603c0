"""The backend seam: the registry is the one list of backends, and `answer_with_fallback`
is the one auto/fallback rule the CLI, the REPL and the evals share. Fake backends are
registered for a test; the real offline composer answers what they hand over."""

from __future__ import annotations

import pytest

from sales_iterable import backends
from sales_iterable.backends import BackendError, ConfigError, Options, Turn, answer_with_fallback
from sales_iterable.cli import build_parser, main


class Recorded:
    """A keyless backend that remembers what it was asked."""

    name = "recorded"
    title = "Recorded"
    needs_key = False
    key_env = None
    calls: list[dict] = []

    def __init__(self, options: Options = Options()) -> None:
        self.options = options

    @classmethod
    def configured(cls) -> bool:
        return True

    def answer(self, question, retriever, *, lang=None, history=(), on_text=None):
        from sales_iterable.answer import Answer

        Recorded.calls.append({"question": question, "lang": lang, "history": list(history), "options": self.options})
        return Answer(answer=f"recorded: {question}", language=lang or "en", backend=self.name)


class Failing(Recorded):
    """Needs a key (FAKE_BACKEND_KEY) and fails whenever it is asked."""

    name = "failing"
    title = "Failing"
    needs_key = True
    key_env = "FAKE_BACKEND_KEY"

    @classmethod
    def configured(cls) -> bool:
        import os

        return bool(os.environ.get(cls.key_env))

    def answer(self, question, retriever, **kwargs):
        raise BackendError("the fake service is down")


class Misconfigured(Recorded):
    name = "misconfigured"

    def __init__(self, options: Options = Options()) -> None:
        raise ConfigError("misconfigured needs a setting it does not have")


@pytest.fixture
def registry(monkeypatch):
    Recorded.calls = []
    monkeypatch.setattr(backends, "REGISTRY", {
        "failing": "test_backends:Failing",
        "misconfigured": "test_backends:Misconfigured",
        "recorded": "test_backends:Recorded",
        "offline": "sales_iterable.backends.offline:OfflineBackend",
    })
    monkeypatch.delenv("FAKE_BACKEND_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def test_choices_on_every_face_come_from_the_registry(registry):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    ask = next(a for a in sub["ask"]._actions if a.dest == "backend")
    chat = next(a for a in sub["chat"]._actions if a.dest == "backend")
    ev = next(a for a in sub["eval"]._actions if a.dest == "backend")
    assert list(ask.choices) == list(chat.choices) == ["auto", "failing", "misconfigured", "recorded", "offline"]
    assert list(ev.choices) == ["failing", "misconfigured", "recorded", "offline"]
    assert "failing" in backends.auto_help() and "offline" in backends.auto_help()


def test_auto_skips_backends_without_their_key_and_says_so(registry, monkeypatch):
    monkeypatch.delitem(backends.REGISTRY, "misconfigured")
    assert backends.resolve("auto") == ["recorded", "offline"]
    assert backends.auto_notice("auto") == "no FAKE_BACKEND_KEY set; the recorded backend answers"
    assert backends.auto_notice("recorded") is None


def test_a_failure_under_auto_falls_back_to_the_next_backend_with_one_notice(registry, monkeypatch, retriever):
    monkeypatch.setitem(backends.REGISTRY, "misconfigured", "test_backends:Recorded")
    monkeypatch.setenv("FAKE_BACKEND_KEY", "set")
    notices: list[str] = []
    answer = answer_with_fallback("auto", "What is Studio?", retriever, notify=notices.append)
    assert notices == ["Failing failed (the fake service is down); answering misconfigured instead"]
    assert answer.backend == "recorded"


def test_a_named_backend_fails_without_fallback(registry, monkeypatch, retriever):
    monkeypatch.setenv("FAKE_BACKEND_KEY", "set")
    notices: list[str] = []
    with pytest.raises(BackendError, match="fake service is down"):
        answer_with_fallback("failing", "What is Studio?", retriever, notify=notices.append)
    assert notices == []


def test_a_bad_setting_is_never_fallen_back_on(registry, retriever):
    with pytest.raises(ConfigError, match="needs a setting"):
        answer_with_fallback("misconfigured", "What is Studio?", retriever, notify=lambda _: None)


def test_an_unknown_backend_names_the_choices(registry):
    with pytest.raises(ConfigError, match="choose one of auto, failing"):
        backends.resolve("nope")


def test_history_lang_and_options_reach_the_backend(registry, retriever):
    history = [Turn("How do I set up push?", "Here is how…")]
    options = Options(use_retrieval=False)
    answer_with_fallback("recorded", "and Android?", retriever, notify=lambda _: None, lang="zh",
                         history=history, options=options)
    assert Recorded.calls == [{"question": "and Android?", "lang": "zh", "history": history, "options": options}]


def test_the_offline_backend_reads_the_questions_of_the_history(registry, retriever):
    alone = answer_with_fallback("offline", "and what about exports?", retriever, notify=lambda _: None)
    followed = answer_with_fallback("offline", "and what about exports?", retriever, notify=lambda _: None,
                                    history=[Turn("What's the rate limit for bulk event tracking?", "…")])
    assert "no earlier question" in alone.answer
    assert "no earlier question" not in followed.answer and followed.backend == "offline"


@pytest.mark.fault("fallback")
def test_ask_uses_the_registry_and_its_fallback(registry, monkeypatch, capsys, use_settings):
    monkeypatch.setenv("SALES_ITERABLE_DATA_DIR", str(use_settings.data_dir))
    monkeypatch.setenv("FAKE_BACKEND_KEY", "set")
    monkeypatch.setitem(backends.REGISTRY, "misconfigured", "test_backends:Recorded")
    assert main(["ask", "--json", "What is Studio?"]) == 0
    captured = capsys.readouterr()
    assert '"backend": "recorded"' in captured.out
    assert captured.err.count("answering misconfigured instead") == 1


@pytest.mark.fault("exit")
def test_ask_with_a_misconfigured_backend_is_a_usage_error(registry, monkeypatch, capsys, use_settings):
    monkeypatch.setenv("SALES_ITERABLE_DATA_DIR", str(use_settings.data_dir))
    assert main(["ask", "--backend", "misconfigured", "What is Studio?"]) == 2
    err = capsys.readouterr().err
    assert "needs a setting" in err and err.count("\n") == 1
