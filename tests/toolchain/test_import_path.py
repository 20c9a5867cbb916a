"""pytest_main hands the suite's import path on to child Pythons, whatever the launcher exports."""

import os
import subprocess
import sys

import pytest

from tests.bazel import pytest_main


@pytest.fixture(autouse=True)
def restore_pythonpath(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))


def test_a_child_python_imports_what_the_suite_imports(tmp_path):
    os.environ.pop("PYTHONPATH")  # what rules_python >= 1.x's launcher leaves
    pytest_main.export_import_path()
    child = subprocess.run(
        [sys.executable, "-c", "import ttlink, tests.bazel.pytest_main"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,  # not the runfiles directory, which would be on its path anyway
    )
    assert child.returncode == 0, child.stderr


def test_the_inherited_path_stays_and_the_interpreters_own_directories_stay_out():
    os.environ["PYTHONPATH"] = os.pathsep.join(["/inherited/one", "/inherited/two"])
    pytest_main.export_import_path()
    exported = os.environ["PYTHONPATH"].split(os.pathsep)
    assert exported[-2:] == ["/inherited/one", "/inherited/two"]
    assert len(exported) == len(set(exported))
    interpreter_dirs = (os.path.join(sys.base_prefix, ""), os.path.join(sys.base_exec_prefix, ""))
    assert [p for p in exported if os.path.join(p, "").startswith(interpreter_dirs)] == []
