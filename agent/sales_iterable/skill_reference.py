"""The reference copy inside the Claude Code skill: one Markdown file per top-level corpus
section per language (``references/en/studio.md``, ``references/zh/studio.md``) and the
short table of contents by section id that SKILL.md carries.

Claude reads one of these files when the search command cannot run, so they hold facts
only: text the corpus marks as addressed to an assistant (the overview, the Gotchas
preamble, the Related-skills catalogue, whose routing SKILL.md's table carries) and the
``.noindex`` examples (eval material) are left out.

Everything here is generated from corpus/; ``python -m sales_iterable.skill_reference`` rewrites
the committed copy under skill/sales-iterable/ and tests/test_skill.py fails when it drifts.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .corpus import Block, Section, load_sections
from .files import atomic_write

REFERENCES = "references"
TOC_START = "<!-- sections: generated from corpus/ by `python -m sales_iterable.skill_reference`; do not edit -->"
TOC_END = "<!-- /sections -->"
_TOC_BLOCK = re.compile(re.escape(TOC_START) + r"\n.*?" + re.escape(TOC_END), re.S)


def _top_sections(sections: list[Section]) -> list[tuple[Section, list[Section]]]:
    """(top-level section, its subsections) for every section the reference copy keeps."""
    groups: list[tuple[Section, list[Section]]] = []
    for sec in sections:
        if sec.level == 1 or not sec.indexed or sec.instructions:  # level 1: the document's title
            continue
        if len(sec.path) == 1:
            groups.append((sec, []))
        elif groups and groups[-1][0].id == sec.path[0]:
            groups[-1][1].append(sec)
    return groups


def _block_markdown(block: Block) -> str:
    if block.kind == "paragraph":
        return block.items[0]
    if block.kind == "list":
        return "\n".join(f"- {item}" for item in block.items)
    return "\n".join((block.header, *block.items))


def _section_markdown(sec: Section, depth: int) -> list[str]:
    parts = [f"{'#' * depth} {sec.title} {{#{sec.id}}}"]
    parts += [_block_markdown(b) for b in sec.blocks if b.role == "fact"]
    return parts


def reference_path(lang: str, section_id: str) -> str:
    return f"{REFERENCES}/{lang}/{section_id}.md"


def render_references(corpus_dir: Path) -> dict[str, str]:
    """{path inside the skill folder: file text} for every reference file."""
    files: dict[str, str] = {}
    for lang, sections in load_sections(corpus_dir).items():
        for top, subs in _top_sections(sections):
            parts = [f"<!-- generated from corpus/{lang}.md; edit the corpus, not this file -->"]
            parts += _section_markdown(top, 1)
            for sub in subs:
                parts += _section_markdown(sub, 2)
            files[reference_path(lang, top.id)] = "\n\n".join(parts) + "\n"
    return files


def render_toc(corpus_dir: Path) -> str:
    """The table of contents block for SKILL.md, markers included: one line per file, its
    English and Chinese titles, and the ids of the subsections it holds."""
    parsed = load_sections(corpus_dir)
    zh_title = {s.id: s.title for s in parsed["zh"]}
    lines = [TOC_START]
    for top, subs in _top_sections(parsed["en"]):
        line = f"- `{top.id}`: {top.title} / {zh_title[top.id]}"
        if subs:
            line += " (" + ", ".join(f"`{s.id}`" for s in subs) + ")"
        lines.append(line)
    lines.append(TOC_END)
    return "\n".join(lines)


def with_toc(skill_text: str, corpus_dir: Path) -> str:
    """SKILL.md with its table of contents block regenerated."""
    if not _TOC_BLOCK.search(skill_text):
        raise ValueError("SKILL.md has no generated sections block (its start and end markers)")
    toc = render_toc(corpus_dir)
    return _TOC_BLOCK.sub(lambda _: toc, skill_text, count=1)


def write_committed_copy(skill_dir: Path, corpus_dir: Path) -> list[str]:
    """Regenerate the reference copy committed under `skill_dir`; returns what changed.
    A developer tool for this checkout (install-skill renders its own copy)."""
    changed: list[str] = []
    wanted = render_references(corpus_dir)
    for old in sorted((skill_dir / REFERENCES).rglob("*.md")):
        rel = old.relative_to(skill_dir).as_posix()
        if rel not in wanted:
            old.unlink()
            changed.append(f"removed {rel}")
    skill_md = skill_dir / "SKILL.md"
    wanted["SKILL.md"] = with_toc(skill_md.read_text(encoding="utf-8"), corpus_dir)
    for rel, text in wanted.items():
        path = skill_dir / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text)
            changed.append(f"wrote {rel}")
    return changed


def main() -> int:
    from .config import get_settings

    settings = get_settings()
    for line in write_committed_copy(settings.skill_dir, settings.corpus_dir) or ["already current"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
