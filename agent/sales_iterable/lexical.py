"""The lexical side of retrieval: one tokenizer for both languages and Okapi BM25."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Iterable

from .chunks import Chunk
from .language import HAN_RUN

# A chunk's label counts this many times over its text (3 beat 2 on the tune half and on
# the older sets; 4 and 5 changed nothing).
LABEL_WEIGHT = 3

_LATIN = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_EN_STOP = frozenset(
    "a an and are as at be by can do does for from how i in into is it its my of on or our "
    "so that the this to we what when where which who why will with you your me us should "
    "there their them get got use using want need".split()
)
# Single Han characters that carry no topic on their own; bigrams still keep them.
_ZH_STOP = frozenset("的了吗么呢吧啊我你他她它们在是和与或及等个中有用把被就都也还要会能可这那哪怎什")


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def lexical_tokens(text: str) -> list[str]:
    """Tokens for BM25 in both languages: stemmed Latin words (camelCase also split, so
    `bulkUpdate` matches "bulk update"), and Han characters as bigrams plus unigrams.
    Character n-grams need no dictionary and keep two-character words like 分群 whole."""
    tokens: list[str] = []
    for match in _LATIN.finditer(text):
        raw = match.group()
        word = raw.lower()
        if word not in _EN_STOP:
            tokens.append(_stem(word))
        parts = _CAMEL.findall(raw)
        if len(parts) > 1:
            tokens.extend(_stem(p.lower()) for p in parts if p.lower() not in _EN_STOP)
    for match in HAN_RUN.finditer(text):
        run = match.group()
        tokens.extend(ch for ch in run if ch not in _ZH_STOP)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def camel_pieces(text: str) -> set[str]:
    """The tokens `lexical_tokens` adds for the pieces of a camelCase name ("big" and
    "query" of BigQuery) that the text does not also use as words of their own: one name,
    not three words, when counting what a question is about."""
    words = {_stem(m.group().lower()) for m in _LATIN.finditer(text)}
    pieces = {_stem(p.lower()) for m in _LATIN.finditer(text) if len(parts := _CAMEL.findall(m.group())) > 1 for p in parts}
    return pieces - words


class BM25:
    """Okapi BM25 over a few hundred documents: small enough for plain dicts."""

    def __init__(self, docs: dict[str, list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.lengths = {key: len(toks) for key, toks in docs.items()}
        self.avg = (sum(self.lengths.values()) / len(docs)) if docs else 1.0
        self.postings: dict[str, dict[str, int]] = defaultdict(dict)
        for key, toks in docs.items():
            for term, tf in Counter(toks).items():
                self.postings[term][key] = tf
        n = len(docs)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def scores(self, query_tokens: Iterable[str]) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for term, qtf in Counter(query_tokens).items():
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = self.idf[term]
            for key, tf in posting.items():
                norm = tf + self.k1 * (1 - self.b + self.b * self.lengths[key] / self.avg)
                out[key] += qtf * idf * tf * (self.k1 + 1) / norm
        return dict(out)


def chunk_tokens(chunk: Chunk) -> list[str]:
    # A chunk's own label ("Brand Affinity" for its row in the AI table) says what the
    # chunk is *about*, so it counts extra: the defining row beats passing mentions.
    return lexical_tokens(chunk.context) + lexical_tokens(chunk.label) * LABEL_WEIGHT
