"""Where Claude Code looks for skills: the user's skills under its configuration directory
(``~/.claude``, or ``$CLAUDE_CONFIG_DIR`` when set) and a project's ``.claude/skills``."""

from __future__ import annotations

import os
from pathlib import Path

SKILL_NAME = "sales-iterable"


def claude_config_dir(home: Path | None = None) -> Path:
    """CLAUDE_CONFIG_DIR moves everything Claude Code keeps in ~/.claude, skills included."""
    moved = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    if moved:
        return Path(moved).expanduser().absolute()
    return (home or Path.home()) / ".claude"


def user_skills_dir(home: Path | None = None) -> Path:
    return claude_config_dir(home) / "skills"


def project_skills_dir(cwd: Path | None = None) -> Path:
    return (cwd or Path.cwd()) / ".claude" / "skills"
