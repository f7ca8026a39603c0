"""Eval case files: their schema, and reading them without trusting them.

Case files use skill-creator's evals.json shape, `{"skill_name", "evals": [{"id",
"prompt", "expected_output", "assertions": [{"name", "description"}]}]}` (or
`expectations` as plain strings), extended with deterministic checks per assertion
(`any_of`, `all_of`, `none_of`, `regex`) and per case (`expect_route`, `language`,
`max_questions`, `min_assumptions`). Files with `retrieval_cases` hold retrieval cases
(query, language, the section ids that answer it).

A case file, like a recorded transcript, is input from whoever wrote it: it is read only
when it is a regular file of bounded size, and its nesting depth is checked before the
JSON parser sees it (a deep enough document exhausts the parser's recursion). Folders
are scanned one level deep, and JSON files in them that hold neither `evals` nor
`retrieval_cases` (question lists for bench/, say) are not case files and are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any, Literal, NamedTuple

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .answer import MAX_QUESTIONS

# Ten times the largest committed case file: room to grow, and no memory blow-up from a
# huge or endless file.
MAX_FILE_BYTES = 4 * 1024 * 1024
# The committed files nest five levels deep; JSON's parser recurses once per level.
MAX_DEPTH = 64


class CaseFileError(ValueError):
    """A case file (or transcript) is unusable; the message names the file, and where it
    can, the case and the field."""


def read_json(path: Path, what: str = "case file") -> Any:
    """The JSON document at `path`, refused (CaseFileError) when `path` is not a regular
    file, is larger than MAX_FILE_BYTES, is not UTF-8 JSON or nests deeper than MAX_DEPTH."""
    try:
        info = path.stat()  # follows a link: what matters is what would be read
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read this {what} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise CaseFileError(f"{path}: not a regular file (a device, pipe or socket); refusing to read it as a {what}")
    if info.st_size > MAX_FILE_BYTES:
        raise CaseFileError(f"{path}: {info.st_size} bytes is too large for a {what} (limit {MAX_FILE_BYTES})")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # bounded even if the file grew since stat
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read this {what} ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise CaseFileError(f"{path}: too large for a {what} (limit {MAX_FILE_BYTES} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"{path}: not UTF-8 (bad byte at offset {exc.start})") from None
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise CaseFileError(f"{path}: JSON nested {depth} levels deep (limit {MAX_DEPTH}); not a {what}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFileError(f"{path}: not valid JSON ({exc})") from None


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (brackets inside strings do not
    count); an estimate for malformed text, which the parser then rejects."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


# --- the schema ------------------------------------------------------------------------


class Assertion(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    description: str = ""
    any_of: list[str] | None = None
    all_of: list[str] | None = None
    none_of: list[str] | None = None
    # Matched with the `regex` engine under a time limit (see evaluate.check_assertion),
    # so it is compiled by that engine here too.
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                regex.compile(value)
            except regex.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    @property
    def deterministic(self) -> bool:
        return any(v is not None for v in (self.any_of, self.all_of, self.none_of, self.regex))


class Case(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | int
    prompt: str = Field(min_length=1)
    expected_output: str = ""
    assertions: list[Assertion] = Field(default_factory=list)
    expectations: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    expect_route: str | None = None  # absent: not checked; null: must not route
    language: Literal["en", "zh"] | None = None
    max_questions: int = Field(default=MAX_QUESTIONS, ge=0)
    min_assumptions: int = Field(default=0, ge=0)
    family: str = "general"

    @field_validator("expect_route")
    @classmethod
    def _slash(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"/sales-[a-z0-9-]+", value):
            raise ValueError("must be a slash command like /sales-deliverability, or null")
        return value

    @model_validator(mode="after")
    def _something_to_check(self) -> "Case":
        # max_questions is always checked, but only a case that sets it asks for it.
        stated = {"expect_route", "max_questions", "min_assumptions"} & self.model_fields_set
        if not (self.assertions or self.expectations or self.language or stated):
            raise ValueError("a case needs assertions, expectations, expect_route, language, "
                             "max_questions or min_assumptions")
        return self

    @property
    def checks_route(self) -> bool:
        return "expect_route" in self.model_fields_set


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    skill_name: str
    evals: list[Case]


class RetrievalCase(BaseModel):
    query: str = Field(min_length=1)
    language: Literal["en", "zh"]
    expect: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class RetrievalFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    retrieval_cases: list[RetrievalCase]


def _describe(path: Path, data: Any, exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = list(first["loc"])
    case = ""
    if len(loc) >= 2 and loc[0] in ("evals", "retrieval_cases") and isinstance(loc[1], int):
        items = data.get(loc[0], []) if isinstance(data, dict) else []
        item = items[loc[1]] if loc[1] < len(items) and isinstance(items[loc[1]], dict) else {}
        label = str(item.get("id", item.get("query", "#" + str(loc[1]))))
        case = f" case {label[:80]!r}"
        loc = loc[2:]
    where = ".".join(str(p) for p in loc) or "(top level)"
    return f"{path}:{case} field {where}: {first['msg']}"


def safe_name(case_id: str | int) -> str:
    """A file or folder name for a case id: the id itself when it is short and plain,
    else a readable part of it plus a hash, so two ids never share a name."""
    text = str(case_id)
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "case"
    if plain == text and len(text) <= 80:
        return text
    return f"{plain[:60]}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


class LoadedCase(NamedTuple):
    path: Path
    skill_name: str
    case: Case


def load_case_files(paths: list[Path]) -> tuple[list[LoadedCase], list[RetrievalCase]]:
    """Every eval case and retrieval case in `paths` (files, or folders scanned for *.json
    one level deep). A file named explicitly must hold cases; one found in a folder that
    holds neither `evals` nor `retrieval_cases` is skipped."""
    cases: list[LoadedCase] = []
    retrieval: list[RetrievalCase] = []
    files: list[tuple[Path, bool]] = []  # (path, named explicitly)
    for path in paths:
        if path.is_dir():
            # Links and special files are kept so read_json refuses them loudly; only
            # folders (bench/ question sets, say) are passed over.
            files += [(p, False) for p in sorted(path.glob("*.json")) if p.is_symlink() or not p.is_dir()]
        elif path.exists():
            files.append((path, True))
        else:
            raise CaseFileError(f"{path}: no such case file or directory")
    seen: dict[str, Path] = {}
    for path, named in files:
        data = read_json(path)
        is_cases = isinstance(data, dict) and ("evals" in data or "retrieval_cases" in data)
        if not is_cases:
            if named:
                raise CaseFileError(f"{path}: field (top level): holds neither \"evals\" nor \"retrieval_cases\"")
            continue
        try:
            if "retrieval_cases" in data:
                retrieval += RetrievalFile.model_validate(data).retrieval_cases
                continue
            parsed = CaseFile.model_validate(data)
        except ValidationError as exc:
            raise CaseFileError(_describe(path, data, exc)) from None
        for case in parsed.evals:
            key = str(case.id)
            if key in seen:
                raise CaseFileError(f"{path}: case {key[:80]!r} field id: duplicate (also in {seen[key]})")
            seen[key] = path
            cases.append(LoadedCase(path, parsed.skill_name, case))
    if not cases and not retrieval:
        raise CaseFileError(f"no eval cases in {', '.join(map(str, paths))} (case files are *.json "
                            "with \"evals\" or \"retrieval_cases\")")
    return cases, retrieval
