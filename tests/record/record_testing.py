"""Helpers of the recorder tests."""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import ttlink

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_module_numbers = itertools.count()


def load_fixture(name: str) -> ModuleType:
    """A fresh import of fixtures/NAME.py: new JIT functions, so nothing is in their memory cache."""
    spec = importlib.util.spec_from_file_location(f"record_{name}_{next(_module_numbers)}", FIXTURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def record_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m ttlink.record ARGS` in a fresh interpreter."""
    root = str(Path(ttlink.__file__).parent.parent)
    # Triton 3.9 warns on stderr when this is unset; the tests read stderr line by line.
    environment = {**os.environ, "TRITON_DEFAULT_FP_FUSION": "1"}
    environment["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [environment.get("PYTHONPATH")])])
    # A test runner's launcher may set it; a user's shell does not, and `-m MODULE` then finds
    # modules in the current directory, as `python -m MODULE` does.
    environment.pop("PYTHONSAFEPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "ttlink.record", *args], capture_output=True, text=True, env=environment, cwd=cwd
    )
