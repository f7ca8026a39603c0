"""`sales-iterable chat` as a person meets it, in a pseudo-terminal: time from start to
the prompt (index already built) and from the first question to its answer.

    python bench/chat.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

COMMAND = str(Path(sys.executable).with_name("sales-iterable"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="si-chat-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update({"SALES_ITERABLE_DATA_DIR": str(data), "TERM": "dumb"})
    subprocess.run([COMMAND, "index"], env=env, check=True, capture_output=True)
    to_prompt, to_answer = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        child = pexpect.spawn(COMMAND, ["chat"], env=env, encoding="utf-8", timeout=60)
        child.expect("› ")
        to_prompt.append(time.perf_counter() - started)
        started = time.perf_counter()
        child.sendline("How do I build a welcome journey in Studio?")
        child.expect("Sources")
        to_answer.append(time.perf_counter() - started)
        # Ctrl-D only once the next prompt reads input: typed ahead while the answer is
        # still being drawn, it can be dropped when the line editor takes the terminal.
        child.expect("› ")
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    print(f"chat start to prompt: median {statistics.median(to_prompt):.2f} s, max {max(to_prompt):.2f} s")
    print(f"first offline answer after the prompt: median {statistics.median(to_answer) * 1000:.0f} ms, "
          f"max {max(to_answer) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
