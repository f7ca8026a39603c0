"""The handoff to a sibling skill a user sees: where it is installed and its own
description, or the command that installs it. The targets come from SKILL.md's table."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from .skill import SkillFileError, frontmatter, route_targets
from .skill_dirs import project_skills_dir, user_skills_dir

NAME = re.compile(r"^sales-[a-z0-9]+(?:-[a-z0-9]+)*$")
# The `skills` CLI (vercel-labs/skills) picks one skill of a repository with -s/--skill;
# any other spelling is skipped without a word and its value taken as a second source.
INSTALL = "npx skills add sales-skills/sales --skill {name}"


class Handoff(BaseModel):
    skill: str  # the slash command
    reason: str
    installed: bool
    location: str | None = None
    description: str | None = None
    install_command: str | None = None


def _description(path: Path) -> str | None:
    """An installed sibling's own description, if its SKILL.md has a readable one."""
    try:
        meta, _ = frontmatter(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SkillFileError):
        return None
    description = meta.get("description")
    return description.strip() if isinstance(description, str) and description.strip() else None


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
                           description=_description(path))
    return Handoff(skill=skill, reason=reason, installed=False, install_command=INSTALL.format(name=name))
