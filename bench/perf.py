"""Wall-clock figures for the CLI as a user runs it: full index build, cold `search`
with the index built, and the peak memory of that `search` process.

    python bench/perf.py [--embedder use] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = str(Path(sys.executable).with_name("sales-iterable"))
MEASURE_CHILD = (
    "import resource, subprocess, sys, json\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "print(json.dumps({'rc': r.returncode, 'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
)


def timed(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="use")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="si-perf-"))
    env = {**os.environ, "SALES_ITERABLE_DATA_DIR": str(data), "SALES_ITERABLE_EMBEDDER": args.embedder}
    build = timed([COMMAND, "index", "--rebuild"], env)
    builds = [build] + [timed([COMMAND, "index", "--rebuild"], env) for _ in range(2)]
    print(f"embedder {args.embedder}: full index build (process wall) median {statistics.median(builds):.1f} s "
          f"over {len(builds)} runs")
    for query in ("How do I build a welcome journey in Studio?", "苹果手机收不到推送怎么办"):
        walls = [timed([COMMAND, "search", query], env) for _ in range(args.runs)]
        print(f"cold `search {query!r}`: median {statistics.median(walls):.2f} s, max {max(walls):.2f} s")
    measured = subprocess.run([sys.executable, "-c", MEASURE_CHILD, COMMAND, "search", "welcome journey"],
                              env=env, capture_output=True, text=True)
    peak = json.loads(measured.stdout)
    print(f"peak memory of one `search` process: {peak['maxrss_kb'] / 1024:.0f} MiB (max RSS)")
    help_wall = [timed([COMMAND, "--help"], env) for _ in range(args.runs)]
    print(f"`--help`: median {statistics.median(help_wall) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
