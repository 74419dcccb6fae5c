#!/usr/bin/env python3
"""Reads the logs of `swift test` and pytest that scripts/test.sh keeps and prints one line of counts.

  summarize-tests.py swift LOG RC            -> "91 passed, 0 failed"  (Swift Testing and XCTest)
  summarize-tests.py pytest LOG RC           -> "164 passed, 0 failed, 2 skipped"
  summarize-tests.py total SWIFTLOG RC E2ELOG RC MODE -> "total: 255 passed, 0 failed" (the closing line CI reads)

A suite that ended without its own closing line (a crash, a build failure, no test collected) counts as one
failure, so the total never reads as a pass when something did not run."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _lines(path: str) -> list[str]:
    p = Path(path)
    return [ANSI.sub("", line) for line in p.read_text(errors="replace").splitlines()] if p.exists() else []


def swift_counts(path: str, rc: int) -> tuple[int, int, int, str | None]:
    """(passed, failed, skipped, problem) of a `swift test` log."""
    total = failed = skipped = 0
    closed = False
    for line in _lines(path):
        m = re.search(r"Test run with (\d+) tests?\b", line)
        if m:
            total += int(m.group(1))
            closed = True
            continue
        if re.search(r"\bTest (?!run with).*\bfailed after\b", line):
            failed += 1
        elif re.search(r"\bTest (?!run with).*\bskipped\b", line):
            skipped += 1
    # XCTest prints its totals last under 'All tests'; count them once.
    xc = [re.search(r"Executed (\d+) tests?, with (\d+) failures?", line) for line in _lines(path)]
    xc = [m for m in xc if m]
    if xc:
        total += int(xc[-1].group(1))
        failed += int(xc[-1].group(2))
        closed = True
    problem = _problem("swift test", closed, rc, failed)
    failed += 1 if problem else 0
    return max(total - failed - skipped, 0), failed, skipped, problem


def pytest_counts(path: str, rc: int) -> tuple[int, int, int, str | None]:
    counts = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    closed = False
    for line in reversed(_lines(path)):
        found = re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)\b", line)
        if found and re.search(r"\bin [\d.]+s", line):
            for n, word in found:
                key = {"errors": "error", "xfailed": "passed", "xpassed": "failed"}.get(word, word)
                counts[key] += int(n)
            closed = True
            break
    failed = counts["failed"] + counts["error"]
    problem = _problem("pytest", closed, rc, failed)
    failed += 1 if problem else 0
    return counts["passed"], failed, counts["skipped"], problem


def _problem(runner: str, closed: bool, rc: int, failed: int) -> str | None:
    """Why a run counts as one more failure: it never printed its closing line, or it failed without naming a test."""
    if not closed:
        return f"no closing line from {runner} (exit {rc})"
    if rc != 0 and failed == 0:
        return f"{runner} exited {rc} with no failed test named"
    return None


def fmt(passed: int, failed: int, skipped: int, problem: str | None = None) -> str:
    s = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
    return s + (f" ({problem})" if problem else "")


def main(argv: list[str]) -> int:
    kind = argv[1]
    if kind == "swift":
        print(fmt(*swift_counts(argv[2], int(argv[3]))))
    elif kind == "pytest":
        print(fmt(*pytest_counts(argv[2], int(argv[3]))))
    elif kind == "total":
        e2e = pytest_counts(argv[4], int(argv[5]))
        unit = swift_counts(argv[2], int(argv[3])) if argv[6] == "all" else (0, 0, 0, None)
        passed, failed, skipped = (unit[i] + e2e[i] for i in range(3))
        print("total: " + fmt(passed, failed, skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
