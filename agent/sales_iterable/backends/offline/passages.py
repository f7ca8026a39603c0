"""Passages as the composer quotes them: one plain line, or separately quotable sentences and steps."""

from __future__ import annotations

import re

from ...chunks import Chunk, split_steps
from ...retrieve import Hit

# English sentences end at . ! ? followed by a space (so `data.csv` and URLs stay whole);
# Chinese ones at their full-width marks.
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。!?;])(?=\S)")
SYMPTOM = re.compile(r"(Symptom|症状)\s*[:\uff1a]")
CHECKLIST = "getting-started"  # the section of setup steps: when to do things, not what they are

# A troubleshooting entry's diagnosis: as the best answer, it says the question was a symptom.
CAUSE = re.compile(r"^(Cause|原因)\s*[:\uff1a]")
STEP_NUMBER = re.compile(r"^[1-9][)）]\s*")


def render_passage(chunk: Chunk) -> str:
    """A passage as one plain line: a table row as 'Label: field; field' (from the row's
    own fields), a bullet unwrapped."""
    if chunk.kind == "row" and chunk.fields:
        cells = [value for _, value in chunk.fields]
        if len(cells) == 2:
            return f"{cells[0]}: {cells[1]}"
        return f"{cells[0]}: " + "; ".join(f"{name}: {value}" for name, value in chunk.fields[1:])
    return _unwrapped(chunk.text)


def _unwrapped(text: str) -> str:
    text = " ".join(line[2:] if line.startswith("- ") else line for line in text.splitlines() if line.strip())
    # "Studio is … tool. Key concepts:" introduces a list the line does not carry.
    return _LEAD_IN.sub("", text)


_LEAD_IN = re.compile(r"(?:(?<=[.。!?!?])|[,,])\s*[^.。!?!?::,,]{1,30}[::]\s*$")


def is_lead_in(hit: Hit) -> bool:
    """A passage that only introduces what follows it ("As of March 2026 — verify current
    pricing with Iterable sales:"): nothing to quote on its own."""
    # Either language's text shows it: "2026年3月版本,请以…为准:" loses its lead-in and
    # keeps a stub, while its twin "As of March 2026 — verify current pricing…:" is whole.
    return any(text.rstrip().endswith((":", "\uff1a"))
               for text in (render_passage(hit.chunk), _unwrapped(hit.pair_text) if hit.pair_text else ""))


def sentences(chunk: Chunk) -> list[str]:
    """What a passage says, as separately quotable pieces: a table row whole, a numbered
    solution list as its steps (each with the list's label), prose as sentences."""
    line = render_passage(chunk)
    if chunk.kind == "row":
        return [line]
    if chunk.kind == "steps":
        steps = split_steps(line)
        head = steps[0] if not STEP_NUMBER.match(steps[0]) else ""
        return [f"{head} {step}".strip() for step in steps[1:]] if head else steps
    return [s.strip() for s in _SENTENCE.split(line) if s.strip()]


def is_troubleshooting(hit: Hit) -> bool:
    return hit.chunk.troubleshooting
