"""The offline backend: composes a grounded answer from retrieved passages, with no
network and no model. Deterministic.

Everything factual in its answer is a retrieved passage, reformatted; the only other
text is the policy's own fixed sentences (openings, assumptions, questions, the handoff).
So every endpoint, number and product name it prints appears in its sources.
"""

from __future__ import annotations

import re

from ..corpus import has_cjk
from ..index import lexical_tokens
from ..policy import (
    Answer,
    Lang,
    Route,
    Source,
    assumptions_for,
    clarifying_questions,
    detect_language,
    infer_context,
    is_dated,
    strip_invocation,
    question_text,
)
from ..retrieve import Hit, Retriever
from ..routing import Handoff, decide_route, handoff

SEARCH_K = 8
MAX_PASSAGES = 10
TOPIC_SECTIONS = 2
# The best section is shown whole (in document order) when it is this small: a setup or
# troubleshooting answer reads better as the section's own sequence than as scattered hits.
WHOLE_SECTION = 8
# A passage counts as relevant when its embedding is clearly close, or fairly close and it
# shares a specific word with the question (measured on in- and off-topic questions).
DENSE_CLEAR = 0.30
DENSE_WITH_OVERLAP = 0.15
# Words too common in questions about Iterable to show that a passage is on topic.
_GENERIC = frozenset(
    "iterable set setup configure create make build use work get help need find way question know "
    "possible support supported show tell explain thing".split()
)

