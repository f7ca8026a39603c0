"""The answering policy: the `Answer` model, language, context slots (area, role, goal),
the assumptions stated for missing slots, and the at-most-two clarifying questions.

SKILL.md is the source of truth for the slot values and the routing table; this module
parses it. Chinese wording for the context questions lives beside it (context.zh.json).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from .config import get_settings
from .corpus import detect_language as dominant_language
from .corpus import Lang, han_count, has_cjk
from .safety import redact_data

MAX_QUESTIONS = 2
SKILL_INVOCATION = "/sales-iterable"


# --- the answer ------------------------------------------------------------------------


class Route(BaseModel):
    skill: str  # the slash command, e.g. "/sales-deliverability"
    reason: str


class Source(BaseModel):
    id: str
    section: str


class Answer(BaseModel):
    """An answer from any backend. It never holds a secret: every string in it (the answer,
    assumptions, questions, the route's reason...) passes the redaction boundary as the
    Answer is made, so no caller can print, stream or store an unredacted one."""

    answer: str
    assumptions: list[str] = Field(default_factory=list)
    clarifying_questions: list[str] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    route: Route | None = None
    sources: list[Source] = Field(default_factory=list)
    language: Lang
    backend: str

    @field_validator("answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the answer is empty")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _redacted(cls, data, handler):
        return handler(redact_data(handler(data).model_dump()))


# --- the skill file --------------------------------------------------------------------


@dataclass(frozen=True)
class SkillDoc:
    name: str
    description: str
    body: str
    areas: tuple[str, ...]
    roles: tuple[str, ...]
    goals: tuple[str, ...]
    routes: tuple[tuple[str, str], ...]  # (question type, "/sales-...")


class SkillFileError(ValueError):
    pass


def _section(body: str, heading: str) -> str:
    match = re.search(rf"^#+ {re.escape(heading)}\s*$(.*?)(?=^#+ |\Z)", body, re.M | re.S)
    if not match:
        raise SkillFileError(f"SKILL.md has no '{heading}' section")
    return match.group(1)


def _list_names(text: str) -> tuple[str, ...]:
    return tuple(m.group(1).strip() for m in re.finditer(r"^- ([^:\n]+):", text, re.M))


def parse_skill(text: str) -> SkillDoc:
    front = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not front:
        raise SkillFileError("SKILL.md has no frontmatter")
    meta = dict(re.findall(r"^([a-z-]+):\s*(.*)$", front.group(1), re.M))
    body = front.group(2)
    routing = _section(body, "Routing")
    routes = tuple(
        (m.group(1).strip(), m.group(2).strip())
        for m in re.finditer(r"^\|\s*([^|]+?)\s*\|\s*(/sales-[a-z0-9-]+)\s*\|\s*$", routing, re.M)
    )
    doc = SkillDoc(
        name=meta.get("name", ""),
        description=meta.get("description", ""),
        body=body,
        areas=_list_names(_section(body, "Area")),
        roles=_list_names(_section(body, "Role")),
        goals=_list_names(_section(body, "Goal")),
        routes=routes,
    )
    if not (doc.areas and doc.roles and doc.goals and doc.routes):
        raise SkillFileError("SKILL.md must list areas, roles, goals and a routing table")
    return doc


@lru_cache(maxsize=4)
def load_skill(skill_dir: Path | None = None) -> SkillDoc:
    skill_dir = skill_dir or get_settings().skill_dir
    return parse_skill((skill_dir / "SKILL.md").read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def load_zh_wording(skill_dir: Path | None = None) -> dict:
    skill_dir = skill_dir or get_settings().skill_dir
    return json.loads((skill_dir / "context.zh.json").read_text(encoding="utf-8"))


# --- language --------------------------------------------------------------------------

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_OTHER_SCRIPT = re.compile(r"[\u3040-\u30ff\uac00-\ud7af\u0400-\u04ff\u0600-\u06ff\u0590-\u05ff\u0e00-\u0e7f\u0900-\u097f]")
# Frequent function words of languages written in Latin script that are not English.
_OTHER_LATIN = frozenset(
    "el los las una por para cómo como qué que está son del "
    "le les des une est pour avec comment quoi dans "
    "der die das und ist nicht wie ich ein eine mit "
    "o os um uma não você como está".split()
)
_ENGLISH = frozenset("the a an is are how do does what why to in of for and can i my with on".split())


def detect_language(text: str) -> tuple[Lang, bool]:
    """(language to answer in, whether the question was in another language).

    Chinese when Han characters outweigh Latin words; Japanese, Korean, Cyrillic and other
    scripts, or Latin text dominated by Spanish/French/German/Portuguese function words,
    are answered in English with a note."""
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    other_script = len(_OTHER_SCRIPT.findall(text))
    if other_script and other_script >= (len(words) + han_count(text)) / 4:  # kana, hangul, Cyrillic...
        return "en", True
    if dominant_language(text) == "zh":
        return "zh", False
    other = sum(w in _OTHER_LATIN for w in words)
    english = sum(w in _ENGLISH for w in words)
    return "en", other >= 2 and other > english


def clip(text: str, limit: int, what: str = "question") -> tuple[str, str | None]:
    """`text` cut to `limit` characters, and the notice to show when it was cut."""
    if len(text) <= limit:
        return text, None
    return text[:limit], f"{what} truncated from {len(text)} to {limit} characters"


def strip_invocation(question: str) -> str:
    """A leading `/sales-iterable` is the skill's own invocation, not part of the question."""
    stripped = question.strip()
    if stripped.startswith(SKILL_INVOCATION) and (len(stripped) == len(SKILL_INVOCATION) or stripped[len(SKILL_INVOCATION)].isspace()):
        return stripped[len(SKILL_INVOCATION):].strip()
    return stripped


# --- context slots ---------------------------------------------------------------------

# Words that reveal a slot value, per SKILL.md list name. Matched case-insensitively;
# Latin words on word boundaries.
AREA_WORDS: dict[str, tuple[str, ...]] = {
    "Studio": ("studio", "journey", "workflow", "tile", "canvas", "旅程", "工作流", "组件"),
    "Campaigns": ("campaign", "blast", "triggered", "recurring", "活动", "群发"),
    "Email": ("email", "e-mail", "template", "subject line", "handlebars", "邮件", "模板", "主题"),
    "SMS/MMS": ("sms", "mms", "text message", "短信", "彩信"),
    "Push": ("push", "apns", "fcm", "notification", "推送", "通知"),
    "In-app": ("in-app", "in app", "inbox", "embedded message", "应用内", "站内信", "收件箱", "嵌入式"),
    "WhatsApp": ("whatsapp",),
    "Experiments": ("experiment", "a/b", "ab test", "multivariate", "holdout", "实验", "ab测试", "a/b测试", "对照组"),
    "AI features": ("brand affinity", "sto", "send time optimization", "frequency optimization", "journey assist",
                    "copy assist", "predictive", "ai", "品牌亲和", "频次优化", "发送时间优化"),
    "Data": ("smart ingest", "snowflake", "bigquery", "warehouse", "catalog", "user profile", "event", "import",
             "数据", "数仓", "目录", "导入", "埋点", "事件"),
    "Segmentation": ("segment", "audience", "list", "filter", "cohort", "分群", "受众", "列表", "筛选"),
    "Integrations": ("integration", "webhook", "api", "zapier", "sdk", "shopify", "endpoint", "集成", "接口"),
    "Analytics": ("analytics", "report", "metric", "open rate", "click rate", "benchmark", "分析", "报表", "指标", "打开率",
                  "点击率"),
}
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "Marketer": ("marketer", "marketing manager", "campaign manager", "i'm in marketing", "营销人员", "运营人员", "市场部"),
    "Developer": ("developer", "engineer", "dev team", "our app code", "i'm coding", "开发", "工程师", "研发", "程序员"),
    "Data/analytics": ("analyst", "data team", "data engineer", "analytics team", "数据分析", "数据团队", "分析师"),
    "Marketing ops/admin": ("admin", "marketing ops", "mops", "project owner", "管理员", "营销运营"),
}
GOAL_WORDS: dict[str, tuple[str, ...]] = {
    "Troubleshoot": ("troubleshoot", "debug", "not showing up", "not working", "isn't working", "doesn't work", "not delivering", "failing", "fails", "failed",
                     "error", "broken", "wrong", "why are", "why is", "why do", "not receiving", "can't", "cannot",
                     "stuck", "429", "收不到", "失败", "报错", "不工作", "不生效", "异常", "为什么", "出错", "排查"),
    "Optimize": ("optimize", "improve", "increase", "boost", "better", "reduce", "lift", "best practice", "优化", "提升",
                 "提高", "改进", "降低"),
    "Set up": ("set up", "setting up", "setup", "create", "build", "configure", "get started", "first time", "enable", "connect",
               "sync", "integrate", "how do i", "how can i", "how to", "搭建", "创建", "设置", "配置", "开启", "接入",
               "同步", "怎么", "如何", "对接"),
    "Understand": ("what is", "what are", "how does", "explain", "difference", "which", "是什么", "区别", "哪些", "原理",
                   "什么是"),
}
# Explicit goal words beat "how do I"-style defaults: check in this order.
GOAL_ORDER = ("Troubleshoot", "Optimize", "Understand", "Set up")


