"""Runs one ttlink pytest suite under `bazel test`: `pytest_main.py SUITE_DIR [PYTEST ARGS...]`.

The test runs in the repository's runfiles directory, which is read-only in spirit: pytest's
temporary files, Hypothesis' database and the JUnit report go where Bazel says.
"""

import os
import sys
import tempfile

import pytest


def main(argv: list[str]) -> int:
    suite, extra = argv[0], argv[1:]
    scratch = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="pytest_main")
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(scratch, "hypothesis"))
    args = ["-c", "pyproject.toml", "--rootdir", ".", f"--basetemp={os.path.join(scratch, 'pytest')}", "-q", suite]
    report = os.environ.get("XML_OUTPUT_FILE")
    if report:
        args.append(f"--junitxml={report}")
    return int(pytest.main(args + extra))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
