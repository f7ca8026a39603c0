"""The lead: the sentence of the best passages that answers the question, and the lines that
answer one part of it (what was asked, yes or no, or an honest gap)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ...language import Lang, has_han
from ...lexical import camel_pieces
from ...retrieve import Hit, Retriever
from ...understand import (ALTERNATIVE, ASK_CUES, ASK_INSTANCE, POINTS_BACK, QUANTITY, TIME_UNITS, Ask, Understanding, asked_kinds, time_units,
                           without_asks, yes_no_sentence)
from .passages import SYMPTOM, is_troubleshooting, render_passage, sentences
from .terms import OWN_THING_WEIGHT, about, coverage, held, known, named, names_a_label, names_a_sibling, salient, settles
from .wording import TEXT, cite

# Choosing the lead sentence: its passage's rank and the question's words it holds (each
# weighted by its rarity), plus bonuses for holding what was asked and, for a symptom,
# for a troubleshooting entry or gotcha. Set on the tune half of evals/questions/.
LEAD_CANDIDATES = 8
RANK_WEIGHT = 1.0
WORD_WEIGHT = 0.12
BRIDGED_SHARE = 0.25  # a word the glossary added, not the user, counts this much of its weight
KIND_BONUS = 1.0
DEFINES_BONUS = 3.0  # the row a thing labels, for what it is or does: above a passing mention's words
# A sentence holding the kind of thing asked (a URL, a figure…) about the question's subject
# answers it; one that shares more words but lacks it does not, however many it shares.
ASKED_KIND_BONUS = 10.0
SYMPTOM_BONUS = 0.5
HOW_TO_BONUS = 0.3  # a setup question: a sentence that says where or what to do

# What a sentence looks like when it tells you what to do: a menu path, or an
# instruction after its label ("Configure in…", "Build first journey — start with…").
# Asking for steps: "how do I set up…", "how to enable…", or the bare request "set up quiet
# hours for our SMS" / "帮我配置一下…".
# ("sync keeps choking on one column" is no request: a verb that is also a noun asks only
# when no verb follows it.)
_SET_UP = r"(set up|setup|set|configure|enable|turn on|switch on|create|build|connect|add|import|load|sync|upload)"
_NOUN_AFTER = r"(?!\s+(keeps|is|was|has|had|failed|fails|won'?t|isn'?t|doesn'?t|didn'?t|not|job|jobs|error|errors)\b)"
HOW_TO_QUESTION = re.compile(rf"\bhow (do|can|should|would) (i|we|you)\b.*\b{_SET_UP}\b|\bhow to {_SET_UP}\b|\bsteps to\b"
                             rf"|^\W*(please |pls |help me |can you help me )?{_SET_UP}\b{_NOUN_AFTER}"
                             r"|(怎么|如何|怎样)(设置|配置|开启|打开|搭建|创建|接入|对接|添加)|^\W*(请|帮我)?(设置|配置|开启|搭建)一下", re.I)


HOW_TO = re.compile(r"\S ?> ?\S|(^|[:—]\s*)(configure|set up|build|create|use|enable|start|install|connect|map|"
                    r"define|import|turn on|配置|设置|搭建|创建|使用|开启|安装|对接|映射|定义|导入)", re.I)


# A line that only names an endpoint ("批量上报事件: `POST /api/events/trackBulk`"): no cause,
# no remedy, so never the answer to a symptom. (A base URL can be: the EU project's.)
_ENDPOINT_CODE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) /api/[^`]*`")


def bare_endpoint(sentence: str) -> bool:
    if not _ENDPOINT_CODE.search(sentence):
        return False
    rest = re.split(r"[:\uff1a]", _ENDPOINT_CODE.sub(" ", sentence), maxsplit=1)[-1]
    return len(re.findall(r"[A-Za-z]{3,}|[\u4e00-\u9fff]", rest)) <= 1


# A passage is on topic when its embedding is clearly close, or fairly close and it shares
# a specific word with the question.
DENSE_CLEAR = 0.45
DENSE_WITH_OVERLAP = 0.15

# A supporting passage must rank nearly as well as the lead (this share of its fused
# score) and hold this share of the question's words (weighted by rarity).
SUPPORT_SCORE_SHARE = 0.5

# In `relevant`, a hit among the strongest word matches: this share of the best BM25 score.
LEXICAL_SHARE = 0.5
_NEGATION = {
    "en": re.compile(r"\b(no|not|don't|doesn't|won't|cannot|can't|never|only)\b|n't\b", re.I),
    "zh": re.compile(r"不|无|没有|仅|只能|非"),
}


# What a list or a bracket names ("(Loyal, … Never Engaged)", "鉴权方式:无、Basic") is a
# value, not a denial.
_LISTED = re.compile(r"\([^)]*\)|\uff08[^\uff09]*\uff09|(?<=[:\uff1a\u3001])\s*\u65e0\s*(?=[\u3001,\uff0c])")
_UNLIKE = re.compile(r"^unlike [^,]+,\s*|^与[^,,]+不同[,,]\s*", re.I)


@dataclass
class Lead:
    hit: Hit
    text: str  # the sentence(s) that answer, from the passage
    score: float
    sentence: str = ""  # the sentence chosen (text may add its headline or label)


def relevant(hits: list[Hit], question: str) -> list[Hit]:
    """The hits that are on topic: clearly close in meaning, or fairly close in meaning or
    among the strongest word matches, and sharing a specific word with the question."""
    wanted = salient(question)
    strongest = max((h.lexical_score for h in hits), default=0.0)
    keep = []
    for hit in hits:
        overlap = wanted & salient(hit.text + " " + (hit.pair_text or "") + " " + hit.heading)
        lexical = strongest > 0 and hit.lexical_score >= LEXICAL_SHARE * strongest
        if hit.dense_score >= DENSE_CLEAR or ((hit.dense_score >= DENSE_WITH_OVERLAP or lexical) and overlap):
            keep.append(hit)
    return keep


# Which way data moves: into Iterable (import, sync from a warehouse) or out of it (export,
# data sharing to a warehouse). "数据怎么弄进来" is not answered by the Snowflake export.
_DIRECTION = {
    "in": re.compile(r"\b(import|ingest|upload|load|bring (it |them |data )?in|into iterable|sync(ed|ing)? from)\b|导入|进来|摄取|上传|同步到", re.I),
    "out": re.compile(r"\b(export|out of iterable|get (it |them |data )?out)\b|导出|回流", re.I),  # not 发出去: sent
}


def direction(text: str) -> str | None:
    """The one way the text moves data, if it names exactly one."""
    ways = [way for way, pattern in _DIRECTION.items() if pattern.search(text)]
    return ways[0] if len(ways) == 1 else None


def facing(hits: list[Hit], question: str, retriever: Retriever) -> list[Hit]:
    """The hits without those moving data the other way from the question: a question about
    getting data in is not answered by an export that shares its words, nor by another part
    of the export's section ("No ETL required"). (Those moving it the question's way are not
    put first: "the user upload won't take the rows" is about the identifier, not importing.)"""
    way = direction(question)
    if way is None:
        return hits
    return [h for h in hits if moves(h, retriever) in (None, way)]


def moves(hit: Hit, retriever: Retriever) -> str | None:
    """Which way the passage moves data: its own words, else its section's, when the section
    opens by saying it ("Export Iterable data … to your Snowflake account": its "No ETL
    required" is about the export too; "Sync from 23+ data sources: …"). A section that opens
    with one item of a list ("Static lists: … upload CSV") says nothing of the others, and an
    API reference that lists an export among its calls moves nothing as a whole. A way named
    only for the figure after it ("Rate limits: … Bulk track: 10 req/s. Export: 4 req/min") is
    one endpoint among those the passage gives figures for."""
    opening = min(retriever.section_hits(hit.section, hit.lang), key=lambda h: h.chunk.ordinal, default=hit)
    return direction(_FIGURE_NAME.sub(" ", f"{hit.text} {hit.heading}")) or direction(opening.chunk.label or opening.text)


_FIGURE_NAME = re.compile(r"\b(imports?|exports?)\s*(?::|is|are)?\s*(?=\d)|(导入|导出)(?:限流)?\s*(?:[:\uff1a]|为)?\s*(?=\d)", re.I)


_ENDPOINT = re.compile(r"/api/[\w/{}.]*\w")
_PER_CALL = re.compile(r"\b(per|in (one|a|each|a single)|each|single) (call|request|batch|payload)\b|单次|每次|一次(调用|请求)|每批|一批", re.I)
# A figure's own words: its unit and what it counts ("4 requests per minute").
_FIGURE_WORDS = frozenset("per second minute hour day week month year request call 每秒 分钟 小时 每天 每周 每月 请求".split())


# A list's step numbers ("2) Verify…") are not figures.
_STEP_NUMBERS = re.compile(r"(?<![\d)])\d+[)）]")


def _without_step_numbers(sentence: str) -> str:
    return _STEP_NUMBERS.sub(" ", sentence)


_ZH_DIGITS = {ch: str(i) for i, ch in enumerate("零一二三四五六七八九")} | {"两": "2"}


def _with_digits(text: str) -> str:
    """Chinese numerals before a unit as digits, as the reference writes them: 五万 -> 5万."""
    return re.sub(r"[零一二两三四五六七八九](?=[十百千万])", lambda m: _ZH_DIGITS[m.group()], text)


# A question about what a plan includes (the reference's plans: Growth, Enterprise), and
# the words of such a question that are not the feature asked about.
_PLAN = re.compile(r"\b(growth|enterprise)\b|增长版|企业版", re.I)
_PLAN_FRAME = re.compile(r"^(plan|tier|include|come|package|growth|enterprise)$|[包含套餐版计划]")


def _plan_lines(retriever: Retriever, terms: set[str], plan: str, lang: Lang, lead: Lead) -> tuple[list[str], list[Hit]]:
    """Whether a plan includes a feature, from the pricing lines only: that the feature
    exists says nothing about which plan has it. "Yes" when the named plan's own line lists
    it; else the plan's line beside the lines that do list it, with no yes or no."""
    words = TEXT[lang]
    feature = {t for t in terms if not _PLAN_FRAME.search(t) and t not in plan.lower()}
    rows = retriever.section_hits("pricing", lang)
    named = next((h for h in rows if any(render_passage(c).lower().startswith(plan.lower())
                                         for c in (h.chunk, retriever.chunk(h.chunk.pair_id)) if c)), None)
    listing = [h for h in rows if feature and coverage(retriever, feature, h.text, h.pair_text, forms=True) > 0]
    if named is not None and named in listing:
        return [cite(words["yes"] + render_passage(named.chunk), named)], [named]
    shown = ([named] if named is not None else []) + [h for h in listing if h is not named]
    if not listing:
        return [words["gap_yes_no"], cite(lead.text, lead.hit)], [lead.hit]
    return [words["plan"], *("- " + cite(render_passage(h.chunk), h) for h in shown)], shown


def without_figures(terms: set[str]) -> set[str]:
    """The terms minus a figure the question names, and its unit: they are what an answer's
    figure is checked against, not what the question is about."""
    return {t for t in terms if not (t.isdigit() or t in _FIGURE_WORDS or time_units(t))}


@dataclass(frozen=True)
class Subject:
    terms: frozenset[str]  # the question's topic words, minus the words of the kind asked
    endpoints: tuple[str, ...]  # endpoints the question names: a sentence must name one
    units: frozenset[str] = frozenset()  # "per day": a figure per second does not answer it
    per_call: bool = False  # "in one call": only a figure per call or batch answers it
    # The question's own words: the glossary's additions help find passages but can swamp
    # a short question's subject ("winner" brings "winning criteria 获胜").
    own_words: frozenset[str] = frozenset()
    # The words of the sentence that asks, when background comes first: "We need instant
    # triggers from profile changes. How often does Smart Ingest sync?" is answered by a
    # sentence about Smart Ingest syncs that never says "trigger".
    asking: frozenset[str] = frozenset()


_STATEMENT_END = re.compile(r"(?<=[.!。!])\s*(?=\S)")


def asking_sentence(question: str, retriever: Retriever) -> str:
    """The sentence that asks, when a question opens with background ("We need instant
    triggers. How often does Smart Ingest sync?"): the background's words are not what
    the answer must be about. The whole question when its last sentence names nothing
    the reference knows ("We call the bulk endpoint. What is the limit?") or points back
    at the background ("…Is that normal?")."""
    last = _STATEMENT_END.split(question.strip())[-1]
    # "…open rate is around 9%. Is that normal for email?": "that" is the background
    return last if named(retriever, last) and not POINTS_BACK.search(last) else question


def _chance_pairs(retriever: Retriever, text: str) -> set[str]:
    return {t for t in salient(text) if has_han(t) and len(t) == 2 and retriever.knows(t)} - named(retriever, text)


def subject_of(question: str, u: Understanding, retriever: Retriever) -> Subject:
    # (the words asking for any kind: a later part read with the first, "在哪里配置 Smart Ingest
    # 最快多久同步一次", is not about the first part's "how often")
    text = without_asks(question, tuple(dict.fromkeys((*u.asks, *asked_kinds(question)))))
    # The words of the kind asked are not its subject, nor are words that judge a figure
    # ("what rate is healthy?").
    ignored = {"rate", "api", "exact", "接口", "地址", "iterable", "healthy", "normal", "good", "typical", "正常", "健康", "合理",
               # nor do words that compare the user's figure with one ("月活超过五万": MAU is the subject)
               "exceed", "exceeds", "above", "below", "超过", "以上", "以下", "低于", "高于"}
    ignored |= camel_pieces(text)
    # Character pairs that only straddle two words ("据才" of "数据才准") are no subject.
    bridged = retriever.bridge(text)
    terms = salient(bridged) - ignored - _chance_pairs(retriever, bridged)
    own_words = salient(text) - ignored - _chance_pairs(retriever, text)
    units = time_units(question) if set(u.asks) & {"limit", "duration", "frequency", "number", "price"} else set()
    if u.asks:
        terms, own_words = without_figures(terms), without_figures(own_words)
    per_call = bool(_PER_CALL.search(question)) and bool(set(u.asks) & {"limit", "number", "size"})
    asking = asking_sentence(text, retriever)
    asking_words = frozenset(own_words & salient(asking)) if asking != text else frozenset()
    return Subject(frozenset(terms), tuple(_ENDPOINT.findall(question)), frozenset(units), per_call, frozenset(own_words),
                   asking_words)


def gives_kind(retriever: Retriever, kind: Ask) -> bool:
    """Whether any passage of the reference holds an answer of this kind at all."""
    return _holds(retriever.reference_text, kind)


@lru_cache(maxsize=64)
def _holds(text: str, kind: Ask) -> bool:
    # Asked of the same reference on every question: a kind it never gives is a scan of
    # all of it (~3 ms), once per reference is enough (the text caches its own hash).
    return bool(ASK_INSTANCE[kind].search(text))


def answers_kind(retriever: Retriever, u: Understanding, sentence: str, subject: Subject, hit: Hit) -> bool:
    """The sentence (of `hit`) contains the kind of thing asked for, about the question's
    subject. A sentence is about what its heading names: "Frequency: Up to every 15
    minutes" under "Smart Ingest" says how often Smart Ingest syncs."""
    if subject.endpoints and not any(e in sentence for e in subject.endpoints):
        return False
    if subject.units and not all(TIME_UNITS[unit].search(sentence) for unit in subject.units):
        return False
    if subject.per_call and not _PER_CALL.search(sentence):
        return False  # "how many users in one call?" is not answered by a figure per second
    twin = f"{hit.pair_text or ''} {hit.heading}"
    if known(retriever, set(subject.terms), forms=True) and not (
            about(retriever, set(subject.terms), sentence, twin) or about(retriever, set(subject.own_words), sentence, twin)
            or about(retriever, set(subject.asking), sentence, twin)):
        return False
    # the most specific kind asked
    return bool(ASK_INSTANCE[u.asks[0]].search(_without_step_numbers(sentence)))


def prices_for_a_complaint(u: Understanding, hit: Hit, question: str) -> bool:
    """A price line for a complaint that asks no price: "our sms stopped sending" is no
    question about what SMS costs."""
    return u.complains and hit.section == "pricing" and not ASK_CUES["price"].search(question)


def choose_lead(question: str, hits: list[Hit], u: Understanding, retriever: Retriever,
                focus: str | None = None, exclude: set[tuple[str, str]] = frozenset()) -> Lead | None:
    """The best sentence of the best passages: the question's words it contains (rare
    ones weigh more; `focus`, a follow-up's own words, when given), its passage's rank,
    whether it holds the kind of thing asked, and, for a symptom, whether it is a
    troubleshooting entry that matches."""
    wanted = salient(retriever.bridge(focus or question))
    wanted |= known(retriever, wanted, forms=True)  # "limited" also matches the reference's "limit"
    # The glossary's reading of a phrase weighs less than a name the user typed: "Shopify的商品
    # …同步进Iterable" names Shopify; "进Iterable" only suggests Smart Ingest. A translation
    # is the user's word (召回 in an English question is winback).
    typed = salient(retriever.bridge(focus or question, readings=False))
    typed |= known(retriever, typed, forms=True)
    # Background before the asking sentence ("I run lifecycle for a fitness app. What can
    # start a Studio journey?") weighs as little as a reading: the ask is what the line answers.
    asking = asking_sentence(focus or question, retriever)
    if asking != (focus or question):
        typed -= salient(focus or question) - salient(asking)
    subject = subject_of(focus or question, u, retriever)
    # "频次优化是做什么的": the row that Frequency Optimization labels says what it does; a line
    # that only names it ("…开启Brand Affinity、STO和频次优化") does not.
    thing = defined_thing(asking) if not u.yes_no else None
    # The user's own figures (what they saw: 15-20 min, 429, 30 days), not a list's step numbers.
    figures = {n for n in re.findall(r"(?<![A-Za-z\d])\d+", _with_digits(_without_step_numbers(focus or question))) if int(n) > 1}
    bridged = retriever.bridge(thing) if thing else ""
    best: Lead | None = None
    for rank, hit in enumerate(hits[:LEAD_CANDIDATES]):
        parts = sentences(hit.chunk)
        label = hit.chunk.label
        if SYMPTOM.match(parts[0]):
            continue  # a troubleshooting entry's symptom restates the problem; it never answers
        if prices_for_a_complaint(u, hit, question):
            continue
        if names_a_sibling(retriever, focus or question, hit):
            continue  # "android users stopped getting push": not the iOS entry, nor the web push row
        for i, sentence in enumerate(parts):
            if u.complains and bare_endpoint(sentence):
                continue
            # A passage's heading is its first sentence's subject, and every step's of a list.
            own = salient(sentence + " " + (hit.heading if i == 0 or hit.chunk.kind == "steps" else ""))
            score = RANK_WEIGHT / (rank + 1) + WORD_WEIGHT * sum(
                retriever.idf(t) * (1.0 if t in typed else BRIDGED_SHARE) for t in wanted & own)
            if u.asks and answers_kind(retriever, u, sentence, subject, hit):
                score += ASKED_KIND_BONUS
            if u.yes_no and settles(retriever, wanted, sentence, hit):
                score += KIND_BONUS
            if u.goal == "Troubleshoot" and (is_troubleshooting(hit) or hit.section == "gotchas") and len(wanted & own) >= 2:
                score += SYMPTOM_BONUS
            if u.goal == "Set up" and u.goal_said and HOW_TO.search(sentence):
                score += HOW_TO_BONUS
            if thing and i == 0 and hit.chunk.kind == "row" and names_a_label(bridged, [hit], retriever, rarity=0.0):
                score += DEFINES_BONUS
            if figures & set(re.findall(r"\d+", _without_step_numbers(sentence))):
                score += KIND_BONUS  # "…fires 15-20 min after checkout": the line that says 15 minutes
            if (best is None or score > best.score) and (hit.id, sentence) not in exclude:
                best = Lead(hit, _lead_text(parts, i, label, wanted, retriever, hit.chunk.kind == "row",
                                            whole=hit.section == "gotchas", steps=hit.chunk.kind == "steps"), score, sentence)
    return best


MAX_LEAD_SENTENCES = 3
# What a named thing is or does, asked with nothing else: "what is STO", "what does Frequency
# Optimization actually do?", "频次优化具体是做什么的", "什么是同期群".
_WHAT_IT_IS = (
    re.compile(r"^(?:so |and |ok,? )?what(?:'s| is| are) (?:an? |the )?(?P<thing>.+?)(?: exactly| actually| in iterable)?$", re.I),
    re.compile(r"^(?:so |and |ok,? )?what does (?:an? |the )?(?P<thing>.+?) (?:actually |exactly |even |really )?do$", re.I),
    re.compile(r"^(?:请问)?(?P<thing>.+?)(?:具体|到底|究竟)?(?:是什么|是啥|是干(?:嘛|啥|什么)的|是做什么的|是做啥的|有什么用|是什么意思|起什么作用)(?:呀|啊|呢)?$"),
    re.compile(r"^(?:请问)?什么是(?P<thing>.+)$"),
)
MAX_THING_WORDS = 4  # "what is the API endpoint for adding catalog items" asks for more than a name
MAX_THING_CHARS = 8


def defined_thing(sentence: str) -> str | None:
    """The thing a sentence asks to have defined, when that is all it asks."""
    text = sentence.strip().rstrip("?？!！.。 ")
    for pattern in _WHAT_IT_IS:
        if match := pattern.match(text):
            thing = match.group("thing").strip()
            short = len(thing) <= MAX_THING_CHARS if has_han(thing) else len(thing.split()) <= MAX_THING_WORDS
            return thing if short else None
    return None


def _lead_text(parts: list[str], i: int, label: str, wanted: set[str], retriever: Retriever, row: bool,
               whole: bool = False, steps: bool = False) -> str:
    """What the lead quotes of its passage: the chosen sentence, with the passage's
    headline when it has a short one ("Campaign = one channel only."), the other
    sentences that hold the question's words ("Export: 4 req/min." beside "429 status on
    limit"), in the passage's order, or with its label when the sentence needs it."""
    if row or steps or len(parts) == 1:
        return parts[i]  # a row whole; one step of a list, with the list's label
    if whole:
        return _spaced(parts)  # a warning is read whole: its second half says what to do instead
    keep = {i}
    if len(parts[0]) < 60:
        keep.add(0)  # a short first sentence is the headline the others depend on
    matching = known(retriever, wanted)
    for j, part in enumerate(parts):
        if len(keep) >= MAX_LEAD_SENTENCES:
            break
        if j not in keep and matching & salient(part):
            keep.add(j)
    if keep == {i} and i == 0:
        keep.add(1)  # a first sentence alone rarely says enough
    text = _joined([parts[j] for j in sorted(keep)])
    if 0 not in keep and label and not text.startswith(label):
        text = f"{label}: {text}"
    return text


_HEAD = re.compile(r"^([^:\uff1a]{1,20}[:\uff1a])\s*")


def _joined(pieces: list[str]) -> str:
    """Sentences quoted together; steps of one list carry its label ("Solution: 1) …") and
    say it once: "Solution: 1) … 4) …"."""
    out = pieces[:1]
    for piece in pieces[1:]:
        head = _HEAD.match(piece)
        out.append(piece[head.end():] if head and out[0].startswith(head.group(1)) else piece)
    return _spaced(out)


_HAN_STOPS = ("\u3002", "\uff01", "\uff1f", "\uff1b")  # the full-width full stop, exclamation and question marks, semicolon


def _spaced(sentences: list[str]) -> str:
    """Sentences side by side: a space after an English one, none after a Chinese full stop."""
    return "".join(s + ("" if s.endswith(_HAN_STOPS) or i == len(sentences) - 1 else " ") for i, s in enumerate(sentences))


# Whether everything needs something: one case's requirement does not settle it.
_EVERY = re.compile(r"\b(everything|every \w+|all (of )?(the |our )?\w+)\b[^?]*\b(need|require)|都要|都需要|都得|全都要", re.I)
# Whether a result can be trusted is the user's call: the reference's rule for judging it
# ("wait for 95% confidence") answers, with no yes or no of ours ("实验结果…能不能信?").
_TRUST = re.compile(r"\b(trust|reliable|believe|legit)\b|能不能信|可不可信|可信吗|靠谱|靠不靠谱|准不准|能信吗", re.I)


# A "yes" that holds only after a step, for a tier, or with a requirement: "can Journey
# Assist's workflow go live directly?" against "review and adjust before activating".
_CONDITION = re.compile(r"\b(before|after|once|only|unless|provided|as long as|requir\w*|must)\b"
                        r"|之前|以前|前(?:可|需|要|先|请)|之后|以后|后才|仅|只有|只能|需要|必须|除非|审核", re.I)
# What is not required is no condition: "No ETL required", "无需ETL", "不需要…".
_NOT_REQUIRED = re.compile(r"\bno [\w-]+(?: [\w-]+)? required\b|\bnot (?:be )?required\b|无需|不需要", re.I)


def _condition(text: str) -> re.Match[str] | None:
    """The condition a sentence sets, if any (its position is the sentence's own)."""
    return _CONDITION.search(_NOT_REQUIRED.sub(lambda m: " " * len(m.group()), text))


# A question about a requirement ("does it need the SDK?", "要先过审吗?"), and one about
# the condition itself ("do WhatsApp messages need approved templates?", "only after
# review?"): the latter is answered by a plain yes.
_ASKS_REQUIREMENT = re.compile(r"\b(need|require|must|necessary)|需要|必须|要先|(?<!不)要(装|安装|集成|接入|接|配置|开通)"
                               r"|要不要|需不需要|得装|过审|审核", re.I)
_ASKS_EXISTENCE = re.compile(r"有没有|是否有|有无|(?<![没只还也都所])有[^??,,。能行可会]{1,12}吗|\bis there (a|an|any)\b|\bare there any\b|\bdo you (have|offer)\b", re.I)
_ASKS_WHEN = re.compile(r"\b(before|after|only)\b|之前|之后", re.I)


# "Do Mobile Inbox messages stay forever?" against "Messages stay until expiry or dismissal":
# not indefinitely, and the limit is the answer.
_FOREVER = re.compile(r"\b(forever|always|permanently|indefinitely)\b|一直|永久|永远|始终|长期", re.I)
_UNTIL = re.compile(r"\b(until|expir\w*)\b|到期|前保留|过期", re.I)


# "Can Journey Assist's journey go live directly?" against "review and refine before
# activating": a yes with a condition is a no to doing it without that step.
_DIRECTLY = re.compile(r"\b(directly|right away|straight away|immediately|straight to)\b|直接|马上|立刻|立即", re.I)


# Where a clause of a passage ends: its sentence, a comma, a colon, a dash or an arrow.
_CLAUSE_END = re.compile(r"\.(?!\d)|[;:,()\u3002\uff1b\uff1a\uff0c\uff08\uff09\u3001]|\s[\u2014\u2192]\s|\u2014\u2014|\u2192")


def _clause(text: str, found: re.Match) -> str:
    """The clause of a passage that holds its condition ("Review and refine before
    activating", "激活前可审核和调整"): what the yes depends on, said up front."""
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, found.start())), default=0)
    end = next((m.start() for m in _CLAUSE_END.finditer(text, found.end())), len(text))
    return text[start:end].strip()


