"""`sales-iterable eval`: case files, scoring, reports, record/replay, the judge."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sales_iterable import transcripts
from sales_iterable.cli import main
from sales_iterable.evalcases import Assertion, Case, CaseFileError, load_case_files
from sales_iterable.grading import check_assertion, grade, summarize
from sales_iterable.answer import Answer, Route
from stub_anthropic import StubAnthropic, message, tool_use
from stub_anthropic import text as stub_text

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
    families = {c.case.family for c in cases}
    assert {"worked-example", "troubleshooting", "routing", "policy", "honesty"} <= families
    assert sum(c.case.family == "routing" for c in cases) >= 15
    assert sum(c.case.family == "worked-example" for c in cases) == 6
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
    summary = summarize(expectations)
    assert summary["ungraded"] == 2 and summary["passed"] == 1  # only the question-count check
    # skill-creator's measure: ungraded checks are in the denominator, as not passed
    assert summary["total"] == 3 and summary["failed"] == 0 and summary["pass_rate"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("fields", [{"max_questions": 1}, {"min_assumptions": 1}])
def test_a_question_or_assumption_count_alone_is_a_check(fields):
    case = Case(id="q", prompt="How do I add a delay?", **fields)
    texts = [e.text for e in grade(case, _answer())]
    assert any(t.startswith(("at most 1", "at least 1")) for t in texts)


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
    from sales_iterable.corpus import load_sections

    sections = load_sections(REPO / "corpus")
    examples = [item for lang in ("en", "zh") for s in sections[lang] if s.id.startswith("example")
                for b in s.blocks for item in b.items if not item.startswith(("User says", "用户提问"))]
    assert len(examples) == 12
    indexed = "\n".join(c.text for c in retriever.index.chunks.values())
    for text in examples:
        body = text.split(":", 1)[-1].split(":", 1)[-1].strip()
        assert body[:60] not in indexed
    cases, _ = load_case_files([EVALS])
    for _, _, case in cases:
        if case.expected_output:
            assert case.expected_output[:60] not in indexed


# --- the runner, offline, and skill-creator's workspace layout ---


def _run_dir(out: Path, case_id: str, configuration: str = "with_skill") -> Path:
    return out / f"eval-{case_id}" / configuration / "run-1"


def _stats(values):
    """skill-creator's aggregate: mean, sample stddev, min, max, rounded to 4 places."""
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return {"mean": round(mean, 4), "stddev": round(sd, 4), "min": round(min(values), 4), "max": round(max(values), 4)}


def check_skill_creator_workspace(out: Path, case_ids: list[str], configurations: list[str]) -> dict:
    """Our files against the field names in skill-creator's references/schemas.md,
    aggregate_benchmark.py and eval-viewer/generate_review.py; returns benchmark.json."""
    bench = json.loads((out / "benchmark.json").read_text())
    assert set(bench) == {"metadata", "runs", "run_summary", "notes"}
    assert {"skill_name", "skill_path", "executor_model", "analyzer_model", "timestamp", "evals_run",
            "runs_per_configuration"} <= set(bench["metadata"])
    assert bench["metadata"]["runs_per_configuration"] == 1
    assert len(bench["runs"]) == len(case_ids) * len(configurations)
    by_run = {}
    for run in bench["runs"]:
        assert {"eval_id", "eval_name", "configuration", "run_number", "result", "expectations", "notes"} <= set(run)
        assert isinstance(run["eval_id"], int) and run["run_number"] == 1
        assert {"pass_rate", "passed", "failed", "total", "time_seconds", "tokens", "tool_calls", "errors"} <= set(run["result"])
        by_run[(run["eval_name"], run["configuration"])] = run
    assert sorted(bench["metadata"]["evals_run"]) == sorted({r["eval_id"] for r in bench["runs"]})
    rates = {c: [] for c in configurations}
    for case_id in case_ids:
        meta = json.loads((out / f"eval-{case_id}" / "eval_metadata.json").read_text())
        assert meta["eval_name"] == case_id and isinstance(meta["eval_id"], int) and meta["prompt"]
        for config in configurations:
            run_dir = _run_dir(out, case_id, config)
            # the viewer reads the prompt from the run folder or its parent
            assert json.loads((run_dir / "eval_metadata.json").read_text())["prompt"] == meta["prompt"]
            answer = json.loads((run_dir / "outputs" / "answer_data.json").read_text())
            assert answer["answer"][:40] in (run_dir / "outputs" / "answer.md").read_text()
            grading = json.loads((run_dir / "grading.json").read_text())
            for e in grading["expectations"]:
                assert {"text", "passed", "evidence"} <= set(e) and isinstance(e["passed"], bool)
            s = grading["summary"]
            assert {"passed", "failed", "total", "pass_rate"} <= set(s)
            assert s["passed"] + s["failed"] + s["ungraded"] == s["total"] == len(grading["expectations"])
            assert s["passed"] == sum(e["passed"] for e in grading["expectations"])
            assert s["pass_rate"] == round(s["passed"] / s["total"], 4)
            assert grading["ungraded_expectations"] == [e["text"] for e in grading["expectations"] if e.get("ungraded")]
            timing = json.loads((run_dir / "timing.json").read_text())
            assert {"total_tokens", "duration_ms", "total_duration_seconds"} <= set(timing)
            run = by_run[(case_id, config)]
            assert run["eval_id"] == meta["eval_id"] and run["result"]["pass_rate"] == s["pass_rate"]
            assert run["result"]["time_seconds"] == timing["total_duration_seconds"]
            assert run["result"]["tokens"] == timing["total_tokens"] > 0
            rates[config].append(s["pass_rate"])
    summary = bench["run_summary"]
    for config in configurations:
        assert set(summary[config]) == {"pass_rate", "time_seconds", "tokens"}
        for stat in summary[config].values():
            assert set(stat) == {"mean", "stddev", "min", "max"}
        assert summary[config]["pass_rate"] == _stats(rates[config])
    if len(configurations) == 2:
        a, b = (summary[c]["pass_rate"]["mean"] for c in configurations)
        assert summary["delta"]["pass_rate"] == f"{a - b:+.2f}"
        assert set(summary["delta"]) == {"pass_rate", "time_seconds", "tokens"}
    else:
        assert "delta" not in summary
    return bench


