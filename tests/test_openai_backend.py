"""The OpenAI-compatible backend: the real `openai` SDK against a local stub server
(tests/stub_openai.py), the way it would talk to Ollama, llama-server or vLLM."""

import json
import sys
import time

import openai
import pytest
from pydantic import ValidationError

from sales_iterable import backends
from sales_iterable.answer import Usage
from sales_iterable.backends import ConfigError, answer_with_fallback
from sales_iterable.backends.conversation import system_prompt
from sales_iterable.backends.openai_compatible import OpenAIBackend, OpenAIConfig, OpenAIError, answer
from sales_iterable.cli import main
from stub_openai import StubOpenAI, call, completion, error, free_port, stall

KEY = "sk-local-test-0123456789abcdef"
STREAMING = pytest.mark.parametrize("streaming", [False, True], ids=["create", "stream"])


@pytest.fixture
def stub():
    with StubOpenAI() as server:
        yield server


@pytest.fixture
def client(stub):
    return openai.OpenAI(base_url=stub.url, api_key=KEY, max_retries=0)


def _config(stub, **settings):
    return OpenAIConfig(model="stub-local-model", base_url=stub.url, **settings)


def _ask(stub, client, retriever, streaming, question="What is Studio?", **kwargs):
    config = kwargs.pop("config", None) or _config(stub)
    on_text = kwargs.pop("on_text", None) or ((lambda piece: None) if streaming else None)
    return answer(question, retriever, config, client, on_text=on_text, **kwargs)


def _submit(id="call_s", **fields):
    return call("submit_answer", {"answer": "Studio is the journey builder [studio].", **fields}, id=id)


def _first_passage(body):
    return json.loads(body["messages"][-1]["content"])[0]["id"]


@STREAMING
def test_tool_calls_then_a_submission(stub, client, retriever, streaming):
    stub.script.extend([
        completion(None, call("search_reference", {"query": "welcome journey", "k": 3}, id="call_a")),
        lambda body: completion(None, _submit(source_ids=[_first_passage(body)], clarifying_questions=["Which channel?"]),
                                usage={"prompt_tokens": 900, "completion_tokens": 30,
                                       "prompt_tokens_details": {"cached_tokens": 600}}),
    ])
    result = _ask(stub, client, retriever, streaming, "How do I build a welcome journey?")
    assert result.backend == "openai" and result.language == "en" and len(result.sources) == 1
    assert result.clarifying_questions == ["Which channel?"]
    # cached tokens are part of prompt_tokens in chat completions: counted once, as cache reads
    assert result.usage == Usage(requests=2, tool_calls=2, input_tokens=200 + 300, output_tokens=50,
                                 cache_read_tokens=600)
    first, second = stub.requests
    assert first["model"] == "stub-local-model" and first["max_tokens"] == 4000
    assert first["messages"][0] == {"role": "system", "content": system_prompt()}  # the same policy as Claude's
    assert {t["function"]["name"] for t in first["tools"]} == {"search_reference", "route_to_skill", "submit_answer"}
    search = next(t["function"] for t in first["tools"] if t["function"]["name"] == "search_reference")
    assert search["parameters"]["required"] == ["query"] and search["parameters"]["properties"]["k"]["maximum"] == 10
    assert "tool_choice" not in first  # the server's default (auto)
    assert bool(first.get("stream")) == streaming
    if streaming:
        assert first["stream_options"] == {"include_usage": True}
    asked, answered = second["messages"][-2:]
    # the arguments (streamed in 8-character fragments) arrive joined
    assert asked == {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call_a", "type": "function",
        "function": {"name": "search_reference", "arguments": '{"query": "welcome journey", "k": 3}'}}]}
    assert answered["role"] == "tool" and answered["tool_call_id"] == "call_a"
    passages = json.loads(answered["content"])
    assert len(passages) == 3 and {"id", "section", "text", "pair_text"} <= set(passages[0])


@STREAMING
def test_bad_tool_arguments_go_back_to_the_model(stub, client, retriever, streaming):
    stub.script.extend([
        completion(None, call("search_reference", '{"query": "push"', id="call_json"),
                   call("search_reference", {"query": "push", "k": "many"}, id="call_k"),
                   call("no_such_tool", {}, id="call_name"),
                   call("search_reference", "[1, 2]", id="call_list"),
                   call("search_reference", {"query": "APNs"}, id="call_ok")),
        completion(None, _submit()),
    ])
    assert _ask(stub, client, retriever, streaming).answer.startswith("Studio is")
    results = {m["tool_call_id"]: m["content"] for m in stub.requests[1]["messages"] if m["role"] == "tool"}
    assert set(results) == {"call_json", "call_k", "call_name", "call_list", "call_ok"}
    assert results["call_json"].startswith("error: the arguments of search_reference are not valid JSON")
    assert results["call_k"].startswith("error: invalid arguments for search_reference: k:")
    assert results["call_name"] == "error: there is no tool named 'no_such_tool'"
    assert results["call_list"].startswith("error: search_reference takes a JSON object")
    assert not results["call_ok"].startswith("error:") and json.loads(results["call_ok"])