_REQUIRES = re.compile(r"requir|must|\bneeds?\b|需要|必须|必需|审核通过", re.I)
_NOT_REQUIRED = re.compile(r"\bno\b[^.]*requir|无需|不需要", re.I)
# "Can Embedded Messages work without the SDK?": a passage that requires it denies that.
_WITHOUT = re.compile(r"\bwithout\b|不用|不装|不接|不集成|不安装", re.I)


def stance(sentence: str, question: str, lang: Lang) -> bool | None:
    """True when the sentence affirms what the question asks, False when it denies it, None
    when it says neither: no negation and no requirement ("Integrate SDK — install … for
    Embedded Messages" neither allows nor forbids working without it)."""
    text = _LISTED.sub("", _UNLIKE.sub("", sentence))
    without = _WITHOUT.search(question)
    if _REQUIRES.search(text) and (without or _ASKS_REQUIREMENT.search(question)):
        # "Does it need the SDK?" / "…require the SDK; they won't work without it": the
        # negation belongs to the requirement the question asks about.
        required = not _NOT_REQUIRED.search(text)
        return not required if without else required
    if _NEGATION[lang].search(text):
        return False
    return None


def polarity(sentence: str, question: str, lang: Lang) -> bool:
    """True when the sentence affirms what the question asks, False when it denies it; a
    sentence that says neither, about what was asked, affirms it."""
    said = stance(sentence, question, lang)
    return True if said is None else said


