"""Which words of a question or sentence say what it is about, and how much of a question a
sentence covers (rare words weigh more, by the reference's own word weights)."""

from __future__ import annotations

import re

from ...language import has_han
from ...lexical import lexical_tokens
from ...retrieve import Retriever

# Words too common in questions about Iterable to show that a passage is on topic.
GENERIC = frozenset(
    "iterable set setup configure create make build use work get help need find way question know possible support "
    "supported show tell explain thing want like just can does what which where how why when there any some also "
    "really actually after before have one ourselve both each every other another same much many more most very "
    "still even already yet please thank thanks".split()
)


# Characters that make a Han bigram a piece of sentence frame ("户的", "能调") rather than a word.
ZH_FRAME = frozenset("的了吗么呢吧啊呀嘛我你他她它们是和与或及等个把被就都也还这那哪怎什啥谁吧能调让给想")
_ACRONYM = re.compile(r"\b[A-Z]{2}\b")  # EU, US, AI, IP: short, but they name things

# A troubleshooting entry's own labels: every entry has them, so they say nothing about
# which entry fits (the glossary adds them to questions that describe a problem).
_ENTRY_LABELS = frozenset("symptom cause solution 症状 原因 解决 方案 决方".split())


def salient(text: str) -> set[str]:
    """The words of a text that can show what it is about: not generic, not frame."""
    out = {a.lower() for a in _ACRONYM.findall(text)}
    for t in lexical_tokens(text):
        if t in GENERIC or t in _ENTRY_LABELS:
            continue
        if has_han(t):
            if len(t) == 2 and not (set(t) & ZH_FRAME):
                out.add(t)
        elif len(t) >= 3 or t.isdigit():
            out.add(t)
    return out



def known(retriever: Retriever, terms: set[str]) -> set[str]:
    """The terms the reference uses somewhere. A user's own words that it never uses
    ("backfilling", "靠谱") cannot be matched by any passage, so they say nothing about
    which passage fits; names it never uses are caught by `unknown_terms` instead."""
    return {t for t in terms if retriever.knows(t)}


def coverage(retriever: Retriever, terms: set[str], text: str, unknown_weight: float = 0.0) -> float:
    """Share of the terms' weight (rare words weigh more) that `text` contains. Words the
    reference never uses weigh `unknown_weight`: usually the user's own phrasing, but
    sometimes the very thing asked ("do API keys expire?")."""
    if not known(retriever, terms):
        return 0.0
    own = salient(text)
    weight = {t: retriever.idf(t) if retriever.knows(t) else unknown_weight for t in terms}
    return sum(weight[t] for t in terms & own) / sum(weight.values())


def about(retriever: Retriever, terms: set[str], text: str) -> bool:
    """The text is about these terms: it holds most of their weight, or their rarest."""
    seen = known(retriever, terms)
    if not seen:
        return False
    if coverage(retriever, seen, text) >= SUBJECT_COVERAGE:
        return True
    rarest = max(retriever.idf(t) for t in seen)
    return any(retriever.idf(t) == rarest for t in seen & salient(text))


def settles(retriever: Retriever, terms: set[str], text: str) -> bool:
    """The text is about what a yes/no question asks: most of its words, and its rarest
    known word. Anything less gets no "yes" or "no"."""
    seen = known(retriever, terms)
    if not seen or coverage(retriever, terms, text, unknown_weight=UNKNOWN_WORD_WEIGHT) < YES_NO_COVERAGE:
        return False
    rarest = max(retriever.idf(t) for t in seen)
    return any(retriever.idf(t) == rarest for t in seen & salient(text))


# A sentence answers what was asked only when it is about the question's subject too.
SUBJECT_COVERAGE = 0.5

# A yes/no answer needs a sentence that is about most of what the question asks.
YES_NO_COVERAGE = 0.5
UNKNOWN_WORD_WEIGHT = 1.0  # about the weight of the commonest words the reference uses
