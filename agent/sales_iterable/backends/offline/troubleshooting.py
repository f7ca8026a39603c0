"""A symptom answered from its troubleshooting entry: the likely cause, the check that fits
first, then every check as numbered steps."""

from __future__ import annotations

import re

from ...chunks import split_steps
from ...language import Lang
from ...retrieve import Hit, Retriever
from ...understand import Understanding
from .passages import STEP_NUMBER, SYMPTOM, is_troubleshooting, render_passage
from .terms import TITLE_WORD_WEIGHT, coverage, held, known, named, names_a_sibling, salient
from .wording import TEXT, cite

# A troubleshooting entry fits a symptom when its title, symptom and cause hold this share.
ENTRY_COVERAGE = 0.3
# ...and retrieval scored it at least this share of the best passage's score.
ENTRY_SCORE_SHARE = 0.6
ENTRY_WORD_WEIGHT = 2.5  # a word only of an entry's cause or fix names it when this rare


# When it started says nothing about what is wrong: "…bigquery last week…" is no question
# about cohorts ("signed up in last 30 days").
_WHEN = re.compile(r"\b(last|this|past|previous) (week|month|year|night|weekend|morning|few days|couple of days)\b"
                   r"|\b(yesterday|today|tonight|recently|since then)\b|上周|上个?月|昨天|前天|今天|最近|这几天", re.I)


def matching_entry(question: str, u: Understanding, found: list[Hit], retriever: Retriever) -> Hit | None:
    """For a symptom, the troubleshooting entry that fits it. The entry found first fits:
    retrieval matched the complaint in the user's own words ("iPhones stopped getting
    notifications" is the iOS push entry, though it never says iPhone). Otherwise, an entry
    fits when its symptom or cause shares the question's words at least as well as the
    best other passages do, and retrieval did not find it far weaker than the best
    passage: "our push isn't working" matches a gotcha that merely names push as well as
    it matches the entry, but "I can't add push to my email campaign" is not a Brand
    Affinity problem because that entry mentions campaigns and channels."""
    if u.goal != "Troubleshoot" or not found:
        return None
    question = _WHEN.sub(" ", question)
    terms = salient(retriever.bridge(question))
    words = named(retriever, retriever.bridge(question))  # without chance pairs such as 据不 in 数据不对
    found = [h for h in found if not (is_troubleshooting(h) and names_a_sibling(retriever, question, h))]
    if _LATE.search(question) and not _FAILING.search(question):
        return None  # "数仓的数据同步过来总是慢半小时": it arrives, late; no entry is about lateness
    if found and is_troubleshooting(found[0]) and names_entry(retriever, words, found[0]):
        return found[0]
    best_other = max((coverage(retriever, terms, h.text) for h in found[:3] if not is_troubleshooting(h)), default=0.0)
    for hit in found:
        if is_troubleshooting(hit) and hit.score >= ENTRY_SCORE_SHARE * found[0].score and names_entry(retriever, words, hit):
            if u.goal_said and names_title(retriever, words, hit):
                return hit
            entry = " ".join(h.text for h in retriever.section_hits(hit.section, hit.lang))
            fit = coverage(retriever, terms, entry + " " + hit.heading)
            if fit >= ENTRY_COVERAGE and fit >= best_other:
                return hit
    return None


# Data that arrives late is no failure to arrive.
_LATE = re.compile(r"\b(late|delayed|lag(s|ging)?|slow(ly)?|takes? (\d+|a few|several|like \d+) (min|minutes|hours?))\b|\d+\s*(-\s*\d+\s*)?(min|minutes) (after|later|behind)"
                   r"|慢|延迟|滞后|晚到|晚了|半小时|过了?\d+分钟", re.I)
_FAILING = re.compile(r"\b(fail\w*|errors?|never|nothing|no (data|rows|users)|zero|missing|stopped|not (arriving|showing|appearing|coming))\b"
                      r"|失败|报错|错误|没有数据|进不来|没进来|不进|一直没|都没|为空|缺失", re.I)