def test_offline_eval_over_the_committed_cases(env, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["eval", "--out", str(out), "--json", "--min-pass-rate", "0.95"])
    bench = json.loads(capsys.readouterr().out)
    assert code == 0, bench["overall"]
    assert bench["overall"]["pass_rate"] >= 0.95  # measured 98% when this threshold was set
    assert bench["routing_accuracy"] == 1.0
    # dev set plus held-out cases; en measured 0.98, then 0.96 once 81fcfdc stopped chunking
    # instruction blocks (test_retrieve holds the dev set alone to 0.97)
    assert bench["retrieval"]["en"]["recall@5"] >= 0.95 and bench["retrieval"]["zh"]["mrr"] >= 0.85
    assert set(bench["per_language"]) == {"en", "zh"}
    case_ids = list(bench["per_case"])
    # the headline is skill-creator's number: its run_summary mean over the same runs
    written = check_skill_creator_workspace(out, case_ids, ["with_skill"])
    assert written["run_summary"]["with_skill"]["pass_rate"]["mean"] == pytest.approx(bench["overall"]["pass_rate"], abs=1e-4)
    report = (out / "report.md").read_text()
    assert report.index("## Failing checks") < report.index("## Pass rate by family") < report.index("## Cases")
    assert json.loads((out / "benchmark.extra.json").read_text())["per_family"] == bench["per_family"]
    # offline calls no model: no usage figures are made up for it, and the figures say why
    usage = bench["usage"]
    assert usage["answers_with_usage"] == 0 and usage["total"] is None and usage["mean_per_answer"] is None
    assert "no API usage" in usage["note"] and set(bench["per_case_usage"].values()) == {None}
    assert "None: no API usage reported (offline answers call no model)" in report[report.index("## API usage"):report.index("## Cases")]


