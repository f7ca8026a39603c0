"""The offline backend: answers from retrieved passages, with no network and no model.
Deterministic.

Answer first: the first line answers the question from the single best passage — the
sentence that matches it, a table row as one line, "Yes —"/"No —" when a passage settles
a yes/no question, the endpoint, number or menu path when that is what was asked — then
at most a few supporting lines that are nearly as relevant. A symptom gets the matching
troubleshooting entry: its cause, the check that fits, then the remaining checks as
numbered steps (numbering is kept for real sequences only). When the question asks for a
kind of thing (a limit, a price, an endpoint…) that no relevant passage contains, or
names something the reference never mentions, the first line says so, then the nearest
facts. Every factual line is a passage's own text with its section id; the only other
text is the policy's fixed sentences (openings, gaps, assumptions, questions, handoff).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Sequence

from .base import Options, Turn
from ..config import get_settings
from ..corpus import chunk_label, has_cjk
from ..index import lexical_tokens
from ..policy import (
    Answer,
    Lang,
    Route,
    Source,
    detect_language,
    question_text,
    strip_invocation,
)
from ..retrieve import Hit, Retriever
from ..routing import Handoff, handoff
from ..understand import TIME_UNITS, Classifier, Understanding, asked_kinds, is_yes_no, time_units, understand

SEARCH_K = 8
# Choosing the lead sentence: its passage's rank and the question's words it holds (each
# weighted by its rarity), plus bonuses for holding what was asked and, for a symptom,
# for a troubleshooting entry or gotcha. Set on the tune half of evals/questions/.
LEAD_CANDIDATES = 8
RANK_WEIGHT = 1.0
WORD_WEIGHT = 0.12
KIND_BONUS = 1.0
SYMPTOM_BONUS = 0.5
HOW_TO_BONUS = 0.3  # a setup question: a sentence that says where or what to do
# What a sentence looks like when it tells you what to do: a menu path, or an
# instruction after its label ("Configure in…", "Build first journey — start with…").
_HOW_TO_QUESTION = re.compile(r"\bhow (do|can|should|would) (i|we|you)\b.*\b(set up|setup|configure|enable|turn on|"
                               r"switch on|create|build|connect|add)\b|(怎么|如何|怎样)(设置|配置|开启|打开|搭建|创建|接入|对接|添加)", re.I)
_HOW_TO = re.compile(r"\S ?> ?\S|(^|[:—]\s*)(configure|set up|build|create|use|enable|start|install|connect|map|"
                     r"define|import|turn on|配置|设置|搭建|创建|使用|开启|安装|对接|映射|定义|导入)", re.I)
MAX_SUPPORT = 4  # supporting lines after the lead
MAX_MAP = 5  # lines of a best-effort map for a vague question
# A passage is on topic when its embedding is clearly close, or fairly close and it shares
# a specific word with the question.
DENSE_CLEAR = 0.45
DENSE_WITH_OVERLAP = 0.15
# A supporting passage must rank nearly as well as the lead (this share of its fused
# score) and hold this share of the question's words (weighted by rarity).
SUPPORT_SCORE_SHARE = 0.5
SUPPORT_COVERAGE = 0.4
# In `relevant`, a hit among the strongest word matches: this share of the best BM25 score.
LEXICAL_SHARE = 0.5
# Words too common in questions about Iterable to show that a passage is on topic.
_GENERIC = frozenset(
    "iterable set setup configure create make build use work get help need find way question know possible support "
    "supported show tell explain thing want like just can does what which where how why when there any some also "
    "really actually after before have one ourselve both each every other another same much many more most very "
    "still even already yet please thank thanks".split()
)

_TEXT = {
    "en": {
        "none": "I could not find this in the Iterable reference I have, so I will not guess at an answer.",
        "unknown": "The reference does not mention {terms}, so I cannot confirm that Iterable supports {it}.",
        "gap": "The reference does not give {thing} for this; the nearest facts it has:",
        "gap_things": {"endpoint": "an API endpoint", "url": "an address", "price": "a price", "limit": "a limit",
                       "frequency": "a frequency", "size": "a size limit", "menu": "a menu location",
                       "number": "a figure"},
        "yes": "Yes — ", "no": "No — ",
        "contradiction": "The reference is not consistent on this:",
        "gap_yes_no": "The reference does not answer this directly; the closest it says:",
        "no_steps": "The reference names this but does not give steps to set it up; what it does say:",
        "no_history": "There is no earlier question in this conversation, so I answered this on its own.",
        "map": "The reference covers these parts of {topic}:",
        "start_with": "Start with check {n}: {step}",
        "route_only": "This is a general question rather than Iterable configuration, so another skill fits better: {skill} ({reason}).",
        "route_mixed": "The general part of your question is better served by {skill} ({reason}).",
        "installed": "It is installed ({location}): {description} Run: {skill} <your question>",
        "install": "Install it with: {command}",
        "dated": "Pricing is as of March 2026: verify current pricing with Iterable sales.",
        "assume_routed": "You want general guidance that is not specific to Iterable's configuration.",
        "assume_ui": "You work in the Iterable web app; API details are noted where they matter.",
        "assume_api": "You are integrating through the REST API or SDKs.",
        "assume_setup": "You are setting this up for the first time.",
        "assume_troubleshoot": "It is set up already and is not behaving as expected.",
        "assume_optimize": "It is running already and you want better results.",
        "assume_area": "I took this to be mostly about {topic}, the closest part of the reference; say if you meant something else.",
        "assume_other_language": "Your question does not seem to be in English or Chinese, so I answered in English.",
        "topic_join": ", ",
    },
    "zh": {
        "none": "我在现有的Iterable参考资料中没有找到相关内容,因此不做猜测。",
        "unknown": "参考资料中没有提到 {terms},因此无法确认Iterable是否支持{it}。",
        "gap": "参考资料没有给出这方面的{thing};以下是最相关的内容:",
        "gap_things": {"endpoint": "API接口", "url": "地址", "price": "价格", "limit": "限制数值",
                       "frequency": "频率", "size": "大小上限", "menu": "菜单位置", "number": "具体数字"},
        "yes": "是的——", "no": "不行——",
        "contradiction": "参考资料在这一点上前后不一致:",
        "gap_yes_no": "参考资料没有直接回答这一点;最接近的说法是:",
        "no_steps": "参考资料提到了这项功能,但没有给出具体设置步骤;它提到的内容如下:",
        "no_history": "这里没有之前的问题,所以我单独回答了这个问题。",
        "map": "参考资料涵盖{topic}的以下方面:",
        "start_with": "先看第{n}项:{step}",
        "route_only": "这属于通用问题而非Iterable配置,更适合使用其他技能:{skill}({reason})。",
        "route_mixed": "问题中通用的部分更适合交给 {skill}({reason})。",
        "installed": "该技能已安装({location}):{description} 使用方式:{skill} <你的问题>",
        "install": "安装命令:{command}",
        "dated": "价格为2026年3月的信息,请以Iterable销售的最新报价为准。",
        "assume_routed": "你需要的是不局限于Iterable配置的通用建议。",
        "assume_ui": "你在Iterable控制台中操作;涉及API的地方会单独说明。",
        "assume_api": "你是通过REST API或SDK对接的开发人员。",
        "assume_setup": "你是第一次搭建这项功能。",
        "assume_troubleshoot": "相关功能已经配置好,但表现不符合预期。",
        "assume_optimize": "相关功能已在运行,你想提升效果。",
        "assume_area": "我理解你主要在问{topic}(参考资料中最接近的部分);如果不是,请告诉我。",
        "assume_other_language": "",
        "topic_join": "、",
    },
}
_ROUTE_REASON_ZH = {
    "/sales-email-marketing": "非Iterable专属的邮件营销策略",
    "/sales-push-notification": "跨工具的推送通知策略",
    "/sales-in-app-messaging": "跨工具的应用内消息策略",
    "/sales-transactional-email": "事务性邮件服务商对比",
    "/sales-deliverability": "跨工具的SPF/DKIM/DMARC与送达率设置",
    "/sales-integration": "通过Zapier/Make对接Iterable与CRM",
    "/sales-braze": "Braze专属问题",
    "/sales-customerio": "Customer.io专属问题",
    "/sales-klaviyo": "Klaviyo专属问题",
    "/sales-do": "Iterable以外的销售目标,由路由技能匹配",
}
_ROUTE_REASON_EN = {
    "/sales-email-marketing": "email marketing strategy that is not Iterable-specific",
    "/sales-push-notification": "push notification strategy across tools",
    "/sales-in-app-messaging": "in-app messaging strategy across tools",
    "/sales-transactional-email": "comparing transactional email providers",
    "/sales-deliverability": "SPF/DKIM/DMARC and deliverability across tools",
    "/sales-integration": "connecting Iterable to a CRM through Zapier/Make",
    "/sales-braze": "Braze-specific questions belong to its own skill",
    "/sales-customerio": "Customer.io-specific questions belong to its own skill",
    "/sales-klaviyo": "Klaviyo-specific questions belong to its own skill",
    "/sales-do": "a sales objective outside Iterable; the router finds the right skill",
}

# --- passages as sentences ---------------------------------------------------------------

# English sentences end at . ! ? followed by a space (so `data.csv` and URLs stay whole);
# Chinese ones at their full-width marks.
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。!?;])(?=\S)")
_STEP = re.compile(r"\s*(?=(?<![0-9])[1-9][)）])")
_NEGATION = {
    "en": re.compile(r"\b(no|not|don't|doesn't|won't|cannot|can't|never|only)\b|n't\b", re.I),
    "zh": re.compile(r"不|无|没有|仅|只能|非"),
}
_SYMPTOM = re.compile(r"(Symptom|症状)\s*[::]")
_STEP_NUMBER = re.compile(r"^[1-9][)）]\s*")
_UNLIKE = re.compile(r"^unlike [^,]+,\s*|^与[^,,]+不同[,,]\s*", re.I)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def render_passage(text: str) -> str:
    """A passage as one plain line: a table row as 'Label: field; field', a bullet unwrapped."""
    lines = text.splitlines()
    if len(lines) == 3 and lines[0].startswith("|"):
        header, cells = _cells(lines[0]), _cells(lines[2])
        if len(cells) == 2:
            return f"{cells[0]}: {cells[1]}"
        return f"{cells[0]}: " + "; ".join(f"{h}: {c}" for h, c in zip(header[1:], cells[1:]))
    return " ".join(line[2:] if line.startswith("- ") else line for line in lines if line.strip())


def sentences(hit_text: str) -> list[str]:
    """What a passage says, as separately quotable pieces: a table row whole, a numbered
    solution list as its steps (each with the list's label), prose as sentences."""
    line = render_passage(hit_text)
    if hit_text.startswith("|"):
        return [line]
    steps = split_steps(line)
    if len(steps) > 2:
        head = steps[0] if not _STEP_NUMBER.match(steps[0]) else ""
        return [f"{head} {step}".strip() for step in steps[1:]] if head else steps
    return [s.strip() for s in _SENTENCE.split(line) if s.strip()]


def split_steps(line: str) -> list[str]:
    """'Solution: 1) Check A. 2) Verify B.' -> ['Solution:', '1) Check A.', '2) Verify B.']"""
    return [p.strip() for p in _STEP.split(line) if p.strip()]


# Characters that make a Han bigram a piece of sentence frame ("户的", "能调") rather than a word.
_ZH_FRAME = frozenset("的了吗么呢吧啊呀嘛我你他她它们是和与或及等个把被就都也还这那哪怎什啥谁吧能调让给想")


_ACRONYM = re.compile(r"\b[A-Z]{2}\b")  # EU, US, AI, IP: short, but they name things


# A troubleshooting entry's own labels: every entry has them, so they say nothing about
# which entry fits (the glossary adds them to questions that describe a problem).
_ENTRY_LABELS = frozenset("symptom cause solution 症状 原因 解决 方案 决方".split())


def _salient(text: str) -> set[str]:
    """The words of a text that can show what it is about: not generic, not frame."""
    out = {a.lower() for a in _ACRONYM.findall(text)}
    for t in lexical_tokens(text):
        if t in _GENERIC or t in _ENTRY_LABELS:
            continue
        if has_cjk(t):
            if len(t) == 2 and not (set(t) & _ZH_FRAME):
                out.add(t)
        elif len(t) >= 3 or t.isdigit():
            out.add(t)
    return out


def _idf(retriever: Retriever, term: str) -> float:
    idf = retriever.index.lexical.idf
    return idf.get(term, max(idf.values(), default=1.0))


def known(retriever: Retriever, terms: set[str]) -> set[str]:
    """The terms the reference uses somewhere. A user's own words that it never uses
    ("backfilling", "靠谱") cannot be matched by any passage, so they say nothing about
    which passage fits; names it never uses are caught by `unknown_terms` instead."""
    return {t for t in terms if t in retriever.index.lexical.idf}


def coverage(retriever: Retriever, terms: set[str], text: str, unknown_weight: float = 0.0) -> float:
    """Share of the terms' weight (rare words weigh more) that `text` contains. Words the
    reference never uses weigh `unknown_weight`: usually the user's own phrasing, but
    sometimes the very thing asked ("do API keys expire?")."""
    if not known(retriever, terms):
        return 0.0
    own = _salient(text)
    weight = {t: _idf(retriever, t) if t in retriever.index.lexical.idf else unknown_weight for t in terms}
    return sum(weight[t] for t in terms & own) / sum(weight.values())


def about(retriever: Retriever, terms: set[str], text: str) -> bool:
    """The text is about these terms: it holds most of their weight, or their rarest."""
    seen = known(retriever, terms)
    if not seen:
        return False
    if coverage(retriever, seen, text) >= SUBJECT_COVERAGE:
        return True
    rarest = max(_idf(retriever, t) for t in seen)
    return any(_idf(retriever, t) == rarest for t in seen & _salient(text))


def settles(retriever: Retriever, terms: set[str], text: str) -> bool:
    """The text is about what a yes/no question asks: most of its words, and its rarest
    known word. Anything less gets no "yes" or "no"."""
    seen = known(retriever, terms)
    if not seen or coverage(retriever, terms, text, unknown_weight=UNKNOWN_WORD_WEIGHT) < YES_NO_COVERAGE:
        return False
    rarest = max(_idf(retriever, t) for t in seen)
    return any(_idf(retriever, t) == rarest for t in seen & _salient(text))


@dataclass
class Lead:
    hit: Hit
    text: str  # the sentence(s) that answer, from the passage
    score: float
    sentence: str = ""  # the sentence chosen (text may add its headline or label)


# --- choosing what to say ----------------------------------------------------------------


def relevant(hits: list[Hit], question: str) -> list[Hit]:
    """The hits that are on topic: clearly close in meaning, or fairly close in meaning or
    among the strongest word matches, and sharing a specific word with the question."""
    wanted = _salient(question)
    strongest = max((h.lexical_score for h in hits), default=0.0)
    keep = []
    for hit in hits:
        overlap = wanted & _salient(hit.text + " " + (hit.pair_text or "") + " " + hit.heading)
        lexical = strongest > 0 and hit.lexical_score >= LEXICAL_SHARE * strongest
        if hit.dense_score >= DENSE_CLEAR or ((hit.dense_score >= DENSE_WITH_OVERLAP or lexical) and overlap):
            keep.append(hit)
    return keep


def _troubleshooting(hit: Hit) -> bool:
    return "troubleshooting" in hit.section_path


_ENDPOINT = re.compile(r"/api/[\w/{}.]*\w")
# A sentence answers what was asked only when it is about the question's subject too.
SUBJECT_COVERAGE = 0.5
# A yes/no answer needs a sentence that is about most of what the question asks.
YES_NO_COVERAGE = 0.5
UNKNOWN_WORD_WEIGHT = 1.0  # about the weight of the commonest words the reference uses
# A troubleshooting entry fits a symptom when its title, symptom and cause hold this share.
ENTRY_COVERAGE = 0.3


@dataclass(frozen=True)
class Subject:
    terms: frozenset[str]  # the question's topic words, minus the words of the kind asked
    endpoints: tuple[str, ...]  # endpoints the question names: a sentence must name one
    units: frozenset[str] = frozenset()  # "per day": a figure per second does not answer it


def subject_of(question: str, u: Understanding, retriever: Retriever) -> Subject:
    from ..understand import ASK_CUES

    text = question
    for kind in u.asks:
        text = ASK_CUES[kind].sub(" ", text)
    terms = _salient(retriever.bridge(text)) - {"rate", "api", "exact", "接口", "地址", "iterable"}
    units = time_units(question) if set(u.asks) & {"limit", "frequency", "number", "price"} else set()
    return Subject(frozenset(terms), tuple(_ENDPOINT.findall(question)), frozenset(units))


def answers_kind(retriever: Retriever, u: Understanding, sentence: str, subject: Subject) -> bool:
    """The sentence contains the kind of thing asked for, about the question's subject."""
    from ..understand import ASK_INSTANCE

    if subject.endpoints and not any(e in sentence for e in subject.endpoints):
        return False
    if subject.units and not all(TIME_UNITS[unit].search(sentence) for unit in subject.units):
        return False
    if known(retriever, set(subject.terms)) and not about(retriever, set(subject.terms), sentence):
        return False
    return bool(ASK_INSTANCE[u.asks[0]].search(sentence))  # the most specific kind asked


def choose_lead(question: str, hits: list[Hit], u: Understanding, retriever: Retriever,
                focus: str | None = None, exclude: set[tuple[str, str]] = frozenset()) -> Lead | None:
    """The best sentence of the best passages: the question's words it contains (rare
    ones weigh more; `focus`, a follow-up's own words, when given), its passage's rank,
    whether it holds the kind of thing asked, and, for a symptom, whether it is a
    troubleshooting entry that matches."""
    wanted = _salient(retriever.bridge(focus or question))
    subject = subject_of(focus or question, u, retriever)
    best: Lead | None = None
    for rank, hit in enumerate(hits[:LEAD_CANDIDATES]):
        parts = sentences(hit.text)
        label = chunk_label(hit.text)
        if _SYMPTOM.match(parts[0]):
            continue  # a troubleshooting entry's symptom restates the problem; it never answers
        for i, sentence in enumerate(parts):
            own = _salient(sentence + " " + (hit.heading if i == 0 else ""))
            score = RANK_WEIGHT / (rank + 1) + WORD_WEIGHT * sum(_idf(retriever, t) for t in wanted & own)
            if u.asks and answers_kind(retriever, u, sentence, subject):
                score += KIND_BONUS
            if u.yes_no and settles(retriever, wanted, sentence):
                score += KIND_BONUS
            if u.goal == "Troubleshoot" and (_troubleshooting(hit) or hit.section == "gotchas") and len(wanted & own) >= 2:
                score += SYMPTOM_BONUS
            if u.goal == "Set up" and u.goal_said and _HOW_TO.search(sentence):
                score += HOW_TO_BONUS
            if (best is None or score > best.score) and (hit.id, sentence) not in exclude:
                best = Lead(hit, _lead_text(parts, i, label, wanted, retriever, hit.text.startswith("|")), score, sentence)
    return best


MAX_LEAD_SENTENCES = 3


def _lead_text(parts: list[str], i: int, label: str, wanted: set[str], retriever: Retriever, row: bool) -> str:
    """What the lead quotes of its passage: the chosen sentence, with the passage's
    headline when it has a short one ("Campaign = one channel only."), the other
    sentences that hold the question's words ("Export: 4 req/min." beside "429 status on
    limit"), in the passage's order, or with its label when the sentence needs it."""
    if row or len(parts) == 1:
        return parts[i]
    keep = {i}
    if len(parts[0]) < 60:
        keep.add(0)  # a short first sentence is the headline the others depend on
    matching = known(retriever, wanted)
    for j, part in enumerate(parts):
        if len(keep) >= MAX_LEAD_SENTENCES:
            break
        if j not in keep and matching & _salient(part):
            keep.add(j)
    if keep == {i} and i == 0:
        keep.add(1)  # a first sentence alone rarely says enough
    text = " ".join(parts[j] for j in sorted(keep))
    if 0 not in keep and label and not text.startswith(label):
        text = f"{label}: {text}"
    return text


def polarity(sentence: str, question: str, lang: Lang) -> bool:
    """True when the sentence affirms what the question asks, False when it denies it."""
    text = _UNLIKE.sub("", sentence)
    neg = _NEGATION[lang].search(text)
    if not neg:
        return True
    # "Does it need the SDK?" / "…require the SDK; they won't work without it": the
    # negation belongs to the requirement the question asks about.
    if re.search(r"\b(need|require|must|necessary)|需要|必须|要先|过审|审核", question, re.I) and re.search(
            r"requir|must|需要|必须|必需|审核通过", text, re.I):
        return not re.search(r"\bno\b[^.]*requir|无需|不需要", text, re.I)
    return False


def split_parts(question: str) -> list[str]:
    """Sub-questions of a question that asks two things ("…? …?", "…, and what…")."""
    pieces = [p.strip() for p in re.split(r"(?<=[??])\s*|[;;]\s*", question) if len(p.strip()) > 3]
    if len(pieces) >= 2:
        return pieces[:3]
    match = re.search(r",\s+(and|or)\s+(?=(what|how|where|which|when|should|can|do|does|is|are)\b)", question, re.I)
    if match:
        return [question[: match.start()].strip(), question[match.end():].strip()]
    return [question]


def unknown_terms(question: str, retriever: Retriever) -> list[str]:
    """Names in the question the reference never uses (GraphQL, SLA, LINE, 微信…): Latin
    words with a capital that does not merely start the sentence, or with digits inside;
    Han words that appear nowhere in the reference and sit where a product, channel or
    data source is named."""
    vocabulary = retriever.index.lexical.postings
    aliases = {alias.lower() for alias, _ in retriever.glossary}
    out: list[str] = []
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9.+-]{1,}", question):
        word = match.group().rstrip(".")
        name_like = any(c.isupper() for c in word[1:]) or (word[0].isupper() and match.start() > 0)
        if not name_like:
            continue
        if word.isupper() and len(word) >= 3 and word not in _reference_text(retriever):
            out.append(word)  # LINE is not "line": an all-capitals name the reference never writes
            continue
        tokens = [t for t in lexical_tokens(word) if t not in _GENERIC]
        if tokens and word.lower() not in aliases and not any(t in vocabulary for t in tokens):
            if word not in out:
                out.append(word)
    for term in _zh_names(question):
        if term not in out and term not in aliases and not any(term in a for a in aliases):
            if all(term[i:i + 2] not in vocabulary for i in range(len(term) - 1)):
                out.append(term)
    return out


