"""The Claude Code skill as users install and invoke it."""

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sales_iterable.install import RECORD, InstallError, check_search, install_skill, permission_rule
from sales_iterable.skill import parse_skill
from sales_iterable.routing import handoff
from sales_iterable.skill import frontmatter, route_skill_enum
from sales_iterable.skill_reference import REFERENCES, render_references, with_toc

REPO = Path(__file__).resolve().parents[1]
SKILL_DIR = REPO / "skill" / "sales-iterable"
CORPUS = REPO / "corpus"
COMMAND = str(Path(sys.executable).with_name("sales-iterable"))
BARE_PATH = "/usr/bin:/bin"
ALLOWED_KEYS = {"name", "description", "argument-hint", "allowed-tools", "model", "disable-model-invocation",
                "user-invocable", "license", "metadata"}
TERMS = "<key terms of the question>"


def _frontmatter(text):
    return frontmatter(text)


def _search_line(text):
    """The search command line the skill tells Claude to run (from its bash block)."""
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines() if "search --json" in line]
    assert len(lines) == 1, lines
    return lines[0]


def _allowed_rules(text):
    """allowed-tools as Claude Code reads it: a YAML list, or a string split on commas and
    spaces outside parentheses."""
    value = _frontmatter(text)[0].get("allowed-tools")
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    rules, current, depth = [], "", 0
    for ch in value or "":
        depth += ch == "("
        depth -= ch == ")"
        if ch in ", " and depth == 0:
            rules, current = rules + [current] if current else rules, ""
        else:
            current += ch
    return rules + [current] if current else rules


def _claude_code_allows(rule, command):
    """Claude Code's Bash rule matching (exact, legacy `prefix:*`, or `*` wildcards where a
    lone trailing ` *` is optional), ported from its shellRuleMatching for this test."""
    content = re.fullmatch(r"Bash\((.*)\)", rule, re.S).group(1)
    if content.endswith(":*"):
        prefix = content[:-2]
        return command == prefix or command.startswith(prefix + " ")
    if "*" not in content:
        return command == content
    if content.endswith(" *") and content.count("*") == 1:
        pattern = re.escape(content[:-2]) + "( .*)?"
    else:
        pattern = ".*".join(re.escape(part) for part in content.split("*"))
    return re.fullmatch(pattern, command, re.S) is not None


def _env(home, data_dir=None, **extra):
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_CONFIG_DIR"}
    env.update(HOME=str(home), **extra)
    if data_dir:
        env.update(SALES_ITERABLE_DATA_DIR=str(data_dir), SALES_ITERABLE_EMBEDDER="use")
    return env


