"""`sales-iterable eval`: load the cases, answer and grade them (evaluate.py), write
skill-creator's workspace (evalworkspace.py) and print the summary. Exit 0 at or above
--min-pass-rate, 1 below it, 2 for a bad case file, transcript or flag."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .cli import UsageError, clipped, settings_for


def run_eval(args: argparse.Namespace) -> int:
    import time as _time

    from . import evalcases, evalreport, evaluate, evalworkspace, judge
    from .backends import ConfigError
    from .safety import redact, redact_data, terminal_safe

    settings = settings_for(args)
    if args.replay and args.compare:
        raise UsageError("--compare needs fresh answers; it cannot be combined with --replay")
    if not 0 <= args.min_pass_rate <= 1:
        raise UsageError("--min-pass-rate is a fraction between 0 and 1, e.g. 0.8")
    paths = [Path(p) for p in args.cases] if args.cases else [settings.evals_dir]
    out = Path(args.out) if args.out else settings.data_dir / "eval-runs" / _time.strftime("%Y%m%d-%H%M%S")
    try:
        loaded, retrieval_cases = evalcases.load_case_files(paths)
        evalworkspace.prepare(out)  # refuse a busy --out before spending any time
    except evalcases.CaseFileError as exc:
        raise UsageError(str(exc)) from None
    # Prompts are clipped like ask's questions: a huge prompt costs memory, not insight.
    cases = [case.model_copy(update={"prompt": clipped(case.prompt, settings.max_query_chars,
                                                        f"case {str(case.id)[:80]!r}: prompt")})
             for _, _, case in loaded]
    skill_name = loaded[0].skill_name if loaded else "sales-iterable"
    from .retrieve import open_retriever

    retriever = open_retriever(settings)
    runs = []
    try:
        runs.append(evaluate.run_cases(cases, retriever, backend=args.backend, judge=args.judge,
                                       record=Path(args.record) if args.record else None,
                                       replay=Path(args.replay) if args.replay else None))
        if args.compare:
            runs.append(evaluate.run_cases(cases, retriever, backend=args.backend, use_retrieval=False))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except evalcases.CaseFileError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # a transcript that could not be written (--record)
        raise RuntimeError(f"cannot record the transcripts: {exc}") from None
    run = runs[0]
    retrieval = evaluate.score_retrieval(retriever, retrieval_cases) if retrieval_cases else None
    bench = evalreport.figures(run, retrieval)
    baseline = evalreport.figures(runs[1], None) if len(runs) > 1 else None
    extra = {**bench, "baseline": baseline}
    try:
        skill_creator = evalworkspace.write(
            out, runs, extra, evalreport.markdown_report(bench, run, baseline), skill_name,
            settings.skill_dir, judge_model=judge.judge_model() if args.judge else None)
    except OSError as exc:
        raise RuntimeError(f"cannot write the eval results to {out}: {exc}") from None
    o = bench["overall"]
    rate = o["pass_rate"] or 0.0
    if args.json:
        print(json.dumps(redact_data({**extra, "run_summary": skill_creator["run_summary"], "workspace": str(out),
                                      "report": str(out / "report.md")}), ensure_ascii=False))
        return 0 if rate >= args.min_pass_rate else 1
    lines = []
    if run.replayed_from:
        models = f" ({', '.join(run.models)})" if run.models else ""
        lines.append(f"replayed {len(run.results)} transcripts recorded with {run.backend}{models} "
                     f"from {run.replayed_from}; every digest verified")
    lines.append(f"pass rate {evalreport.pct(o['pass_rate'])} over {o['cases']} case{'' if o['cases'] == 1 else 's'} "
                 f"(mean of each case's passed/total, as skill-creator computes it; ungraded checks count as not passed)")
    lines.append(f"checks: {o['passed']} passed, {o['failed']} failed, {o['ungraded']} ungraded of {o['total']}")
    for family, s in bench["per_family"].items():
        lines.append(f"  {family:16s} {evalreport.pct(s['pass_rate']):>6s}  ({s['passed']}/{s['total']} checks, "
                     f"{s['cases']} cases)")
    if bench["routing_accuracy"] is not None:
        lines.append(f"routing accuracy {evalreport.pct(bench['routing_accuracy'])}")
    if baseline:
        delta = skill_creator["run_summary"]["delta"]["pass_rate"]
        lines.append(f"without retrieval: {evalreport.pct(baseline['overall']['pass_rate'])} (delta {delta})")
    lines.append(evalreport.usage_summary(bench["usage"]))
    for lang, m in (retrieval or {}).items():
        lines.append(f"retrieval {lang}: recall@5 {m['recall@5']:.2f}, MRR {m['mrr']:.2f} ({m['cases']} cases)")
    lines.append(f"workspace: {out} (skill-creator layout: benchmark.json, eval-*/; our figures in "
                 f"{evalworkspace.EXTRA})")
    lines.append(f"report: {out / 'report.md'}")
    print(terminal_safe(redact("\n".join(lines))))
    return 0 if rate >= args.min_pass_rate else 1
