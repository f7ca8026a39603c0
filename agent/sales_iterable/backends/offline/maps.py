"""Questions without a single answer: a vague one gets a best-effort map of the likely
part of the reference, a how-to one the parts of its feature in the reference's order."""

from __future__ import annotations

import re

from ...language import Lang, has_han
from ...lexical import camel_pieces, lexical_tokens
from ...retrieve import Hit, Retriever
from ...understand import Understanding, states_problem
from .lead import SUPPORT_SCORE_SHARE
from .passages import CHECKLIST, SYMPTOM, is_lead_in, is_troubleshooting, render_passage
from .terms import TITLE_WORD_WEIGHT, held, known, labels_of, named, salient
from .wording import TEXT, cite, topic

MAX_MAP = 5  # lines of a best-effort map for a vague question
MAX_NAME = 30  # columns (a Chinese character takes two): a longer label is a sentence, not a name


def _width(text: str) -> int:
    return sum(2 if has_han(c) else 1 for c in text)

# Asking for one specific thing ("which browsers…", "哪个接口") is short but not vague.
_SPECIFIC = re.compile(r"\b(which|where|when|how (many|much|often|long))\b|哪个|哪些|哪里|在哪|多少|多久|几", re.I)
VAGUE_LENGTH = {"en": 40, "zh": 12}  # characters: a vague question is short

# Asking about a topic without saying what about it ("help with journeys", "webhooks??",
# "AI功能介绍一下", "分群怎么做").
_OPEN_ASK = re.compile(r"^(help( me)?( with)?|tell me about|overview of|explain)\b|\bstuff\b|\?\?|\bwhat (is it|are they) (good )?for\b|"
                       r"介绍|说说|讲讲|聊聊|都有啥|都有什么|有啥功能|有什么功能|怎么弄|怎么做|怎么搞|怎么搭|咋搭|咋做|咋整|咋办|怎么办|咋弄|怎么样|咋样|有啥用|有什么用|能干嘛|能干什么|能做什么|是干什么的", re.I)
# Asking about the whole of a topic, however long the question ("anything i should know about
# the ai stuff"); "…怎么办" after a problem is no such ask.
_WHOLE_TOPIC = re.compile(r"^(tell me about|overview of|explain)\b|\bstuff\b|\banything (i|we) should know\b|介绍一下|大概介绍|都有啥|都有什么", re.I)
# A bare topic ("短信", "webhooks"): no question asked about it at all.
_ASKING = re.compile(r"[??]|\b(what|how|why|when|where|which|who|can|does|do|is|are|should)\b|什么|怎|吗|呢|哪|为什么|多少|能不能", re.I)
BARE_TOPIC_WORDS = 2


# Asking where to begin at all: the getting-started checklist, in its order.
_STARTING_OUT = re.compile(r"\bwhere (do|should|can|would) (i|we) (even )?(start|begin)\b|\bwhere to (start|begin)\b"
                           r"|\bhow (do|should|can) (i|we) (get )?(start|begin)(ed)?\b|^(getting|get) started\b"
                           r"|从哪(里|儿)?(开始|入手|下手)|怎么开始|如何开始|先做什么", re.I)


CLEAR_WINNER_SHARE = 0.5  # a second passage scored below this share of the first leaves one answer


def _bare(question: str, retriever: Retriever) -> bool:
    """Only a topic, asking nothing about it but the question mark ("segments?", "pricing?",
    "数据导入")."""
    return not _ASKING.search(question.rstrip("??!! ")) and (len(salient(question)) <= BARE_TOPIC_WORDS or _only_names(question, retriever))


def _only_names(question: str, retriever: Retriever) -> bool:
    """A Chinese question that is nothing but a few of the reference's words ("数据导入": 数据
    and 导入; its chance pair 据导 is no third word)."""
    words = named(retriever, question)
    rest = question
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, "")
    return has_han(question) and len(words) <= BARE_TOPIC_WORDS and not re.sub(r"[\s??!!.。]", "", rest)