def _reference_text(retriever: Retriever) -> str:
    return retriever.__dict__.setdefault("_reference_text", " ".join(
        c["text"] for c in retriever.index.chunks.values()))


# Han words that name a product, channel or data source: the word right before a
# channel/platform noun, or the object of "发/接/用/支持" in a yes/no question.
_ZH_NAME = re.compile(
    r"(?:发|接|用|支持|对接|接入|集成|连)([\u4e00-\u9fff]{2,4}?)(?:消息|渠道|平台|吗|呢|[??]|$)"
    r"|([\u4e00-\u9fff]{0,3}(?:小程序|公众号))|([\u4e00-\u9fff]{2,3})(?:渠道|平台)"
)
_ZH_QUESTION_WORDS = ("什么", "哪个", "哪些", "怎么", "多少", "如何", "为什么")
_ZH_LEADING = "给向往在用对跟和与把从者或及"  # prepositions and conjunctions that stick to a name


def _zh_names(question: str) -> list[str]:
    found = []
    for match in _ZH_NAME.finditer(question):
        term = (match.group(1) or match.group(2) or match.group(3) or "").lstrip(_ZH_LEADING)
        if len(term) >= 2 and term not in found and not (set(term) & _ZH_FRAME) and term not in _ZH_QUESTION_WORDS:
            found.append(term)
    return found


