"""`bazel test` runs the pytest suites on the pytest and Hypothesis that MODULE.bazel declares.

They come from the wheels of repository `rules_triton_test_deps` (tests/bazel/extensions.bzl),
whatever the interpreter has installed: the Debian packages of the offline rootfs, a venv, or
nothing at all (a hermetic CPython).
"""

import importlib
import os
import re
from pathlib import Path

import pytest

# pytest's and Hypothesis' import packages, their dependencies', and the plugin pytest loaded.
DECLARED_MODULES = [
    "_hypothesis_pytestplugin",
    "_pytest",
    "hypothesis",
    "iniconfig",
    "packaging",
    "pluggy",
    "pygments",
    "pytest",
    "sortedcontainers",
]


@pytest.mark.skipif("TEST_SRCDIR" not in os.environ, reason="the packages are declared for `bazel test` only")
@pytest.mark.parametrize("name", DECLARED_MODULES)
def test_imported_from_the_declared_wheels(name: str) -> None:
    runfiles = Path(os.environ["TEST_SRCDIR"])
    module_file = Path(importlib.import_module(name).__file__)
    assert module_file.is_relative_to(runfiles), f"{name} comes from {module_file}, outside the runfiles"
    repository = module_file.relative_to(runfiles).parts[0]
    # Its canonical name: `_main~test_deps~rules_triton_test_deps` (Bazel 7), `+` separators (8).
    assert re.split("[~+]", repository)[-1] == "rules_triton_test_deps", f"{name} comes from {module_file}"