def is_vague(question: str, u: Understanding, found: list[Hit], retriever: Retriever, lang: Lang, one_answer: bool = True) -> bool:
    """Short and underspecified: a topic and an open ask ("help with journeys"), or a
    complaint with no detail ("our SMS isn't going out", "推送有问题"). With `one_answer`,
    not when one passage answers it far better than any other."""
    if not found:
        return False
    if _bare(question, retriever) and len(question) <= VAGUE_LENGTH[lang]:
        return True
    if u.asks or u.yes_no:
        return False
    if one_answer and len(found) > 1 and found[1].score < CLEAR_WINNER_SHARE * found[0].score:
        return False  # "欢迎旅程咋搭" is short, but one passage answers it far better than any other
    if _STARTING_OUT.search(question):
        return True  # however it is put, the answer is where the reference starts
    if _SPECIFIC.search(question) or len(question) > 2 * VAGUE_LENGTH[lang]:
        return False
    if len(named(retriever, question)) > 2:
        return False
    if len(question) > VAGUE_LENGTH[lang]:
        # longer, but still asking about a whole topic: "anything i should know about the ai stuff"
        return bool(_WHOLE_TOPIC.search(question))
    complaint = u.complains and not re.search(r"\d", question)
    return complaint or bool(_OPEN_ASK.search(question))


# Sections whose items are unrelated to each other: never read out whole.
MISCELLANY = {"gotchas", "getting-started", "integrations", "api-reference", "key-metrics", "pricing"}
MAX_WALKTHROUGH = 8  # a section with more items than this is not read out whole
MAP_SCORE_SHARE = 0.3  # a vague question's map leaves out passages far below the best


def feature_section(lead: Hit, found: list[Hit], retriever: Retriever, lang: Lang) -> str | None:
    """The section a how-to question is about: the lead's, or the best-ranked other one
    when the lead comes from a checklist, if it is a small section of related items."""
    # A lead from a feature's own section that is no walkthrough ("quiet hours" in the channels
    # table) has none: another section that merely ranked near it would be read out instead.
    own = lead.section not in MISCELLANY and not is_troubleshooting(lead)
    for hit in [lead] if own else [lead, *found[:3]]:
        if hit.section in MISCELLANY or is_troubleshooting(hit) or hit.score < SUPPORT_SCORE_SHARE * found[0].score:
            continue
        items = retriever.section_hits(hit.section, lang)
        if len(items) <= MAX_WALKTHROUGH and not any(h.chunk.kind == "row" for h in items):
            return hit.section
    return None


def other_item(hit: Hit, lead: Hit, asked: set[str]) -> bool:
    """`hit` is another labelled item of the lead's list or table, without the words by which
    the question picked the lead's item ("push" of "push open rate"; "in-app" of "In-app
    messages" beside the WhatsApp row)."""
    if hit.section != lead.section or not hit.chunk.label or not lead.chunk.label:
        return False
    picked = held(asked, set(salient(lead.chunk.label)))
    # (a name's own pieces are not its words: "WhatsApp" holds no "app")
    return bool(picked) and not picked <= held(picked, set(salient(hit.chunk.label)) - camel_pieces(hit.chunk.label))


def names_item(question: str, hit: Hit, retriever: Retriever) -> bool:
    """The question names this item by the most telling word of its label, in either
    language ("Exit criteria", 动态延迟 for "Delays"/延迟设置): it asks about the item,
    not about its whole feature."""
    asked = known(retriever, set(salient(retriever.bridge(question))), forms=True)
    # ("SMS/MMS" is named by either: SMS is not less its name for MMS being rarer)
    for label in [name for label in labels_of(hit, retriever) for name in [label, *(label.split("/") if "/" in label else [])]]:
        terms = known(retriever, named(retriever, label), forms=True)  # 延迟设置: 延迟, not the chance pair 迟设
        if not terms:
            continue
        # its most telling word: "Lifecycle journeys" is not named by any question about a journey
        top = max(retriever.idf(t) for t in terms)
        if held({t for t in terms if retriever.idf(t) == top}, asked):
            return True
    return False


