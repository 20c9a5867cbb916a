"""Runs one ttlink pytest suite under `bazel test`: `pytest_main.py SUITE_DIR [PYTEST ARGS...]`.

The test runs in the repository's runfiles directory, which is read-only in spirit: pytest's
temporary files, Hypothesis' database and the JUnit report go where Bazel says.
"""

import os
import sys
import tempfile

import pytest


def export_import_path() -> None:
    """Hands this test's import path on to the Pythons it starts (`sys.executable -m ttlink`).

    rules_python 0.x's launcher exports PYTHONPATH; >= 1.x puts the runfiles' import paths in
    sys.path only. The interpreter's own directories stay out: a child of another Python
    version must not import this one's standard library.
    """
    interpreter_dirs = tuple(os.path.join(prefix, "") for prefix in {sys.base_prefix, sys.base_exec_prefix})
    inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    entries = [p for p in sys.path if p and not os.path.join(p, "").startswith(interpreter_dirs)]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(e for e in entries + inherited if e))


def main(argv: list[str]) -> int:
    suite, extra = argv[0], argv[1:]
    export_import_path()
    scratch = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="pytest_main")
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(scratch, "hypothesis"))
    args = ["-c", "pyproject.toml", "--rootdir", ".", f"--basetemp={os.path.join(scratch, 'pytest')}", "-q", suite]
    report = os.environ.get("XML_OUTPUT_FILE")
    if report:
        args.append(f"--junitxml={report}")
    return int(pytest.main(args + extra))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
