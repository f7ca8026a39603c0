"""Which words of a question or sentence say what it is about, and how much of a question a
sentence covers (rare words weigh more, by the reference's own word weights)."""

from __future__ import annotations

import re
import statistics
from functools import lru_cache

from ...language import has_han
from ...lexical import lexical_tokens
from ...retrieve import KIN_PREFIX, Hit, Retriever

# Words too common in questions about Iterable to show that a passage is on topic.
GENERIC = frozenset(
    "iterable set setup configure create make build use work get help need find way question know possible support "
    "supported show showing shows shown look looking tell explain thing want like just can does what which where how why when there any some also "
    "really actually after before have one ourselve both each every other another same much many more most very "
    "still even already yet please thank thanks then later again next else instead right working works worked doing done going "
    "once all has had having whether without within while could would should might but via sent until not isn aren doesn don didn wasn weren won wouldn shouldn couldn hasn haven hadn "
    # the particle of a phrasal verb ("checked out", "held back") and who anyone is
    "out down over back away around getting gets people folks someone something anyone everyone "
    # the same kind of words in Chinese: what one does with anything, how one asks
    "具体 操作 配置 设置 创建 使用 需要 帮助 可以 如何 一下 请问 知道 支持 实现 有没 没有".split()
)


# Characters that make a Han bigram a piece of sentence frame ("户的", "能调") rather than a word.
ZH_FRAME = frozenset("的了吗么呢吧啊呀嘛我你他她它们是和与或及等个把被就都也还这那哪怎什啥谁吧能调让给想")
_ACRONYM = re.compile(r"\b[A-Z]{2}\b")  # EU, US, AI, IP: short, but they name things
# The same names typed in lower case ("ai stuff", "eu data center"); not "us", a pronoun.
_SHORT_NAMES = frozenset({"ai", "eu", "ui"})

# A troubleshooting entry's own labels: every entry has them, so they say nothing about
# which entry fits (the glossary adds them to questions that describe a problem).
_ENTRY_LABELS = frozenset("symptom cause solution 症状 原因 解决 方案 决方".split())


@lru_cache(maxsize=8192)  # the same passages are read for every question
def salient(text: str) -> frozenset[str]:
    """The words of a text that can show what it is about: not generic, not frame."""
    out = {a.lower() for a in _ACRONYM.findall(text)}
    for t in lexical_tokens(text):
        if t in GENERIC or t in _ENTRY_LABELS:
            continue
        if has_han(t):
            if len(t) == 2 and not (set(t) & ZH_FRAME):
                out.add(t)
        elif len(t) >= 3 or t.isdigit() or t in _SHORT_NAMES:
            out.add(t)
    return frozenset(out)


def known(retriever: Retriever, terms: set[str], forms: bool = False) -> set[str]:
    """The terms the reference uses somewhere; with `forms`, also those it uses in another
    form, given in its own form ("limited" -> "limit"). A user's own words that it never
    uses ("backfilling", "靠谱") cannot be matched by any passage, so they say nothing
    about which passage fits; names it never uses are caught by `unknown_terms` instead."""
    if not forms:
        return {t for t in terms if retriever.knows(t)}
    return {k for t in terms if (k := retriever.kin(t)) is not None}


def named(retriever: Retriever, text: str) -> set[str]:
    """The words of a text the reference uses, as a reader would count them: Chinese is
    matched as overlapping character pairs, so "活动数据不对" also yields 动数 and 据不,
    which the reference happens to contain ("数据不足"); a pair that overlaps one already
    taken, reading left to right, is not a word of its own."""
    words = known(retriever, set(salient(text)))
    taken: set[str] = set()
    end = 0
    for i in range(len(text) - 1):
        pair = text[i:i + 2]
        if pair in words and i >= end:
            taken.add(pair)
            end = i + 2
    return {w for w in words if not has_han(w) or len(w) != 2 or w in taken}


def _words(text: str, twin: str | None) -> set[str]:
    """The salient words of a sentence, plus those of its passage's other-language twin that
    are in the other script: "Filter tile 能按 Has opened 分流吗?" can only find its English
    words in the English twin of a Chinese sentence."""
    own = salient(text)
    if twin:
        han = has_han(text)
        own |= {t for t in salient(twin) if has_han(t) != han}
    return own


def _stem_key(term: str) -> str | None:
    return term[:KIN_PREFIX] if len(term) > KIN_PREFIX and term.isascii() and term.isalpha() else None


def held(terms: set[str], own: set[str]) -> set[str]:
    """The terms a text holds, in any form of an English word ("expired" in "…expiry…")."""
    keys = {k for o in own if (k := _stem_key(o))}
    return {t for t in terms if t in own or _stem_key(t) in keys}


def coverage(retriever: Retriever, terms: set[str], text: str, twin: str | None = None, forms: bool = False) -> float:
    """Share of the known terms' weight (rare words weigh more) that `text` contains; with
    `forms`, in any form of an English word."""
    seen = known(retriever, terms, forms)
    if not seen:
        return 0.0
    own = _words(text, twin)
    return _weight(retriever, held(seen, own) if forms else seen & own) / _weight(retriever, seen)


def _weight(retriever: Retriever, terms: set[str]) -> float:
    return sum(retriever.idf(t) for t in terms)


# A title word more common than this ("data" / 数据: in most sections) names no one section.
TITLE_WORD_WEIGHT = 1.5


