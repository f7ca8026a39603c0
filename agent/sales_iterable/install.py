"""Install the Claude Code skill (skill/sales-iterable/) where Claude Code finds it.

What lands in the destination is the whole skill folder, recursively, with two parts made
at install time: SKILL.md, whose search command becomes the absolute command that runs
this package (so it works with the bare PATH Claude Code's shell may have) and whose
``allowed-tools`` rule pre-approves exactly that read-only command; and references/,
generated from the corpus the search index is built from.

Idempotent, and careful with what is already there: a record of what was installed (file
hashes) tells an unedited older copy, which is updated, from one the user changed, which
is kept unless --force. A symbolic link anywhere in the destination counts as a change the
user made: it is never written through, and --force replaces the link itself, never its
target. Nothing outside the destination is read for hashing, written or removed."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shlex
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .files import UnsafePathError, atomic_write
from .skill import frontmatter
from .skill_reference import REFERENCES, render_references, with_toc

RECORD = ".sales-iterable-install.json"
# The search command as the source SKILL.md writes it, in its allowed-tools rule and in
# the command Claude runs; install replaces it with the absolute command.
SEARCH = "sales-iterable search --json"
BARE_PATH = "/usr/bin:/bin"
CHECK_TIMEOUT = 300  # the first search builds the index
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_RULE_LINE = re.compile(r"^allowed-tools:.*$", re.M)  # the first is the front matter's: it comes first
# Characters Claude Code's allowed-tools parsing or rule matching treats specially.
_RULE_SPECIAL = re.compile(r"[*()\\]")


class InstallError(RuntimeError):
    pass


@dataclass
class Installed:
    dest: Path
    command: str  # the search command recorded in SKILL.md, without the terms
    rule: str  # the allowed-tools rule that pre-approves it
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited files the skill no longer ships

    def lines(self) -> list[str]:
        out = []
        if self.written:
            refs = [w for w in self.written if w.startswith(f"{REFERENCES}/")]
            names = [w for w in self.written if w not in refs]
            if refs:
                names.append(f"{REFERENCES}/ ({len(refs)} files)")
            out.append(f"installed {', '.join(names)} into {self.dest}")
        if self.removed:
            out.append(f"removed {', '.join(self.removed)} (no longer part of the skill)")
        if self.kept:
            out.append(f"kept {', '.join(self.kept)}: no longer part of the skill, but edited locally")
        if not (self.written or self.removed):
            out.append(f"{self.dest} is already up to date")
        out.append(f"search command: {self.command} '<terms>'")
        out.append(f"pre-approved by SKILL.md: allowed-tools: {self.rule}")
        out.append("In Claude Code, type: /sales-iterable <your Iterable question>")
        return out


# --- the command recorded in SKILL.md -------------------------------------------------


def find_cli() -> list[str]:
    """An absolute command that runs this package's CLI without an activated environment:
    the console script this process was started as, the one beside its interpreter, the
    one on PATH, or else the interpreter with ``-m``."""
    started_as = Path(sys.argv[0])
    if started_as.name == "sales-iterable" and started_as.is_file():
        return [str(started_as.absolute())]
    beside = Path(sys.executable).absolute().parent / "sales-iterable"
    if beside.is_file():
        return [str(beside)]
    from shutil import which

    found = which("sales-iterable")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", f"{__package__}.cli"]


def search_command(cli: list[str]) -> str:
    return shlex.join([*cli, "search", "--json"])


def permission_rule(command: str) -> str:
    """Claude Code's wildcard rule for `command` followed by anything: a trailing ` *`
    matches the command with or without arguments, and never across `&&`, `;` or `|`,
    which Claude Code splits into separate commands before matching."""
    return f"Bash({command} *)"


def _yaml_value(text: str) -> str:
    # A plain YAML scalar cannot hold ": " or " #"; a JSON string is valid YAML.
    return json.dumps(text, ensure_ascii=False) if (": " in text or " #" in text or text[:1] in "'\"") else text


def render_skill_md(source_text: str, corpus_dir: Path, command: str) -> str:
    """The installed SKILL.md: the table of contents regenerated, the search command and
    its allowed-tools rule pointing at `command`. The rule's line is rewritten in place (the
    rest of the file stays as written), and the result is read back with the YAML parser:
    what Claude Code will read must be exactly the rule."""
    text = with_toc(source_text, corpus_dir)
    meta, body = frontmatter(text)
    rule = meta.get("allowed-tools")
    if not isinstance(rule, str) or SEARCH not in rule or SEARCH not in body:
        raise InstallError(f"the skill's SKILL.md lost its allowed-tools rule or its `{SEARCH}` command; reinstall sales-iterable")
    text = _RULE_LINE.sub(lambda _: f"allowed-tools: {_yaml_value(permission_rule(command))}", text.replace(SEARCH, command),
                          count=1)
    if frontmatter(text)[0].get("allowed-tools") != permission_rule(command):
        raise InstallError(f"the path {command!r} cannot be written as the skill's allowed-tools rule; install "
                           "sales-iterable under a plainer path")
    return text


def check_search(command: str, skill_dir: Path, timeout: float = CHECK_TIMEOUT) -> str | None:
    """Run the recorded search command the way Claude Code's shell would, from the skill
    folder with a bare PATH. None when it prints JSON results, else what went wrong."""
    env = {**os.environ, "PATH": BARE_PATH}
    try:
        # its own session, so a timeout stops the shell and whatever it started
        proc = subprocess.Popen(f"{command} -k 1 'Studio journey'", shell=True, executable="/bin/sh", cwd=skill_dir,
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
    except OSError as exc:
        return str(exc)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return f"it did not finish within {timeout:g} s"
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return last[:300]
    try:
        results = json.loads(stdout.splitlines()[0])["results"]
    except (IndexError, ValueError, KeyError, TypeError):
        return "it printed no JSON results"
    return None if results else "it found no passages"


# --- what goes where ----------------------------------------------------------------------


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _skipped(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def planned_files(source: Path, corpus_dir: Path, command: str) -> dict[str, tuple[bytes, int]]:
    """{path inside the skill folder: (content, mode)} for everything the install writes."""
    if not (source / "SKILL.md").is_file():
        raise InstallError(f"no SKILL.md in {source}: the package is incomplete; reinstall sales-iterable")
    plan: dict[str, tuple[bytes, int]] = {}
    for path in sorted(source.rglob("*")):
        rel = PurePosixPath(path.relative_to(source).as_posix())
        if _skipped(rel) or rel.parts[0] == REFERENCES or path.is_symlink() or not path.is_file():
            continue
        mode = 0o755 if os.access(path, os.X_OK) else 0o644
        plan[str(rel)] = (path.read_bytes(), mode)
    try:
        skill_md = render_skill_md((source / "SKILL.md").read_text(encoding="utf-8"), corpus_dir, command)
    except ValueError as exc:
        raise InstallError(f"{source / 'SKILL.md'}: {exc}; reinstall sales-iterable") from None
    plan["SKILL.md"] = (skill_md.encode("utf-8"), 0o644)
    for rel, text in render_references(corpus_dir).items():
        plan[rel] = (text.encode("utf-8"), 0o644)
    return plan


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None


def _read_nofollow(path: Path) -> bytes | None:
    """The bytes of a regular file, never through a link; None if it is not one."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
            return None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read()


