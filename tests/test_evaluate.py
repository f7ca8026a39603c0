"""`sales-iterable eval`: case files, scoring, reports, record/replay, the judge."""

import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.evaluate import Assertion, Case, CaseFileError, check_assertion, grade, load_case_files
from agent.policy import Answer, Route
from stub_anthropic import StubAnthropic, message, tool_use

REPO = Path(__file__).resolve().parents[1]
EVALS = REPO / "evals"


@pytest.fixture
def env(use_settings, retriever, monkeypatch):
    monkeypatch.setenv("SALES_ITERABLE_DATA_DIR", str(use_settings.data_dir))
    monkeypatch.setenv("SALES_ITERABLE_EMBEDDER", "use")
    return use_settings


def _write(tmp_path, data, name="cases.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _answer(text="Use Studio with a Delay tile.", **kw):
    return Answer(answer=text, language=kw.pop("language", "en"), backend="offline", **kw)


# --- case files ---


def test_committed_cases_load_and_cover_the_families():
    cases, retrieval = load_case_files([EVALS])
    families = {c.family for _, c in cases}
    assert {"worked-example", "troubleshooting", "routing", "policy", "honesty"} <= families
    assert sum(c.family == "routing" for _, c in cases) >= 15
    assert sum(c.family == "worked-example" for _, c in cases) == 6
    assert len(retrieval) >= 60


@pytest.mark.parametrize("case, message_part", [
    ({"id": "a"}, "case 'a' field prompt: Field required"),
    ({"id": "b", "prompt": 5, "expect_route": None}, "case 'b' field prompt"),
    ({"id": "c", "prompt": "x", "assertions": [{"name": "r", "regex": "(unclosed"}]}, "case 'c' field assertions.0.regex"),
    ({"id": "d", "prompt": "x", "expect_route": "sales-braze"}, "case 'd' field expect_route"),
    ({"id": "e", "prompt": "x", "max_questions": "two", "expect_route": None}, "case 'e' field max_questions"),
    ({"id": "f", "prompt": "x"}, "case 'f'"),
])
def test_bad_case_files_name_file_case_and_field(tmp_path, case, message_part):
    path = _write(tmp_path, {"skill_name": "s", "evals": [case]})
    with pytest.raises(CaseFileError) as info:
        load_case_files([path])
    assert str(path) in str(info.value) and message_part in str(info.value)


def test_bad_case_file_is_exit_2_with_a_clear_message(env, tmp_path, capsys):
    path = _write(tmp_path, {"skill_name": "s", "evals": [{"id": "x", "assertions": []}]})
    assert main(["eval", "--cases", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "case 'x' field prompt" in err
    (tmp_path / "broken.json").write_text("{not json")
    assert main(["eval", "--cases", str(tmp_path / "broken.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    dup = _write(tmp_path, {"skill_name": "s", "evals": [{"id": 1, "prompt": "a", "language": "en"},
                                                          {"id": 1, "prompt": "b", "language": "en"}]}, "dup.json")
    assert main(["eval", "--cases", str(dup)]) == 2
    assert "duplicate" in capsys.readouterr().err


# --- scoring ---


def test_deterministic_checks():
    text = "Use a Delay tile, then Filter on Has opened."
    assert check_assertion(Assertion(name="a", any_of=["nope", "delay"]), text)[0]
    assert not check_assertion(Assertion(name="a", all_of=["Delay", "Exit criteria"]), text)[0]
    assert not check_assertion(Assertion(name="a", none_of=["filter"]), text)[0]
    assert check_assertion(Assertion(name="a", regex=r"has\s+opened"), text)[0]
    passed, evidence = check_assertion(Assertion(name="a", any_of=["Delay"], none_of=["Has opened"]), text)
    assert not passed and "must not contain" in evidence


def test_ungraded_checks_never_count_as_passed():
    case = Case(id="u", prompt="q", assertions=[Assertion(name="judgement", description="reads well")],
                expectations=["mentions the Delay tile"])
    expectations = grade(case, _answer())
    assert [e.passed for e in expectations[:2]] == [None, None]
    from agent.evaluate import summarize

    summary = summarize(expectations)
    assert summary["ungraded"] == 2 and summary["passed"] == 1  # only the question-count check


def test_case_level_checks():
    case = Case(id="r", prompt="q", expect_route=None, language="zh", min_assumptions=1)
    routed = _answer("这是中文回答,说明如何在Studio中设置延迟组件。", language="zh",
                     route=Route(skill="/sales-braze", reason="x"))
    results = {e.text: e.passed for e in grade(case, routed)}
    assert results["route is none (must not route)"] is False
    assert results["answers in zh"] is True
    assert results["at least 1 stated assumptions"] is False
    english = grade(Case(id="l", prompt="q", language="zh"), _answer("An English answer about Studio.", language="zh"))
    assert next(e for e in english if e.text == "answers in zh").passed is False


def test_worked_example_answers_are_not_in_the_index(retriever):
    from agent.corpus import load_sections

    sections = load_sections(REPO / "corpus")
    examples = [item for lang in ("en", "zh") for s in sections[lang] if s.id.startswith("example")
                for b in s.blocks for item in b.items if not item.startswith(("User says", "用户提问"))]
    assert len(examples) == 12
    indexed = "\n".join(c["text"] for c in retriever.index.chunks.values())
    for text in examples:
        body = text.split(":", 1)[-1].split(":", 1)[-1].strip()
        assert body[:60] not in indexed
    cases, _ = load_case_files([EVALS])
    for _, case in cases:
        if case.expected_output:
            assert case.expected_output[:60] not in indexed


# --- the runner, offline ---


def test_offline_eval_over_the_committed_cases(env, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["eval", "--out", str(out), "--json", "--min-pass-rate", "0.95"])
    bench = json.loads(capsys.readouterr().out)
    assert code == 0, bench["overall"]
    assert bench["overall"]["pass_rate"] >= 0.95  # measured 98% when this threshold was set
    assert bench["routing_accuracy"] == 1.0
    assert bench["retrieval"]["en"]["recall@5"] >= 0.97 and bench["retrieval"]["zh"]["mrr"] >= 0.85
    assert set(bench["per_language"]) == {"en", "zh"}
    grading = json.loads((out / "worked-welcome-journey-en" / "grading.json").read_text())
    assert set(grading) == {"expectations", "summary"}
    assert set(grading["summary"]) == {"passed", "failed", "ungraded", "pass_rate"}
    assert {"text", "passed", "evidence"} == set(grading["expectations"][0])
    report = (out / "report.md").read_text()
    assert report.index("## Failing checks") < report.index("## Pass rate by family") < report.index("## Cases")


def test_min_pass_rate_sets_the_exit_code(env, tmp_path, capsys):
    path = _write(tmp_path, {"skill_name": "s", "evals": [
        {"id": "ok", "prompt": "How do I add a delay in a Studio journey?", "assertions": [{"name": "d", "any_of": ["Delay"]}]},
        {"id": "bad", "prompt": "How do I add a delay in a Studio journey?", "assertions": [{"name": "x", "any_of": ["zebra"]}]},
    ]})
    assert main(["eval", "--cases", str(path), "--out", str(tmp_path / "a"), "--min-pass-rate", "0.9"]) == 1
    assert main(["eval", "--cases", str(path), "--out", str(tmp_path / "b"), "--min-pass-rate", "0.5"]) == 0
    assert main(["eval", "--cases", str(path), "--min-pass-rate", "5"]) == 2


def test_compare_shows_the_lift_of_retrieval(env, tmp_path, capsys):
    cases = EVALS / "iterable.json"
    assert main(["eval", "--cases", str(cases), "--compare", "--json", "--out", str(tmp_path / "c")]) == 0
    bench = json.loads(capsys.readouterr().out)
    assert bench["baseline"]["overall"]["pass_rate"] < bench["overall"]["pass_rate"] - 0.2
    assert "retrieval adds" in (tmp_path / "c" / "report.md").read_text()


# --- the runner with Claude: record, replay, judge (real SDK, local stub) ---


CLAUDE_CASES = {"skill_name": "sales-iterable", "evals": [
    {"id": "c1", "prompt": "How do I add a delay in a Studio journey?", "expect_route": None,
     "assertions": [{"name": "delay", "any_of": ["Delay"]}, {"name": "tone", "description": "friendly and concise"}]},
    {"id": "c2", "prompt": "How do I set up DKIM?", "expect_route": "/sales-deliverability"},
]}
KEY = "sk-ant-eval-test-abcdef123456"


def test_record_then_replay_then_judge(env, tmp_path, capsys, monkeypatch):
    cases = _write(tmp_path, CLAUDE_CASES)
    record = tmp_path / "transcripts"
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with StubAnthropic() as stub:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.url)
        stub.script.extend([
            message(tool_use("search_reference", {"query": "delay tile"})),
            message(tool_use("submit_answer", {"answer": "Add a Delay tile [studio]."})),
            message(tool_use("submit_answer", {"answer": "That is deliverability.", "route_skill": "/sales-deliverability",
                                               "route_reason": "DKIM across tools"})),
        ])
        assert main(["eval", "--cases", str(cases), "--backend", "claude", "--record", str(record),
                     "--out", str(tmp_path / "r1"), "--json"]) == 0
        recorded = json.loads(capsys.readouterr().out)
        assert len(stub.requests) == 3
    files = sorted(p.name for p in record.iterdir())
    assert files == ["c1.json", "c2.json"]
    for path in record.iterdir():
        raw = path.read_text()
        assert KEY not in raw
        transcript = json.loads(raw)
        for exchange in transcript["exchanges"]:
            assert exchange["headers"].get("authorization", "[scrubbed]") == "[scrubbed]"
            assert exchange["headers"].get("x-api-key", "[scrubbed]") == "[scrubbed]"
            assert exchange["status"] == 200 and exchange["request"]["model"]
    c1 = json.loads((record / "c1.json").read_text())
    assert len(c1["exchanges"]) == 2 and c1["answer"]["backend"] == "claude"
    assert recorded["context_tokens"]["mean"] > 0  # the tool result sent back counts as context

    # replay: no server, no key; the same grades
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    assert main(["eval", "--cases", str(cases), "--replay", str(record), "--out", str(tmp_path / "r2"), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["per_case"] == recorded["per_case"]
    assert replayed["per_case"]["c1"]["ungraded"] == 1 and replayed["routing_accuracy"] == 1.0

    # the judge grades what has no deterministic check
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with StubAnthropic() as stub:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.url)
        stub.script.append(message(tool_use("record_grades", {"grades": [
            {"name": "tone", "passed": True, "evidence": "'Add a Delay tile' is short and direct"}]})))
        assert main(["eval", "--cases", str(cases), "--replay", str(record), "--judge", "--out", str(tmp_path / "r3"),
                     "--json"]) == 0
        judged = json.loads(capsys.readouterr().out)
        request = stub.requests[0]
        assert request["tool_choice"] == {"type": "tool", "name": "record_grades"}
        assert "friendly and concise" in request["messages"][0]["content"]
    # delay, tone (judged), must-not-route and the question count
    assert judged["per_case"]["c1"]["ungraded"] == 0 and judged["per_case"]["c1"]["passed"] == 4
    grading = json.loads((tmp_path / "r3" / "c1" / "grading.json").read_text())
    assert any(e["evidence"].startswith("judge:") for e in grading["expectations"])


def test_replay_without_a_transcript_and_judge_without_a_key(env, tmp_path, capsys):
    cases = _write(tmp_path, CLAUDE_CASES)
    (tmp_path / "empty").mkdir()
    assert main(["eval", "--cases", str(cases), "--replay", str(tmp_path / "empty")]) == 2
    assert "no transcript for case 'c1'" in capsys.readouterr().err
    assert main(["eval", "--cases", str(cases), "--judge"]) == 2
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().err
