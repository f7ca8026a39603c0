"""Answer quality of the offline backend on the question set (evals/questions/): the tune
half, the second tune set written blind (tune-extra) and the frozen held-out half side by
side: answer-first rate (an expected fact in the first two lines), and the pass rate of
each check per question kind.

    python bench/answers.py                 # every set, aggregate figures
    python bench/answers.py --show tune     # also every failing tune check, to work on
    python bench/answers.py --tune-only     # the tune sets alone (tune, tune-extra, tune-c … tune-h), while choosing

The held-out halves (holdout, holdout-c … holdout-h) are only ever reported in aggregate: `--show` of
one is refused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sales_iterable.backends.offline import compose
from sales_iterable.config import Settings
from sales_iterable.corpus import instruction_texts, load_sections
from sales_iterable.grading import in_language
from sales_iterable.policy import question_text
from sales_iterable.retrieve import open_retriever

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "evals" / "questions"
# tune-extra: a second tune set written blind; tune-c / holdout-c … tune-h / holdout-h: sets C to H,
# each split before tuning
SPLITS = ("tune", "tune-extra", "tune-c", "tune-d", "tune-e", "tune-f", "tune-g", "tune-h", "holdout", "holdout-c", "holdout-d", "holdout-e", "holdout-f", "holdout-g", "holdout-h")
HELD_OUT = frozenset({"holdout", "holdout-c", "holdout-d", "holdout-e", "holdout-f", "holdout-g", "holdout-h"})
KINDS = ("direct", "two-section", "symptom", "vague", "other-tool", "not-in-reference", "follow-up", "mixed-language", "yes-no")
# The first words of a yes or a no, in either language ("Yes, with a condition —" is a yes).
YES = re.compile(r"^(Yes\b|是的|可以)")
NO = re.compile(r"^(No\b|Not\b|不行|不能|不可以|不需要|不用|不是|没有)")
# The first line of an honest gap, in either language.
GAP = re.compile(r"does not (give|say|mention|list|cover|state|answer)|doesn't (give|say|mention)|no (figure|number|price|limit|endpoint)"
                 r"|参考资料(中)?(没有|未|并未)|没有(给出|提到|说明|列出|直接回答)", re.I)
NOT_FOUND = re.compile(r"could not find|没有找到", re.I)
NO_HISTORY = re.compile(r"no earlier question|没有(之前|上一个|前面)的问题", re.I)
# The slot each of the policy's clarifying questions asks about (said: role/channel, goal, area).
ASKS = {"role": ("role", "channel"), "goal": ("goal",), "area": ("area",)}


def load(split: str) -> list[dict]:
    return json.loads((QUESTIONS / f"{split}.json").read_text(encoding="utf-8"))["questions"]


def _asked_slots(questions: list[str], lang: str) -> set[str]:
    texts = {key: question_text(key, lang) for key in ASKS}
    return {key for key, text in texts.items() if text in questions}


@dataclass
class Result:
    qid: str
    kind: str
    checks: dict[str, bool] = field(default_factory=dict)
    answer_first: bool | None = None


def grade(q: dict, retriever, meta: list[str]) -> tuple[Result, str]:
    history = q.get("history") or []
    answer = compose(q["question"], retriever, history=history)
    text = "\n".join([answer.answer, *answer.assumptions, *answer.clarifying_questions])
    lines = [line for line in answer.answer.splitlines() if line.strip()]
    head = "\n".join(lines[:2]).lower()
    r = Result(q["id"], q["kind"])
    r.checks["language"] = answer.language == q["language"] and in_language(answer.answer, q["language"])
    if q.get("facts"):
        r.answer_first = any(f.lower() in head for f in q["facts"])
        r.checks["answer-first"] = r.answer_first
    if q.get("yes") is not None:
        r.checks["yes-no"] = bool(lines) and bool((YES if q["yes"] else NO).search(lines[0]))
    if q.get("facts_all"):
        r.checks["facts-all"] = all(f.lower() in text.lower() for f in q["facts_all"])
    if q.get("route") or q["kind"] == "other-tool":
        r.checks["route"] = (answer.route.skill if answer.route else None) == q.get("route")
    elif answer.route is not None:
        r.checks["no-route"] = False
    if q.get("gap"):
        r.checks["gap-first"] = bool(lines) and bool(GAP.search(lines[0]))
    if q.get("forbid"):
        r.checks["no-invention"] = not any(f.lower() in text.lower() for f in q["forbid"])
    said = set(q.get("said") or {})
    asked = _asked_slots(answer.clarifying_questions, answer.language)
    r.checks["questions"] = len(answer.clarifying_questions) <= 2 and not any(
        said & set(ASKS[slot]) for slot in asked)
    if q["kind"] == "vague":
        r.checks["vague-helps"] = bool(answer.assumptions) and not NOT_FOUND.search(answer.answer)
    r.checks["no-meta"] = not any(m[:40] in text for m in meta)
    if history:
        alone = compose(q["question"], retriever)
        r.checks["no-history-note"] = bool(NO_HISTORY.search(alone.answer))
    return r, answer.answer


def report(split: str, results: list[Result]) -> None:
    first = [r.answer_first for r in results if r.answer_first is not None]
    print(f"\n## {split}: {len(results)} questions; answer-first {sum(first) / len(first):.2f} ({sum(first)}/{len(first)})")
    per_kind: dict[str, list[bool]] = defaultdict(list)
    per_check: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        per_kind[r.kind] += r.checks.values()
        for name, ok in r.checks.items():
            per_check[name].append(ok)
    print("  kind               checks  pass  answer-first")
    for kind in KINDS:
        oks = per_kind.get(kind, [])
        firsts = [r.answer_first for r in results if r.kind == kind and r.answer_first is not None]
        af = f"{sum(firsts) / len(firsts):.2f} ({sum(firsts)}/{len(firsts)})" if firsts else "-"
        if oks:
            print(f"  {kind:18s} {len(oks):6d}  {sum(oks) / len(oks):.2f}  {af}")
    every = [ok for oks in per_kind.values() for ok in oks]
    print(f"  {'all':18s} {len(every):6d}  {sum(every) / len(every):.2f}")
    print("  by check: " + ", ".join(f"{n} {sum(v) / len(v):.2f} ({len(v)})" for n, v in sorted(per_check.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", choices=SPLITS, help="print the failing checks of this half (tune only)")
    parser.add_argument("--data-dir", type=Path, help="an index to reuse (default: a fresh temporary one)")
    parser.add_argument("--tune-only", action="store_true", help="score the tune sets alone (what to look at while choosing)")
    args = parser.parse_args()
    if args.show in HELD_OUT:
        print("the held-out half is reported only in aggregate; tune on the tune half", file=sys.stderr)
        return 2
    settings = Settings(data_dir=args.data_dir or Path(tempfile.mkdtemp(prefix="si-answers-")))
    retriever = open_retriever(settings, progress=lambda m: None)
    meta = instruction_texts(load_sections(settings.corpus_dir))
    for split in SPLITS:
        if args.tune_only and split in HELD_OUT:
            continue
        results = []
        for q in load(split):
            r, answer = grade(q, retriever, meta)
            results.append(r)
            failed = [name for name, ok in r.checks.items() if not ok]
            if args.show == split and failed:
                print(f"--- {q['id']} FAILED {failed}: {q['question']}  (history {q.get('history')})")
                print("    " + answer.replace("\n", "\n    "))
        report(split, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
