"""The Claude Code skill as users install and invoke it."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path


from agent.install import RECORD
from agent.policy import parse_skill
from agent.routing import RouteSkill

REPO = Path(__file__).resolve().parents[1]
SKILL_DIR = REPO / "skill" / "sales-iterable"
COMMAND = str(Path(sys.executable).with_name("sales-iterable"))
ALLOWED_KEYS = {"name", "description", "argument-hint", "allowed-tools", "model", "disable-model-invocation",
                "user-invocable", "license", "metadata"}


def _frontmatter(text):
    block = re.match(r"^---\n(.*?)\n---\n", text, re.S).group(1)
    return dict(re.findall(r"^([a-z-]+):\s*(.*)$", block, re.M)), text[len(block) + 8:]


def test_frontmatter_and_body_follow_claude_code_rules():
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    meta, body = _frontmatter(text)
    assert set(meta) <= ALLOWED_KEYS and {"name", "description", "argument-hint"} <= set(meta)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta["name"]) and len(meta["name"]) <= 64
    assert meta["name"] == SKILL_DIR.name
    assert 0 < len(meta["description"]) <= 1024 and not re.search(r"[<>]", meta["description"])
    assert len(body.splitlines()) < 500
    # Claude Code expands $ARGUMENTS, $0, $1...: a literal "$5" in a price would be eaten
    assert not re.search(r"\$(ARGUMENTS|\d)", text)


def test_body_points_at_retrieval_not_the_whole_reference():
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    assert 'sales-iterable search --json "' in text
    assert "POST /api/users/bulkUpdate" not in text  # the reference stays in the index


def _commands(text):
    """Shell commands the skill tells Claude (or the user) to run."""
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    inline = re.findall(r"`((?:sales-iterable|npx) [^`]+)`", text)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()] + inline


def test_every_command_in_the_skill_runs(use_settings, retriever):
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    commands = _commands(text)
    assert commands
    env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(use_settings.data_dir), "SALES_ITERABLE_EMBEDDER": "use"}
    ran = 0
    for command in commands:
        words = shlex.split(command.replace("<the user's question or its key terms>", "苹果手机收不到推送"))
        if words[0] == "npx":  # installs a sibling from the npm registry: check its shape, do not run it
            assert re.fullmatch(r"npx skills add sales-skills/sales --skill (sales-[a-z-]+|<name>)", command), command
            continue
        assert words[0] == "sales-iterable", command
        done = subprocess.run([COMMAND, *words[1:]], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr)
        if "--json" in words:
            payload = json.loads(done.stdout.splitlines()[0])
            assert payload["results"] and payload["results"][0]["section"] == "ios-push-not-delivering"
        ran += 1
    assert ran >= 1


def _install(*args, cwd, home):
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run([COMMAND, "install-skill", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_install_for_user_and_project_is_idempotent(tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    first = _install("--user", cwd=project, home=home)
    assert first.returncode == 0, first.stderr
    installed = home / ".claude/skills/sales-iterable/SKILL.md"
    assert installed.read_text(encoding="utf-8") == (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    assert "/sales-iterable" in first.stdout and "installed" in first.stdout
    again = _install(cwd=project, home=home)  # --user is the default
    assert again.returncode == 0 and "already up to date" in again.stdout
    proj = _install("--project", cwd=project, home=home)
    assert proj.returncode == 0 and (project / ".claude/skills/sales-iterable/SKILL.md").is_file()
    # the installed copy's routing table is the route tool's enum
    routes = parse_skill(installed.read_text(encoding="utf-8")).routes
    assert list(dict.fromkeys(s for _, s in routes)) == [s.value for s in RouteSkill]


def test_install_keeps_local_edits_unless_forced(tmp_path):
    dest = tmp_path / "skills" / "sales-iterable"
    assert _install("--dest", str(dest), cwd=tmp_path, home=tmp_path).returncode == 0
    skill = dest / "SKILL.md"
    skill.write_text(skill.read_text(encoding="utf-8") + "\nMy team's note.\n", encoding="utf-8")
    refused = _install("--dest", str(dest), cwd=tmp_path, home=tmp_path)
    assert refused.returncode == 1 and "local edits" in refused.stderr and "--force" in refused.stderr
    assert "My team's note." in skill.read_text(encoding="utf-8")
    forced = _install("--dest", str(dest), "--force", cwd=tmp_path, home=tmp_path)
    assert forced.returncode == 0 and "My team's note." not in skill.read_text(encoding="utf-8")
    assert (dest / RECORD).is_file()


def test_an_older_unedited_install_is_updated(tmp_path):
    dest = tmp_path / "skill"
    assert _install("--dest", str(dest), cwd=tmp_path, home=tmp_path).returncode == 0
    record = json.loads((dest / RECORD).read_text())
    old = "---\nname: sales-iterable\ndescription: an older release\n---\nold body\n"
    (dest / "SKILL.md").write_text(old, encoding="utf-8")
    import hashlib

    record["SKILL.md"] = hashlib.sha256(old.encode()).hexdigest()  # as an older release recorded it
    (dest / RECORD).write_text(json.dumps(record))
    updated = _install("--dest", str(dest), cwd=tmp_path, home=tmp_path)
    assert updated.returncode == 0 and "installed SKILL.md" in updated.stdout
