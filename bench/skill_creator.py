"""Open our eval output with skill-creator's own tools and print what they say.

    python bench/skill_creator.py PATH/TO/skills/skill-creator [--cases FILE ...] [--keep DIR]

Runs `sales-iterable eval --compare --out WORKSPACE` (offline), then skill-creator's
`scripts/aggregate_benchmark.py WORKSPACE` (writing its own benchmark.json elsewhere, so
ours is kept) and `eval-viewer/generate_review.py WORKSPACE --static review.html`, prints
their output, and checks that they saw one run per case and configuration with our pass
rates and every case's answer. Nothing from skill-creator is copied into this repository:
point the script at a checkout of anthropics/skills.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("skill_creator", type=Path, help="the skills/skill-creator folder of an anthropics/skills checkout")
    parser.add_argument("--cases", nargs="+", default=[str(REPO / "evals" / "iterable.json")])
    parser.add_argument("--keep", type=Path, help="write everything here instead of a temporary folder")
    args = parser.parse_args()
    tool = args.skill_creator.resolve()
    base = args.keep or Path(tempfile.mkdtemp(prefix="skill-creator-bench-"))
    workspace, theirs, html = base / "workspace", base / "aggregated" / "benchmark.json", base / "review.html"
    theirs.parent.mkdir(parents=True, exist_ok=True)

    def run(label: str, cmd: list[str], cwd: Path | None = None) -> str:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        print(f"$ {label}\n{done.stdout}".rstrip() + "\n")
        if done.returncode:  # progress lines on stderr are noise unless something failed
            sys.exit(f"{done.stderr}\n{label} exited {done.returncode}")
        return done.stdout

    run("sales-iterable eval --compare", [sys.executable, "-m", "sales_iterable.cli", "eval", "--cases", *args.cases,
                                          "--compare", "--out", str(workspace)], cwd=REPO)
    run("aggregate_benchmark.py", [sys.executable, "-m", "scripts.aggregate_benchmark", str(workspace),
                                   "--skill-name", "sales-iterable", "-o", str(theirs)], cwd=tool)
    run("generate_review.py --static", [sys.executable, str(tool / "eval-viewer" / "generate_review.py"), str(workspace),
                                        "--skill-name", "sales-iterable", "--benchmark", str(workspace / "benchmark.json"),
                                        "--static", str(html)])

    ours = json.loads((workspace / "benchmark.json").read_text())
    aggregated = json.loads(theirs.read_text())
    rates = lambda b: {(r["eval_id"], r["configuration"]): r["result"]["pass_rate"] for r in b["runs"]}  # noqa: E731
    embedded = json.loads(re.search(r"const EMBEDDED_DATA = (.*?);\n", html.read_text()).group(1))
    answers = sum(any(o["name"] == "answer.md" and o["content"].strip() for o in r["outputs"]) for r in embedded["runs"])
    cases = len(ours["metadata"]["evals_run"])
    print(f"cases {cases}; aggregate_benchmark runs {len(aggregated['runs'])} "
          f"(per-run pass rates equal ours: {rates(aggregated) == rates(ours)}; "
          f"run_summary equal: {aggregated['run_summary'] == ours['run_summary']})")
    print(f"generate_review runs {len(embedded['runs'])}, with an answer shown: {answers}; "
          f"prompts found: {sum(r['prompt'] != '(No prompt found)' for r in embedded['runs'])}")
    print(f"files in {base}")
    ok = (rates(aggregated) == rates(ours) and len(aggregated["runs"]) == 2 * cases == answers
          and aggregated["run_summary"] == ours["run_summary"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