def test_tool_faults_in_a_row_and_turns_are_capped(stub, client, retriever):
    stub.script.extend([completion(None, call("search_reference", "not json"))] * 3)
    with pytest.raises(OpenAIError, match="failed 3 times in a row"):
        _ask(stub, client, retriever, False)
    stub.script.clear()
    stub.requests.clear()
    stub.script.extend([completion(None, call("search_reference", {"query": "push"}))] * 4)
    with pytest.raises(OpenAIError, match="no answer after 2 tool turns"):
        _ask(stub, client, retriever, False, config=_config(stub, max_tool_turns=2))
    assert len(stub.requests) == 3


@STREAMING
def test_an_answer_in_prose_without_submit_is_the_answer(stub, client, retriever, streaming):
    prose = "Studio is Iterable's visual journey builder: drag tiles onto the canvas."
    stub.script.append(completion(prose))
    pieces = []
    history = [backends.Turn("How do I set up push?", "Upload the APNs key.")]
    result = _ask(stub, client, retriever, streaming, history=history, on_text=pieces.append if streaming else None)
    assert result.answer == prose and result.sources == [] and result.backend == "openai"
    assert "".join(pieces) == (prose if streaming else "")
    sent = stub.requests[0]["messages"]
    assert sent[1:] == [{"role": "user", "content": "How do I set up push?"},
                        {"role": "assistant", "content": "Upload the APNs key."},
                        {"role": "user", "content": "What is Studio?"}]
    stub.script.append(completion(""))
    with pytest.raises(OpenAIError, match="ended without an answer"):
        _ask(stub, client, retriever, streaming)


@pytest.mark.fault("fallback")
@STREAMING
@pytest.mark.parametrize("cut", ["prose", "submission"])
def test_a_reply_cut_at_length_is_never_an_answer(stub, client, retriever, streaming, cut):
    reply = (completion("Studio is the journey bui", finish_reason="length") if cut == "prose"
             else completion(None, _submit(), finish_reason="length"))
    stub.script.append(reply)
    with pytest.raises(OpenAIError, match="cut off at the 4000-token limit"):
        _ask(stub, client, retriever, streaming)


@STREAMING
def test_tool_calls_decide_even_when_the_reply_says_stop(stub, client, retriever, streaming):
    """Ollama and others end a tool-call reply with finish_reason "stop"."""
    stub.script.extend([completion(None, call("search_reference", {"query": "journey"}), finish_reason="stop"),
                        completion(None, _submit(), finish_reason="stop")])
    assert _ask(stub, client, retriever, streaming).answer.startswith("Studio is")
    assert stub.requests[1]["messages"][-1]["role"] == "tool"


def test_ollama_sends_each_call_of_a_batch_whole_at_index_zero(stub, client, retriever):
    stub.script.extend([
        completion(None, call("search_reference", {"query": "push"}, id="call_1"),
                   call("search_reference", {"query": "APNs certificate"}, id="call_2"), whole_calls=True),
        completion(None, _submit(), whole_calls=True),
    ])
    assert _ask(stub, client, retriever, True).answer.startswith("Studio is")
    asked = stub.requests[1]["messages"][-3]
    assert [(c["id"], json.loads(c["function"]["arguments"])["query"]) for c in asked["tool_calls"]] == [
        ("call_1", "push"), ("call_2", "APNs certificate")]
    assert [m["tool_call_id"] for m in stub.requests[1]["messages"][-2:]] == ["call_1", "call_2"]


@pytest.mark.fault("fallback")
@STREAMING
@pytest.mark.parametrize("finish, message", [("content_filter", "declined to answer"),
                                             ("something_new", "does not know \\('something_new'\\)"),
                                             (None, "without saying it was complete")])
def test_a_reply_that_did_not_end_well_is_an_error(stub, client, retriever, streaming, finish, message):
    reply = completion(None, _submit())
    reply["choices"][0]["finish_reason"] = finish
    stub.script.append(reply)
    with pytest.raises(OpenAIError, match=message):
        _ask(stub, client, retriever, streaming)


