"""The two languages, telling which one a text is in, and matching words in either.

One detector for every caller (retrieval, the composers, the eval's language check) and
one word matcher (context cues, routing cues, the glossary bridge), so a question is read
the same way everywhere.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, NamedTuple

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, Lang] = ("en", "zh")

HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK unified ideographs, extension A, compatibility
HAN = re.compile(f"[{HAN_CHARS}]")
HAN_RUN = re.compile(f"[{HAN_CHARS}]+")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


# Full-width punctuation as Chinese keyboards type it (？，：；！（）) and full-width Latin
# letters and digits, folded to their plain forms: every pattern that reads a question is
# written once, with plain punctuation. "。" and "、" have no plain form and stay.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def plain_punctuation(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def other(lang: Lang) -> Lang:
    return "zh" if lang == "en" else "en"


def has_han(text: str) -> bool:
    return bool(HAN.search(text))


def han_count(text: str) -> int:
    return len(HAN.findall(text))


# Words that build a sentence rather than name a thing. A question mixing the two
# languages is asked in the language of its frame: "STO 和 Frequency Optimization 哪个先开?"
# is Chinese, "What's the endpoint for 批量更新用户?" is English with a Chinese term in it.
_ZH_FRAME = re.compile(r"[吗呢吧啊么嘛的了是有和跟与在能会要把被给让还就都也这那哪啥谁我你他她们请怎如何什为没不可该需想]")
_EN_FRAME = frozenset(
    "the a an is are was were be do does did how what which where when why who can could should would will "
    "to of in on for with my our we i you your me us it this that there their and or if not don't doesn't "
    "isn't what's how's where's there's".split()
)
_OTHER_SCRIPT = re.compile(r"[\u3040-\u30ff\uac00-\ud7af\u0400-\u04ff\u0600-\u06ff\u0590-\u05ff\u0e00-\u0e7f\u0900-\u097f]")
# Frequent function words of languages written in Latin script that are not English.
_OTHER_LATIN = frozenset(
    "el los las una por para cómo como qué que está son del "
    "le les des une est pour avec comment quoi dans "
    "der die das und ist nicht wie ich ein eine mit "
    "o os um uma não você como está".split()
)
_ENGLISH = frozenset("the a an is are how do does what why to in of for and can i my with on".split())


class Detected(NamedTuple):
    lang: Lang  # the language to answer in
    foreign: bool  # the text is in neither language (answered in English, with a note)


_SLASHED_LETTERS = re.compile(r"(?<![A-Za-z])[A-Za-z](/[A-Za-z])+(?![A-Za-z])")


def _frame_language(text: str) -> Lang:
    """Chinese when the text has Han characters and its sentence frame is Chinese (English
    words in it are then names), English otherwise."""
    if not has_han(text):
        return "en"
    # "A/B测试": the A of A/B is a name, not the article
    words = [w.lower() for w in LATIN_WORD.findall(_SLASHED_LETTERS.sub(" ", text))]
    en_frame = sum(w in _EN_FRAME for w in words)
    if not en_frame:
        return "zh"
    return "zh" if len(_ZH_FRAME.findall(text)) >= en_frame else "en"


def detect_language(text: str) -> Detected:
    """The language `text` is written in. Japanese, Korean, Cyrillic and other scripts, or
    Latin text dominated by Spanish/French/German/Portuguese function words, are `foreign`
    and answered in English."""
    words = [w.lower() for w in LATIN_WORD.findall(text)]
    other_script = len(_OTHER_SCRIPT.findall(text))
    if other_script and other_script >= (len(words) + han_count(text)) / 4:  # kana, hangul, Cyrillic...
        return Detected("en", True)
    if _frame_language(text) == "zh":
        return Detected("zh", False)
    foreign = sum(w in _OTHER_LATIN for w in words)
    english = sum(w in _ENGLISH for w in words)
    return Detected("en", foreign >= 2 and foreign > english)


# --- matching words ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def word_pattern(word: str, plural: bool = False, glued: bool = False) -> re.Pattern[str]:
    """A pattern for `word` in lower-cased text: Chinese as a substring (it has no spaces),
    Latin on word boundaries, so "EU" never fires inside "queue"; `plural` also takes -s/-es.
    With `glued`, a Latin word written against other letters ("iphone收不到") is not a
    separate word either, Chinese ones included: the glossary bridge reads it so (its
    entries were chosen that way), the context cues do not."""
    word = word.lower()
    if has_han(word):
        return re.compile(re.escape(word))
    edge = r"\w" if glued else "a-z0-9"
    ending = "(?:s|es)?" if plural else ""
    return re.compile(rf"(?<![{edge}]){re.escape(word)}{ending}(?![{edge}])")


def contains_word(text: str, word: str) -> bool:
    """`word` in lower-cased `text` (see `word_pattern`)."""
    if has_han(word):
        return word in text
    return word_pattern(word).search(text) is not None


def any_word(text: str, words: tuple[str, ...]) -> bool:
    return any(contains_word(text, w) for w in words)