# "What's the difference between a campaign and a journey?", "STO vs Brand Affinity",
# "Mobile Inbox 跟 Embedded Messages 有啥 difference?": two things, each to be described.
_COMPARE = (
    re.compile(r"\bdifferences?\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)[\s?.!?]*$", re.I),
    re.compile(r"^(?:(?:what's|what is|what are)\s+)?(?P<a>.+?)\s+(?:vs\.?|versus)\s+(?P<b>.+?)[\s?.!?]*$", re.I),
    re.compile(r"^(?:(?:compare|comparing)\s+)(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+?)[\s?.!?]*$", re.I),
    re.compile(r"^(?:is|are)\s+(?P<a>.+?)\s+(?:the\s+)?same(?:\s+thing)?\s+as\s+(?P<b>.+?)[\s?.!？]*$", re.I),
    re.compile(r"(?P<a>[^,,。??]+?)\s*(?:和|跟|与|同|还是)\s*(?P<b>[^,,。??]+?)\s*(?:之间)?(?:有|的)?\s*"
               r"(?:什么|啥|哪些)?\s*(?:区别|不同|不一样|差别|差异|difference)", re.I),
    re.compile(r"(?P<a>[^,，。?？]+?)\s*(?:和|跟|与|同)\s*(?P<b>[^,，。?？]+?)\s*(?:是)?\s*"
               r"(?:一回事|一样的?|相同的?|同一(?:个|种)(?:东西|功能)?)\s*(?:吗|嘛|么)", re.I),
)


