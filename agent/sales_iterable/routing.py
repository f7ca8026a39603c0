"""Routing to sibling skills: the table (parsed from SKILL.md), a deterministic classifier
for the offline backend, and the handoff a user sees (installed or how to install)."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from pydantic import BaseModel

from .policy import Route, contains_word as _has, load_skill
from .skill_dirs import project_skills_dir, user_skills_dir

NAME = re.compile(r"^sales-[a-z0-9]+(?:-[a-z0-9]+)*$")
# The `skills` CLI (vercel-labs/skills) picks one skill of a repository with -s/--skill;
# any other spelling is skipped without a word and its value taken as a second source.
INSTALL = "npx skills add sales-skills/sales --skill {name}"


def route_targets() -> tuple[str, ...]:
    return tuple(dict.fromkeys(skill for _, skill in load_skill().routes))


# The route tool's `skill` parameter: only the routing table's targets are valid values.
RouteSkill = Enum("RouteSkill", {s.removeprefix("/").replace("-", "_"): s for s in route_targets()}, type=str)


class Handoff(BaseModel):
    skill: str  # the slash command
    reason: str
    installed: bool
    location: str | None = None
    description: str | None = None
    install_command: str | None = None


def _frontmatter_description(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = re.match(r"^---\n(.*?)\n---", text, re.S)
    if not match:
        return None
    desc = re.search(r"^description:\s*(.+)$", match.group(1), re.M)
    return desc.group(1).strip().strip("\"'") if desc else None


def handoff(skill: str, reason: str, home: Path | None = None, cwd: Path | None = None) -> Handoff:
    """Where the sibling is installed (project skills, then the user's, which follow
    CLAUDE_CONFIG_DIR) and its own description, or the install command. `skill` must be one
    of the routing table's targets."""
    if skill not in route_targets():
        raise ValueError(f"{skill!r} is not a routing target; choose one of {', '.join(route_targets())}")
    name = skill.removeprefix("/")
    if not NAME.match(name):  # the table is ours, but never build a path from an odd name
        raise ValueError(f"bad skill name {name!r}")
    for base in (project_skills_dir(cwd), user_skills_dir(home)):
        path = base / name / "SKILL.md"
        if path.is_file():
            return Handoff(skill=skill, reason=reason, installed=True, location=str(path),
                           description=_frontmatter_description(path))
    return Handoff(skill=skill, reason=reason, installed=False, install_command=INSTALL.format(name=name))


# --- the offline classifier --------------------------------------------------------------

_ITERABLE_SPECIFIC = (
    "iterable", "studio", "journey", "smart ingest", "brand affinity", "catalog", "handlebars", "mobile inbox",
    "embedded message", "journey assist", "frequency optimization", "send time optimization", "api/", "/api",
    "endpoint", "旅程", "目录", "移动收件箱", "嵌入式消息", "品牌亲和",
)
_STRATEGY = (
    "strategy", "strategies", "best practice", "best practices", "tips", "ideas", "how often should", "cadence",
    "benchmark across", "in general", "across tools", "across platforms", "any platform", "regardless of platform",
    "策略", "最佳实践", "通用", "建议多久", "多久发一次", "思路", "跨平台", "跨工具",
)
_COMPETITORS = {"/sales-braze": ("braze",), "/sales-customerio": ("customer.io", "customerio"), "/sales-klaviyo": ("klaviyo",)}
_DELIVERABILITY = ("spf", "dkim", "dmarc", "deliverability", "sender reputation", "domain warmup", "ip warmup", "warm up",
                   "spam folder", "inbox placement", "送达率", "发件人信誉", "垃圾邮件箱", "域名预热", "预热")
_TRANSACTIONAL = ("sendgrid", "postmark", "mailgun", "amazon ses", "transactional email provider", "事务性邮件服务商")
_CRM = ("crm", "salesforce", "hubspot", "pipedrive", "zoho")
_CONNECTORS = ("zapier", "make.com", "make")
_SALES_OTHER = ("cold email", "cold outreach", "cold call", "prospecting", "lead generation", "sales pipeline",
                "sales quota", "outbound sales", "陌拜", "销售线索", "获客线索", "外呼")


def _any(text: str, words: tuple[str, ...]) -> bool:
    return any(_has(text, w) for w in words)


def decide_route(question: str) -> tuple[Route | None, bool]:
    """(route or None, whether the question also asks about Iterable configuration).

    A question that names Iterable-specific things keeps its Iterable part answered; the
    route covers the general part. Order matters: the most specific signal wins."""
    text = question.lower()
    iterable_part = _any(text, _ITERABLE_SPECIFIC)
    for skill, names in _COMPETITORS.items():
        if _any(text, names):
            product = names[0].capitalize() if skill != "/sales-customerio" else "Customer.io"
            return Route(skill=skill, reason=f"{product}-specific questions belong to its own skill"), "iterable" in text
    if _any(text, _DELIVERABILITY):
        return Route(skill="/sales-deliverability", reason="SPF/DKIM/DMARC and deliverability setup across tools"), iterable_part
    if _any(text, _TRANSACTIONAL) or (_has(text, "transactional") and _any(text, ("provider", "providers", " vs ", "compare"))):
        return Route(skill="/sales-transactional-email", reason="comparing transactional email providers"), iterable_part
    if _any(text, _CRM) and (_any(text, _CONNECTORS) or _any(text, ("connect", "sync", "对接", "同步"))):
        return Route(skill="/sales-integration", reason="connecting Iterable to a CRM through Zapier/Make"), iterable_part
    if _any(text, _SALES_OTHER):
        return Route(skill="/sales-do", reason="a sales objective outside Iterable; the router finds the right skill"), False
    if _any(text, _STRATEGY) and not iterable_part:
        if _any(text, ("push", "推送")):
            return Route(skill="/sales-push-notification", reason="push notification strategy across tools"), False
        if _any(text, ("in-app", "in app", "应用内")):
            return Route(skill="/sales-in-app-messaging", reason="in-app messaging strategy across tools"), False
        if _any(text, ("email", "newsletter", "subject line", "邮件")):
            return Route(skill="/sales-email-marketing", reason="email marketing strategy that is not Iterable-specific"), False
    return None, True