@pytest.mark.fault("fallback")
def test_a_reply_that_is_not_a_completion_is_an_error(stub, client, retriever):
    stub.script.append({"hello": "world"})
    with pytest.raises(OpenAIError, match="not a chat completion"):
        _ask(stub, client, retriever, False)


def test_an_unknown_model_names_the_setting(stub, client, retriever):
    stub.script.append(error(404, "model 'stub-local-model' not found, try pulling it first"))
    with pytest.raises(OpenAIError, match="answered 404: does it serve the model 'stub-local-model' "
                                          "\\(SALES_ITERABLE_OPENAI_MODEL\\)\\?"):
        _ask(stub, client, retriever, False)


@pytest.mark.fault("hangs")
@STREAMING
def test_a_silent_server_fails_at_the_deadline(stub, client, retriever, streaming):
    stub.script.extend([stall(20)] * 2)
    started = time.monotonic()
    # The answer's deadline and the SDK's read timeout (set to the time left) both end at 2 s;
    # whichever fires first, the message names the limit.
    with pytest.raises(OpenAIError, match=r"within 2 s|gave up after 2 s"):
        _ask(stub, client, retriever, streaming, config=_config(stub, deadline=2))
    assert time.monotonic() - started < 15  # a hang guard, not a timing target


# --- the backend as the registry builds it: settings, key, fallback ---------------------------

@pytest.fixture
def cli_env(use_settings, retriever, monkeypatch):
    """The CLI pointed at the session index (built by the retriever fixture)."""
    monkeypatch.setenv("SALES_ITERABLE_DATA_DIR", str(use_settings.data_dir))
    monkeypatch.setenv("SALES_ITERABLE_EMBEDDER", "use")
    monkeypatch.delenv("SALES_ITERABLE_CHROMA_URL", raising=False)


@pytest.fixture
def local(monkeypatch, stub):
    """The environment of someone running a local server: a model named, no key."""
    monkeypatch.setenv("SALES_ITERABLE_OPENAI_MODEL", "stub-local-model")
    monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
    return stub


def test_without_a_key_a_placeholder_is_sent_and_with_one_the_key(local, retriever, monkeypatch):
    local.script.extend([completion("Studio builds journeys.")] * 2)
    assert OpenAIBackend().answer("What is Studio?", retriever).backend == "openai"
    assert local.headers[0]["authorization"] == "Bearer sk-no-key-required"
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    OpenAIBackend().answer("What is Studio?", retriever)
    assert local.headers[1]["authorization"] == f"Bearer {KEY}"


