"""The bilingual reference as data: corpus Markdown parsed into sections of blocks, the
two languages checked for alignment, and the corpus's other files (glossary, phrasings).

Both language files have the same section ids in the same order, and every section the
same sequence of blocks (paragraph, list, table) with the same number of items, so the
chunker (chunker.py) can cut both languages at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from .language import LANGS, Lang

_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s+\{#([a-z0-9][a-z0-9-]*)((?:\s+\.[a-z-]+)*)\}\s*$")


class CorpusError(ValueError):
    """The corpus files are missing, malformed or out of alignment."""


Role = Literal["fact", "instructions"]


@dataclass(frozen=True)
class Block:
    kind: Literal["paragraph", "list", "table"]
    items: tuple[str, ...]
    header: str = ""  # tables: the header row and its separator
    lead: str = ""  # lists: the paragraph that introduced them ("Key concepts:")
    # "instructions": text addressed to an assistant (the overview, a preamble, the
    # related-skills catalogue), marked `::: instructions` or by a section's
    # `.instructions` class. Never indexed, never shown as a fact.
    role: Role = "fact"


@dataclass
class Section:
    id: str
    title: str
    level: int
    path: tuple[str, ...]  # ids from the top-level section down to this one
    titles: tuple[str, ...]
    indexed: bool
    instructions: bool = False  # the whole section is addressed to an assistant
    blocks: list[Block] = field(default_factory=list)


def parse_markdown(text: str, source: str = "<corpus>") -> list[Section]:
    sections: list[Section] = []
    stack: list[Section] = []
    para: list[str] = []
    items: list[str] = []
    rows: list[str] = []
    last_paragraph = ""
    in_div = False  # inside a `::: instructions` ... `:::` block

    def current() -> Section:
        if not sections:
            raise CorpusError(f"{source}: text before the first heading")
        return sections[-1]

    def flush() -> None:
        nonlocal para, items, rows, last_paragraph
        role: Role = "instructions" if in_div or (sections and current().instructions) else "fact"
        if para:
            last_paragraph = " ".join(para)
            current().blocks.append(Block("paragraph", (last_paragraph,), role=role))
            para = []
        if items:
            lead = last_paragraph if last_paragraph.rstrip().endswith((":", ":")) else ""
            current().blocks.append(Block("list", tuple(items), lead=lead, role=role))
            items = []
        if rows:
            if len(rows) < 3 or not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", rows[1].replace(" ", "")):
                raise CorpusError(f"{source}: table in section '{current().id}' lacks a header row")
            current().blocks.append(Block("table", tuple(rows[2:]), header="\n".join(rows[:2]), role=role))
            rows = []

    in_comment = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if in_comment or line.startswith("<!--"):
            in_comment = "-->" not in line
            continue
        if not line.strip():
            flush()
            continue
        if line.strip() in ("::: instructions", ":::"):
            flush()
            opening = line.strip() != ":::"
            if opening == in_div:
                raise CorpusError(f"{source}:{lineno}: unbalanced '::: instructions' block")
            in_div = opening
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            last_paragraph = ""
            marks, title, sid, classes = heading.groups()
            level = len(marks)
            while stack and stack[-1].level >= level:
                stack.pop()
            parent_indexed = stack[-1].indexed if stack else True
            parent_instructions = stack[-1].instructions if stack else False
            section = Section(
                id=sid,
                title=title.strip(),
                level=level,
                path=tuple(s.id for s in stack[1:]) + (sid,) if level > 1 else (sid,),
                titles=tuple(s.title for s in stack[1:]) + (title.strip(),) if level > 1 else (title.strip(),),
                indexed=parent_indexed and ".noindex" not in classes.split(),
                instructions=parent_instructions or ".instructions" in classes.split(),
            )
            sections.append(section)
            stack.append(section)
            continue
        if line.startswith("#"):
            raise CorpusError(f"{source}:{lineno}: heading without an id: {line!r}")
        if line.startswith("- "):
            if para:
                flush()
            items.append(line[2:].strip())
        elif line.startswith("|"):
            rows.append(line)
        elif items:
            items[-1] += " " + line.strip()  # a wrapped bullet
        else:
            para.append(line.strip())
    flush()
    if in_div:
        raise CorpusError(f"{source}: '::: instructions' block is never closed")
    ids = [s.id for s in sections]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CorpusError(f"{source}: duplicate section ids: {', '.join(dupes)}")
    return sections


def corpus_files(corpus_dir: Path) -> dict[Lang, Path]:
    files = {lang: corpus_dir / f"{lang}.md" for lang in LANGS}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise CorpusError(f"corpus file missing: {', '.join(missing)}")
    return files


def load_sections(corpus_dir: Path) -> dict[Lang, list[Section]]:
    files = corpus_files(corpus_dir)
    parsed = {lang: parse_markdown(path.read_text(encoding="utf-8"), str(path)) for lang, path in files.items()}
    check_alignment(parsed["en"], parsed["zh"])
    return parsed


def check_alignment(en: list[Section], zh: list[Section]) -> None:
    """Raise CorpusError naming the first place where the two languages differ."""
    if [s.id for s in en] != [s.id for s in zh]:
        only_en = [s.id for s in en if s.id not in {z.id for z in zh}]
        only_zh = [s.id for s in zh if s.id not in {e.id for e in en}]
        raise CorpusError(
            f"section ids differ between languages (only in en: {only_en or '-'}; only in zh: {only_zh or '-'};"
            " or the order differs)"
        )
    for a, b in zip(en, zh):
        if a.indexed != b.indexed:
            raise CorpusError(f"section '{a.id}': .noindex set in one language only")
        shape_a = [(blk.kind, len(blk.items), blk.role) for blk in a.blocks]
        shape_b = [(blk.kind, len(blk.items), blk.role) for blk in b.blocks]
        if shape_a != shape_b:
            raise CorpusError(f"section '{a.id}': blocks differ (en {shape_a}, zh {shape_b})")
        for blk_a, blk_b in zip(a.blocks, b.blocks):
            if blk_a.kind == "table":
                cols_a = {row.count("|") for row in blk_a.items} | {blk_a.header.splitlines()[0].count("|")}
                cols_b = {row.count("|") for row in blk_b.items} | {blk_b.header.splitlines()[0].count("|")}
                if len(cols_a) != 1 or cols_a != cols_b:
                    raise CorpusError(f"section '{a.id}': table column counts differ or are ragged")


def instruction_texts(sections: dict[Lang, list[Section]]) -> list[str]:
    """Every item of every block addressed to an assistant, both languages."""
    return [item for lang in LANGS for sec in sections[lang] for blk in sec.blocks
            if blk.role == "instructions" for item in blk.items]


def corpus_hash(corpus_dir: Path) -> str:
    digest = hashlib.sha256()
    for lang, path in sorted(corpus_files(corpus_dir).items()):
        digest.update(lang.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Phrasing:
    unit: str  # the passage it asks for ("studio.4")
    lang: Lang
    text: str


def tsv_rows(path: Path, valid: Callable[[list[str]], bool], shape: str) -> list[list[str]]:
    """The rows of one of the corpus's TSV files, split on tabs, blank lines and `#`
    comments skipped; CorpusError naming the line and the expected `shape` for a row
    `valid` refuses."""
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not valid(fields):
            raise CorpusError(f"{path}:{lineno}: expected '{shape}'")
        rows.append(fields)
    return rows


def load_phrasings(corpus_dir: Path) -> list[Phrasing]:
    """How users ask for each passage (corpus/phrasings.tsv): retrieval matches questions
    against these as well as against the passages themselves."""
    path = corpus_dir / "phrasings.tsv"
    if not path.is_file():
        return []
    rows = tsv_rows(path, lambda f: len(f) == 3 and f[1] in LANGS and bool(f[2].strip()), "unit<TAB>en|zh<TAB>question")
    return [Phrasing(unit.strip(), lang, text.strip()) for unit, lang, text in rows]  # type: ignore[arg-type]


def load_glossary(corpus_dir: Path) -> list[tuple[str, str]]:
    """(Chinese alias, English term) pairs: the words Chinese users type for product names
    that the reference keeps in English (品牌亲和度 → Brand Affinity)."""
    path = corpus_dir / "glossary.tsv"
    if not path.is_file():
        return []
    rows = tsv_rows(path, lambda f: len(f) == 2 and all(x.strip() for x in f), "alias<TAB>term")
    return [(alias.strip(), term.strip()) for alias, term in rows]