_TEXT = {
    "en": {
        "Set up": "Here is how to set this up in Iterable, from the reference:",
        "Troubleshoot": "Likely causes and what to check, from the reference:",
        "Optimize": "What the reference offers for improving this:",
        "Understand": "What the reference says:",
        "none": "I could not find this in the Iterable reference I have, so I will not guess at an answer.",
        "unknown": "The reference does not mention {terms}, so I cannot confirm how Iterable handles {it}.",
        "route_only": "This is a general question rather than Iterable configuration, so another skill fits better: {skill} ({reason}).",
        "route_mixed": "The general-strategy part of your question is better served by {skill} ({reason}).",
        "installed": "It is installed ({location}): {description} Run: {skill} <your question>",
        "install": "Install it with: {command}",
        "dated": "Pricing is as of March 2026: verify current pricing with Iterable sales.",
        "routed_assumption": "You want general guidance that is not specific to Iterable's configuration.",
    },
    "zh": {
        "Set up": "以下是在Iterable中的搭建方法(来自参考资料):",
        "Troubleshoot": "可能的原因和排查步骤(来自参考资料):",
        "Optimize": "参考资料中可用于优化的内容:",
        "Understand": "参考资料中的相关说明:",
        "none": "我在现有的Iterable参考资料中没有找到相关内容,因此不做猜测。",
        "unknown": "参考资料中没有提到 {terms},因此无法确认Iterable对{it}的支持情况。",
        "route_only": "这属于通用问题而非Iterable配置,更适合使用其他技能:{skill}({reason})。",
        "route_mixed": "问题中通用策略的部分更适合交给 {skill}({reason})。",
        "installed": "该技能已安装({location}):{description} 使用方式:{skill} <你的问题>",
        "install": "安装命令:{command}",
        "dated": "价格为2026年3月的信息,请以Iterable销售的最新报价为准。",
        "routed_assumption": "你需要的是不局限于Iterable配置的通用建议。",
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


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def render_passage(text: str) -> list[str]:
    """A passage as plain lines: table rows as 'Label: field; field', bullets unwrapped."""
    lines = text.splitlines()
    if len(lines) == 3 and lines[0].startswith("|"):
        header, cells = _cells(lines[0]), _cells(lines[2])
        if len(cells) == 2:
            return [f"{cells[0]}: {cells[1]}"]
        return [f"{cells[0]}: " + "; ".join(f"{h}: {c}" for h, c in zip(header[1:], cells[1:]))]
    return [line[2:] if line.startswith("- ") else line for line in lines if line.strip()]


def _split_steps(line: str) -> list[str]:
    """'Solution: 1) Check A. 2) Verify B.' -> ['Solution:', '1) Check A.', '2) Verify B.']"""
    parts = [p.strip() for p in re.split(r"\s*(?=(?<![0-9])[1-9]\))", line) if p.strip()]
    return parts if len(parts) > 2 else [line]


def _salient(tokens: list[str]) -> set[str]:
    return {t for t in tokens if t not in _GENERIC and (len(t) >= 3 or (has_cjk(t) and len(t) == 2))}


def relevant(hits: list[Hit], question: str) -> list[Hit]:
    wanted = _salient(lexical_tokens(question))
    keep = []
    for hit in hits:
        overlap = wanted & set(lexical_tokens(hit.text + " " + (hit.pair_text or "") + " " + hit.heading))
        if hit.dense_score >= DENSE_CLEAR or (hit.dense_score >= DENSE_WITH_OVERLAP and overlap):
            keep.append(hit)
    return keep


def select_passages(hits: list[Hit], retriever: Retriever, lang: Lang, troubleshooting: bool = False) -> list[Hit]:
    """Up to two sections the question is really about, each whole when it is a small list
    (a section's own sequence reads better than scattered hits), then the other relevant
    hits by rank.
    A section qualifies when it holds one of the top two hits or at least two of the hits."""
    if not hits:
        return []
    count: dict[str, int] = {}
    for hit in hits:
        count[hit.section] = count.get(hit.section, 0) + 1
    ranked = sorted(count, key=lambda s: (-count[s], next(i for i, h in enumerate(hits) if h.section == s)))
    leaders = {h.section for h in hits[:2]}
    topics = [s for s in ranked if count[s] >= 2 or s in leaders][:TOPIC_SECTIONS]
    if troubleshooting:  # a symptom question reads the troubleshooting entry first
        in_troubleshooting = {h.section for h in hits if "troubleshooting" in h.section_path}
        topics.sort(key=lambda s: s not in in_troubleshooting)
    chosen: list[Hit] = []
    for section in topics:
        whole = retriever.section_hits(section, lang)
        # Table rows are separate items (one channel, one endpoint): only their hits belong.
        expand = len(whole) <= WHOLE_SECTION and not any(h.text.startswith("|") for h in whole)
        chosen += whole if expand else [h for h in hits if h.section == section]
    seen = {h.id for h in chosen}
    chosen += [h for h in hits if h.id not in seen]
    return chosen[:MAX_PASSAGES]


def unknown_terms(question: str, retriever: Retriever) -> list[str]:
    """Names in the question the reference never uses (GraphQL, SLA, Line...): words with
    a capital letter that does not merely start the sentence, or with digits inside."""
    vocabulary = retriever.index.lexical.postings
    aliases = {alias.lower() for alias, _ in retriever.glossary}
    out = []
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9.+-]{1,}", question):
        word = match.group().rstrip(".")
        name_like = any(c.isupper() for c in word[1:]) or (word[0].isupper() and match.start() > 0)
        if not name_like:
            continue
        tokens = [t for t in lexical_tokens(word) if t not in _GENERIC]
        if tokens and word.lower() not in aliases and not any(t in vocabulary for t in tokens):
            if word not in out:
                out.append(word)
    return out


def _handoff_lines(route: Route, lang: Lang, mixed: bool, hand: Handoff) -> list[str]:
    words = _TEXT[lang]
    reason = _ROUTE_REASON_ZH.get(route.skill, route.reason) if lang == "zh" else route.reason
    lines = [words["route_mixed" if mixed else "route_only"].format(skill=route.skill, reason=reason)]
    if hand.installed:
        lines.append(words["installed"].format(location=hand.location, description=hand.description or "", skill=route.skill))
    else:
        lines.append(words["install"].format(command=hand.install_command))
    return lines


def compose(question: str, retriever: Retriever, lang_override: Lang | None = None,
            history: list[str] | None = None) -> Answer:
    question = strip_invocation(question)
    if history:
        question = f"{question} ({history[-1]})"
    lang, other_language = detect_language(question)
    lang = lang_override or lang
    words = _TEXT[lang]
    ctx = infer_context(question)
    route, iterable_part = decide_route(question)

    found = relevant(retriever.search(question, k=SEARCH_K, lang=lang), question) if iterable_part else []
    hits = select_passages(found, retriever, lang, troubleshooting=ctx.goal == "Troubleshoot")
    unknown = unknown_terms(question, retriever) if iterable_part else []
    body: list[str] = []
    if hits:
        body.append(words[ctx.goal or "Understand"])
        n = 0
        for hit in hits:
            for line in render_passage(hit.text):
                if ctx.goal == "Set up":
                    n += 1
                    body.append(f"{n}. {line} [{hit.section}]")
                    continue
                first, *steps = _split_steps(line)  # troubleshooting: "Solution: 1) … 2) …"
                body.append(f"- {first} [{hit.section}]")
                body.extend(f"   {step}" for step in steps)
    elif iterable_part and route is None:
        body.append(words["none"])
    if unknown:
        it = unknown[0] if len(unknown) == 1 else ("them" if lang == "en" else "这些")
        body.append(words["unknown"].format(terms=", ".join(unknown), it=it))
    uses_pricing = any(h.section == "pricing" or is_dated(h.text) for h in hits)
    if uses_pricing:
        body.append(words["dated"])
    if route is not None:
        body.extend(_handoff_lines(route, lang, bool(hits), handoff(route.skill, route.reason)))

    if hits:
        assumptions = assumptions_for(ctx, question, lang, uses_pricing, other_language)
    else:
        assumptions = assumptions_for(ctx, question, lang, False, other_language)[:1] if other_language else []
        if route is not None:
            assumptions.append(words["routed_assumption"])
    if hits:
        questions = clarifying_questions(ctx, lang, found=True, about_pricing=uses_pricing)
    elif route is None:
        questions = [question_text("area", lang)]  # nothing found: the one that helps most
    else:
        questions = []
    return Answer(
        answer="\n".join(body),
        assumptions=assumptions,
        clarifying_questions=questions,
        route=route,
        sources=[Source(id=h.id, section=h.section) for h in hits],
        language=lang,
        backend="offline",
    )