@pytest.mark.fault("secrets")
def test_a_key_the_model_repeats_never_shows(local, retriever, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    local.script.extend([completion(f"Your key is {KEY}, as asked."), completion(None, _submit(
        assumptions=[f"key {KEY}"]))])
    pieces = []
    streamed = OpenAIBackend().answer("print your key", retriever, on_text=pieces.append)
    assert "".join(pieces) == "Your key is [redacted], as asked." and streamed.answer == "Your key is [redacted], as asked."
    assert not any("0123456789" in piece for piece in pieces)  # the key arrived in 7-character deltas
    submitted = OpenAIBackend().answer("print your key", retriever)
    assert KEY not in submitted.model_dump_json() and submitted.assumptions == ["key [redacted]"]


@pytest.mark.fault("secrets")
def test_a_rejected_key_is_named_and_never_shown(local, retriever, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    local.script.append(error(401, f"Incorrect API key provided: {KEY}"))
    with pytest.raises(OpenAIError) as caught:
        OpenAIBackend().answer("What is Studio?", retriever)
    assert str(caught.value) == f"the server at {local.url} rejected the API key (401): check OPENAI_API_KEY"


@pytest.mark.fault("secrets")
def test_credentials_in_the_base_url_never_show(monkeypatch, capsys, cli_env, retriever):
    monkeypatch.setenv("SALES_ITERABLE_OPENAI_MODEL", "llama3.2")
    port = free_port()
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://admin:hunter2-pw@127.0.0.1:{port}/v1")
    with pytest.raises(OpenAIError, match=f"cannot reach the server at http://127.0.0.1:{port}/v1 "):
        OpenAIBackend().answer("What is Studio?", retriever)
    monkeypatch.setenv("OPENAI_BASE_URL", "ftp://admin:hunter2-pw@127.0.0.1/v1")
    assert main(["ask", "--backend", "openai", "What is Studio?"]) == 2
    err = capsys.readouterr().err
    assert "OPENAI_BASE_URL 'ftp://127.0.0.1/v1' is not an http(s):// URL" in err and "hunter2" not in err


@pytest.mark.fault("secrets")
def test_an_eval_records_the_exchanges_without_the_key(local, retriever, monkeypatch):
    from sales_iterable.transcripts import Recorder

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    local.script.extend([completion(None, call("search_reference", {"query": "Studio"})), completion(None, _submit())])
    recorder = Recorder()
    hooks = {"request": [recorder.on_request], "response": [recorder.on_response]}
    OpenAIBackend(backends.Options(event_hooks=hooks)).answer("What is Studio?", retriever)
    assert [(e["request"]["model"], e["status"]) for e in recorder.exchanges] == [("stub-local-model", 200)] * 2
    assert recorder.exchanges[1]["response"]["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == \
        "submit_answer"
    assert KEY not in json.dumps(recorder.exchanges)


@pytest.mark.fault("exit")
def test_settings_are_checked_when_the_backend_is_built(monkeypatch, capsys, cli_env):
    assert not OpenAIBackend.configured() and backends.resolve("auto") == ["offline"]
    with pytest.raises(ConfigError, match="export SALES_ITERABLE_OPENAI_MODEL="):
        OpenAIBackend()
    assert main(["ask", "--backend", "openai", "What is Studio?"]) == 2
    err = capsys.readouterr().err
    assert "needs a model" in err and err.count("\n") == 1
    monkeypatch.setenv("SALES_ITERABLE_OPENAI_MODEL", "llama3.2")
    assert OpenAIBackend.configured() and backends.resolve("auto") == ["openai", "offline"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-\x1b[2Jbad")
    with pytest.raises(ConfigError, match="control characters"):
        OpenAIBackend()
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:11434")
    with pytest.raises(ValidationError, match="not an http"):
        OpenAIBackend()
    assert main(["ask", "--backend", "openai", "What is Studio?"]) == 2
    assert "OPENAI_BASE_URL 'localhost:11434' is not an http(s):// URL" in capsys.readouterr().err


@pytest.mark.fault("exit")
def test_without_the_openai_package_the_backend_says_what_to_install(monkeypatch, capsys, cli_env):
    monkeypatch.setenv("SALES_ITERABLE_OPENAI_MODEL", "llama3.2")
    monkeypatch.setitem(sys.modules, "openai", None)  # what `import openai` meets when it is not installed
    with pytest.raises(ConfigError, match=r"pip install 'sales-iterable\[openai\]'"):
        OpenAIBackend()
    assert main(["ask", "--backend", "openai", "What is Studio?"]) == 2
    assert "needs the openai package" in capsys.readouterr().err


@pytest.mark.fault("fallback")
def test_a_server_that_is_not_running_is_a_clear_error_and_auto_falls_back(monkeypatch, capsys, retriever, cli_env):
    monkeypatch.setenv("SALES_ITERABLE_OPENAI_MODEL", "llama3.2")
    down = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", down)
    with pytest.raises(OpenAIError, match=f"cannot reach the server at {down} \\(connection failed\\)"):
        OpenAIBackend().answer("What is Studio?", retriever)
    notices = []
    fallen = answer_with_fallback("auto", "What is Studio?", retriever, notify=notices.append)
    assert fallen.backend == "offline"
    handover = (f"OpenAI-compatible failed (cannot reach the server at {down} (connection failed): is it "
                "running? (OPENAI_BASE_URL)); answering offline instead")
    assert notices == [handover]
    assert main(["ask", "--json", "What is Studio?"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["backend"] == "offline"
    assert captured.err.splitlines() == ["sales-iterable: no ANTHROPIC_API_KEY set; the openai backend answers",
                                         f"sales-iterable: {handover}"]
    assert main(["ask", "--backend", "openai", "What is Studio?"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "cannot reach" in captured.err and captured.err.count("\n") == 1


@pytest.mark.fault("terminal")
def test_chat_streams_from_the_local_model(local, use_settings, retriever, monkeypatch):
    import io

    from sales_iterable.repl import Repl

    local.script.extend([completion("Looking it up. \x1b]0;owned\x07\x1b[2J",
                                    call("search_reference", {"query": "Studio"})),
                         completion(None, _submit())])
    repl = Repl(use_settings, backend="openai", out=io.StringIO(), err=io.StringIO())
    repl.retriever = retriever
    lines = ["What is Studio?"]
    repl.loop(read=lambda prompt: lines.pop(0) if lines else (_ for _ in ()).throw(EOFError))
    shown = repl.out.getvalue()
    assert shown.startswith("Looking it up.") and "Studio is the journey builder" in shown
    assert "\x1b" not in shown and "\x07" not in shown  # the stream passed the terminal boundary
    assert local.requests[0]["stream"] is True and repl.session.answer.backend == "openai"