def test_printed_pass_rate_says_how_ungraded_checks_count(env, tmp_path, capsys):
    path = _write(tmp_path, {"skill_name": "s", "evals": [
        {"id": "one", "prompt": "How do I add a delay in a Studio journey?",
         "assertions": [{"name": "d", "any_of": ["Delay"]}, {"name": "tone", "description": "friendly"}]}]})
    assert main(["eval", "--cases", str(path), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    # delay found, tone ungraded, question count fine: 2 of 3, as skill-creator counts it
    assert "pass rate 66.7% over 1 case " in out and "ungraded checks count as not passed" in out
    assert "checks: 2 passed, 0 failed, 1 ungraded of 3" in out
    grading = json.loads((_run_dir(tmp_path / "o", "one") / "grading.json").read_text())
    assert grading["summary"]["pass_rate"] == 0.6667 and grading["ungraded_expectations"] == ["tone: friendly"]
    assert [e["passed"] for e in grading["expectations"]] == [True, False, True]


def test_min_pass_rate_sets_the_exit_code(env, tmp_path, capsys):
    path = _write(tmp_path, {"skill_name": "s", "evals": [
        {"id": "ok", "prompt": "How do I add a delay in a Studio journey?", "assertions": [{"name": "d", "any_of": ["Delay"]}]},
        {"id": "bad", "prompt": "How do I add a delay in a Studio journey?", "assertions": [{"name": "x", "any_of": ["zebra"]}]},
    ]})
    # "ok" passes 2/2, "bad" 1/2 (its question count holds): 75%
    assert main(["eval", "--cases", str(path), "--out", str(tmp_path / "a"), "--min-pass-rate", "0.8"]) == 1
    assert main(["eval", "--cases", str(path), "--out", str(tmp_path / "b"), "--min-pass-rate", "0.7"]) == 0
    assert main(["eval", "--cases", str(path), "--min-pass-rate", "5"]) == 2


def test_compare_writes_both_configurations_and_the_delta(env, tmp_path, capsys):
    cases = EVALS / "iterable.json"
    out = tmp_path / "c"
    assert main(["eval", "--cases", str(cases), "--compare", "--json", "--out", str(out)]) == 0
    bench = json.loads(capsys.readouterr().out)
    # measured 98% with retrieval, 79% without (routing and question-count checks pass either way)
    assert bench["baseline"]["overall"]["pass_rate"] < bench["overall"]["pass_rate"] - 0.15
    assert "retrieval adds" in (out / "report.md").read_text()
    written = check_skill_creator_workspace(out, list(bench["per_case"]), ["with_skill", "without_skill"])
    assert float(written["run_summary"]["delta"]["pass_rate"]) > 0.15
    assert bench["run_summary"] == written["run_summary"]


@pytest.mark.skipif(not os.environ.get("SKILL_CREATOR_DIR"),
                    reason="set SKILL_CREATOR_DIR to a checkout of anthropics/skills' skills/skill-creator")
def test_skill_creators_own_scripts_read_our_workspace(env, tmp_path, capsys):
    tool = Path(os.environ["SKILL_CREATOR_DIR"])
    out = tmp_path / "workspace"
    assert main(["eval", "--cases", str(EVALS / "iterable.json"), "--compare", "--json", "--out", str(out)]) == 0
    ours = json.loads(capsys.readouterr().out)
    aggregated = tmp_path / "aggregated" / "benchmark.json"
    aggregated.parent.mkdir()
    agg = subprocess.run([sys.executable, "-m", "scripts.aggregate_benchmark", str(out), "--skill-name", "sales-iterable",
                          "-o", str(aggregated)], cwd=tool, capture_output=True, text=True, timeout=120)
    assert agg.returncode == 0, agg.stdout + agg.stderr
    assert "Warning" not in agg.stdout
    theirs = json.loads(aggregated.read_text())
    written = json.loads((out / "benchmark.json").read_text())
    assert theirs["run_summary"] == written["run_summary"]
    per_run = {(r["eval_id"], r["configuration"]): r["result"]["pass_rate"] for r in theirs["runs"]}
    assert per_run == {(r["eval_id"], r["configuration"]): r["result"]["pass_rate"] for r in written["runs"]}
    assert len(per_run) == 2 * len(ours["per_case"])  # one run per case and configuration
    assert f"With Skill: {ours['overall']['pass_rate'] * 100:.1f}% pass rate" in agg.stdout

    html = tmp_path / "review.html"
    view = subprocess.run([sys.executable, str(tool / "eval-viewer" / "generate_review.py"), str(out), "--skill-name",
                           "sales-iterable", "--benchmark", str(out / "benchmark.json"), "--static", str(html)],
                          capture_output=True, text=True, timeout=120)
    assert view.returncode == 0, view.stdout + view.stderr
    embedded = json.loads(re.search(r"const EMBEDDED_DATA = (.*?);\n", html.read_text()).group(1))
    assert len(embedded["runs"]) == 2 * len(ours["per_case"]) and embedded["benchmark"] == written
    for run in embedded["runs"]:
        case_id, configuration = re.fullmatch(r"eval-(.+)-(with_skill|without_skill)-run-1", run["id"]).groups()
        run_dir = _run_dir(out, case_id, configuration)
        assert run["prompt"] == json.loads((run_dir / "eval_metadata.json").read_text())["prompt"]
        shown = {o["name"]: o["content"] for o in run["outputs"]}
        assert shown["answer.md"] == (run_dir / "outputs" / "answer.md").read_text()
        assert run["grading"]["summary"]["total"] > 0


def test_folders_skip_question_sets_and_subfolders(env, tmp_path, capsys):
    folder = tmp_path / "cases"
    (folder / "questions").mkdir(parents=True)
    _write(folder, {"skill_name": "s", "evals": [{"id": "a", "prompt": "How do I add a delay?", "max_questions": 1}]})
    _write(folder / "questions", {"questions": [{"id": "q1"}]}, "tune.json")
    _write(folder, {"description": "for bench/", "questions": []}, "questions.json")
    cases, retrieval = load_case_files([folder])
    assert [c.case.id for c in cases] == ["a"] and retrieval == []
    # named on its own, a file that holds no cases is a mistake worth saying
    with pytest.raises(CaseFileError, match="neither"):
        load_case_files([folder / "questions.json"])
    # the committed folder holds question sets for bench/ too; they are not cases
    assert all(c.path.parent == EVALS for c in load_case_files([EVALS])[0])


def test_out_folder_is_refused_unless_empty_or_an_earlier_run(env, tmp_path, capsys):
    path = _write(tmp_path, {"skill_name": "s", "evals": [
        {"id": "a", "prompt": "How do I add a delay in a Studio journey?", "max_questions": 2},
        {"id": "b", "prompt": "How do I set up DKIM?", "expect_route": "/sales-deliverability"}]})
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert main(["eval", "--cases", str(path), "--out", str(busy)]) == 2
    assert "not empty" in capsys.readouterr().err and (busy / "notes.txt").read_text() == "mine"
    out = tmp_path / "out"
    assert main(["eval", "--cases", str(path), "--out", str(out)]) == 0
    assert (out / "eval-b").is_dir()
    # a second run into the same folder replaces the first: no stale eval folder is left for
    # skill-creator's scripts to count
    only_a = _write(tmp_path, {"skill_name": "s", "evals": [{"id": "a", "prompt": "How do I add a delay?",
                                                             "max_questions": 2}]}, "a.json")
    assert main(["eval", "--cases", str(only_a), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("eval-*")) == ["eval-a"]


# --- the runner with Claude: record, replay, judge (real SDK, local stub) ---


CLAUDE_CASES = {"skill_name": "sales-iterable", "evals": [
    {"id": "c1", "prompt": "How do I add a delay in a Studio journey?", "expect_route": None,
     "assertions": [{"name": "delay", "any_of": ["Delay"]}, {"name": "tone", "description": "friendly and concise"}]},
    {"id": "c2", "prompt": "How do I set up DKIM?", "expect_route": "/sales-deliverability"},
]}
KEY = "sk-ant-eval-test-abcdef123456"


def _record_claude_cases(tmp_path, capsys, monkeypatch, script, cases=CLAUDE_CASES):
    path = _write(tmp_path, cases)
    record = tmp_path / "transcripts"
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with StubAnthropic() as stub:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.url)
        stub.script.extend(script)
        code = main(["eval", "--cases", str(path), "--backend", "claude", "--record", str(record),
                     "--out", str(tmp_path / "r1"), "--json"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # replay must not call anything
    return path, record, json.loads(captured.out), stub


def test_record_then_replay_then_judge(env, tmp_path, capsys, monkeypatch):
    cases, record, recorded, stub = _record_claude_cases(tmp_path, capsys, monkeypatch, [
        message(tool_use("search_reference", {"query": "delay tile"})),
        message(tool_use("submit_answer", {"answer": "Add a Delay tile [studio]."})),
        message(tool_use("submit_answer", {"answer": "That is deliverability.", "route_skill": "/sales-deliverability",
                                           "route_reason": "DKIM across tools"})),
    ])
    assert len(stub.requests) == 3
    assert sorted(p.name for p in record.iterdir()) == ["c1.json", "c2.json"]
    c1 = json.loads((record / "c1.json").read_text())
    assert len(c1["exchanges"]) == 2 and c1["answer"]["backend"] == "claude" and c1["model"] == "stub-model"
    assert all(e["status"] == 200 and e["request"]["model"] for e in c1["exchanges"])
    assert recorded["context_tokens"]["mean"] > 0  # the tool result sent back counts as context
    timing = json.loads((_run_dir(tmp_path / "r1", "c1") / "timing.json").read_text())
    assert timing["total_tokens"] == 2 * 15  # the stub reports 10 in + 5 out per call

    # replay: no server, no key; the same grades, labelled with the backend that answered
    assert main(["eval", "--cases", str(cases), "--replay", str(record), "--out", str(tmp_path / "r2")]) == 0
    printed = capsys.readouterr()
    assert f"replayed 2 transcripts recorded with claude (stub-model) from {record}" in printed.out
    assert "offline" not in printed.out + printed.err
    replayed = json.loads((tmp_path / "r2" / "benchmark.extra.json").read_text())
    assert replayed["per_case"] == recorded["per_case"] and replayed["backend"] == "claude"
    assert replayed["per_case"]["c1"]["ungraded"] == 1 and replayed["routing_accuracy"] == 1.0
    meta = json.loads((tmp_path / "r2" / "benchmark.json").read_text())["metadata"]
    assert meta["executor_model"] == "stub-model (replayed)"
    assert (tmp_path / "r2" / "report.md").read_text().startswith(f"# Eval report: claude (replayed from {record})")

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
        assert "tool_choice" not in request  # the default model refuses forced tool use
        offered = request["tools"][0]
        assert offered["name"] == "record_grades" and offered["strict"] is True
        assert offered["input_schema"]["additionalProperties"] is False
        assert "calling the `record_grades` tool" in request["messages"][0]["content"]
        assert "friendly and concise" in request["messages"][0]["content"]
    # delay, tone (judged), must-not-route and the question count
    assert judged["per_case"]["c1"]["ungraded"] == 0 and judged["per_case"]["c1"]["passed"] == 4
    grading = json.loads((_run_dir(tmp_path / "r3", "c1") / "grading.json").read_text())
    assert any(e["evidence"].startswith("judge:") for e in grading["expectations"])


def test_usage_reaches_every_eval_figure_and_survives_replay(env, tmp_path, capsys, monkeypatch):
    # what the default model reports: the first call writes the cached prefix, later ones read it;
    # a cache count the API leaves out or sends as null counts 0
    writes = {"input_tokens": 40, "output_tokens": 20, "cache_creation_input_tokens": 2400, "cache_read_input_tokens": None}
    reads = {"input_tokens": 300, "output_tokens": 60, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2400}
    short = {"input_tokens": 50, "output_tokens": 30, "cache_read_input_tokens": 2400}
    cases, record, recorded, _ = _record_claude_cases(tmp_path, capsys, monkeypatch, [
        message(tool_use("search_reference", {"query": "delay tile"}), usage=writes),
        message(tool_use("submit_answer", {"answer": "Add a Delay tile [studio]."}), usage=reads),
        message(tool_use("submit_answer", {"answer": "That is deliverability.", "route_skill": "/sales-deliverability",
                                           "route_reason": "DKIM across tools"}), usage=short),
    ])
    c1 = {"requests": 2, "tool_calls": 2, "input_tokens": 340, "output_tokens": 80, "cache_read_tokens": 2400,
          "cache_write_tokens": 2400}
    c2 = {"requests": 1, "tool_calls": 1, "input_tokens": 50, "output_tokens": 30, "cache_read_tokens": 2400,
          "cache_write_tokens": 0}
    assert recorded["per_case_usage"] == {"c1": c1, "c2": c2}
    usage = recorded["usage"]
    assert usage["answers_with_usage"] == usage["answers"] == 2 and "note" not in usage
    assert usage["total"] == {"requests": 3, "tool_calls": 3, "input_tokens": 390, "output_tokens": 110,
                              "cache_read_tokens": 4800, "cache_write_tokens": 2400, "total_tokens": 7700}
    assert usage["mean_per_answer"]["total_tokens"] == 3850 and usage["mean_per_answer"]["input_tokens"] == 195
    assert usage["cache_read_share"] == round(4800 / (390 + 4800 + 2400), 4)
    # skill-creator's tokens: every token read or written, cache included
    out = tmp_path / "r1"
    assert json.loads((_run_dir(out, "c1") / "timing.json").read_text())["total_tokens"] == 340 + 80 + 2400 + 2400
    runs = {r["eval_name"]: r["result"] for r in json.loads((out / "benchmark.json").read_text())["runs"]}
    assert (runs["c1"]["tokens"], runs["c1"]["tool_calls"], runs["c2"]["tokens"]) == (5220, 2, 2480)
    assert json.loads((_run_dir(out, "c1") / "grading.json").read_text())["execution_metrics"]["total_tool_calls"] == 2
    report = (out / "report.md").read_text()
    assert "| total | 3 | 3 | 390 | 110 | 4800 | 2400 | 7700 |" in report
    assert "| mean per answer | 1.5 | 1.5 | 195.0 | 55.0 | 2400.0 | 1200.0 | 3850.0 |" in report
    assert "The prompt cache served 63.2% of all input." in report
    assert re.search(r"\| c1 \|.*\| 5220 \|$", report, re.M)

    # a replay gives the same figures; so does a transcript recorded before answers carried
    # their usage (it is read from the recorded responses then)
    assert main(["eval", "--cases", str(cases), "--replay", str(record), "--out", str(tmp_path / "r2"), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert (replayed["usage"], replayed["per_case_usage"]) == (usage, recorded["per_case_usage"])
    old = json.loads((record / "c1.json").read_text())
    del old["answer"]["usage"], old["digest"]
    old["digest"] = transcripts.digest(old)
    (record / "c1.json").write_text(json.dumps(old))
    assert main(["eval", "--cases", str(cases), "--replay", str(record), "--out", str(tmp_path / "r3")]) == 0
    printed = capsys.readouterr().out
    assert "API usage over 2 answers: 3 requests, input 390, output 110, cache read 4800, cache write 2400" in printed
    extra = json.loads((tmp_path / "r3" / "benchmark.extra.json").read_text())
    assert extra["per_case_usage"] == recorded["per_case_usage"]


@pytest.mark.parametrize("reply", ["prose", "refusal", "cut off"])
def test_a_judge_reply_without_a_whole_verdict_grades_nothing(reply):
    import anthropic

    from sales_iterable.judge import judge_assertions

    case = Case(id="j", prompt="How do I add a delay?", assertions=[Assertion(name="tone", description="friendly")])
    verdict = {"grades": [{"name": "tone", "passed": True, "evidence": "short"}]}
    with StubAnthropic() as stub:
        stub.script.append({
            "prose": message(stub_text("The tone check passes: it is friendly.")),
            "refusal": message(stub_text("No."), stop_reason="refusal"),
            "cut off": message(tool_use("record_grades", verdict), stop_reason="max_tokens"),
        }[reply])
        client = anthropic.Anthropic(base_url=stub.url, api_key=KEY, max_retries=0)
        assert judge_assertions(client, case, _answer()) == {}
        stub.script.append(message(tool_use("record_grades", verdict)))
        assert judge_assertions(client, case, _answer()) == {"tone": (True, "short")}


def test_replay_without_a_transcript_and_judge_without_a_key(env, tmp_path, capsys):
    cases = _write(tmp_path, CLAUDE_CASES)
    (tmp_path / "empty").mkdir()
    assert main(["eval", "--cases", str(cases), "--replay", str(tmp_path / "empty")]) == 2
    assert "no transcript for case 'c1'" in capsys.readouterr().err
    assert main(["eval", "--cases", str(cases), "--judge"]) == 2
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().err


# --- faults and hostile input (issue 10) ---


PASSWORD = "hunter2-correct-horse-battery"


@pytest.mark.fault("secrets")
def test_recorded_transcripts_and_every_output_are_redacted(env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ACME_DB_PASSWORD", PASSWORD)
    leak = f"the DB password is {PASSWORD} and the key {KEY}"
    _, record, recorded, stub = _record_claude_cases(tmp_path, capsys, monkeypatch, [
        message(tool_use("search_reference", {"query": f"delay {PASSWORD}"})),
        message(tool_use("submit_answer", {"answer": f"Add a Delay tile [studio]; {leak}.",
                                           "assumptions": [leak], "clarifying_questions": [leak]})),
        message(tool_use("submit_answer", {"answer": leak, "route_skill": "/sales-deliverability",
                                           "route_reason": leak})),
    ])
    assert any(PASSWORD in json.dumps(r) for r in stub.requests)  # the model really did echo it
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in {".json", ".md"}]
    assert len(written) > 10
    for path in written:
        text = path.read_text()
        assert PASSWORD not in text and KEY not in text, path
    assert PASSWORD not in json.dumps(recorded) and KEY not in json.dumps(recorded)
    for path in record.iterdir():
        for exchange in json.loads(path.read_text())["exchanges"]:
            headers = {k.lower(): v for k, v in exchange["headers"].items()}
            auth = [headers[k] for k in ("x-api-key", "authorization") if k in headers]
            assert auth and set(auth) == {"[redacted]"}
    answer = json.loads((_run_dir(tmp_path / "r1", "c2") / "outputs" / "answer_data.json").read_text())
    assert "[redacted]" in answer["answer"] and "[redacted]" in answer["route"]["reason"]
    # what was stored verifies on replay: redaction happened before the digest
    assert main(["eval", "--cases", str(tmp_path / "cases.json"), "--replay", str(record),
                 "--out", str(tmp_path / "r2")]) == 0
    assert PASSWORD not in capsys.readouterr().out


def _cli(args: list[str], env_dir, timeout: float = 60) -> subprocess.CompletedProcess:
    """The real command in a child process, so a hang is a failed test, not a stuck run."""
    env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(env_dir)}
    return subprocess.run([sys.executable, "-m", "sales_iterable.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)


@pytest.mark.fault("hangs")
def test_a_catastrophic_regex_gives_up_instead_of_hanging(env, tmp_path):
    record = tmp_path / "transcripts"
    record.mkdir()
    prompt = "How do I add a delay?"
    text = "a" * 50_000 + "!\n" + "x" * 5_000
    transcripts.write(record, "slow", prompt, _answer(text), [], 0.5)
    cases = _write(tmp_path, {"skill_name": "s", "evals": [{"id": "slow", "prompt": prompt, "assertions": [
        {"name": "nested", "regex": "(a+)+$"}, {"name": "overlap", "regex": "(x+x+)+y"}]}]})
    done = _cli(["eval", "--cases", str(cases), "--replay", str(record), "--out", str(tmp_path / "o")], env.data_dir)
    assert done.returncode == 0, done.stderr
    grading = json.loads((_run_dir(tmp_path / "o", "slow") / "grading.json").read_text())
    nested, overlap = grading["expectations"][:2]
    # the engine either proves no match fast or gives up at its time limit: never hangs
    assert nested["passed"] is False and ("did not match" in nested["evidence"] or "gave up" in nested["evidence"])
    assert overlap["passed"] is False and "gave up after" in overlap["evidence"]


@pytest.mark.fault("exit")
def test_a_deeply_nested_case_file_is_refused_by_name(env, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    done = _cli(["eval", "--cases", str(deep)], env.data_dir)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and str(deep) in done.stderr and "nested" in done.stderr
    assert "recursion" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.fault("exit")
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "huge"])
def test_special_or_huge_files_in_a_cases_folder_are_refused_unread(env, tmp_path, kind):
    folder = tmp_path / "cases"
    folder.mkdir()
    _write(folder, {"skill_name": "s", "evals": [{"id": "a", "prompt": "How do I add a delay?", "max_questions": 1}]})
    bad = folder / "zz.json"
    if kind == "dev-zero":
        bad.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(bad)  # opening it to read would block for ever
    else:
        with open(bad, "wb") as handle:
            handle.truncate(64 * 1024 * 1024)
    done = _cli(["eval", "--cases", str(folder)], env.data_dir)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and str(bad) in done.stderr
    assert ("too large" if kind == "huge" else "not a regular file") in done.stderr


def _transcript(tmp_path, answer: Answer, case_id="c1", prompt=CLAUDE_CASES["evals"][0]["prompt"]) -> Path:
    record = tmp_path / "transcripts"
    record.mkdir(exist_ok=True)
    return transcripts.write(record, case_id, prompt, answer, [], 1.0)


def _reseal(path: Path, change) -> None:
    """Edit a transcript and recompute its digest, as a careful forger would."""
    data = json.loads(path.read_text())
    change(data)
    data.pop("digest")
    data["digest"] = transcripts.digest(data)
    path.write_text(json.dumps(data))


@pytest.mark.fault("exit")
@pytest.mark.parametrize("damage, message_part", [
    (lambda d: d["answer"].update(clarifying_questions=["q1?", "q2?", "q3?", "q4?", "q5?"]),
     "field answer.clarifying_questions"),
    (lambda d: d.update(exchanges="nope"), "field exchanges"),
    (lambda d: d.update(seconds=-1), "field seconds"),
    (lambda d: d.update(case="c2"), "for case 'c2', not 'c1'"),
    (lambda d: d.update(prompt="another question"), "different prompt"),
])
def test_a_malformed_transcript_is_named_not_called_a_bad_setting(env, tmp_path, capsys, damage, message_part):
    cases = _write(tmp_path, {"skill_name": "s", "evals": [CLAUDE_CASES["evals"][0]]})
    path = _transcript(tmp_path, _answer())
    _reseal(path, damage)
    assert main(["eval", "--cases", str(cases), "--replay", str(path.parent)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and message_part in err and "bad setting" not in err


@pytest.mark.fault("exit")
def test_a_transcript_that_is_not_json_is_named(env, tmp_path, capsys):
    cases = _write(tmp_path, {"skill_name": "s", "evals": [CLAUDE_CASES["evals"][0]]})
    path = _transcript(tmp_path, _answer())
    path.write_text("{broken")
    assert main(["eval", "--cases", str(cases), "--replay", str(path.parent)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not valid JSON" in err


@pytest.mark.fault("fallback")
def test_an_edited_replay_answer_is_reported_never_scored(env, tmp_path, capsys):
    cases = _write(tmp_path, {"skill_name": "s", "evals": [CLAUDE_CASES["evals"][0]]})
    path = _transcript(tmp_path, _answer("I do not know."))
    assert main(["eval", "--cases", str(cases), "--replay", str(path.parent), "--out", str(tmp_path / "honest")]) == 0
    assert json.loads((tmp_path / "honest" / "benchmark.extra.json").read_text())["per_case"]["c1"]["failed"] == 1
    capsys.readouterr()
    data = json.loads(path.read_text())
    data["answer"]["answer"] = "Add a Delay tile."  # fabricated to pass the 'delay' check
    path.write_text(json.dumps(data))
    out = tmp_path / "edited"
    assert main(["eval", "--cases", str(cases), "--replay", str(path.parent), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "changed after it was recorded" in err
    assert not out.exists()  # nothing was scored
    data.pop("digest")
    path.write_text(json.dumps(data))
    assert main(["eval", "--cases", str(cases), "--replay", str(path.parent)]) == 2
    assert "has no digest" in capsys.readouterr().err


@pytest.mark.fault("exit")
def test_a_huge_prompt_is_clipped_like_a_question(env, tmp_path):
    cases = _write(tmp_path, {"skill_name": "s", "evals": [
        {"id": "big", "prompt": "How do I add a delay? " + "x" * 1_000_000, "max_questions": 2}]})
    script = ("import resource, sys; from sales_iterable.cli import main; code = main(sys.argv[1:]); "
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)")
    env_vars = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(env.data_dir)}
    done = subprocess.run([sys.executable, "-c", script, "eval", "--cases", str(cases), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120, env=env_vars, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "case 'big': prompt truncated from 1000022 to 2000 characters" in done.stderr
    assert int(done.stderr.strip().splitlines()[-1]) < 2 * 1024 * 1024  # KiB: far below the 4 GB seen unclipped
    meta = json.loads((tmp_path / "o" / "eval-big" / "eval_metadata.json").read_text())
    assert len(meta["prompt"]) == 2000


@pytest.mark.fault("files")
def test_eval_writers_refuse_planted_links(env, tmp_path, capsys):
    cases = _write(tmp_path, {"skill_name": "s", "evals": [{"id": "a", "prompt": "How do I add a delay?",
                                                            "max_questions": 2}]})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    victim_dir = tmp_path / "victim-dir"
    victim_dir.mkdir()
    out = tmp_path / "out"
    assert main(["eval", "--cases", str(cases), "--out", str(out)]) == 0
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(victim)
    assert main(["eval", "--cases", str(cases), "--out", str(out)]) == 1
    assert "symbolic link" in capsys.readouterr().err and victim.read_text() == "precious"
    (out / "report.md").unlink()
    (out / "eval-a").rename(tmp_path / "old-eval-a")
    (out / "eval-a").symlink_to(victim_dir)
    assert main(["eval", "--cases", str(cases), "--out", str(out)]) == 1
    assert "symbolic link" in capsys.readouterr().err and not any(victim_dir.iterdir())
    record = tmp_path / "transcripts"
    record.mkdir()
    (record / "a.json").symlink_to(victim)
    assert main(["eval", "--cases", str(cases), "--record", str(record), "--out", str(tmp_path / "o2")]) == 1
    assert "symbolic link" in capsys.readouterr().err and victim.read_text() == "precious"