def contains_word(text: str, word: str) -> bool:
    """`word` in lower-cased `text`: Latin words on word boundaries, Chinese as a substring."""
    if has_cjk(word):
        return word in text
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None


@dataclass(frozen=True)
class Context:
    areas: tuple[str, ...]
    role: str | None
    goal: str | None

    @property
    def area(self) -> str | None:
        return self.areas[0] if self.areas else None


def infer_context(question: str) -> Context:
    text = question.lower()
    scored = []
    for area, words in AREA_WORDS.items():
        hits = sum(contains_word(text, w) for w in words)
        if hits:
            scored.append((-hits, list(AREA_WORDS).index(area), area))
    areas = tuple(area for _, _, area in sorted(scored))
    role = next((r for r, words in ROLE_WORDS.items() if any(contains_word(text, w) for w in words)), None)
    goal = next((g for g in GOAL_ORDER if any(contains_word(text, w) for w in GOAL_WORDS[g])), None)
    return Context(areas=areas, role=role, goal=goal)


_ASSUME = {
    "en": {
        "role": "You work in the Iterable web app (marketer or campaign manager); API and SDK details are noted where they matter.",
        "role_api": "You are a developer integrating through the REST API or SDKs.",
        "goal_setup": "You are setting this up for the first time.",
        "goal_understand": "You want to understand how this works before changing anything.",
        "area": "Your question is about the Iterable feature the passages below cover ({area}).",
        "dated": "Prices are as of March 2026; confirm current pricing with Iterable sales.",
        "other_language": "Your question does not seem to be in English or Chinese, so I answered in English.",
    },
    "zh": {
        "role": "你在Iterable控制台中操作(营销人员/活动运营);涉及API或SDK的地方会单独说明。",
        "role_api": "你是通过REST API或SDK对接的开发人员。",
        "goal_setup": "你是第一次搭建这项功能。",
        "goal_understand": "你想先了解它的工作原理,再做改动。",
        "area": "你的问题涉及下方参考内容所覆盖的Iterable功能({area})。",
        "dated": "价格为2026年3月的信息,请以Iterable销售的最新报价为准。",
        "other_language": "",
    },
}