def says_more_than_its_title(retriever: Retriever, question: str, hit: Hit) -> bool:
    """The question holds a word of an entry's symptom, cause or fix beyond the product its
    title names ("push opens don't count toward brand affinity": push; not "brand affinity")."""
    title = salient(" ".join(h.heading.split(" > ")[-1] for h in (hit, retriever.chunk(hit.chunk.pair_id)) if h))
    entry = salient(" ".join(f"{h.text} {h.pair_text or ''}" for h in retriever.section_hits(hit.section, hit.lang)))
    return bool(held(known(retriever, salient(question), forms=True) - title, entry - title))


def names_title(retriever: Retriever, terms: set[str], hit: Hit) -> bool:
    """The question names the product an entry's title is about ("Smart Ingest" of "Smart
    Ingest sync failing")."""
    return _holds_rare(retriever, known(retriever, terms, forms=True), hit.heading.split(" > ")[-1], TITLE_WORD_WEIGHT)


def names_entry(retriever: Retriever, terms: set[str], hit: Hit) -> bool:
    """The question names what a troubleshooting entry is about: a word of its title or
    its text, in either language, that few sections use ("notifications", "Neutral",
    "BigQuery"). "活动数据不对" shares only 活动 and 数据, words every section uses, with
    the Brand Affinity entry: that complaint is too vague for any one entry."""
    entry = retriever.section_hits(hit.section, hit.lang)
    seen = known(retriever, terms, forms=True)
    title = [hit.heading.split(" > ")[-1]] + [f"{h.text} {h.pair_text or ''}" for h in entry if SYMPTOM.match(h.text.lstrip("- "))]
    rest = [f"{h.text} {h.pair_text or ''}" for h in entry if not SYMPTOM.match(h.text.lstrip("- "))]
    # A word of the title or symptom that few sections use names the problem; a word of
    # the cause or fix only when it is rare ("BigQuery", not "campaigns").
    return (_holds_rare(retriever, seen, " ".join(title), TITLE_WORD_WEIGHT)
            or _holds_rare(retriever, seen, " ".join(rest), ENTRY_WORD_WEIGHT))


def _holds_rare(retriever: Retriever, seen: set[str], text: str, weight: float) -> bool:
    """The text holds one of the question's words (in any form) at least this rare."""
    return any(retriever.idf(t) >= weight for t in held(seen, set(salient(text))))


def troubleshooting_lines(hit: Hit, question: str, retriever: Retriever, lang: Lang) -> tuple[list[str], list[Hit]]:
    """A troubleshooting entry for a symptom: its likely cause, then its checks as
    numbered steps — led by the check that fits the question best, when one does."""
    words = TEXT[lang]
    lines: list[str] = []
    steps: list[str] = []
    described: set[str] = set()
    entry = retriever.section_hits(hit.section, lang)
    for part in entry:
        pieces = split_steps(render_passage(part.chunk))
        if len(pieces) > 2:
            steps = [STEP_NUMBER.sub("", p) for p in pieces[1:]]
        elif SYMPTOM.match(pieces[0]):
            described = salient(pieces[0])
        else:
            lines.append(cite(pieces[0], part))
    if steps:
        # A check that shares a word with the symptom that no other check shares ("we
        # mapped a text column into a number" -> the data type check) goes first. Words
        # the entry's own symptom line or title uses ("…say they were sent", "notifications")
        # describe the problem, not which check fits.
        wanted = known(retriever, salient(retriever.bridge(question, readings=False))) - described - salient(hit.heading)
        shared = [wanted & salient(step) for step in steps]
        own = [sum(retriever.idf(t) for t in terms - set().union(*(shared[:i] + shared[i + 1:])))
               for i, terms in enumerate(shared)]
        best = max(range(len(steps)), key=lambda i: (own[i], -i))
        # No check stands out, or the first one does: the list's own order is the advice.
        if own[best] > 0 and best > 0:
            lines.append(words["start_with"].format(n=best + 1, step=steps[best]))
        lines += [f"{i}. {step}" for i, step in enumerate(steps, 1)]
    return lines, entry
