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
from dataclasses import replace
from functools import lru_cache
from typing import Callable, Sequence

from ...answer import Answer, Route, Source
from ...config import get_settings
from ...language import Lang, detect_language, plain_punctuation
from ...policy import question_text, strip_invocation
from ...retrieve import Hit, Retriever
from ...routing import handoff
from ...understand import ASK_INSTANCE, Classifier, Understanding, asked_kinds, asks_nothing, is_yes_no, split_parts, states_problem, understand, with_previous, without_asks
from ..base import Options, Turn
from .context import asked_questions, stated_assumptions
from .gaps import unknown_terms
from .lead import (HOW_TO, HOW_TO_QUESTION, SUPPORT_SCORE_SHARE, Lead, answered, asking_sentence, choose_lead, compared, facing, gives_kind, holds_answer, moves,
                   lead_lines, prices_for_a_complaint, relevant, versus)
from .maps import MISCELLANY, described, feature_section, is_vague, map_lines, named_section, names_item, names_line, other_item
from .passages import CAUSE, SYMPTOM, is_lead_in, is_troubleshooting, render_passage, sentences
from .terms import OWN_THING_WEIGHT, TITLE_WORD_WEIGHT, coverage, held, known, named, names_a_label, names_a_sibling, salient
from .troubleshooting import matching_entry, names_title, says_more_than_its_title, troubleshooting_lines
from .wording import ROUTE_REASON_EN, TEXT, cite, handoff_lines

SEARCH_K = 8
MAX_SUPPORT = 3  # supporting lines after the lead
MAX_SUPPORT_UNKNOWN = 1  # after "the reference does not mention X", nearby facts are only a pointer
SUPPORT_COVERAGE = 0.4
NEAREST_WORD_WEIGHT = 2.0  # how rare a word must be to tie a nearby fact to a question about an unknown name
_HOW_WORDS = frozenset({"long", "often", "many", "much", "far", "big", "large"})  # "how long…": asking, not a topic ("long codes")
ASKED_TOPIC_WEIGHT = 3.0  # how rare the word of a kind asked must be to name a topic (限流 3.6; 多少 is no word of it)
OWN_TOPIC_TERMS = 2  # reference words that let a later part of a question be searched alone
_SENDS = re.compile(r"\b(send|sending|message|messages|messaging)\b|发.{0,12}消息|渠道|(能|可以|能不能|可不可以|支持)发", re.I)
NO_HISTORY_LINES = 2  # passages quoted for a follow-up asked with nothing before it
REPEAT_SHARE = 0.8  # a supporting passage whose words are this much in the answer already adds nothing
SYMPTOM_VOTE_SHARE = 0.8  # an entry's symptom this near the best passage votes the question a complaint
LABEL_HITS = 3  # the passages whose labels a routed question is checked against
# A question that asks what, which or where wants a fact, however near a symptom it lands
# ("what labels does brand affinity put on people"); "why" is how symptoms are asked; 是不是哪里
# is "somewhere", 什么都没 "nothing".
ASKS_WHAT = re.compile(r"^\s*(what|which|where|how (many|much|do|does|can))\b|(?<![为没])(?<!不是)什么(?![都也])|哪些|哪个|(?<!不是)哪里|多少", re.I)
# Sections whose lines tell what to do about a problem (a warning, a limit and its backoff),
# beside those that describe what a feature is.
SAYS_WHAT_TO_DO = frozenset({"gotchas", "api-reference"})


@lru_cache(maxsize=8)
def _classifier(embedder_id: str, embedder, cache_dir) -> Classifier:
    return Classifier(embedder, get_settings().corpus_dir / "intents.tsv", cache_dir)


def classifier_for(retriever: Retriever) -> Classifier:
    return _classifier(retriever.embedder.id, retriever.embedder, getattr(retriever, "cache_dir", None))