# --- the answer --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _classifier(embedder_id: str, embedder, cache_dir) -> Classifier:
    return Classifier(embedder, get_settings().corpus_dir / "intents.tsv", cache_dir)


def classifier_for(retriever: Retriever) -> Classifier:
    return _classifier(retriever.embedder.id, retriever.embedder, getattr(retriever, "cache_dir", None))


def _handoff_lines(route: str, lang: Lang, mixed: bool, hand: Handoff) -> list[str]:
    words = _TEXT[lang]
    reason = (_ROUTE_REASON_ZH if lang == "zh" else _ROUTE_REASON_EN)[route]
    lines = [words["route_mixed" if mixed else "route_only"].format(skill=route, reason=reason)]
    if hand.installed:
        lines.append(words["installed"].format(location=hand.location, description=hand.description or "", skill=route))
    else:
        lines.append(words["install"].format(command=hand.install_command))
    return lines


def _cite(text: str, hit: Hit) -> str:
    return f"{text} [{hit.section}]"


def _topic(hits: list[Hit], lang: Lang) -> str:
    titles = list(dict.fromkeys(h.heading.split(" > ")[-1] for h in hits))[:3]
    return _TEXT[lang]["topic_join"].join(titles)


# Asking for one specific thing ("which browsers…", "哪个接口") is short but not vague.
_SPECIFIC = re.compile(r"\b(which|where|when|how (many|much|often|long))\b|哪个|哪些|哪里|在哪|多少|多久|几", re.I)


