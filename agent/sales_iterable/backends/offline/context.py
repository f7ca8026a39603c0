"""What an offline answer assumes about context the question did not give, and the at most
two clarifying questions whose answer would change it."""

from __future__ import annotations

import re

from ...language import Lang
from ...policy import question_text
from ...retrieve import Hit
from ...understand import COMPETITORS, Understanding
from .passages import CHECKLIST, is_troubleshooting
from .wording import TEXT

# Characters: a longer symptom already says what is seen (a Chinese character says about
# as much as three English letters).
DETAILED_SYMPTOM = {"en": 60, "zh": 20}


def _short_complaint(u: Understanding, question: str, lang: Lang) -> bool:
    """A stated symptom too short to say what is seen or how it is set up."""
    return u.complains and len(question) <= DETAILED_SYMPTOM[lang]


def stated_assumptions(u: Understanding, lang: Lang, other_language: bool, used: list[Hit], vague: bool,
                 routed_only: bool, role_asked: bool = False, area_named: bool = False,
                 question: str = "") -> list[str]:
    """State what the answer assumed about context the question did not give, and only
    that: never against what it says, nor what a clarifying question asks (`role_asked`),
    nor the part of the reference it names itself (`area_named`: "定价" is about pricing)."""
    words = TEXT[lang]
    out: list[str] = []
    if other_language and words["assume_other_language"]:
        out.append(words["assume_other_language"])
    if routed_only:
        if u.route not in COMPETITORS:  # a question about Braze is not a wish for "general guidance"
            out.append(words["assume_routed"])
        return out
    if not used:
        return out
    lead = used[0].text
    # UI or API matters to how something is set up; "how often does Smart Ingest sync?"
    # is answered the same either way.
    if u.goal == "Set up" and u.role is None and u.channel is None and not role_asked:
        if "/api/" in lead or "https://" in lead:
            out.append(words["assume_api"])
        elif re.search(r"\S > \S", lead):
            out.append(words["assume_ui"])
    if vague:
        # the area it names needs no guessing; how much of it is wanted does
        overview = area_named and not is_troubleshooting(used[0])  # "push is broken" -> the iOS entry is a guess
        # the area is what a passage is about; the checklist only says when to get to it
        area = next((h for h in used if h.section != CHECKLIST), used[0])
        out.append(words["assume_overview" if overview else "assume_area"].format(topic=area.heading.split(" > ")[-1]))
    if _short_complaint(u, question, lang) and not is_troubleshooting(used[0]):
        # A short stated symptom with no entry for it: say what was taken for granted (a
        # detailed one already says it is set up and misbehaving). A goal the
        # examples merely guessed is not worth an assumption: planning, does-it-exist and
        # bare-topic questions read alike.
        out.append(words["assume_troubleshoot"])
    return out


def asked_questions(u: Understanding, question: str, lang: Lang, used: list[Hit], vague: bool, found: list[Hit],
                    follows_nothing: bool = False) -> list[str]:
    """At most two, only those whose answer would change what was said, never about what
    the question already says. `follows_nothing`: a follow-up asked with no earlier
    question ("and for Android?", "那web push呢?"): what it follows decides the answer."""
    if follows_nothing:
        return [question_text("follows", lang)]
    if not used:
        return [question_text("area", lang)] if u.route is None else []
    if all(h.section == "pricing" for h in used[:2]):
        return []  # a price needs no area, role or goal
    wanted: list[str] = []
    if _short_complaint(u, question, lang) and not re.search(r"\d", question):
        wanted.append("details")  # a bare complaint: what is seen decides the cause
    if vague and u.goal is None:
        wanted.append("goal")
    texts = " ".join(h.text for h in found[:5])
    both_ways = "/api/" in texts and bool(re.search(r"\S > \S|dashboard|控制台", texts))
    if (vague or u.goal == "Set up") and u.role is None and u.channel is None and both_ways:
        wanted.append("role")  # the UI and the API answers differ
    return [question_text(key, lang) for key in wanted[:2]]
