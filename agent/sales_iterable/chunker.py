"""Sections -> chunks: each paragraph, bullet and table row of every indexed section,
cut from both languages at once so a chunk and its translation share an ordinal
(``studio.3.en`` pairs with ``studio.3.zh``), typed (kind, label, a row's fields).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .chunks import Chunk, Kind, chunk_id, split_steps
from .corpus import Role, Section, load_sections
from .language import LANGS, Lang, other
from .tokens import count_tokens

# Bump when chunk boundaries, chunk text or what a chunk records change: the index
# manifest records it, so a new chunker rebuilds old indexes automatically.
CHUNKER_VERSION = "7"

# A unit (paragraph, bullet, table row) longer than this is split by sentences.
MAX_CHUNK_TOKENS = 320


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


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _row_fields(header: str, row: str) -> tuple[tuple[str, str], ...]:
    """`| Feature | What it does |` + `| STO | ... |` -> (("Feature", "STO"), ("What it does", ...))."""
    return tuple(zip(_cells(header.splitlines()[0]), _cells(row)))


@dataclass(frozen=True)
class _Unit:
    """One passage before it becomes chunks: per language its text, what retrievers see
    (a row as labelled fields: they match it better than Markdown pipes), and its fields."""

    kind: Kind
    text: dict[Lang, str]
    retrieval: dict[Lang, str]
    lead: dict[Lang, str]
    role: Role
    fields: dict[Lang, tuple[tuple[str, str], ...]]


def _section_units(sec: dict[Lang, Section]) -> list[_Unit]:
    units: list[_Unit] = []
    for blocks in zip(sec["en"].blocks, sec["zh"].blocks):
        pair = dict(zip(LANGS, blocks))
        kind, role = pair["en"].kind, pair["en"].role
        lead = {lang: b.lead for lang, b in pair.items()}
        if kind == "paragraph":
            text = {lang: b.items[0] for lang, b in pair.items()}
            units.append(_Unit("paragraph", text, text, lead, role, {}))
        elif kind == "table":
            for i in range(len(pair["en"].items)):
                text = {lang: f"{b.header}\n{b.items[i]}" for lang, b in pair.items()}
                fields = {lang: _row_fields(b.header, b.items[i]) for lang, b in pair.items()}
                retrieval = {lang: ". ".join(f"{n}: {c}" for n, c in fields[lang]) for lang in LANGS}
                units.append(_Unit("row", text, retrieval, lead, role, fields))
        else:
            for i in range(len(pair["en"].items)):  # one bullet, one chunk
                text = {lang: f"- {b.items[i]}" for lang, b in pair.items()}
                units.append(_Unit("bullet", text, text, lead, role, {}))
    return units


def _kind(kind: Kind, text: str) -> Kind:
    """A bullet or paragraph that is a numbered list of steps ("Solution: 1) … 2) … 3) …")."""
    if kind == "row":
        return kind
    line = " ".join(ln[2:] if ln.startswith("- ") else ln for ln in text.splitlines() if ln.strip())
    return "steps" if len(split_steps(line)) > 2 else kind


def build_chunks(sections: dict[Lang, list[Section]], max_tokens: int = MAX_CHUNK_TOKENS) -> list[Chunk]:
    """Chunks of every indexed section, both languages, paired by (section, ordinal)."""
    chunks: list[Chunk] = []
    for sec_en, sec_zh in zip(sections["en"], sections["zh"]):
        if not sec_en.indexed:
            continue
        sec = {"en": sec_en, "zh": sec_zh}
        ordinal = 0
        for unit in _section_units(sec):
            parts = _split_units(unit.text, max_tokens)
            if unit.role == "instructions":
                # Not a fact: never indexed. It still takes its ordinals, so marking a
                # block as instructions does not renumber the facts after it.
                ordinal += len(parts)
                continue
            whole = len(parts) == 1
            for part in parts:
                for lang in LANGS:
                    heading = " > ".join(sec[lang].titles)
                    body = unit.retrieval[lang] if whole else part[lang]
                    chunks.append(Chunk(
                        id=chunk_id(sec_en.id, ordinal, lang),
                        pair_id=chunk_id(sec_en.id, ordinal, other(lang)),
                        section=sec_en.id,
                        section_path=sec_en.path,
                        heading=heading,
                        lang=lang,
                        ordinal=ordinal,
                        kind=_kind(unit.kind, part[lang]),
                        text=part[lang],
                        context="\n".join(x for x in (heading, unit.lead[lang], body) if x),
                        tokens=count_tokens(part[lang]),
                        label=chunk_label(part[lang]),
                        fields=unit.fields.get(lang, ()) if whole else (),  # a part holds only some of a row
                    ))
                ordinal += 1
    return chunks


def load_chunks(corpus_dir) -> list[Chunk]:
    return build_chunks(load_sections(corpus_dir))