VAGUE_LENGTH = {"en": 40, "zh": 12}
DETAILED_SYMPTOM = 60  # characters: a longer symptom already says what is seen  # characters: a vague question is short
# Asking about a topic without saying what about it ("help with journeys", "webhooks??",
# "AI功能介绍一下", "分群怎么做").
_OPEN_ASK = re.compile(r"^(help( me)?( with)?|tell me about|overview of|explain)\b|\bstuff\b|\?\?|"
                       r"介绍|怎么弄|怎么做|怎么搞|咋办|怎么办|咋弄", re.I)


def _is_vague(question: str, u: Understanding, found: list[Hit], retriever: Retriever, lang: Lang) -> bool:
    """Short and underspecified: a topic and an open ask ("help with journeys"), or a
    complaint with no detail ("our SMS isn't going out", "推送有问题")."""
    if u.asks or u.yes_no or not found or _SPECIFIC.search(question) or len(question) > VAGUE_LENGTH[lang]:
        return False
    if len(known(retriever, _salient(question))) > 2:
        return False
    complaint = u.goal == "Troubleshoot" and u.goal_said and not re.search(r"\d", question)
    return complaint or bool(_OPEN_ASK.search(question))


def _matching_entry(question: str, u: Understanding, found: list[Hit], retriever: Retriever) -> Hit | None:
    """For a symptom, the troubleshooting entry among the best passages whose symptom or
    cause shares the question's words."""
    if u.goal != "Troubleshoot":
        return None
    terms = _salient(retriever.bridge(question))
    best_other = max((coverage(retriever, terms, h.text) for h in found[:3] if not _troubleshooting(h)), default=0.0)
    for hit in found[:3]:
        if _troubleshooting(hit):
            entry = " ".join(h.text for h in retriever.section_hits(hit.section, hit.lang))
            fit = coverage(retriever, terms, entry + " " + hit.heading)
            if fit >= ENTRY_COVERAGE and fit >= best_other:
                return hit
    return None


