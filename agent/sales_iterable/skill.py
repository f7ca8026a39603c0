"""The skill file, SKILL.md, as data: its YAML front matter (read with a YAML parser), the
policy lists and the routing table in its body, and the Chinese wording beside it. It is
the single source of the routing targets; nothing here is read at import time."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import get_settings


class SkillFileError(ValueError):
    pass


def frontmatter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter, body) of a SKILL.md-style file; SkillFileError when it has no YAML
    mapping between its opening `---` line and the next one."""
    import yaml  # ~15 ms: only when a skill file is read

    match = re.match(r"^---\n(.*?)\n---\n?(.*)$", text, re.S)
    if not match:
        raise SkillFileError("no front matter (a '---' block at the top)")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise SkillFileError(f"front matter is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(meta, dict):
        raise SkillFileError("front matter is not a mapping of names to values")
    return meta, match.group(2)


@dataclass(frozen=True)
class SkillDoc:
    name: str
    description: str
    body: str
    areas: tuple[str, ...]
    roles: tuple[str, ...]
    goals: tuple[str, ...]
    routes: tuple[tuple[str, str], ...]  # (question type, "/sales-...")


def _section(body: str, heading: str) -> str:
    match = re.search(rf"^#+ {re.escape(heading)}\s*$(.*?)(?=^#+ |\Z)", body, re.M | re.S)
    if not match:
        raise SkillFileError(f"SKILL.md has no '{heading}' section")
    return match.group(1)


def _list_names(text: str) -> tuple[str, ...]:
    return tuple(m.group(1).strip() for m in re.finditer(r"^- ([^:\n]+):", text, re.M))


def parse_skill(text: str) -> SkillDoc:
    try:
        meta, body = frontmatter(text)
    except SkillFileError as exc:
        raise SkillFileError(f"SKILL.md: {exc}") from None
    name, description = meta.get("name", ""), meta.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise SkillFileError("SKILL.md: name and description must be text")
    routing = _section(body, "Routing")
    routes = tuple(
        (m.group(1).strip(), m.group(2).strip())
        for m in re.finditer(r"^\|\s*([^|]+?)\s*\|\s*(/sales-[a-z0-9-]+)\s*\|\s*$", routing, re.M)
    )
    doc = SkillDoc(
        name=name,
        description=description,
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


def route_targets() -> tuple[str, ...]:
    return tuple(dict.fromkeys(skill for _, skill in load_skill().routes))


@lru_cache(maxsize=1)
def route_skill_enum() -> type[Enum]:
    """The routing table's targets as an Enum, for tool schemas: a model may name no other
    skill. Built on first use (it reads SKILL.md), never at import."""
    return Enum("RouteSkill", {s.removeprefix("/").replace("-", "_"): s for s in route_targets()}, type=str)