def _install(*args, cwd, home, data_dir=None, **extra):
    return subprocess.run([COMMAND, "install-skill", *args], cwd=cwd, env=_env(home, data_dir, **extra),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def index_dir(use_settings, retriever):
    """The session's built index: installs check their search command against it."""
    return use_settings.data_dir


def _tree(root):
    """Every path under `root` with what it is: a link's target, a file's bytes."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = ("link", os.readlink(path)) if path.is_symlink() else \
            ("file", path.read_bytes()) if path.is_file() else ("dir", None)
    return out


# --- the source skill ---------------------------------------------------------------------


def test_frontmatter_and_body_follow_claude_code_rules():
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    meta, body = _frontmatter(text)
    assert set(meta) <= ALLOWED_KEYS and {"name", "description", "argument-hint", "allowed-tools"} <= set(meta)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta["name"]) and len(meta["name"]) <= 64
    assert meta["name"] == SKILL_DIR.name
    assert 0 < len(meta["description"]) <= 1024 and not re.search(r"[<>]", meta["description"])
    assert len(body.splitlines()) < 300  # well under Claude Code's 500-line guidance
    # Claude Code expands $ARGUMENTS, $0, $1...: a literal "$5" in a price would be eaten
    assert not re.search(r"\$(ARGUMENTS|\d)", text)


def test_allowed_tools_pre_approves_only_the_search_command():
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    rules = _allowed_rules(text)
    assert rules == [permission_rule("sales-iterable search --json")]
    line = _search_line(text).replace(TERMS, "push quiet hours")
    assert _claude_code_allows(rules[0], line)
    for other in ("sales-iterable ask 'x'", "sales-iterable eval --judge", "sales-iterable chat",
                  "sales-iterable index --rebuild", "sales-iterable install-skill --force",
                  "sales-iterable --chroma-url http://x search --json 'x'", "sales-iterable search 'x'"):
        assert not _claude_code_allows(rules[0], other), other


def test_body_points_at_retrieval_and_the_reference_files_not_the_reference():
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    assert _search_line(text) == f"sales-iterable search --json '{TERMS}'"
    assert "POST /api/users/bulkUpdate" not in text  # facts stay in the index and references/
    assert "references/en/<id>.md" in text and "references/zh/<id>.md" in text


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
        words = shlex.split(command.replace(TERMS, "苹果手机收不到推送"))
        if words[0] == "npx":  # installs a sibling from the npm registry: check its shape, do not run it
            # `skills add` picks one skill with -s/--skill (vercel-labs/skills `add --help`)
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


def test_no_skills_option_anywhere_in_the_repository():
    """The plural is not an option of the skills CLI: it is skipped without a word."""
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    wrong = "--" + "skills"  # spelled apart so this file does not match itself
    found = [name for name in tracked if (REPO / name).is_file() and wrong in (REPO / name).read_text("utf-8", "replace")]
    assert not found


# --- the reference copy -------------------------------------------------------------------


def test_committed_reference_copy_matches_the_corpus():
    """references/ and the sections list in SKILL.md are generated from corpus/; regenerate
    with `python -m sales_iterable.skill_reference` after editing the corpus."""
    wanted = render_references(CORPUS)
    committed = {p.relative_to(SKILL_DIR).as_posix(): p.read_text(encoding="utf-8")
                 for p in sorted((SKILL_DIR / REFERENCES).rglob("*")) if p.is_file()}
    assert committed == wanted
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    assert with_toc(text, CORPUS) == text


def test_a_corpus_edit_shows_up_as_drift(corpus_copy):
    en = corpus_copy / "en.md"
    en.write_text(en.read_text(encoding="utf-8").replace("Fixed (wait X hours/days)", "Fixed (wait N hours)"),
                  encoding="utf-8")
    assert render_references(corpus_copy)["references/en/studio.md"] != \
        (SKILL_DIR / "references/en/studio.md").read_text(encoding="utf-8")


def _block_text(block):
    return block.items[0] if block.kind == "paragraph" else block.items[-1]


def test_reference_files_cover_the_facts_and_only_the_facts():
    from sales_iterable.corpus import load_sections

    files = render_references(CORPUS)
    text = (SKILL_DIR / "SKILL.md").read_text(encoding="utf-8")
    listed = re.findall(r"^- `([a-z0-9-]+)`:", text, re.M)
    for lang in ("en", "zh"):
        assert sorted(p.split("/")[-1][:-3] for p in files if p.startswith(f"references/{lang}/")) == sorted(listed)
    every = "\n".join(files.values())
    for sec in load_sections(CORPUS)["en"]:
        inside = f"{{#{sec.id}}}" in every
        kept = sec.indexed and sec.level > 1 and not sec.instructions
        assert inside == kept, sec.id
        for block in sec.blocks if kept else ():
            assert (_block_text(block) in every) == (block.role == "fact"), (sec.id, block.items[0][:40])
    assert "Help the user" not in every and "为用户解答" not in every  # the overview: addressed to an assistant
    assert "Best-effort from research" not in every  # the Gotchas preamble, likewise
    assert "User says" not in every and "/sales-do" not in every  # examples, the sibling catalogue
    assert all(len(t.splitlines()) < 200 for t in files.values())


# --- installing ------------------------------------------------------------------------------


def test_install_in_a_clean_home_gives_a_pre_approved_search_that_runs_with_a_bare_path(tmp_path, index_dir):
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    done = _install("--user", cwd=project, home=home, data_dir=index_dir)
    assert done.returncode == 0, done.stderr
    skill = home / ".claude/skills/sales-iterable"
    text = (skill / "SKILL.md").read_text(encoding="utf-8")
    line = _search_line(text).replace(TERMS, "iOS push not delivering")
    assert Path(shlex.split(line)[0]).is_absolute() and "sales-iterable search" not in text.replace(COMMAND, "")
    # as Claude Code's shell runs it: from the skill folder, with a bare PATH
    ran = subprocess.run(line, shell=True, executable="/bin/sh", cwd=skill, capture_output=True, text=True,
                         timeout=120, env=_env(home, index_dir, PATH=BARE_PATH))
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[0])["results"][0]["section"] == "ios-push-not-delivering"
    rules = _allowed_rules(text)
    assert rules == [f"Bash({COMMAND} search --json *)"] and _claude_code_allows(rules[0], line)
    for other in (f"{COMMAND} ask 'x'", f"{COMMAND} eval --judge", f"{COMMAND} chat", "sales-iterable search --json 'x'"):
        assert not _claude_code_allows(rules[0], other), other
    assert f"allowed-tools: {rules[0]}" in done.stdout and "checked:" in done.stdout
    installed_refs = {p.relative_to(skill).as_posix(): p.read_text(encoding="utf-8")
                      for p in (skill / REFERENCES).rglob("*.md")}
    assert installed_refs == render_references(CORPUS)
    assert (skill / "context.zh.json").read_bytes() == (SKILL_DIR / "context.zh.json").read_bytes()
    assert len(text.splitlines()) < 300
    routes = parse_skill(text).routes  # the installed copy's routing table is the route tool's enum
    assert list(dict.fromkeys(s for _, s in routes)) == [s.value for s in route_skill_enum()]


def test_install_honours_claude_config_dir(tmp_path, index_dir):
    home, moved = tmp_path / "home", tmp_path / "claude-config"
    home.mkdir()
    done = _install("--user", cwd=tmp_path, home=home, data_dir=index_dir, CLAUDE_CONFIG_DIR=str(moved))
    assert done.returncode == 0, done.stderr
    assert (moved / "skills/sales-iterable/SKILL.md").is_file()
    assert (moved / "skills/sales-iterable/references/zh/studio.md").is_file()
    assert not (home / ".claude").exists()


def test_sibling_discovery_honours_claude_config_dir(tmp_path, monkeypatch):
    moved = tmp_path / "claude-config"
    (moved / "skills/sales-braze").mkdir(parents=True)
    (moved / "skills/sales-braze/SKILL.md").write_text("---\nname: sales-braze\ndescription: Braze help\n---\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(moved))
    found = handoff("/sales-braze", "Braze question", home=tmp_path / "home", cwd=tmp_path)
    assert found.installed and found.description == "Braze help" and str(moved) in found.location
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    assert not handoff("/sales-braze", "Braze question", home=tmp_path / "home", cwd=tmp_path).installed


def test_install_for_user_and_project_is_idempotent(tmp_path, index_dir):
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    first = _install("--user", cwd=project, home=home, data_dir=index_dir)
    assert first.returncode == 0 and "/sales-iterable" in first.stdout and "installed" in first.stdout
    again = _install(cwd=project, home=home, data_dir=index_dir)  # --user is the default
    assert again.returncode == 0 and "already up to date" in again.stdout
    proj = _install("--project", cwd=project, home=home, data_dir=index_dir)
    assert proj.returncode == 0 and (project / ".claude/skills/sales-iterable/references/en/studio.md").is_file()


def test_install_warns_when_the_recorded_command_does_not_run_with_a_bare_path(tmp_path, index_dir):
    # A console script whose interpreter is looked up on PATH (`#!/usr/bin/env python3`, as
    # hand-made wrappers and some environments have): run here by this venv's python it
    # installs fine, but Claude Code's shell, with a bare PATH, finds a python3 without it.
    wrapper = tmp_path / "bin" / "sales-iterable"
    wrapper.parent.mkdir()
    wrapper.write_text("#!/usr/bin/env python3\nimport sys\nfrom sales_iterable.cli import main\nsys.exit(main())\n")
    wrapper.chmod(0o755)
    dest = tmp_path / "skill"
    done = subprocess.run([sys.executable, str(wrapper), "install-skill", "--dest", str(dest)], cwd=tmp_path,
                          env=_env(tmp_path, index_dir), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{wrapper} search --json" in (dest / "SKILL.md").read_text(encoding="utf-8")
    warning = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and "does not run with a bare PATH" in warning[0] and "references/" in warning[0]
    assert "checked:" not in done.stdout


def test_check_search_names_what_went_wrong(tmp_path):
    assert "nowhere/sales-iterable" in check_search(f"{tmp_path}/nowhere/sales-iterable search --json", tmp_path)
    script = tmp_path / "prints-nothing"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    assert check_search(f"{script} search --json", tmp_path) == "it printed no JSON results"
    hangs = tmp_path / "hangs"
    hangs.write_text("#!/bin/sh\nexec sleep 30\n")
    hangs.chmod(0o755)
    assert "did not finish within 1 s" in check_search(f"{hangs} search --json", tmp_path, timeout=1)


def test_the_whole_skill_folder_is_installed_recursively(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(SKILL_DIR, source)
    (source / "scripts").mkdir()
    (source / "scripts/check.sh").write_text("#!/bin/sh\necho ok\n")
    (source / "scripts/check.sh").chmod(0o755)
    (source / "notes/deep").mkdir(parents=True)
    (source / "notes/deep/context.md").write_text("context\n")
    (source / ".DS_Store").write_bytes(b"\0")
    dest = tmp_path / "dest"
    install_skill(source, dest, CORPUS, [COMMAND])
    assert (dest / "notes/deep/context.md").read_text() == "context\n"
    assert os.access(dest / "scripts/check.sh", os.X_OK) and not os.access(dest / "context.zh.json", os.X_OK)
    assert not (dest / ".DS_Store").exists()
    record = json.loads((dest / RECORD).read_text())
    assert {"scripts/check.sh", "notes/deep/context.md", "references/zh/pricing.md", "SKILL.md"} <= set(record)


def test_install_keeps_local_edits_unless_forced(tmp_path):
    dest = tmp_path / "skills" / "sales-iterable"
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    skill = dest / "SKILL.md"
    skill.write_text(skill.read_text(encoding="utf-8") + "\nMy team's note.\n", encoding="utf-8")
    ref = dest / "references/en/pricing.md"
    ref.write_text(ref.read_text(encoding="utf-8") + "\nOur negotiated price.\n", encoding="utf-8")
    with pytest.raises(InstallError, match=r"local edits \(.*SKILL.md.*references/en/pricing.md.*--force"):
        install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    assert "My team's note." in skill.read_text(encoding="utf-8") and "negotiated" in ref.read_text(encoding="utf-8")
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND], force=True)
    assert "My team's note." not in skill.read_text(encoding="utf-8")
    assert "negotiated" not in ref.read_text(encoding="utf-8")


def test_the_cli_refuses_local_edits_with_one_line(tmp_path, index_dir):
    dest = tmp_path / "skill"
    assert _install("--dest", str(dest), cwd=tmp_path, home=tmp_path, data_dir=index_dir).returncode == 0
    (dest / "SKILL.md").write_text("mine\n")
    refused = _install("--dest", str(dest), cwd=tmp_path, home=tmp_path, data_dir=index_dir)
    assert refused.returncode == 1 and "local edits" in refused.stderr and "--force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and (dest / "SKILL.md").read_text() == "mine\n"


def test_an_older_unedited_install_is_updated_and_its_leftovers_removed(tmp_path):
    dest = tmp_path / "skill"
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    record = json.loads((dest / RECORD).read_text())
    old = "---\nname: sales-iterable\ndescription: an older release\n---\nold body\n"
    (dest / "SKILL.md").write_text(old, encoding="utf-8")
    record["SKILL.md"] = hashlib.sha256(old.encode()).hexdigest()  # as an older release recorded it
    for name, text in (("gone.md", "an old section\n"), ("edited.md", "an old section\n")):
        (dest / "references/en" / name).write_text(text)
        record[f"references/en/{name}"] = hashlib.sha256(text.encode()).hexdigest()
    (dest / "references/en/edited.md").write_text("an old section, with my notes\n")
    (dest / RECORD).write_text(json.dumps(record))
    done = install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    assert done.written == ["SKILL.md"] and done.removed == ["references/en/gone.md"]
    assert done.kept == ["references/en/edited.md"] and (dest / "references/en/edited.md").is_file()
    assert not (dest / "references/en/gone.md").exists() and "old body" not in (dest / "SKILL.md").read_text()


# --- file safety (issue 10) ------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path):
    """Files that belong to someone else, next to the destination: links point here."""
    root = tmp_path / "outside"
    root.mkdir()
    (root / "precious.txt").write_text("the user's file\n")
    (root / "dir").mkdir()
    (root / "dir/keep.md").write_text("keep\n")
    return root


@pytest.mark.fault("files")
@pytest.mark.parametrize("planted", [RECORD, "SKILL.md", "references/zh/studio.md"])
def test_a_link_planted_at_an_installed_file_is_never_written_through(tmp_path, outside, planted):
    dest = tmp_path / "skill"
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    before = _tree(outside)
    (dest / planted).unlink()
    (dest / planted).symlink_to(outside / "precious.txt")
    with pytest.raises(InstallError, match="local edits"):
        install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    assert (dest / planted).is_symlink() and _tree(outside) == before
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND], force=True)  # replaces the link, never its target
    assert not (dest / planted).is_symlink() and (dest / planted).is_file() and _tree(outside) == before


@pytest.mark.fault("files")
def test_links_planted_at_temporary_names_are_not_followed(tmp_path, outside):
    dest = tmp_path / "skill"
    (dest / "references/en").mkdir(parents=True)
    before = _tree(outside)
    for name in (".SKILL.md.tmp", f".{RECORD}.tmp", "references/en/.studio.md.tmp"):
        (dest / name).symlink_to(outside / "precious.txt")  # the names older releases wrote through
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    assert _tree(outside) == before and (dest / "SKILL.md").is_file() and (dest / RECORD).is_file()
    assert not [p for p in dest.rglob("*.tmp") if not p.is_symlink()]  # no temporary file left behind


@pytest.mark.fault("files")
@pytest.mark.parametrize("linked", ["", "references", "references/en"])
def test_a_linked_folder_is_a_local_edit_and_force_replaces_the_link_only(tmp_path, outside, linked):
    dest = tmp_path / "skill"
    if linked:
        install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
        shutil.rmtree(dest / linked)
    else:
        dest.parent.mkdir(exist_ok=True)
    (dest / linked if linked else dest).symlink_to(outside / "dir", target_is_directory=True)
    before = _tree(outside)
    with pytest.raises(InstallError, match="symbolic link"):
        install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    assert _tree(outside) == before
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND], force=True)
    assert _tree(outside) == before
    assert not (dest / linked).is_symlink() and (dest / "references/en/studio.md").is_file()


@pytest.mark.fault("files")
def test_a_forged_record_cannot_remove_files_outside_the_destination(tmp_path, outside):
    dest = tmp_path / "skill"
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    before = _tree(outside)
    digest = hashlib.sha256((outside / "precious.txt").read_bytes()).hexdigest()
    record = json.loads((dest / RECORD).read_text())
    record.update({"../outside/precious.txt": digest, str(outside / "precious.txt"): digest,
                   "references/../../outside/precious.txt": digest})
    (dest / RECORD).write_text(json.dumps(record))
    install_skill(SKILL_DIR, dest, CORPUS, [COMMAND])
    assert _tree(outside) == before


@pytest.mark.fault("files")
def test_project_install_in_a_checkout_never_writes_through_a_planted_link(tmp_path, index_dir):
    project = tmp_path / "checkout"
    (project / ".claude/skills/sales-iterable").mkdir(parents=True)
    (project / "README.md").write_text("the project's readme\n")
    (project / ".claude/skills/sales-iterable/SKILL.md").symlink_to(project / "README.md")
    (project / ".claude/skills/sales-iterable" / RECORD).symlink_to(project / "README.md")
    refused = _install("--project", cwd=project, home=tmp_path, data_dir=index_dir)
    assert refused.returncode == 1 and "local edits" in refused.stderr
    assert (project / "README.md").read_text() == "the project's readme\n"
    forced = _install("--project", "--force", cwd=project, home=tmp_path, data_dir=index_dir)
    assert forced.returncode == 0, forced.stderr
    assert (project / "README.md").read_text() == "the project's readme\n"
    assert not (project / ".claude/skills/sales-iterable/SKILL.md").is_symlink()