def _troubleshooting_lines(hit: Hit, question: str, retriever: Retriever, lang: Lang) -> tuple[list[str], list[Hit]]:
    """A troubleshooting entry for a symptom: its likely cause, then its checks as
    numbered steps — led by the check that fits the question best, when one does."""
    words = _TEXT[lang]
    lines: list[str] = []
    steps: list[str] = []
    entry = retriever.section_hits(hit.section, lang)
    for part in entry:
        pieces = split_steps(render_passage(part.text))
        if len(pieces) > 2:
            steps = [_STEP_NUMBER.sub("", p) for p in pieces[1:]]
        elif not _SYMPTOM.match(pieces[0]):
            lines.append(_cite(pieces[0], part))
    if steps:
        # A check that shares a word with the symptom that no other check shares ("we
        # mapped a text column into a number" -> the data type check) goes first.
        wanted = known(retriever, _salient(question))
        shared = [wanted & _salient(step) for step in steps]
        own = [sum(_idf(retriever, t) for t in terms - set().union(*(shared[:i] + shared[i + 1:])))
               for i, terms in enumerate(shared)]
        best = max(range(len(steps)), key=lambda i: (own[i], -i))
        lines.append(words["start_with"].format(n=best + 1, step=steps[best]))
        lines += [f"{i}. {step}" for i, step in enumerate(steps, 1)]
    return lines, entry