# "…between static and dynamic lists in Iterable?": where both things live is no part of either.
_WHERE = re.compile(r"\s+(in|on|within|inside)\s+(iterable|the platform)$|^(在\s*)?iterable\s*(里|中|的|上)?\s*", re.I)


def compared(question: str) -> list[str] | None:
    """The two things a comparison question sets side by side, or None."""
    for pattern in _COMPARE:
        if match := pattern.search(question.strip()):
            a, b = (_WHERE.sub("", match.group(name).strip()).strip() for name in ("a", "b"))
            if a and b:
                return [a, b]
    return None


def answered(part: str, u: Understanding, lead: Lead, retriever: Retriever) -> bool:
    """The lead answers this part as asked: holds the kind of thing it asks for, or
    settles its yes/no. An open question ("what kinds of things can start one?") is never
    known to be answered: the next best sentence is worth showing."""
    if u.asks:
        return answers_kind(retriever, u, lead.text, subject_of(part, u, retriever), lead.hit)
    if u.yes_no:
        return settles(retriever, salient(retriever.bridge(part)), lead.text, lead.hit)
    return False


_CONTRAST = re.compile(r"\b(instead of|rather than|other than)\b[^?,;]*|(而不是|而非|不用再)[^??,,;;]*", re.I)


def _same_point(retriever: Retriever, terms: set[str], lead: Lead, other: Hit) -> bool:
    """Two passages contradict each other only when both speak of the most telling word of
    the question (or one as telling) that the lead holds: "无需ETL" is not contradicted by
    a line about Snowflake data sharing that never mentions ETL."""
    def words(text: str, hit: Hit) -> set[str]:
        return set(salient(f"{text} {hit.pair_text or ''}"))
    held_by_lead = held(known(retriever, terms, forms=True), words(lead.text, lead.hit))
    if not held_by_lead:
        return True
    top = max(retriever.idf(t) for t in held_by_lead)
    return bool(held({t for t in held_by_lead if retriever.idf(t) == top}, words(render_passage(other.chunk), other)))


