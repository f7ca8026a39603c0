"""Names in a question that the reference never uses (GraphQL, SLA, LINE, 微信…): said so, never guessed at."""

from __future__ import annotations

import re

from ...language import HAN_CHARS
from ...lexical import lexical_tokens
from ...retrieve import Retriever
from ...understand import COMPETITORS
from .terms import GENERIC, ZH_FRAME


def unknown_terms(question: str, retriever: Retriever) -> list[str]:
    """Names in the question the reference never uses (GraphQL, SLA, LINE, 微信…): Latin
    words with a capital that does not merely start the sentence, or with digits inside;
    Han words that appear nowhere in the reference and sit where a product, channel or
    data source is named."""
    aliases = {alias.lower() for alias, _ in retriever.glossary}
    out: list[str] = []
    # Platforms with a skill of their own are routed, not reported missing.
    routed = re.compile("|".join(rf"\b{pattern}\b" for _, pattern in COMPETITORS.values()), re.I)
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9.+-]{1,}", question):
        word = match.group().rstrip(".")
        if routed.fullmatch(word) or word.lower() in _CALENDAR:
            continue
        # A capital that starts a sentence ("… opt out on our side. Annoying.") names nothing.
        starts_sentence = bool(re.search(r"(^|[.!?\u3002\uff01\uff1f])\s*$", question[: match.start()]))
        name_like = any(c.isupper() for c in word[1:]) or (word[0].isupper() and not starts_sentence)
        if not name_like:
            continue
        # "SOC 2", "ISO 27001": the number is part of the name (alone it would match "2-5%")
        number = re.match(r"\s+\d+\b", question[match.end():])
        name = word + number.group() if number else word
        if word.isupper() and len(word) >= 3 and word not in retriever.reference_text:
            out.append(name)  # LINE is not "line": an all-capitals name the reference never writes
            continue
        tokens = [t for t in lexical_tokens(word) if t not in GENERIC]
        if tokens and word.lower() not in aliases and not any(retriever.knows(t) for t in tokens):
            if name not in out:
                out.append(name)
    for name in list(out):
        # "LINE or telegram": a word typed in lower case beside an unknown name is one too,
        # when the reference never uses it in any form.
        for other in re.findall(rf"(?:{re.escape(name)})\s*(?:or|and|/|,)\s*([a-z][a-z0-9-]{{2,}})\b"
                                rf"|\b([a-z][a-z0-9-]{{2,}})\s*(?:or|and|/|,)\s*(?:{re.escape(name)})", question):
            word = other[0] or other[1]
            if word not in GENERIC and word not in aliases and retriever.kin(word) is None and word not in out:
                out.append(word)
    for term, verb in _zh_names(question):
        if verb and retriever.knows(verb[-1] + term[0]):
            continue  # the "verb" begins a word: in "给用户发微信消息" 用 is not the verb, 发 is
        if set(term) & _ASKING_CHARS:
            continue  # "数据接入咋弄": 入咋弄 is the way of asking, not a name
        if term not in out and term not in aliases and not any(term in a for a in aliases):
            if all(not retriever.knows(term[i:i + 2]) for i in range(len(term) - 1)):
                out.append(term)
    return out


# Han words that name a product, channel or data source: the object of "发/接/用/支持" in
# a question (every start is tried: in "给用户发微信消息" the 用 of 用户 is no verb, the 发
# is), or the word right before a channel/platform noun.
_ZH_VERB_NAME = re.compile(
    rf"(?=(发|接|用|支持|对接|接入|集成|连|或者|还是)([{HAN_CHARS}]{{2,4}}?)(?:消息|渠道|平台|吗|呢|[??、]|$|\s*(?:或者|或|还是|和|跟)))")
# A place before a data center or server ("中国大陆的数据中心") is named the same way.
_ZH_NOUN_NAME = re.compile(rf"([{HAN_CHARS}]{{0,3}}(?:小程序|公众号))|([{HAN_CHARS}]{{2,3}})(?:渠道|平台)"
                           rf"|([{HAN_CHARS}]{{2,4}})的?(?:数据中心|机房|服务器|节点)")


_ZH_VERBS = "发接用连"
_ZH_NEGATIONS = "没不未无别"
_ASKING_CHARS = frozenset("咋弄搞怎么啥吗呢吧嘛")
# Capitalised, but days, months and interjections ("OK, so…") name no feature.
_CALENDAR = frozenset("monday tuesday wednesday thursday friday saturday sunday january february march april may "
                      "june july august september october november december ok okay hi hello hey thanks".split())
_ZH_QUESTION_WORDS = ("什么", "哪个", "哪些", "怎么", "多少", "如何", "为什么")
_ZH_LEADING = "给向往在用对跟和与把从者或及"  # prepositions and conjunctions that stick to a name
# A verb the noun pattern swept in ("支持小程序" is 小程序), and a count before a noun
# ("发一封", "两条短信"): neither is part of a name.
_ZH_VERB_PREFIX = re.compile(r"^(支持|对接|接入|集成|使用|开通|发|接|用|连)")
_ZH_COUNT = re.compile(r"^[一二两三四五六七八九十几每这那某各][个条封次份张种位家款篇]?")


def _zh_names(question: str) -> list[tuple[str, str]]:
    """Candidate names, each with the verb before it (to tell a verb from the first
    character of a word)."""
    candidates = [(m.group(2), m.group(1)) for m in _ZH_VERB_NAME.finditer(question)]
    # a place is what follows 有/在 ("项目在欧洲数据中心" names 欧洲)
    candidates += [((m.group(1) or m.group(2) or re.split("[有在]", m.group(3))[-1]), "") for m in _ZH_NOUN_NAME.finditer(question)]
    found: list[tuple[str, str]] = []
    for term, verb in candidates:
        term = _ZH_COUNT.sub("", _ZH_VERB_PREFIX.sub("", term.lstrip(_ZH_LEADING)))
        if not term or term[-1] in _ZH_VERBS:
            continue  # "接口发" split wrongly: a name does not end in the verb that follows it
        if term[0] in _ZH_NEGATIONS:
            continue  # "标签还是没变化": 还是 is "still" there, and a name does not start with a "not"
        if len(term) >= 2 and term not in [t for t, _ in found] and not (set(term) & ZH_FRAME) and term not in _ZH_QUESTION_WORDS:
            found.append((term, verb))
    # "支持钉钉渠道" also yields "持钉钉": a candidate that another one ends is that one, mis-cut.
    return [(t, v) for t, v in found if not any(o != t and t.endswith(o) for o, _ in found)]