def _lead_lines(part: str, u: Understanding, lead: Lead, found: list[Hit], retriever: Retriever, lang: Lang,
                known: bool) -> tuple[list[str], list[Hit]]:
    """The lines that answer one part of the question, and the passages they quote."""
    words = _TEXT[lang]
    if u.asks and known:
        subject = subject_of(part, u, retriever)
        candidates = [lead.text] + [s for h in found[:5] for s in sentences(h.text)]
        if not any(answers_kind(retriever, u, s, subject) for s in candidates):
            return [words["gap"].format(thing=words["gap_things"][u.asks[0]]), _cite(lead.text, lead.hit)], [lead.hit]
    if u.yes_no and known:
        terms = _salient(retriever.bridge(part))
        if not settles(retriever, terms, lead.text):
            return [words["gap_yes_no"], _cite(lead.text, lead.hit)], [lead.hit]
        says = polarity(lead.text, part, lang)
        opposite = next((h for h in found[:4] if h.section != lead.hit.section
                         and settles(retriever, terms, render_passage(h.text))
                         and polarity(render_passage(h.text), part, lang) != says), None)
        if opposite is not None:
            return ([words["contradiction"], "- " + _cite(lead.text, lead.hit),
                     "- " + _cite(render_passage(opposite.text), opposite)], [lead.hit, opposite])
        return [_cite((words["yes"] if says else words["no"]) + lead.text, lead.hit)], [lead.hit]
    return [_cite(lead.text, lead.hit)], [lead.hit]


# Sections whose items are unrelated to each other: never read out whole.
_MISCELLANY = {"gotchas", "getting-started", "integrations", "api-reference", "key-metrics", "pricing"}
MAX_WALKTHROUGH = 8
MAP_SCORE_SHARE = 0.3  # a vague question's map leaves out passages far below the best  # a section with more items than this is not read out whole