def _safe_rel(rel: str) -> PurePosixPath | None:
    """A path from the record, only if it stays inside the destination."""
    path = PurePosixPath(rel)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts) or "\\" in rel:
        return None
    return path


def _read_record(dest: Path) -> dict[str, str]:
    data = _read_nofollow(dest / RECORD)
    try:
        recorded = json.loads(data) if data else {}
    except ValueError:
        return {}
    if not isinstance(recorded, dict):
        return {}
    return {k: v for k, v in recorded.items() if isinstance(k, str) and isinstance(v, str) and _safe_rel(k)}


@dataclass
class _Survey:
    write: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)  # changed by the user, or a link: kept unless forced
    linked_dirs: list[str] = field(default_factory=list)  # folders that are links (replaced when forced)
    blocked: list[str] = field(default_factory=list)  # something other than a file or folder in the way
    stale: list[str] = field(default_factory=list)  # unedited files the skill no longer ships
    kept: list[str] = field(default_factory=list)


def _survey(dest: Path, plan: dict[str, tuple[bytes, int]], recorded: dict[str, str]) -> _Survey:
    survey = _Survey()

    def folder_state(rel_dir: PurePosixPath) -> str:
        """'ok', 'missing', 'link' or 'blocked' for a folder and the folders above it."""
        for depth in range(1, len(rel_dir.parts) + 1):
            part = PurePosixPath(*rel_dir.parts[:depth])
            st = _lstat(dest / part)
            if st is None:
                return "missing"
            if stat.S_ISLNK(st.st_mode):
                if str(part) not in survey.linked_dirs:
                    survey.linked_dirs.append(str(part))
                return "link"
            if not stat.S_ISDIR(st.st_mode):
                if str(part) not in survey.blocked:
                    survey.blocked.append(str(part))
                return "blocked"
        return "ok"

    for rel, (data, _) in plan.items():
        state = folder_state(PurePosixPath(rel).parent)
        if state == "missing":
            survey.write.append(rel)
            continue
        if state != "ok":  # its folder is a link or a file: the user's, kept unless forced
            survey.write.append(rel)
            continue
        st = _lstat(dest / rel)
        if st is None:
            survey.write.append(rel)
        elif stat.S_ISLNK(st.st_mode):
            survey.edited.append(rel)
            survey.write.append(rel)
        elif not stat.S_ISREG(st.st_mode):
            survey.blocked.append(rel)
        else:
            have = _digest(_read_nofollow(dest / rel) or b"")
            if have == _digest(data):
                continue
            if have != recorded.get(rel):
                survey.edited.append(rel)
            survey.write.append(rel)

    for rel in sorted(set(recorded) - set(plan) - {RECORD}):
        if folder_state(PurePosixPath(rel).parent) != "ok":
            continue
        st = _lstat(dest / rel)
        if st is None or not stat.S_ISREG(st.st_mode):
            continue
        if _digest(_read_nofollow(dest / rel) or b"") == recorded[rel]:
            survey.stale.append(rel)
        else:
            survey.kept.append(rel)
    return survey