WHOLE_TITLE_WEIGHT = 100.0  # a section title named whole outweighs any one word's idf


def named_section(question: str, found: list[Hit], retriever: Retriever) -> str | None:
    """The section among those found whose title the question names ("help with journeys"
    -> "Studio (Journey Builder)", "where do we start" -> the getting-started checklist,
    through the glossary): the rarest title word the question shares decides."""
    wanted = salient(retriever.bridge(question))
    lowered = question.lower()
    best, weight = None, 0.0
    for hit in found:
        title = hit.heading.split(" > ")[-1]
        # A title named whole ("实验这块说说" names 实验) names its section however common the
        # word is elsewhere (实验显著性, 设置实验); the longest such title wins.
        whole = re.split(r"[(\uff08]", title)[0].strip().lower()
        if len(whole) >= 2 and whole in lowered and (w := WHOLE_TITLE_WEIGHT + len(whole)) > weight:
            best, weight = hit.section, w
            continue
        shared = {t for t in held(wanted, set(salient(title))) if retriever.idf(retriever.kin(t) or t) >= TITLE_WORD_WEIGHT}
        if shared and (w := max(retriever.idf(t) for t in shared)) > weight:
            best, weight = hit.section, w
    return best


_ARTICLE = re.compile(r"^(a|an|the)\s+", re.I)


def _is_named(question: str, hit: Hit, retriever: Retriever, qualified: bool = False) -> bool:
    """The question is exactly the passage's label, in either language ("brand affinity");
    `qualified`: or the label with words before it ("弹窗式的应用内消息")."""
    name = lexical_tokens(_ARTICLE.sub("", question.strip()))
    said = question.strip().rstrip("??!! ").lower()
    # …or the user's word for it ("品牌亲和度?" is Brand Affinity)
    names = [name] + [lexical_tokens(term) for alias, term in retriever.aliases_in(question) if alias.lower() == said]
    for label in labels_of(hit, retriever):
        if lexical_tokens(label) in names:
            return True
        if qualified and said.endswith(label.lower()):
            # a describing word, not another thing it belongs to ("campaign里直接做experiment")
            before = said[: -len(label)].strip()
            if before.endswith("的") or (re.fullmatch(r"[a-z-]+", before) and not retriever.knows(before)):
                return True
    return False


def described(thing: str, found: list[Hit], retriever: Retriever, lang: Lang) -> Hit | None:
    """The passage that says what one of two compared things is: the item labelled with its
    name ("In-app messages: Center, top, bottom…"), else the opening passage of the section
    named after it ("a journey" -> "Studio is Iterable's visual journey orchestration
    tool…"). None when neither is found."""
    for qualified in (False, True):
        for hit in found:
            if _is_named(thing, hit, retriever, qualified):
                return hit
    section = named_section(thing, found, retriever)
    if section is None or section in MISCELLANY:
        return None
    opening = retriever.section_hits(section, lang)
    title = opening[0].heading.split(" > ")[-1] if opening else ""
    words = named(retriever, thing)
    # the section is the thing itself, not where it lives ("Studio里的Experiment tile")
    return opening[0] if words and held(words, set(salient(title))) == words else None


MAX_SETUP_STEPS = 4
MIN_SETUP_STEPS = 2
MAX_MAP_AFTER_STEPS = 3
# Benchmarks say how a channel performs once it runs, not how to set it up.
NOT_SETUP = {"key-metrics"}