def _holds_a_telling_word(retriever: Retriever, seen: set[str], own: set[str]) -> bool:
    """The text holds the question's rarest known word, or one at least as telling as its
    typical word (the median weight): a junk Han bigram ("出用" from "导出用户") can be the
    rarest and yet say nothing, while "导出" and "限流" say what the question is about."""
    weights = [retriever.idf(t) for t in seen]
    covered = [retriever.idf(t) for t in held(seen, own)]
    return bool(covered) and max(covered) >= min(max(weights), statistics.median(weights))


def about(retriever: Retriever, terms: set[str], text: str, twin: str | None = None) -> bool:
    """The text is about these terms: it holds most of their weight, or a telling one."""
    seen = known(retriever, terms, forms=True)
    if not seen:
        return False
    own = _words(text, twin)
    return (_weight(retriever, held(seen, own)) / _weight(retriever, seen) >= SUBJECT_COVERAGE
            or _holds_a_telling_word(retriever, seen, own))


def settles(retriever: Retriever, terms: set[str], text: str, hit: Hit) -> bool:
    """The text (of `hit`) is about what a yes/no question asks: most of the weight of its
    words, and a telling one of them. A sentence is about what its heading names
    ("同步类型:用户、事件、目录项…" under "Smart Ingest" says what Smart Ingest syncs).
    Words the reference never uses in any form weigh as its commonest words: usually the
    user's own phrasing ("purely from our backend"), but they count against a sentence that
    lacks them. Anything less gets no "yes" or "no"."""
    seen = known(retriever, terms, forms=True)
    if not seen:
        return False
    unknown = [t for t in terms if retriever.kin(t) is None]
    own = _words(text, hit.pair_text) | salient(hit.heading)
    matched = held(seen, own)
    # "…in the recipient's local time zone?": mostly about what the reference never says.
    # (Chinese is read as character pairs; most unknown pairs straddle two words.)
    if len([t for t in unknown if not has_han(t)]) > len(matched):
        return False
    total = _weight(retriever, seen) + UNKNOWN_WORD_WEIGHT * len(unknown)
    return _weight(retriever, matched) / total >= YES_NO_COVERAGE and _holds_a_telling_word(retriever, seen, own)


# A sentence answers what was asked only when it is about the question's subject too.
SUBJECT_COVERAGE = 0.4

# A yes/no answer needs a sentence that is about most of what the question asks.
YES_NO_COVERAGE = 0.5
UNKNOWN_WORD_WEIGHT = 1.0  # about the weight of the commonest words the reference uses


# Things the reference names side by side as alternatives ("iOS/Android/Web", "Snowflake/BigQuery"):
# names, each with a capital; not "send/open" or "in/out".
_SLASH_LIST = re.compile(r"(?<![\w/])[A-Za-z]\w*(?:/[A-Za-z]\w*)+")


@lru_cache(maxsize=4)
def _alternatives(text: str) -> tuple[frozenset[str], ...]:
    groups = {m.group() for m in _SLASH_LIST.finditer(text)}
    return tuple({frozenset(g.lower().split("/")) for g in groups
                  if all(len(name) > 1 and re.search(r"[A-Z]", name) for name in g.split("/"))})


def names_a_sibling(retriever: Retriever, question: str, hit: Hit) -> bool:
    """The question names another of the things a passage's name (a troubleshooting entry's
    title, a row's label) is one of, and not the passage's: the iOS push entry is no answer
    for Android, nor is the "Web push" row; the reference lists them side by side
    ("iOS/Android/Web SDK")."""
    name = hit.heading.split(" > ")[-1] if hit.chunk.troubleshooting else hit.chunk.label if hit.chunk.kind == "row" else ""
    title = set(re.findall(r"[a-z]+", name.lower()))
    # "安卓上收不到,iOS正常": the one said to work is not the one asked about
    asked = _latin_words(retriever, _WORKING.sub(" ", question))
    return any(title & group and asked & (group - title) and not asked & title & group
               for group in _alternatives(retriever.reference_text))


# A thing said to work fine, beside the one that does not.
_WORKING = re.compile(r"\b[\w.-]+ (?:is|are|seems?|works?|looks?)(?: totally| completely)? (?:fine|ok|okay|good|working|normal)\b"
                      r"|(?:\b[A-Za-z][\w.-]*|[\u4e00-\u9fff]{2})\s*(?:上|端|那边|这边)?(?:都|倒是|就)?(?:正常|没问题|好好的|能收到|可以收到|收得到)")


@lru_cache(maxsize=64)
def _latin_words(retriever: Retriever, question: str) -> frozenset[str]:
    # asked of every passage a question meets (lead candidates, supports, entries): bridged once
    return frozenset(re.findall(r"[a-z]+", retriever.bridge(question).lower()))


# How rare a word of a later part, or a label, must be to name a thing of its own (auth, Zapier; not 邮件).
OWN_THING_WEIGHT = 3.0


def labels_of(hit: Hit, retriever: Retriever) -> list[str]:
    """The passage's label in both languages (its own, then its twin's), where it has one."""
    twin = retriever.chunk(hit.chunk.pair_id)
    return [label for label in (hit.chunk.label, twin.label if twin else "") if label]


def names_a_label(question: str, hits: list[Hit], retriever: Retriever, rarity: float) -> bool:
    """The question names one of these passages by a label that few passages share, in either
    language ("Zapier", "周期性活动"): a thing of Iterable's own, not a channel every tool has
    ("Email", "Send push")."""
    lowered = question.lower()
    for hit in hits:
        for label in labels_of(hit, retriever):
            name = label.lower()
            said = name in lowered if has_han(name) else re.search(rf"\b{re.escape(name)}\b", lowered)
            if len(name) >= (2 if has_han(name) else 3) and said and max(map(retriever.idf, named(retriever, name)), default=0.0) >= rarity:
                return True
    return False
