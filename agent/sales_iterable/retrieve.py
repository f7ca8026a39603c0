"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings over aligned chunk pairs,
fused on normalised scores, returned in the asker's language with the aligned passage.

Ranking happens per *unit* (a chunk and its translation), so a Chinese question that
matches the English wording of a passage still finds the Chinese one, and vice versa.
Chinese words for product names the reference keeps in English (品牌亲和度, 苹果手机)
are bridged by the glossary before both retrievers run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .chunks import Chunk, unit_id, unit_of
from .config import Settings
from .corpus import Phrasing, load_glossary, load_phrasings
from .embed import Embedder, embedder_for
from .embedcache import embedded
from .index import Progress, open_index, stderr_progress
from .searchable import Index
from .language import Lang, detect_language, has_han, other, plain_punctuation, word_pattern
from .lexical import BM25, chunk_tokens, lexical_tokens
from .understand import POINTS_BACK, split_parts

Mode = Literal["hybrid", "dense", "lexical"]
# Fusion weights, chosen on the tune half of evals/questions (bench/tune_fusion.py; with
# the user phrasings, 0.7 over 0.6: tune MRR 0.82 -> 0.84).
LEXICAL_WEIGHT = 0.7
DENSE_SPAN = 0.2
# A section prior: a passage whose section title the query names ("help with journeys" ->
# "Studio (Journey Builder)", "分群咋做" -> 分群) gains this on the fused 0..1 scale, for a
# title word at least this rare (a topic word). Chosen on the tune half (0.1-0.4 and 1.0-3.0
# tried; R@1 EN 0.77 -> 0.80, ZH 0.81 -> 0.83).
TITLE_BONUS = 0.2
TOPIC_WORD_IDF = 1.5
# A later part of a query naming fewer topic words than this is searched with the first
# part ("…? What's the endpoint?" asks the first part's endpoint). Tune: EN R@5 0.93 -> 0.97
# (with `POINTS_BACK`; 1.5-2.5 alike).
OWN_TOPIC_WORDS = 2
# A follow-up searched with the question it follows ("and for SMS?" after "What's the
# endpoint to send a single email?") adds its own words' BM25, as a share of their best,
# times this: what it names is what changed, the earlier question only the rest. Chosen
# on the tune follow-ups (0.2-2.0 tried, flat from 0.7 to 1.5; R@1 6 -> 9 of 12).
FOCUS_WEIGHT = 1.0
MIN_HAN_NAME = 3  # characters of a Chinese label read as a name in an English question (not 用户, 活动)


def fuse(
    lexical: dict[str, float],
    dense: dict[str, float],
    lexical_weight: float = LEXICAL_WEIGHT,
    dense_span: float = DENSE_SPAN,
) -> dict[str, float]:
    """One score in 0..1 per unit from the two rankers' own scores.

    Rank fusion (RRF) turns a ranker's smallest preference into a whole rank, so a dense
    ranking that barely separates its candidates could push a passage BM25 matched far
    better down the list. Here each ranker speaks in proportion to its scores: BM25 as a
    share of the query's best BM25 score, a cosine by how close it comes to the query's
    best cosine (`dense_span` or further below it counts nothing)."""
    top_lexical = max(lexical.values(), default=0.0)
    top_dense = max(dense.values(), default=0.0)
    if not (lexical and dense):  # one ranker (a mode, or no word of the query in the index)
        lexical_weight = 1.0 if lexical else 0.0
    fused: dict[str, float] = {}
    for unit in lexical.keys() | dense.keys():
        lex = lexical.get(unit, 0.0) / top_lexical if top_lexical > 0 else 0.0
        near = max(0.0, 1.0 - (top_dense - dense[unit]) / dense_span) if unit in dense else 0.0
        fused[unit] = lexical_weight * lex + (1.0 - lexical_weight) * near
    return fused


class _Alias(NamedTuple):
    """A glossary line: the user's word, how it and the reference's term are matched in a
    query, the term, and whether it translates the word into the other language (召回 ->
    winback, 邮箱 -> email) rather than reading a phrase as something the reference names
    ("进Iterable" -> Smart Ingest)."""

    word: str
    pattern: re.Pattern[str]
    present: re.Pattern[str]
    term: str
    translates: bool


def _translates(word: str, term: str) -> bool:
    """A word of one script for a term of the other (a Chinese phrase that also holds Latin
    letters, "进Iterable", is a reading, not a translation)."""
    return has_han(word) != has_han(term) and not (has_han(word) and re.search("[A-Za-z]", word))