def _feature_section(lead: Hit, found: list[Hit], retriever: Retriever, lang: Lang) -> str | None:
    """The section a how-to question is about: the lead's, or the best-ranked other one
    when the lead comes from a checklist, if it is a small section of related items."""
    for hit in [lead, *found[:3]]:
        if hit.section in _MISCELLANY or _troubleshooting(hit) or hit.score < SUPPORT_SCORE_SHARE * found[0].score:
            continue
        items = retriever.section_hits(hit.section, lang)
        if len(items) <= MAX_WALKTHROUGH and not any(h.text.startswith("|") for h in items):
            return hit.section
    return None


def _map_lines(found: list[Hit], retriever: Retriever, lang: Lang) -> tuple[list[str], list[Hit]]:
    """A vague question's best-effort map: when most of what matched is one section, that
    section's parts by name; otherwise the matching passages of the likely areas."""
    words = _TEXT[lang]
    top = [h for h in found[:MAX_MAP] if h.score >= MAP_SCORE_SHARE * found[0].score and not _SYMPTOM.match(h.text.lstrip("- "))]
    sections = [h.section for h in top]
    main = max(set(sections), key=sections.count)
    lines = [words["map"].format(topic=_topic(top, lang))]
    shown = list(top)
    if sections.count(main) >= 3:
        labelled = [(label, h) for h in retriever.section_hits(main, lang) if (label := chunk_label(h.text))]
        if len(labelled) >= 3:
            title = next(h.heading.split(" > ")[-1] for h in top if h.section == main)
            lines = [f"{title}: {words['topic_join'].join(label for label, _ in labelled)} [{main}]"]
            shown += [h for _, h in labelled]
    return lines + ["- " + _cite(render_passage(h.text), h) for h in top], shown


def compose(question: str, retriever: Retriever, lang_override: Lang | None = None,
            history: list[str] | None = None) -> Answer:
    question = strip_invocation(question)
    lang, other_language = detect_language(question)
    lang = lang_override or lang
    words = _TEXT[lang]
    classifier = classifier_for(retriever)
    alone = understand(question, retriever.embedder.embed_query(question), classifier)
    previous = history[-1] if history else None
    body: list[str] = []
    if alone.follow_up and previous:
        # Read the follow-up with the question it follows: "and Android?" after "How do I
        # set up push for iOS?" asks about setting up push for Android.
        context = f"{previous} {question}"
        u = understand(context, retriever.embedder.embed_query(context), classifier)
        u = replace(u, asks=alone.asks or u.asks, yes_no=alone.yes_no, follow_up=True)
        query = f"{question} {previous}"
    else:
        u, query = alone, question
        if alone.follow_up:
            body.append(words["no_history"])

    parts = [query] if u.follow_up and previous else split_parts(query)
    found: list[Hit] = []
    per_part: list[tuple[str, Understanding, Lead | None]] = []
    if u.iterable_part:
        for i, part in enumerate(parts):
            # A later part leans on the first for its topic ("…, and should we do it early?").
            text = part if i == 0 else f"{part} {parts[0]}"
            pu = u if len(parts) == 1 else replace(u, asks=asked_kinds(part), yes_no=is_yes_no(part))
            hits = relevant(retriever.search(text, k=SEARCH_K, lang=lang), text)
            found += [h for h in hits if h.id not in {f.id for f in found}]
            focus = question if u.follow_up and previous else None
            taken = {(lead.hit.id, lead.sentence) for _, _, lead in per_part if lead}
            lead = choose_lead(text, hits, pu, retriever, focus=focus, exclude=taken) if hits else None
            per_part.append((focus or (part if i else text), pu, lead))
    found.sort(key=lambda h: -h.score)
    leads = [lead for _, _, lead in per_part if lead is not None]

    unknown = unknown_terms(question, retriever) if u.iterable_part else []
    vague = _is_vague(question, u, found, retriever, lang) and not unknown and not (u.follow_up and previous)
    used: list[Hit] = []

    def use(hit: Hit) -> None:
        if hit.id not in {h.id for h in used}:
            used.append(hit)

    if unknown:
        it = unknown[0] if len(unknown) == 1 else ("them" if lang == "en" else "这些")
        body.append(words["unknown"].format(terms=", ".join(unknown), it=it))

    if vague and not (u.goal == "Troubleshoot" and any(_troubleshooting(h) for h in found[:3])):
        lines, shown = _map_lines(found, retriever, lang)
        body += lines
        for hit in shown:
            use(hit)
    elif (entry := _matching_entry(question, u, found, retriever)) is not None and not unknown:
        lines, shown = _troubleshooting_lines(entry, question, retriever, lang)
        body += lines
        for hit in shown:
            use(hit)
    else:
        for text, pu, lead in per_part:
            if lead is None or any(lead.text in line for line in body):
                continue
            lines, shown = _lead_lines(text, pu, lead, found, retriever, lang, known=not unknown)
            body += lines
            for hit in shown:
                use(hit)
    walkthrough = False
    if leads and not vague and u.goal == "Set up" and not u.asks and not u.yes_no and not unknown:
        # A how-to question: the parts of the feature it is about, in the reference's
        # order, read as a walkthrough (a small section of related items, not a table
        # or a list of unrelated gotchas).
        section = _feature_section(leads[0].hit, found, retriever, lang)
        for hit in retriever.section_hits(section, lang) if section else []:
            if hit.id not in {h.id for h in used}:
                body.append("- " + _cite(render_passage(hit.text), hit))
                use(hit)
                walkthrough = True
    if leads and not walkthrough and _HOW_TO_QUESTION.search(question) and not any(
            _HOW_TO.search(render_passage(h.text)) for h in used[:2]) and body and not body[0].startswith(words["gap"][:12]):
        # "How do I set up quiet hours?" when the reference only names quiet hours.
        body.insert(0, words["no_steps"])
    if leads and not vague:
        top = leads[0].hit
        terms = _salient(retriever.bridge(query))
        for hit in found:
            if len(used) >= MAX_SUPPORT + len(leads):
                break
            if hit.id in {h.id for h in used}:
                continue
            if _SYMPTOM.match(hit.text.lstrip("- ")):
                continue
            if hit.score >= SUPPORT_SCORE_SHARE * top.score and coverage(retriever, terms, hit.text) >= SUPPORT_COVERAGE:
                body.append("- " + _cite(render_passage(hit.text), hit))
                use(hit)
    if not used and u.iterable_part and u.route is None and not unknown:
        body.append(words["none"])

    uses_pricing = any(h.section == "pricing" for h in used)
    if uses_pricing:
        body.append(words["dated"])
    route = Route(skill=u.route, reason=(_ROUTE_REASON_EN[u.route])) if u.route else None
    if route is not None:
        body.extend(_handoff_lines(route.skill, lang, bool(used), handoff(route.skill, route.reason)))
    if not body:
        body.append(words["none"])

    # A question that names almost nothing the reference knows was read as its closest
    # part of the reference: that is an assumption worth stating.
    underspecified = vague or len(known(retriever, _salient(question))) <= 1
    assumptions = _assumptions(u, lang, other_language, used, underspecified, uses_pricing, route is not None and not used)
    questions = _questions(u, question, lang, used, vague, found)
    return Answer(
        answer="\n".join(body),
        assumptions=assumptions,
        clarifying_questions=questions,
        route=route,
        sources=[Source(id=h.id, section=h.section) for h in used],
        language=lang,
        backend="offline",
    )