def said_already(text: str, body: list[str]) -> bool:
    """Nearly every word of the passage is in the answer's lines already: quoting it again
    repeats a fact ("10 req/s" three times, from three sections)."""
    own = salient(text)
    shown = set().union(*(salient(line) for line in body)) if body else set()
    return bool(own) and len(held(set(own), shown)) >= REPEAT_SHARE * len(own)


# A line that quotes a passage ends with its section id (`wording.cite`).
_CITED = re.compile(r"\[([\w-]+)\]$")


def _first_cited(body: list[str], n: int) -> list[str]:
    """The lines of an answer up to its n-th line that quotes a passage."""
    kept: list[str] = []
    cited = 0
    for line in body:
        if cited >= n:
            break
        kept.append(line)
        cited += bool(_CITED.search(line))
    return kept


def compose(question: str, retriever: Retriever, lang_override: Lang | None = None,
            history: list[str] | None = None) -> Answer:
    question = plain_punctuation(strip_invocation(question))
    lang, other_language = detect_language(question)
    lang = lang_override or lang
    words = TEXT[lang]
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
        query = with_previous(question, previous)
    else:
        u, query = alone, question
    if u.route and not u.route_said and names_a_label(question, retriever.search(question, k=LABEL_HITS, lang=lang), retriever, OWN_THING_WEIGHT):
        # The examples guessed another skill, but the question names one of Iterable's own
        # things by the reference's name for it ("Shopify 集成能同步些什么?有没有 Zapier?").
        u = replace(u, route=None, iterable_part=True)
    names_little = len(named(retriever, question)) <= 1
    # A follow-up with nothing before it that names nothing telling of its own ("那第二步
    # 具体怎么操作?"): any passage would be a guess at what it follows. "And the EU one?"
    # names enough to answer what it can.
    # "那这个要多久?" names a kind of answer, no topic; "那个接口限流是多少?" names a kind of
    # answer the reference has a topic for, in the user's own rare word (限流: rate limits).
    topic = without_asks(question, alone.asks)
    names_topic = any(retriever.idf(t) >= TITLE_WORD_WEIGHT for t in named(retriever, retriever.bridge(topic)))
    asks_a_topic = any(retriever.idf(t) >= ASKED_TOPIC_WEIGHT for t in named(retriever, question) - _HOW_WORDS)
    guessing = alone.follow_up and not previous  # a follow-up with nothing before it
    # "那这个要多少钱?" asks a price, and prices have one home in the reference: its pricing.
    orphan = guessing and not names_topic and not asks_a_topic and "price" not in alone.asks
    if guessing:
        body.append(words["orphan" if orphan else "no_history"])
        u = replace(u, yes_no=False)  # "is it the same for SMS?": yes or no to what came before, unknown

    unknown = unknown_terms(question, retriever) if u.iterable_part else []
    for term in unknown:
        # The nearest facts are those about the rest of the question: "LINE" is not the
        # "lines" of "subject lines".
        query = re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", " ", query)
    parts: list[str] = []
    things: set[int] = set()  # the parts that are one of two things compared
    pieces = [query] if u.follow_up and previous else split_parts(query)
    # a later sentence that asks nothing is context; the first part is read with it
    pieces = [pieces[0], *(p for p in pieces[1:] if not asks_nothing(p))]
    for piece in pieces:
        pair = compared(piece)
        things |= set(range(len(parts), len(parts) + len(pair))) if pair else set()
        parts += pair or [piece]
    found: list[Hit] = []
    per_part: list[tuple[str, Understanding, Lead | None]] = []
    focus = question if u.follow_up and previous else None  # a follow-up's own words
    if u.iterable_part and not orphan:
        for i, part in enumerate(parts):
            # A later part leans on the first for its topic ("…, and should we do it early?")
            # unless it names a topic of its own ("…, and at what confidence do I declare a
            # winner?"): then the first part's words would only pull its search back.
            # The two things a comparison sets side by side are each searched alone.
            pu = u if len(parts) == 1 else replace(u, asks=asked_kinds(part), yes_no=is_yes_no(part))
            # A kind of answer the reference never gives (a retention period) is searched by
            # its topic alone: the words that ask for it only find passages that share them
            # ("before it gets deleted" found the Mobile Inbox, whose users delete messages),
            # and they name no topic of the part's own ("…? 会不会过期删除").
            never = tuple(kind for kind in pu.asks if not gives_kind(retriever, kind))
            leans = not (i == 0 or i in things or len(named(retriever, without_asks(part, never))) >= OWN_TOPIC_TERMS)
            text = f"{part} {parts[0]}" if leans else part
            topic_text = without_asks(text, never) if never and named(retriever, without_asks(text, never)) else text
            # Searched whole: the parts are split here already (a follow-up is one part with
            # the question it follows, its own words the focus), and section titles are read
            # where they matter (maps).
            asking = asking_sentence(topic_text, retriever)
            hits = facing(relevant(retriever.search(topic_text, k=SEARCH_K, lang=lang, whole=True, focus=focus or (asking if asking != topic_text else None)),
                                   retriever.bridge(topic_text)), focus or text, retriever)
            if i == 0 and not u.goal_said and u.goal != "Troubleshoot" and not u.yes_no and not ASKS_WHAT.search(part) and any(
                    is_troubleshooting(h) and SYMPTOM.match(h.text.lstrip("- ")) and h.score >= SYMPTOM_VOTE_SHARE * hits[0].score
                    and says_more_than_its_title(retriever, part, h) for h in hits[:2]):
                # The examples read "Brand Affinity里一大半人还是「从未互动」" as a question about the
                # feature, but the passage it is nearest to is an entry's symptom: what the user
                # sees is a known problem, and that vote outweighs theirs. (Not when it only names
                # the entry's product: "brand affinity" asks what it is.)
                u = replace(u, goal="Troubleshoot")
                pu = u if len(parts) == 1 else replace(pu, goal="Troubleshoot")
            found += [h for h in hits if h.id not in {f.id for f in found}]
            first = per_part[0][2] if per_part else None
            own_names = named(retriever, retriever.bridge(without_asks(part, pu.asks))) if leans else set()
            if leans and first is not None and first.hit.section not in MISCELLANY:
                # "Catalog是干嘛用的?怎么在邮件里用?": the second part is about the catalog in
                # email, not about whatever else mentions email; but a kind of answer it asks for
                # that the section never gives ("STO是干嘛的,上线多久以后开?": a time) is elsewhere.
                same = [h for h in hits if h.section == first.hit.section]
                # …unless the part names a thing of its own that only another section holds,
                # and the best passage for both parts is that section's ("…update a user's
                # fields, and how do I authenticate that request?": the auth header is the
                # API's, not the user profile's).
                rare = {t for t in own_names if retriever.idf(t) >= OWN_THING_WEIGHT}
                elsewhere = bool(hits) and hits[0].section != first.hit.section and bool(held(rare, salient(f"{hits[0].text} {hits[0].pair_text or ''}"))) and not any(
                    held(rare, salient(f"{h.text} {h.pair_text or ''}")) for h in same)
                if same and not elsewhere and (not pu.asks or holds_answer(topic_text, pu, same, retriever)):
                    hits = same
            if i and unknown and any(term in part for term in unknown):
                continue  # a later part about a name the reference never uses: said above
            taken = {(lead.hit.id, lead.sentence) for _, _, lead in per_part if lead}
            lead = choose_lead(topic_text, hits, pu, retriever, focus=focus) if hits else None
            if lead is not None and (lead.hit.id, lead.sentence) in taken:
                # The line that answers an earlier part answers this one too, when it holds the
                # thing this part itself asks a figure of ("点击率一般多少?" is not answered by the
                # open rate).
                if answered(part if pu.asks else text, pu, lead, retriever):
                    continue
                lead = choose_lead(topic_text, hits, pu, retriever, focus=focus, exclude=taken)
            if i in things and hits and (about := described(part, hits, retriever, lang)) is not None:
                # One of two things compared: what it is, not the line that best matches its name.
                about = about if about.score else about.model_copy(update={"score": hits[0].score})
                lead = Lead(about, render_passage(about.chunk), about.score, render_passage(about.chunk))
            # A part that leans on the first is read with it, unless it names a thing of its own
            # ("…?发短信用哪个接口?": the endpoint asked is SMS's, not WhatsApp's).
            own = bool(own_names)
            per_part.append((focus or (part if own else text), pu, lead))
    found = facing(sorted(found, key=lambda h: -h.score), question, retriever)
    leads = [lead for _, _, lead in per_part if lead is not None]

    # A follow-up is about what it follows: a map of everything its words meet is no answer.
    vague = is_vague(question, u, found, retriever, lang) and not unknown and not u.follow_up
    used: list[Hit] = []

    def use(hit: Hit) -> None:
        if hit.id not in {h.id for h in used}:
            used.append(hit)

    if unknown:
        it = unknown[0] if len(unknown) == 1 else ("them" if lang == "en" else "这些")
        terms = (" or ".join(unknown) if len(unknown) == 2 else ", ".join(unknown)) if lang == "en" else "、".join(unknown)
        if lang == "zh" and terms[0].isascii():
            terms = f" {terms}"  # a space between Han and Latin text, none between Han words
        body.append(words["unknown"].format(terms=terms, it=it))
    said_unknown = len(body)

    # After "the reference does not mention LINE", a nearby fact is worth showing only when it
    # shares a telling word with the rest of the question ("messages" is in half the reference).
    # (Words the user typed, or translated: the glossary's reading of "logs into iterable" as
    # Smart Ingest ties nothing to a question about SSO.)
    rest = {t for t in named(retriever, retriever.bridge(query, readings=False)) if retriever.idf(t) >= NEAREST_WORD_WEIGHT}
    # A name sent as messages is a channel the reference lacks: the channels it has are the
    # nearest fact, not a line that only shares "发消息" ("不给对照组用户发消息").
    sent = bool(unknown) and bool(_SENDS.search(question))

    def far(text: str, twin: str | None) -> bool:
        return bool(unknown) and (sent or not (rest & salient(f"{text} {twin or ''}")))

    # With nothing before it, a follow-up that states no problem is no symptom ("same thing
    # but for push tho": the iOS push fixes were a guess at what came before).
    # Nor is a request for steps that states no problem ("load users from bigquery": the
    # Smart Ingest sync-failing entry shares its words, not its trouble).
    no_symptom = (guessing or bool(HOW_TO_QUESTION.search(question))) and not u.goal_said
    # Nor is a question whose first part asks something else ("Smart Ingest在后台哪里配置?同步
    # 出错的话去哪看日志?"): each part gets its own line, the entry's check the second.
    no_symptom = no_symptom or (len(per_part) > 1 and not states_problem(parts[0]))
    entry = matching_entry(question, u, found, retriever) if not unknown and not no_symptom else None
    if (entry is None and not unknown and not vague and not no_symptom and len(per_part) == 1 and leads and is_troubleshooting(leads[0].hit)
            and not names_a_sibling(retriever, question, leads[0].hit) and (CAUSE.match(leads[0].text) or u.goal == "Troubleshoot") and not u.asks and not u.yes_no):
        # The best answer to a question read as something else is a troubleshooting
        # entry's diagnosis ("…the dashboard says they were sent. we're testing on a
        # testflight build"), or one of its checks answers a complaint no entry was matched
        # to: it was a symptom, and the entry's checks are the answer.
        entry = leads[0].hit
    if vague and entry is None:
        lines, shown = map_lines(question, found, retriever, lang, setup=u.goal == "Set up" and u.goal_said)
        body += lines
        for hit in shown:
            use(hit)
    elif entry is not None:
        lines, shown = troubleshooting_lines(entry, question, retriever, lang)
        body += lines
        for hit in shown:
            use(hit)
    else:
        for text, pu, lead in per_part:
            if lead is None or any(lead.text in line for line in body):
                continue
            if far(lead.text, lead.hit.pair_text):
                continue
            lines, shown = lead_lines(text, pu, lead, found, retriever, lang, known=not unknown, question=question)
            said = {line.removeprefix("- ") for line in body}
            body += [line for line in lines if line.removeprefix("- ") not in said]
            for hit in shown:
                use(hit)
    # (a name sent as messages is a channel: "能发微信公众号或者企业微信消息吗?")
    kind = (named_section(query, found, retriever) or ("channels" if sent else None)
            if unknown and len(body) == said_unknown and found else None)
    if kind is not None and (names := names_line(kind, retriever, lang)) is not None:
        # "支持微信或者 LINE 渠道吗?" and no passage near it: what the reference has of the
        # kind asked about, all of it by name (its channels), is the nearest fact to give.
        body.append(names)
        for hit in retriever.section_hits(kind, lang):
            use(hit)
    walkthrough = False
    if leads and not vague and u.goal == "Set up" and not u.asks and not u.yes_no and not unknown:
        # A how-to question: the parts of the feature it is about, in the reference's
        # order, read as a walkthrough (a small section of related items, not a table
        # or a list of unrelated gotchas).
        section = feature_section(leads[0].hit, found, retriever, lang)
        if (section == leads[0].hit.section and names_item(question, leads[0].hit, retriever)
                and len(retriever.section_hits(section, lang)) > MAX_SUPPORT + 1):
            # "Exit criteria 怎么设置": that item is the answer; the rest of a large feature
            # read out after it is a dump, while a small one's other parts are its context.
            section = None
        for hit in retriever.section_hits(section, lang) if section else []:
            if hit.id not in {h.id for h in used}:
                body.append("- " + cite(render_passage(hit.chunk), hit))
                use(hit)
                walkthrough = True
    if leads and not walkthrough and not unknown and not u.complains and HOW_TO_QUESTION.search(question) and not any(
            HOW_TO.search(render_passage(h.chunk)) for h in used[:2]) and body and not body[0].startswith(words["gap"][:12]):
        # "How do I set up quiet hours?" when the reference only names quiet hours.
        body.insert(0, words["no_steps"])
    if (u.complains and entry is None and leads and not vague and not unknown and not guessing and not u.asks and not u.yes_no
            and not no_symptom and not any(is_troubleshooting(lead.hit) for lead in leads) and retriever.entry_titles(lang)
            and leads[0].hit.section not in SAYS_WHAT_TO_DO and not ASK_INSTANCE["limit"].search(leads[0].text)
            and body and not body[0].startswith(words["gap"][:12])):
        # "our sms sends stopped going out": the SMS row is what the reference has, not a fix;
        # say so, and which problems it does have steps for. (A limit explains a 429 itself.)
        body.insert(0, words["no_entry"].format(entries=("; " if lang == "en" else "、").join(retriever.entry_titles(lang))))
    # After "the reference does not give X", nearby facts are only a pointer too.
    gap_first = bool(body) and body[0].startswith((words["gap"].split("{")[0], words["gap_yes_no"]))
    if leads and not vague:
        top = leads[0].hit
        terms = salient(retriever.bridge(query))
        asked = known(retriever, salient(query), forms=True)
        # "how much does it cost": each plan's price is an answer, whatever words it shares
        # (not when it names the item it asks of: "What's the endpoint for 批量更新用户?")
        kind_of_all = bool(u.asks) and not names_item(query, top, retriever)
        for hit in found:
            if len(used) >= (MAX_SUPPORT_UNKNOWN if unknown or gap_first else MAX_SUPPORT) + len(leads):
                break
            if hit.id in {h.id for h in used}:
                continue
            if SYMPTOM.match(hit.text.lstrip("- ")) or is_troubleshooting(hit) or is_lead_in(hit):
                continue  # an entry's cause or fix out of context reads as a diagnosis
            if far(hit.text, hit.pair_text):
                continue
            if said_already(render_passage(hit.chunk), body):
                continue  # "Bulk track events: POST /api/events/trackBulk" after the line that lists it
            if entry is not None and hit.section != "gotchas":
                continue  # beside an entry's checks only a warning about the same problem adds anything
            if names_a_sibling(retriever, question, hit) or prices_for_a_complaint(u, hit, question):
                continue  # "android …": not the web push row
            if other_item(hit, top, asked):
                continue  # "push open rate": the email open rate row beside it answers another question
            alike = kind_of_all and hit.section == top.section and bool(ASK_INSTANCE[u.asks[0]].search(hit.text))
            if alike or (hit.score >= SUPPORT_SCORE_SHARE * top.score and coverage(retriever, terms, hit.text) >= SUPPORT_COVERAGE):
                body.append("- " + cite(render_passage(hit.chunk), hit))
                use(hit)
    pair = [(parts[i], lead) for i, (_, _, lead) in enumerate(per_part) if i in things and lead is not None]
    ways = {moves(lead.hit, retriever): name for name, lead in pair}
    if len(pair) == 2 and set(ways) == {"in", "out"} and not unknown:
        # Two things compared that move data opposite ways: that is the difference to say
        # first ("Smart Ingest 和 Snowflake Secure Data Sharing 有什么区别").
        body.insert(0, words["directions"].format(into=ways["in"], out=ways["out"]))
    verdict = next((v for line in body[:2] if (v := versus(question, line, lang)) is not None), None)
    if verdict is not None:
        # "ours is like 3%": the benchmark line answers, and where their figure stands says it plainly
        body = [verdict] + [line for line in body if line != words["figure"]]
    if guessing:
        # With nothing before it, every line is a guess at what it follows: a short answer
        # about what it names, then the question of what it follows.
        body = _first_cited(body, NO_HISTORY_LINES)
        # (the passages those lines quote, not every passage of their sections)
        quoted = [line for line in body if _CITED.search(line)]
        used = [h for h in used if any(s in line for line in quoted for s in sentences(h.chunk))]
    if not used and u.iterable_part and u.route is None and not unknown and not orphan:
        body.append(words["none"])

    uses_pricing = any(h.section == "pricing" for h in used)
    if uses_pricing:
        body.append(words["dated"])
    route = Route(skill=u.route, reason=(ROUTE_REASON_EN[u.route])) if u.route else None
    if route is not None:
        body.extend(handoff_lines(route.skill, lang, bool(used), handoff(route.skill, route.reason)))
    if not body:
        body.append(words["none"])

    # A question that names almost nothing the reference knows was read as its closest
    # part of the reference: that is an assumption worth stating.
    # So was a complaint matched to an entry whose product it never names ("something's wrong
    # with the data coming from our warehouse": the Smart Ingest entry is a reading of it).
    guessed_entry = entry is not None and not names_title(retriever, named(retriever, question), entry)
    # So was a short open question answered by the one passage that fits it best ("欢迎旅程咋搭").
    pinned = not vague and not unknown and not u.follow_up and is_vague(question, u, found, retriever, lang, one_answer=False)
    underspecified = vague or names_little or guessed_entry or pinned
    # A name the reference never uses was said so: no question about it would change that.
    questions = [] if unknown and not used else asked_questions(u, question, lang, used, vague, found,
                                                                follows_nothing=guessing)
    assumptions = stated_assumptions(u, lang, other_language, used, underspecified, route is not None and not used,
                                     role_asked=question_text("role", lang) in questions,
                                     area_named=bool(used) and not unknown and named_section(question, found, retriever) == used[0].section
                                     and not names_item(question, used[0], retriever),  # "journey delays" wants the delays
                                     question=question)
    return Answer(
        answer="\n".join(body),
        assumptions=assumptions,
        clarifying_questions=questions,
        route=route,
        sources=[Source(id=h.id, section=h.section) for h in used],
        language=lang,
        backend="offline",
    )


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