_QUESTIONS = {
    "en": {
        "area": "Which part of Iterable is this about (for example Studio journeys, a campaign, push, or Smart Ingest)?",
        "role": "Are you working in the Iterable UI, or integrating through the API/SDK?",
        "goal": "Are you setting this up for the first time, optimizing an existing setup, or troubleshooting a problem?",
        "details": "What exactly do you see (the error message or the metric that looks wrong)?",
    },
}


def question_text(key: str, lang: Lang, skill_dir: Path | None = None) -> str:
    """The wording of one clarifying question ("area", "role", "goal", "details")."""
    return _QUESTIONS["en"][key] if lang == "en" else load_zh_wording(skill_dir)["questions"][key]


def _api_leaning(question: str) -> bool:
    text = question.lower()
    return any(contains_word(text, w) for w in ("api", "endpoint", "sdk", "curl", "json", "接口", "端点", "代码"))


def assumptions_for(ctx: Context, question: str, lang: Lang, uses_pricing: bool, other_language: bool) -> list[str]:
    """One sentence per missing slot that matters, plus any dated-fact or language note."""
    words = _ASSUME[lang]
    out: list[str] = []
    if other_language and words["other_language"]:
        out.append(words["other_language"])
    if ctx.role is None and not uses_pricing:
        out.append(words["role_api"] if _api_leaning(question) else words["role"])
    if ctx.goal is None and not uses_pricing:
        out.append(words["goal_understand"])
    if uses_pricing:
        out.append(words["dated"])
    return out


def clarifying_questions(
    ctx: Context, lang: Lang, found: bool, about_pricing: bool = False, skill_dir: Path | None = None
) -> list[str]:
    """At most two questions, chosen by what is missing; never about what the user said.
    Pricing questions need no area, role or goal: nothing to ask."""
    if about_pricing and found:
        return []
    wanted: list[str] = []
    if not found:
        wanted.append("area")
    if ctx.goal is None:
        wanted.append("goal")
    elif ctx.goal == "Troubleshoot":
        wanted.append("details")
    if ctx.role is None and ctx.goal != "Troubleshoot":
        wanted.append("role")
    return [question_text(key, lang, skill_dir) for key in wanted[:MAX_QUESTIONS]]


def trim_questions(questions: list[str]) -> list[str]:
    """Repair for a model answer that asks too much: drop blanks and repeats, keep two."""
    seen: list[str] = []
    for q in questions:
        q = q.strip()
        if q and q not in seen:
            seen.append(q)
    return seen[:MAX_QUESTIONS]


def is_dated(text: str) -> bool:
    return "March 2026" in text or "2026年3月" in text
