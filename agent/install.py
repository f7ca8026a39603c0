"""Install the Claude Code skill (skill/sales-iterable/) where Claude Code finds it.

Idempotent, and careful with local edits: a small record of what was installed (file
hashes) tells an unedited older copy, which is updated, from one the user changed, which
is kept unless --force."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

RECORD = ".sales-iterable-install.json"


class InstallError(RuntimeError):
    pass


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def install_skill(source: Path, dest: Path, force: bool = False) -> list[str]:
    """Copy the skill's files into `dest`; returns what it did, as lines for the user."""
    files = sorted(p for p in source.iterdir() if p.is_file())
    if not any(p.name == "SKILL.md" for p in files):
        raise InstallError(f"no SKILL.md in {source}: the package is incomplete; reinstall sales-iterable")
    record_path = dest / RECORD
    try:
        recorded = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        recorded = {}
    edited = [
        p.name for p in files
        if (dest / p.name).is_file() and _digest(dest / p.name) != _digest(p)
        and _digest(dest / p.name) != recorded.get(p.name)
    ]
    if edited and not force:
        raise InstallError(
            f"{dest} has local edits ({', '.join(edited)}); keep them, or run again with --force to overwrite"
        )
    changed = [p.name for p in files if not (dest / p.name).is_file() or _digest(dest / p.name) != _digest(p)]
    if changed:
        dest.mkdir(parents=True, exist_ok=True)
        for p in files:
            if p.name in changed:
                tmp = dest / f".{p.name}.tmp"
                shutil.copyfile(p, tmp)
                tmp.replace(dest / p.name)
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps({p.name: _digest(p) for p in files}, indent=2), encoding="utf-8")
    what = f"installed {', '.join(changed)} into {dest}" if changed else f"{dest} is already up to date"
    return [what, "In Claude Code, type: /sales-iterable <your Iterable question>",
            "It fetches reference passages with `sales-iterable search --json`, so keep this package installed."]
