"""Sums the test results in Bazel test logs and prints one closing line.

Each pytest-backed target's log ends with pytest's own summary ("12 passed, 1 skipped in
3.2s"); other test targets count as one test each by their exit status. Exits non-zero when
nothing ran or anything failed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# pytest's last line, "81 passed, 1 skipped in 17.65s", framed by "=" unless run with -q.
PYTEST_SUMMARY = re.compile(r"^=*\s*(?P<body>\d+ (passed|failed|errors?|skipped)\b.*) in [0-9.]+s\b.*$")
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


def summarize(log_dirs: list[Path]) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for log_dir in log_dirs:
        for log in sorted(log_dir.glob("**/test.log")):
            text = log.read_text(errors="replace")
            summaries = [m.group("body") for line in text.splitlines() if (m := PYTEST_SUMMARY.match(line))]
            if not summaries:
                # Not a pytest target: its XML result tells pass or fail.
                xml = log.with_name("test.xml")
                failed_target = xml.is_file() and re.search(r'failures="[1-9]|errors="[1-9]', xml.read_text())
                failed += 1 if failed_target else 0
                passed += 0 if failed_target else 1
                continue
            for count, kind in COUNT.findall(summaries[-1]):
                if kind == "passed":
                    passed += int(count)
                elif kind in ("failed", "error", "errors"):
                    failed += int(count)
                elif kind == "skipped":
                    skipped += int(count)
    return passed, failed, skipped


def main(argv: list[str]) -> int:
    dirs = [Path(arg).resolve() for arg in argv if Path(arg).exists()]
    passed, failed, skipped = summarize(dirs)
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