def setup_steps(question: str, retriever: Retriever, lang: Lang) -> list[Hit]:
    """The getting-started checklist's items that involve what a vague setup question names
    ("push setup?" -> configure FCM/APNs, integrate the SDK, create templates…), in the
    checklist's order: the reference's own sequence for setting it up."""
    # (a name's pieces are no topic: "WhatsApp怎么弄" is not about the "app" of "in-app")
    topic = {t for t in known(retriever, set(salient(retriever.bridge(question))) - camel_pieces(question), forms=True)
             if retriever.idf(t) >= TITLE_WORD_WEIGHT}
    if not topic:
        return []
    steps = []
    for hit in retriever.section_hits(CHECKLIST, lang):
        twin = retriever.chunk(hit.chunk.pair_id)
        if held(topic, set(salient(f"{render_passage(hit.chunk)} {render_passage(twin) if twin else ''}"))):
            steps.append(hit)
    # One step that merely names the topic ("Set up experiments — A/B test … on your first
    # campaign") is no sequence: the topic's own section says more.
    return steps[:MAX_SETUP_STEPS] if len(steps) >= MIN_SETUP_STEPS else []


def _items(section: str, retriever: Retriever, lang: Lang) -> list[Hit]:
    """A section's parts: its passages less a troubleshooting symptom or a list's lead-in."""
    return [h for h in retriever.section_hits(section, lang) if not SYMPTOM.match(h.text.lstrip("- ")) and not is_lead_in(h)]


def names_line(section: str, retriever: Retriever, lang: Lang) -> str | None:
    """All of a section's parts by name, as one line ("Channels: Email, SMS/MMS, Push…"),
    when it has more than a map reads out and every part has a short name; else None."""
    items = _items(section, retriever, lang)
    if len(items) <= MAX_MAP or not all(h.chunk.label and _width(h.chunk.label) <= MAX_NAME for h in items):
        return None
    title = items[0].heading.split(" > ")[-1]
    return f"{title}: {TEXT[lang]['topic_join'].join(h.chunk.label for h in items)} [{section}]"


def _titled(hit: Hit) -> str:
    """A passage as a map line: an unlabelled line of a feature's section says which feature
    ("目录: 可通过Smart Ingest或API同步", not a fragment that could be about anything)."""
    text = render_passage(hit.chunk)
    if hit.chunk.label or hit.chunk.kind != "bullet" or hit.section in MISCELLANY or is_troubleshooting(hit):
        return text
    title = re.split(r"[(\uff08]", hit.heading.split(" > ")[-1])[0].strip()
    return text if not title or title.lower() in text.lower() else f"{title}: {text}"


