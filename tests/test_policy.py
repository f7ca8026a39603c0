import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from sales_iterable.answer import Answer, trim_questions
from sales_iterable.language import detect_language
from sales_iterable.policy import strip_invocation
from sales_iterable.skill import SkillFileError, load_skill, load_zh_wording, parse_skill

SKILL_DIR = Path(__file__).resolve().parents[1] / "skill" / "sales-iterable"


def test_skill_file_and_code_agree():
    skill = load_skill(SKILL_DIR)
    assert skill.name == "sales-iterable"
    assert 0 < len(skill.description) <= 1024 and not re.search(r"[<>]", skill.description)
    zh = load_zh_wording(SKILL_DIR)
    assert set(zh["areas"]) == set(skill.areas) and set(zh["roles"]) == set(skill.roles)
    assert set(zh["goals"]) == set(skill.goals)
    assert set(zh["questions"]) == {"area", "role", "goal", "details", "follows"}


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


@pytest.mark.parametrize("text, problem", [
    ("# no front matter\n", "no front matter"),
    ("---\nname: [unclosed\n---\nbody\n", "not valid YAML"),
    ("---\n- a list\n---\nbody\n", "not a mapping"),
    ("---\nname: x\ndescription: yes\n---\n# T\n", "must be text"),
])
def test_skill_front_matter_is_read_as_yaml(text, problem):
    with pytest.raises(SkillFileError, match=problem):
        parse_skill(text)