# The thing a yes/no question asks about, when it starts the question: "Does STO improve …?"
_DOER = re.compile(r"^(?:does|do|can|could|will|would|is|are|has|have)\s+(?:the\s+|an?\s+)?([a-z][\w-]*)", re.I)


def _doer(part: str, retriever: Retriever) -> set[str]:
    """The rare name a yes/no question starts with, as the reference writes it ({sto}); none
    for a pronoun or a common word ("Does the journey…", "Can we…")."""
    match = _DOER.match(yes_no_sentence(part).strip())
    if not match:
        return set()
    words = known(retriever, salient(retriever.bridge(match.group(1))), forms=True)
    return {w for w in words if retriever.idf(w) >= OWN_THING_WEIGHT}  # STO, Zapier; not journey, campaign


def _names(doer: set[str], sentence: str, hit: Hit) -> bool:
    return not doer or bool(held(doer, salient(f"{sentence} {hit.heading} {hit.pair_text or ''}")))


def _first_that(found: list[Hit], fits) -> Lead | None:
    """The first sentence, in rank order, of the best few passages found that `fits`."""
    for rank, hit in enumerate(found[:LEAD_CANDIDATES]):
        for sentence in sentences(hit.chunk):
            if fits(sentence, hit):
                return Lead(hit, sentence, -rank, sentence)
    return None


