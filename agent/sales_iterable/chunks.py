"""The typed chunk: what one passage of the reference is, from the chunker through the
index and the snapshot to the composer, and its id, built and parsed only here.

A chunk id is ``section.ordinal.lang`` (``studio.3.en``); its *unit* ``studio.3`` is the
language-independent id it shares with its translation. Stores that hold only flat
values (Chroma metadata, the snapshot's JSON) keep a chunk as its `record()` and give it
back with `Chunk.from_record`, which refuses a record that is not a whole chunk.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from .language import LANGS, Lang, other

Kind = Literal["paragraph", "bullet", "row", "steps"]
KINDS: tuple[Kind, ...] = get_args(Kind)

TROUBLESHOOTING = "troubleshooting"  # the section whose entries are a symptom, its cause and its fix

# A numbered list written inside one bullet or paragraph: "Solution: 1) Check A. 2) Verify B."
_STEP = re.compile(r"\s*(?=(?<![0-9])[1-9][)）])")


def chunk_id(section: str, ordinal: int, lang: Lang) -> str:
    return f"{section}.{ordinal}.{lang}"


def unit_of(chunk_id: str) -> str:
    """``studio.3.en`` -> ``studio.3``: the passage, whichever its language."""
    return chunk_id.rsplit(".", 1)[0]


def unit_id(unit: str, lang: Lang) -> str:
    """``studio.3`` + ``zh`` -> ``studio.3.zh``."""
    return f"{unit}.{lang}"


def parse_id(chunk_id: str) -> tuple[str, int, Lang]:
    """(section, ordinal, language); ValueError for anything that is not a chunk id."""
    section, ordinal, lang = chunk_id.rsplit(".", 2)
    if lang not in LANGS or not ordinal.isdigit() or not section:
        raise ValueError(f"not a chunk id: {chunk_id!r}")
    return section, int(ordinal), lang  # type: ignore[return-value]


def split_steps(text: str) -> list[str]:
    """'Solution: 1) Check A. 2) Verify B.' -> ['Solution:', '1) Check A.', '2) Verify B.']"""
    return [p.strip() for p in _STEP.split(text) if p.strip()]


@dataclass(frozen=True)
class Chunk:
    id: str
    pair_id: str
    section: str
    section_path: tuple[str, ...]  # ids from the top-level section down to this one
    heading: str  # section titles joined, for display and as retrieval context
    lang: Lang
    ordinal: int
    kind: Kind  # paragraph, bullet, table row, or a bullet/paragraph that is a numbered list
    text: str  # as the corpus writes it (a row with its header, a bullet with its "- ")
    context: str  # what the retrievers see: heading, list lead-in and the chunk
    tokens: int
    label: str = ""  # what the chunk is about when it says so: a row's first cell, "Delays:"
    fields: tuple[tuple[str, str], ...] = ()  # a table row's (column, cell) pairs

    @property
    def troubleshooting(self) -> bool:
        """A part of a troubleshooting entry (its symptom, cause or fix)."""
        return TROUBLESHOOTING in self.section_path

    @property
    def unit(self) -> str:
        """The language-independent id shared by a chunk and its translation."""
        return f"{self.section}.{self.ordinal}"

    def record(self) -> dict[str, Any]:
        """Flat values only (what Chroma metadata and JSON hold)."""
        return {
            "text": self.text,
            "section": self.section,
            "section_path": "/".join(self.section_path),
            "heading": self.heading,
            "lang": self.lang,
            "ordinal": self.ordinal,
            "kind": self.kind,
            "pair_id": self.pair_id,
            "context": self.context,
            "tokens": self.tokens,
            "label": self.label,
            "fields": json.dumps(self.fields, ensure_ascii=False),
        }

    @classmethod
    def from_record(cls, cid: str, record: Any) -> "Chunk":
        """The chunk a stored record holds; ValueError when it is not a whole chunk."""
        if not isinstance(record, dict):
            raise ValueError("not a record")
        try:
            section, ordinal, lang = parse_id(cid)
            fields = json.loads(record["fields"])
            chunk = cls(
                id=cid, pair_id=record["pair_id"], section=record["section"],
                section_path=tuple(record["section_path"].split("/")), heading=record["heading"], lang=record["lang"],
                ordinal=int(record["ordinal"]), kind=record["kind"], text=record["text"], context=record["context"],
                tokens=int(record["tokens"]), label=record["label"],
                fields=tuple((str(name), str(value)) for name, value in fields),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed ({type(exc).__name__}: {exc})") from None
        strings = (chunk.text, chunk.heading, chunk.context, chunk.label, chunk.section, chunk.pair_id)
        if (not all(isinstance(s, str) for s in strings) or (section, ordinal, lang) != (chunk.section, chunk.ordinal, chunk.lang)
                or chunk.kind not in KINDS or chunk.pair_id != chunk_id(section, ordinal, other(lang))):
            raise ValueError("malformed")
        return chunk
