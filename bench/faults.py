"""The fault suite: every test marked `@pytest.mark.fault(kind)` is one probe (an index
fault, a Chroma server fault, an API fault against the local stub, hostile input). Runs
them and prints, per kind, probes and how many survived.

    python bench/faults.py            # all probes
    python bench/faults.py -k chroma  # extra pytest arguments pass through
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


class Tally:
    def __init__(self) -> None:
        self.kind: dict[str, str] = {}
        self.probes: Counter[str] = Counter()
        self.failed: dict[str, list[str]] = {}
        self.slowest: tuple[float, str] = (0.0, "")

    def pytest_collection_modifyitems(self, items) -> None:
        for item in items:
            marker = item.get_closest_marker("fault")
            self.kind[item.nodeid] = marker.args[0] if marker and marker.args else "unlabelled"

    def pytest_runtest_logreport(self, report) -> None:
        kind = self.kind.get(report.nodeid, "unlabelled")
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.probes[kind] += 1
            if report.failed:
                self.failed.setdefault(kind, []).append(report.nodeid)
            self.slowest = max(self.slowest, (report.duration, report.nodeid))


def main(argv: list[str]) -> int:
    tally = Tally()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-m", "fault", str(REPO / "tests"), *argv], plugins=[tally])
    print()
    print(f"{'kind':10s} {'probes':>6s} {'survived':>8s}")
    for kind in sorted(tally.probes):
        failed = len(tally.failed.get(kind, []))
        print(f"{kind:10s} {tally.probes[kind]:6d} {tally.probes[kind] - failed:8d}")
    total, failed = sum(tally.probes.values()), sum(len(v) for v in tally.failed.values())
    print(f"{'all':10s} {total:6d} {total - failed:8d}")
    print(f"slowest probe: {tally.slowest[0]:.1f} s ({tally.slowest[1]})")
    for kind, ids in sorted(tally.failed.items()):
        for nodeid in ids:
            print(f"FAILED [{kind}] {nodeid}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