# A user's own figure ("ours is like 3%", "我们邮件打开率才10%") and a benchmark a line gives.
_OURS = re.compile(r"\b(our|ours|we|we're|we've|my|mine)\b|我们|我的|咱们", re.I)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_BENCHMARK = re.compile(r"(\d+(?:\.\d+)?)\s*[-\u2013~]\s*(\d+(?:\.\d+)?)\s*%|([<>])\s*(\d+(?:\.\d+)?)\s*%")


def versus(question: str, line: str, lang: Lang) -> str | None:
    """Where the user's own figure stands against the benchmark the line gives, or None."""
    mine, bench = _PERCENT.search(question), _BENCHMARK.search(line)
    if not (mine and bench and _OURS.search(question)):
        return None
    value = float(mine.group(1))
    if bench.group(1):
        low, high = float(bench.group(1)), float(bench.group(2))
    else:
        low, high = (float(bench.group(4)), float("inf")) if bench.group(3) == ">" else (float("-inf"), float(bench.group(4)))
    where = "below" if value < low else "above" if value > high else "within"
    return TEXT[lang]["versus"][where].format(mine=mine.group(0).replace(" ", ""), range=bench.group(0).strip())


def holds_answer(part: str, u: Understanding, hits: list[Hit], retriever: Retriever) -> bool:
    """One of the best few passages holds the kind of thing the part asks for, about its subject."""
    subject = subject_of(part, u, retriever)
    return _first_that(hits, lambda s, h: answers_kind(retriever, u, s, subject, h)) is not None