def _assumptions(u: Understanding, lang: Lang, other_language: bool, used: list[Hit], vague: bool,
                 uses_pricing: bool, routed_only: bool) -> list[str]:
    """State what the answer assumed about context the question did not give, and only
    that: never against what it says."""
    words = _TEXT[lang]
    out: list[str] = []
    if other_language and words["assume_other_language"]:
        out.append(words["assume_other_language"])
    if routed_only:
        out.append(words["assume_routed"])
        return out
    if not used:
        return out
    lead = used[0].text
    if u.role is None and u.channel is None:
        if "/api/" in lead or "https://" in lead:
            out.append(words["assume_api"])
        elif re.search(r"\S > \S", lead):
            out.append(words["assume_ui"])
    if vague:
        out.append(words["assume_area"].format(topic=used[0].heading.split(" > ")[-1]))
    if u.goal == "Troubleshoot" and not any(_troubleshooting(h) for h in used[:1]):
        out.append(words["assume_troubleshoot"])  # no entry for this symptom: say what was taken for granted
    return out


def _questions(u: Understanding, question: str, lang: Lang, used: list[Hit], vague: bool, found: list[Hit]) -> list[str]:
    """At most two, only those whose answer would change what was said, never about what
    the question already says."""
    if not used:
        return [question_text("area", lang)] if u.route is None else []
    if all(h.section == "pricing" for h in used[:2]):
        return []  # a price needs no area, role or goal
    wanted: list[str] = []
    if u.goal == "Troubleshoot" and u.goal_said and len(question) <= DETAILED_SYMPTOM and not re.search(r"\d", question):
        wanted.append("details")  # a bare complaint: what is seen decides the cause
    if vague and u.goal is None:
        wanted.append("goal")
    texts = " ".join(h.text for h in found[:5])
    both_ways = "/api/" in texts and bool(re.search(r"\S > \S|dashboard|控制台", texts))
    if (vague or u.goal == "Set up") and u.role is None and u.channel is None and both_ways:
        wanted.append("role")  # the UI and the API answers differ
    return [question_text(key, lang) for key in wanted[:2]]


class OfflineBackend:
    """The composer behind the `Backend` protocol: no key, no network, always configured."""

    name = "offline"
    title = "Offline"
    needs_key = False
    key_env = None

    def __init__(self, options: Options = Options()) -> None:
        self.options = options  # nothing to configure: without retrieval the caller passes a retriever that finds nothing

    @classmethod
    def configured(cls) -> bool:
        return True

    def answer(self, question: str, retriever: Retriever, *, lang: Lang | None = None, history: Sequence[Turn] = (),
               on_text: Callable[[str], None] | None = None) -> Answer:
        return compose(question, retriever, lang_override=lang, history=[turn.question for turn in history])