def map_lines(question: str, found: list[Hit], retriever: Retriever, lang: Lang,
              setup: bool = False) -> tuple[list[str], list[Hit]]:
    """A vague question's best-effort map: the section it names, read in the reference's
    order; else, when most of what matched is one section, that section's parts by name;
    otherwise the matching passages of the likely areas. A vague setup question ("push
    setup?", "webhook 怎么弄") starts with the checklist's steps that involve it."""
    words = TEXT[lang]
    steps = setup_steps(question, retriever, lang) if setup and not _STARTING_OUT.search(question) else []
    if steps:
        rest = [h for h in found if h.section != CHECKLIST and h.section not in NOT_SETUP]
        lines, shown = map_lines(question, rest, retriever, lang) if rest else ([], [])
        lines = lines[:1 + MAX_MAP_AFTER_STEPS] if lines and not lines[0].startswith("- ") else lines[:MAX_MAP_AFTER_STEPS]
        return ([words["setup_steps"]] + [f"{i}. " + cite(_titled(h), h) for i, h in enumerate(steps, 1)] + lines,
                steps + [h for h in shown if any(f"[{h.section}]" in line and render_passage(h.chunk) in line for line in lines)])
    # Where to begin is the checklist, whether or not its title was found ("where do I even start?")
    named = CHECKLIST if _STARTING_OUT.search(question) else named_section(question, found, retriever)
    if named is not None and not any(is_troubleshooting(h) for h in found if h.section == named):
        items = _items(named, retriever, lang)
        if not _STARTING_OUT.search(question):
            # "journey delays": the part it names first, then the rest in the reference's order
            items.sort(key=lambda h: not names_item(question, h, retriever))
        title = items[0].heading.split(" > ")[-1]
        if _STARTING_OUT.search(question):
            # Where to begin: the whole checklist, in its order, is the answer.
            return [words["checklist"].format(topic=title)] + [f"{i}. " + cite(_titled(h), h)
                                                         for i, h in enumerate(items, 1)], items
        if (names := names_line(named, retriever, lang)) is not None:
            # Too many parts to read out: all of them by name, then those the question names,
            # else the first in the reference's order ("AI功能有啥": Brand Affinity, STO, not
            # the three whose text happens to say "AI").
            best = items[:MAX_MAP_AFTER_STEPS]
            return [names] + ["- " + cite(_titled(h), h) for h in best], items
        items = items[:MAX_MAP]
        return [words["map"].format(topic=title)] + ["- " + cite(_titled(h), h) for h in items], items
    # A troubleshooting entry that did not fit the complaint is no likely area: its cause or
    # fix out of context reads as a diagnosis.
    candidates = [h for h in found if not is_troubleshooting(h) and not is_lead_in(h)] or found
    top = [h for h in candidates[:MAX_MAP] if h.score >= MAP_SCORE_SHARE * candidates[0].score
           and not SYMPTOM.match(h.text.lstrip("- "))]
    # A question that is only a feature's name ("brand affinity") starts with what it is.
    # Else, asked for an overview, one whose item the question names ("the in-app stuff": the
    # In-app messages row, not the in-app click rate that ranked above it; "in-app not
    # showing" keeps the SDK warning first).
    # (a bare topic asks about it; a bare complaint, "our SMS isn't going out", about what fails)
    overview = bool(_WHOLE_TOPIC.search(question) or _OPEN_ASK.search(question)) or (_bare(question, retriever) and not states_problem(question))
    about = (next((h for h in top if _is_named(question, h, retriever)), None)
             # (a feature's own row before an endpoint or a benchmark that names it: "短信" is SMS/MMS)
             or next((h for h in sorted(top, key=lambda h: h.section in MISCELLANY)
                      if overview and h.chunk.label and names_item(question, h, retriever)), None))
    if about is not None:
        asked = known(retriever, salient(question), forms=True)
        top = [about] + [h for h in top if h is not about and not other_item(h, about, asked)]
    alone = len(top) == 1 and top[0].section not in MISCELLANY and not is_troubleshooting(top[0])
    if alone:
        # One passage is too little for a map ("想做个召回" met only the lifecycle line): its
        # feature's other parts, in the reference's order, say how it is done.
        about = about or top[0]  # the passage that matched stays first
        top += [h for h in _items(top[0].section, retriever, lang) if h.id != top[0].id][:MAX_MAP - 1]
    sections = [h.section for h in top]
    main = max(set(sections), key=sections.count)
    lines = [words["map"].format(topic=topic(top, lang))]
    shown = list(top)
    if sections.count(main) >= 3 and not alone:
        labelled = [(label, h) for h in retriever.section_hits(main, lang) if (label := h.chunk.label)]
        if len(labelled) >= 3:
            title = next(h.heading.split(" > ")[-1] for h in top if h.section == main)
            lines = [f"{title}: {words['topic_join'].join(label for label, _ in labelled)} [{main}]"]
            shown = [h for _, h in labelled] + [h for h in shown if h.section != main]  # the main section first
            # its parts that matched in the order the reference gives them (campaign
            # experiments before significance), then the other areas'
            top = ([about] if about is not None else []) + sorted(
                (h for h in top if h.section == main and h is not about), key=lambda h: h.chunk.ordinal) + [
                h for h in top if h.section != main and h is not about]
    if about is not None:
        # The item the question names is the best-effort answer: it comes first, the map after.
        rest = [h for h in top if h is not about]
        head = [words["map_more"].format(topic=topic(rest, lang))] if lines[0].startswith(words["map"].split("{")[0]) and rest else lines[:1] if rest else []
        return [cite(_titled(about), about)] + head + ["- " + cite(_titled(h), h) for h in rest], shown
    return lines + ["- " + cite(_titled(h), h) for h in top], shown