def lead_lines(part: str, u: Understanding, lead: Lead, found: list[Hit], retriever: Retriever, lang: Lang,
                known: bool, question: str | None = None) -> tuple[list[str], list[Hit]]:
    """The lines that answer one part of the question (`question`: the whole of it), and
    the passages they quote."""
    words = TEXT[lang]
    kind_given = bool(u.asks) and known  # past the gap below: the lead gives the kind asked, about the subject
    subject = subject_of(part, u, retriever) if kind_given else None
    if kind_given:
        if not answers_kind(retriever, u, lead.text, subject, lead.hit):
            # Before saying the reference does not give it: another sentence found may.
            other = _first_that(found, lambda s, h: answers_kind(retriever, u, s, subject, h))
            if other is None:
                return [words["gap"].format(thing=words["gap_things"][u.asks[0]]), cite(lead.text, lead.hit)], [lead.hit]
            lead = other
    if u.yes_no and known:
        # "…off rules instead of manual uploads?": what it is contrasted with is not asked about.
        terms = salient(retriever.bridge(_CONTRAST.sub("", yes_no_sentence(part))))
        # The user's word for something the reference names otherwise ("free trial" for its
        # "free tier") is not a word the reference lacks: the term it stands for is searched.
        aliases = retriever.aliases_in(part)
        terms -= {t for alias, _ in aliases for t in salient(alias) if retriever.kin(t) is None}
        # A user's variant of the reference's phrase ("free plan" for "free tier") is settled
        # by a passage that holds the phrase: "No free tier…" needs no "plan".
        lead_words = salient(f"{lead.text} {lead.hit.pair_text or ''}")
        resolved = {t for alias, term in aliases if salient(alias) & salient(term) and held(salient(term), lead_words) == salient(term)
                    for t in salient(alias) - salient(term)}
        quantity = QUANTITY.search(part)
        if quantity:
            terms = without_figures(terms)
        # The plan this part names, or the one an earlier part named when this one points back
        # ("…the Growth plan cost, and does it come with STO?"; not "free tier? and … growth plan").
        if plan := _PLAN.search(part) or (POINTS_BACK.search(part) and _PLAN.search(question or "")):
            return _plan_lines(retriever, terms, plan.group(), lang, lead)
        if ALTERNATIVE.search(part):
            # The reference would have to say it of the one asked about and not of the other;
            # a passage about either reads as a verdict on both. The nearest is shown, with none.
            return [words["gap_yes_no"], cite(lead.text, lead.hit)], [lead.hit]
        # "Is there an API call to pull our campaigns?" is settled by the call itself.
        given = kind_given and _ASKS_EXISTENCE.search(part)
        # "Does STO improve open rates?" is settled only by a line about STO: a benchmark for
        # open rates says nothing of what STO does.
        doer = _doer(part, retriever)
        if not given and not (settles(retriever, terms - resolved, lead.text, lead.hit) and _names(doer, lead.text, lead.hit)):
            # (a part that asks for an endpoint keeps a line that gives one: "can I permanently
            # delete a user through the API? which endpoint" is not settled by the Mobile Inbox line
            # where users delete messages)
            other = _first_that(found, lambda s, h: settles(retriever, terms, s, h) and _names(doer, s, h)
                                and not (kind_given and set(u.asks) & {"endpoint", "url"} and not answers_kind(retriever, u, s, subject, h)))
            if other is None:
                nearest = _first_that(found, lambda s, h: _names(doer, s, h)) if doer else None
                lead = Lead(nearest.hit, render_passage(nearest.hit.chunk), nearest.score, nearest.sentence) if nearest else lead
                return [words["gap_yes_no"], cite(lead.text, lead.hit)], [lead.hit]
            lead = other
        if quantity and not (re.search(r"\d", quantity.group()) and set(re.findall(r"\d+", part)) <= set(re.findall(r"\d+", lead.text))):
            # "Two weeks?" against "30 days or more": a yes or no would misstate one of them;
            # the reference's own figure answers, when a passage about the question gives one.
            figure = next(((s, h) for h in [lead.hit, *found[:4]] for s in sentences(h.chunk)
                           if ASK_INSTANCE["number"].search(_without_step_numbers(s)) and settles(retriever, terms, s, h)), None)
            if figure is None:
                return [words["gap_yes_no"], cite(lead.text, lead.hit)], [lead.hit]
            return [words["figure"], cite(figure[0], figure[1])], [figure[1]]
        if _EVERY.search(part) or _TRUST.search(part):
            # "Does everything need the SDK?": a passage about some cases ("in-app messages
            # require the SDK") is quoted, but it settles the question for those cases only.
            return [cite(lead.text, lead.hit)], [lead.hit]
        says = polarity(lead.text, part, lang)
        until = _UNTIL.search(lead.text) if _FOREVER.search(part) else None
        if says and until:
            # "会一直留着吗?" and the line says until when: that settles it, whatever a warning
            # elsewhere says about the same feature
            return [cite(words["not_forever"].format(condition=_clause(lead.text, until)) + lead.text, lead.hit)], [lead.hit]
        asks_requirement = _ASKS_REQUIREMENT.search(part)
        # "需要ETL吗?" 不需要, "有没有免费版?" 没有; not 不行
        no = words["no_need"] if asks_requirement else words["no_such"] if _ASKS_EXISTENCE.search(part) else words["no"]
        opposite = next((h for h in found[:4] if h.section != lead.hit.section
                         and settles(retriever, terms, render_passage(h.chunk), h)
                         and stance(render_passage(h.chunk), part, lang) not in (None, says)
                         and _same_point(retriever, terms, lead, h)), None)
        if opposite is not None:
            warning = next((h for h in (lead.hit, opposite) if h.section == "gotchas"), None)
            if warning is not None:
                # The gotchas are the reference's own corrections of what it says elsewhere:
                # they settle it.
                text = lead.text if warning is lead.hit else render_passage(warning.chunk)
                said = polarity(text, part, lang)
                return [cite((words["yes"] if said else no) + text, warning)], [warning]
            return ([words["contradiction"], "- " + cite(lead.text, lead.hit),
                     "- " + cite(render_passage(opposite.chunk), opposite)], [lead.hit, opposite])
        asks_condition = asks_requirement or _ASKS_WHEN.search(part)
        condition = _condition(lead.text) if not asks_condition else None
        if says and condition and _DIRECTLY.search(part):
            return [cite(words["not_directly"].format(condition=_clause(lead.text, condition)) + lead.text, lead.hit)], [lead.hit]
        verdict = (no if not says else words["yes_if"].format(condition=_clause(lead.text, condition)) if condition
                   else words["yes"])
        if not says and re.match(r"No\b", lead.text):
            verdict = ""  # "No free tier or self-serve signup…" says no itself
        return [cite(verdict + lead.text, lead.hit)], [lead.hit]
    return [cite(lead.text, lead.hit)], [lead.hit]
