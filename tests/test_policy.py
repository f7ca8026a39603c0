import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from sales_iterable.policy import (
    AREA_WORDS,
    GOAL_WORDS,
    ROLE_WORDS,
    Answer,
    clarifying_questions,
    detect_language,
    infer_context,
    load_skill,
    load_zh_wording,
    parse_skill,
    strip_invocation,
    trim_questions,
)

SKILL_DIR = Path(__file__).resolve().parents[1] / "skill" / "sales-iterable"


def test_skill_file_and_code_agree():
    skill = load_skill(SKILL_DIR)
    assert skill.name == "sales-iterable"
    assert 0 < len(skill.description) <= 1024 and not re.search(r"[<>]", skill.description)
    assert set(AREA_WORDS) == set(skill.areas) - {"Something else"}
    assert set(ROLE_WORDS) == set(skill.roles)
    assert set(GOAL_WORDS) == set(skill.goals)
    zh = load_zh_wording(SKILL_DIR)
    assert set(zh["areas"]) == set(skill.areas) and set(zh["roles"]) == set(skill.roles)
    assert set(zh["goals"]) == set(skill.goals)
    assert set(zh["questions"]) == {"area", "role", "goal", "details"}


def test_routing_table_parsed_from_the_skill():
    skill = load_skill(SKILL_DIR)
    table = dict(skill.routes)
    assert table["SPF/DKIM/DMARC setup across tools"] == "/sales-deliverability"
    assert table["Unsure which skill fits"] == "/sales-do"
    assert len(skill.routes) == 10


def test_skill_parser_rejects_a_file_without_routing():
    with pytest.raises(ValueError, match="Routing"):
        parse_skill("---\nname: x\n---\n# Title\n### Area\n- A: b\n")


def test_answer_allows_at_most_two_questions():
    with pytest.raises(ValidationError):
        Answer(answer="x", clarifying_questions=["a", "b", "c"], language="en", backend="offline")
    assert trim_questions(["a", " ", "b", "a", "c"]) == ["a", "b"]


@pytest.mark.parametrize("text, expected", [
    ("How do I build a journey?", ("en", False)),
    ("怎么搭建欢迎旅程?", ("zh", False)),
    ("Smart Ingest 的同步频率是多少", ("zh", False)),
    ("How do I configure 推送 in Studio for new users?", ("en", False)),
    ("プッシュ通知の設定方法を教えて", ("en", True)),
    ("¿Cómo configuro una campaña en Iterable para los usuarios?", ("en", True)),
    ("Как настроить push-уведомления?", ("en", True)),
])
def test_language(text, expected):
    assert detect_language(text) == expected


def test_invocation_is_stripped_only_at_the_start():
    assert strip_invocation("/sales-iterable  How do I X?") == "How do I X?"
    assert strip_invocation("/sales-iterable") == ""
    assert strip_invocation("/sales-iterableX") == "/sales-iterableX"
    assert strip_invocation("What does /sales-iterable do?") == "What does /sales-iterable do?"


@pytest.mark.parametrize("question, area, role, goal", [
    ("How do I create a multi-step welcome journey for new users?", "Studio", None, "Set up"),
    ("I'm a developer and our iOS push notifications are not delivering", "Push", "Developer", "Troubleshoot"),
    ("我是营销人员,想提升邮件打开率", "Email", "Marketer", "Optimize"),
    ("What is Brand Affinity?", "AI features", None, "Understand"),
    ("Smart Ingest同步失败怎么办", "Data", None, "Troubleshoot"),
])
def test_context_inference(question, area, role, goal):
    ctx = infer_context(question)
    assert (ctx.area, ctx.role, ctx.goal) == (area, role, goal)


def test_questions_skip_what_the_user_said():
    full = infer_context("I'm a developer; our iOS push notifications are failing")
    asked = clarifying_questions(full, "en", found=True)
    assert len(asked) <= 2
    assert not any("UI, or integrating" in q or "first time" in q for q in asked)
    vague = infer_context("help")
    asked = clarifying_questions(vague, "zh", found=False)
    assert len(asked) == 2 and all(re.search(r"[\u4e00-\u9fff]", q) for q in asked)
    assert clarifying_questions(vague, "en", found=True, about_pricing=True) == []