def _make_folders(dest: Path, rel_dir: PurePosixPath, force: bool) -> None:
    """Create the folders down to `rel_dir` as real folders; a link in the way is replaced
    (the link, not its target) only when forced."""
    for depth in range(len(rel_dir.parts) + 1):
        path = dest / PurePosixPath(*rel_dir.parts[:depth]) if depth else dest
        st = _lstat(path)
        if st is not None and stat.S_ISLNK(st.st_mode):
            if not force:
                raise InstallError(f"{path} is a symbolic link; run again with --force to replace it")
            path.unlink()
            st = None
        if st is None:
            try:
                path.mkdir(parents=depth == 0)
            except FileExistsError:
                raise InstallError(f"{path} appeared while installing; run again") from None
        elif not stat.S_ISDIR(st.st_mode):
            raise InstallError(f"{path} is in the way (not a folder); move it away and run again")


def install_skill(source: Path, dest: Path, corpus_dir: Path, cli: list[str], force: bool = False) -> Installed:
    """Install the skill from `source` into `dest`, recording `cli` as its search command."""
    command = search_command(cli)
    plan = planned_files(source, corpus_dir, command)
    dest_st = _lstat(dest)
    dest_is_link = dest_st is not None and stat.S_ISLNK(dest_st.st_mode)
    if dest_st is not None and not dest_is_link and not stat.S_ISDIR(dest_st.st_mode):
        raise InstallError(f"{dest} is a file, not a folder; move it away and run again")
    if dest_is_link:
        recorded, survey = {}, _Survey(write=list(plan))
        edited = [f"{dest} is a symbolic link to {os.readlink(dest)}"]
    else:
        recorded = _read_record(dest) if dest_st else {}
        survey = _survey(dest, plan, recorded) if dest_st else _Survey(write=list(plan))
        record_st = _lstat(dest / RECORD) if dest_st else None
        edited = survey.edited + [f"{d}/ (a symbolic link)" for d in survey.linked_dirs]
        if record_st is not None and not stat.S_ISREG(record_st.st_mode):
            edited.append(f"{RECORD} (not a regular file)")
    if survey.blocked:
        raise InstallError(f"{', '.join(str(dest / b) for b in survey.blocked)} in the way (not a file the skill "
                           "installs); move it away and run again")
    if edited and not force:
        raise InstallError(f"{dest} has local edits ({', '.join(edited)}); keep them, "
                           "or run again with --force to overwrite")
    written_record = {rel: _digest(data) for rel, (data, _) in plan.items()}
    if survey.write or survey.stale or edited or recorded != written_record:
        for rel_dir in sorted({PurePosixPath(rel).parent for rel in plan}, key=lambda p: len(p.parts)):
            _make_folders(dest, rel_dir, force)
        for rel in survey.write:
            data, mode = plan[rel]
            try:
                atomic_write(dest / rel, data, replace_link=force, mode=mode)
            except UnsafePathError as exc:
                raise InstallError(str(exc)) from None
        for rel in survey.stale:
            (dest / rel).unlink()
        atomic_write(dest / RECORD, json.dumps(written_record, indent=2, sort_keys=True), replace_link=force)
    return Installed(dest=dest, command=command, rule=permission_rule(command), written=survey.write,
                     removed=survey.stale, kept=survey.kept)


def rule_caveat(command: str) -> str | None:
    """A warning when the command's path holds characters Claude Code's rule parsing treats
    specially, so the rule may not match and Claude Code would ask before each search."""
    if _RULE_SPECIAL.search(command):
        return (f"the path in `{command}` has characters Claude Code's permission rules treat specially "
                "(* ( ) \\); Claude Code may ask before each search. Installing sales-iterable under a plainer "
                "path avoids it.")
    return None