def _within_one(scores: dict[str, float]) -> dict[str, float]:
    """Fused scores after a bonus, back on the 0..1 scale, their order kept."""
    top = max(scores.values())
    return {unit: score / top for unit, score in scores.items()} if top > 1.0 else scores


class Hit(BaseModel):
    """One passage found, as `search --json` prints it; `chunk` is the whole typed chunk."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    section: str
    lang: Lang
    text: str
    pair_text: str | None
    score: float
    heading: str = Field(default="", exclude=True)
    section_path: list[str] = Field(default_factory=list, exclude=True)
    tokens: int = Field(default=0, exclude=True)
    dense_score: float = Field(default=0.0, exclude=True)
    lexical_score: float = Field(default=0.0, exclude=True)
    chunk: Chunk = Field(exclude=True)


KIN_PREFIX = 5  # letters two forms of an English word share: limit/limited, segment/segmentation
# What may follow the letters two forms of a word share: limit/limited, expire/expiry,
# segment/segmentation.
_ENDINGS = frozenset("s es e ed d ing ings ion ions ation ations ment ments er ers or ors y ies ied ity al ally ly ize ized ise ised able ive".split()) | {""}


def _same_stem(a: str, b: str) -> bool:
    shared = 0
    while shared < min(len(a), len(b)) and a[shared] == b[shared]:
        shared += 1
    return a[shared:] in _ENDINGS and b[shared:] in _ENDINGS


class Retriever:
    """Searches the index. Each passage is matched by its own text and by the ways users
    ask for it (corpus/phrasings.tsv): BM25 over both, and the nearer of the passage's and
    its phrasings' embeddings. The only door into the index: what a composer needs of the
    reference (its vocabulary and word weights, a section's passages, a chunk) is asked
    here. The reference's own vocabulary is the index's BM25, without the phrasings."""

    def __init__(self, index: Index, embedder: Embedder, glossary: list[tuple[str, str]],
                 cache_dir: Path | None = None, phrasings: list[Phrasing] | None = None,
                 phrasing_vectors: np.ndarray | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.glossary = glossary
        self.cache_dir = cache_dir  # where data derived from the embedder may be cached
        units = {chunk.unit for chunk in index.chunks.values()}
        self.phrasings = [p for p in phrasings or [] if p.unit in units]
        self.phrasing_vectors = phrasing_vectors if self.phrasings else None
        docs: dict[str, list[str]] = defaultdict(list)
        for chunk in index.chunks.values():
            docs[chunk.unit].extend(chunk_tokens(chunk))
        for phrasing in self.phrasings:
            docs[phrasing.unit].extend(lexical_tokens(phrasing.text))
        self.lexical = BM25(dict(docs))
        # A troubleshooting entry's passages, fix first: the entry reads symptom, cause, fix.
        entries: dict[str, dict[str, int]] = defaultdict(dict)
        for chunk in index.chunks.values():
            if chunk.troubleshooting:
                entries[chunk.section][chunk.unit] = chunk.ordinal
        self._entries = [sorted(units, key=units.get, reverse=True) for units in entries.values()]
        titles: dict[str, dict[str, str]] = defaultdict(dict)
        for chunk in index.chunks.values():
            if chunk.troubleshooting:
                titles[chunk.lang][chunk.section] = chunk.heading.split(" > ")[-1]
        self._entry_titles = {lang: list(by_section.values()) for lang, by_section in titles.items()}
        # A troubleshooting entry's title names a product with a problem ("iOS推送无法送达"):
        # as a prior it would pull every question about the product into the fixes.
        self._titles: dict[str, set[str]] = defaultdict(set)
        for chunk in index.chunks.values():
            if not chunk.troubleshooting:
                self._titles[chunk.unit].update(lexical_tokens(chunk.heading.split(" > ")[-1]))
        # Latin aliases match whole words only ("EU" must not fire inside "queue"), and
        # a term already in the query as a whole word is not added again.
        self._aliases = [_Alias(alias, word_pattern(alias, plural=True, glued=True), word_pattern(term, plural=True, glued=True),
                                term, _translates(alias, term)) for alias, term in glossary]
        # The aligned passages' labels are a dictionary of the reference's own names: a Chinese
        # name inside an English question ("what is 同期群…") is also searched by its English
        # one (Cohorts). A troubleshooting entry's labels (症状, 原因) name no thing.
        self._zh_names: dict[str, str] = {}
        for chunk in index.chunks.values():
            twin = index.chunks.get(unit_id(chunk.unit, "en"))
            if (chunk.lang == "zh" and not chunk.troubleshooting and twin is not None and twin.label
                    and len(chunk.label) >= MIN_HAN_NAME and all(has_han(ch) for ch in chunk.label)):
                self._zh_names.setdefault(chunk.label, twin.label)

    def bridge(self, query: str, readings: bool = True) -> str:
        """The query with the reference's own term appended for every alias it contains
        (without `readings`: only for the aliases that translate a word into the other
        language, and the Chinese names of English labels)."""
        lowered = query.lower()
        extra = [a.term for a in self._aliases if (readings or a.translates) and a.pattern.search(lowered)
                 and not a.present.search(lowered)]
        if has_han(query) and detect_language(query).lang == "en":
            extra += [name for zh, name in self._zh_names.items() if zh in query and name.lower() not in lowered]
        return " ".join([query, *dict.fromkeys(extra)]) if extra else query

    def _without_chinese_terms(self, query: str, bridged: str) -> str:
        """The bridged English question without the Chinese words the bridge gave an English
        term for."""
        if not has_han(query) or detect_language(query).lang != "en":
            return bridged
        lowered = query.lower()
        words = [a.word for a in self._aliases if a.translates and has_han(a.word) and a.pattern.search(lowered)]
        words += [zh for zh in self._zh_names if zh in query]
        for word in sorted(words, key=len, reverse=True):
            bridged = bridged.replace(word, " ")
        return bridged

    def aliases_in(self, query: str) -> list[tuple[str, str]]:
        """The glossary's aliases the query contains, each with the reference's term for it
        ("free trial" -> "free tier", "召回" -> "winback"): the user's words for something
        the reference names otherwise."""
        lowered = query.lower()
        return [(a.word, a.term) for a in self._aliases if a.pattern.search(lowered)]

    def scores(
        self,
        query: str,
        lang: Lang,
        mode: Mode = "hybrid",
        use_bridge: bool = True,
        use_pairs: bool = True,
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Each ranker's own scores per unit: (BM25, the best cosine of its chunks)."""
        query = plain_punctuation(query)
        text = self.bridge(query) if use_bridge else query
        # A Chinese term in an English question ("can a journey send a 短信") is searched by
        # the reference's English term alone: its character pairs would also match every
        # Chinese passage that spells it out, counting the one word twice.
        lexical_text = self._without_chinese_terms(query, text) if use_bridge else query
        dense: dict[str, float] = {}
        lexical: dict[str, float] = {}
        if mode in ("hybrid", "dense"):
            # Every chunk: this embedder's cosines are close together, so even the 100th
            # nearest of a few hundred chunks is often within DENSE_SPAN of the best.
            vector = self.embedder.embed_query(text)
            for cid, sim in self.index.dense(vector, n=len(self.index.chunks)):
                if not use_pairs and not cid.endswith(f".{lang}"):
                    continue
                unit = unit_of(cid)
                dense[unit] = max(sim, dense.get(unit, -1.0))
            if use_pairs and self.phrasing_vectors is not None:
                for phrasing, sim in zip(self.phrasings, self.phrasing_vectors @ vector.astype(np.float32)):
                    if phrasing.unit in dense:
                        dense[phrasing.unit] = max(float(sim), dense[phrasing.unit])
        if mode in ("hybrid", "lexical"):
            bm25 = self.lexical if use_pairs else self.index.lexical_by_lang[lang]
            lexical = bm25.scores(lexical_tokens(lexical_text))
        return lexical, dense

    def search(
        self,
        query: str,
        k: int = 5,
        budget_tokens: int | None = None,
        lang: Lang | None = None,
        mode: Mode = "hybrid",
        use_bridge: bool = True,
        use_pairs: bool = True,
        whole: bool = False,
        focus: str | None = None,
    ) -> list[Hit]:
        """Top passages for `query` in `lang` (default: the query's language).

        A query that asks two things ("How do I switch on STO, and should we do it in our
        first weeks?") is ranked part by part, a passage of a section whose title the query
        names gains a prior, and a troubleshooting entry's fix takes its best place. `whole`
        leaves these out, for a caller that reads the question itself (the offline answer
        splits its parts, reads section titles and troubleshooting entries).
        `focus` is the part of `query` that weighs more: a follow-up's own words, when
        `query` is the follow-up with the question it follows (`with_previous`); such a
        query is one question, not split into parts.
        `use_bridge` and `use_pairs` exist to measure what the glossary and the aligned
        pairs add (bench/retrieval.py); leave them on."""
        lang = lang or detect_language(query).lang
        lexical, dense = self.scores(query, lang, mode=mode, use_bridge=use_bridge, use_pairs=use_pairs)
        fused = fuse(lexical, dense) if whole else self._with_titles(query, fuse(lexical, dense), mode, use_bridge)
        if focus and mode == "hybrid":
            fused = self._toward(focus, fused, use_bridge)
        parts = split_parts(plain_punctuation(query)) if not (whole or focus) else [query]
        if len(parts) > 1:
            fused = self._by_parts(parts, lang, fused, mode=mode, use_bridge=use_bridge, use_pairs=use_pairs)
        if not whole and mode == "hybrid":
            fused = self._entries_whole(fused)
        # Ties (units past DENSE_SPAN in dense mode) fall back to the raw scores.
        order = sorted(fused, key=lambda u: (-fused[u], -dense.get(u, -1.0), -lexical.get(u, 0.0), u))
        hits: list[Hit] = []
        used = 0
        for unit in order[: max(k, 0)]:
            hit = self._hit(unit, lang, fused[unit], dense.get(unit, 0.0), lexical.get(unit, 0.0))
            cost = hit.tokens
            if budget_tokens is not None and hits and used + cost > budget_tokens:
                break
            hits.append(hit)
            used += cost
        return hits

    def _with_titles(self, query: str, fused: dict[str, float], mode: Mode, use_bridge: bool) -> dict[str, float]:
        """The fused scores with the section prior (hybrid mode only: the single rankers
        stay as they are, to be measured), back on a 0..1 scale."""
        if mode != "hybrid" or not fused:
            return fused
        text = plain_punctuation(query)
        named = {t for t in lexical_tokens(self.bridge(text) if use_bridge else text) if self.lexical.idf.get(t, 0.0) >= TOPIC_WORD_IDF}
        return _within_one({unit: score + (TITLE_BONUS if named & self._titles.get(unit, set()) else 0.0) for unit, score in fused.items()})

    def _toward(self, focus: str, fused: dict[str, float], use_bridge: bool) -> dict[str, float]:
        """The fused scores plus the focus words' own BM25 (as a share of their best),
        back on a 0..1 scale."""
        text = plain_punctuation(focus)
        own = self.lexical.scores(lexical_tokens(self.bridge(text) if use_bridge else text))
        top_own = max(own.values(), default=0.0)
        if top_own <= 0:
            return fused
        return _within_one({unit: score + FOCUS_WEIGHT * own.get(unit, 0.0) / top_own for unit, score in fused.items()})

    def _by_parts(self, parts: list[str], lang: Lang, whole: dict[str, float], **kw: Any) -> dict[str, float]:
        """One score per unit for a query of several parts: its best share of a part's own
        top score. Searched whole, the words of one part can outweigh the other's (a
        passage about "first weeks" beat the one that says where STO is switched on); so
        each part's best passage leads, in the order the parts were asked (a tie goes to the
        earlier part), and the whole query's score breaks the remaining ties. A later part
        that leans on the first ("…, and should we do it in our first weeks?") is searched
        with it: alone, its best passage is about whatever else "first weeks" meets."""
        best: dict[str, tuple[float, float, float]] = {}
        parts = [f"{part} {parts[0]}" if i and self._leans(part) else part for i, part in enumerate(parts)]
        for i, part in enumerate(parts):
            fused = self._with_titles(part, fuse(*self.scores(part, lang, **kw)), kw["mode"], kw["use_bridge"])
            top = max(fused.values(), default=0.0)
            for unit, score in fused.items():
                key = (score / top if top > 0 else 0.0, -i, whole.get(unit, 0.0))
                best[unit] = max(key, best.get(unit, key))
        ranked = sorted(best, key=lambda u: best[u], reverse=True)
        # Scores stay in 0..1 and keep that order: the share, nudged below the next better key.
        return {unit: best[unit][0] * (1.0 - 1e-6 * rank) for rank, unit in enumerate(ranked)}

    def _entries_whole(self, fused: dict[str, float]) -> dict[str, float]:
        """The places a troubleshooting entry's passages earned go to its fix first, then
        its cause, then its symptom: the symptom only restates the complaint that found it
        ("smart ingest says it ran, but zero users changed"). Every other passage keeps its
        place."""
        ranked = dict(fused)
        for units in self._entries:
            present = [u for u in units if u in fused]
            ranked.update(zip(present, sorted((fused[u] for u in present), reverse=True)))
        return ranked

    def _leans(self, part: str) -> bool:
        """A later part is about the first part's topic: it points back at it, or names
        hardly a topic word of its own."""
        own = {t for t in lexical_tokens(plain_punctuation(part)) if self.lexical.idf.get(t, 0.0) >= TOPIC_WORD_IDF}
        return bool(POINTS_BACK.search(part)) or len(own) < OWN_TOPIC_WORDS

    def entry_titles(self, lang: Lang) -> list[str]:
        """The titles of the troubleshooting entries, in the reference's order."""
        return self._entry_titles.get(lang, [])

    def section_hits(self, section: str, lang: Lang) -> list[Hit]:
        """Every passage of one section, in document order (score 0: not ranked)."""
        units = sorted((c.ordinal, c.unit) for c in self.index.chunks.values() if c.section == section and c.lang == lang)
        return [self._hit(unit, lang, 0.0, 0.0, 0.0) for _, unit in units]

    def _hit(self, unit: str, lang: Lang, score: float, dense: float, lexical: float) -> Hit:
        chunk = self.index.chunks[unit_id(unit, lang)]
        pair = self.index.chunks.get(unit_id(unit, other(lang)))
        return Hit(
            id=chunk.id,
            section=chunk.section,
            lang=lang,
            text=chunk.text,
            pair_text=pair.text if pair else None,
            score=round(score, 6),
            heading=chunk.heading,
            section_path=list(chunk.section_path),
            tokens=chunk.tokens + (pair.tokens if pair else 0),
            dense_score=dense,
            lexical_score=lexical,
            chunk=chunk,
        )

    # --- what answering needs of the reference ------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        return self.index.manifest

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.index.chunks.get(chunk_id)

    def knows(self, term: str) -> bool:
        """Whether the reference itself (not the user phrasings) uses this lexical token."""
        return term in self.index.lexical.idf

    @cached_property
    def _by_prefix(self) -> dict[str, list[str]]:
        forms: dict[str, list[str]] = defaultdict(list)
        for token in sorted(self.index.lexical.idf, key=lambda t: (len(t), t)):
            if len(token) >= KIN_PREFIX and token.isascii() and token.isalpha():
                forms[token[:KIN_PREFIX]].append(token)
        return dict(forms)

    def kin(self, term: str) -> str | None:
        """The reference's own form of a word: the word itself when the reference uses it,
        else the shortest word it uses that differs only by an ending ("limited" -> "limit",
        "expire" -> "expiry"; not "instant" -> "install"), else None. The lexical stemmer
        only strips plurals."""
        if self.knows(term):
            return term
        if len(term) > KIN_PREFIX and term.isascii() and term.isalpha():
            return next((form for form in self._by_prefix.get(term[:KIN_PREFIX], []) if _same_stem(term, form)), None)
        return None

    def idf(self, term: str) -> float:
        """A token's weight in the reference: rarer weighs more; one it never uses weighs as
        much as its rarest."""
        idf = self.index.lexical.idf
        return idf.get(term, max(idf.values(), default=1.0))

    @cached_property
    def reference_text(self) -> str:
        """Every passage's text, both languages, as one string."""
        return " ".join(c.text for c in self.index.chunks.values())


def embed_phrasings(settings: Settings, embedder: Embedder, progress: Progress = stderr_progress) -> tuple[list[Phrasing], np.ndarray | None]:
    """The user phrasings and their embeddings (computed once per embedder, then cached)."""
    phrasings = load_phrasings(settings.corpus_dir)
    if not phrasings:
        return [], None
    return phrasings, embedded(embedder, [p.text for p in phrasings], settings.data_dir, "phrasings", progress)


def open_retriever(settings: Settings, progress: Progress = stderr_progress, embedder: Embedder | None = None) -> Retriever:
    embedder = embedder or embedder_for(settings)
    index = open_index(settings, progress=progress, embedder=embedder)
    phrasings, vectors = embed_phrasings(settings, embedder, progress)
    return Retriever(index, embedder, load_glossary(settings.corpus_dir), cache_dir=settings.data_dir,
                     phrasings=phrasings, phrasing_vectors=vectors)
