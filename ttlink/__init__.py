"""ttlink: ahead-of-time compiler front end and linker for Triton kernels.

Subcommands (``python -m ttlink --help``):
  compile      compile one @triton.jit kernel into C source with embedded GPU binaries
  assemble     write that C from `compile --binary-out` records, without Triton
  link         link kernel headers into one dispatcher library (drop-in for Triton's link.py)
  record       record the specialisations the Triton JIT compiles in a Python run
  include-dir  print the directory of the C runtime (ttlink_runtime.h, ttlink_runtime.c)
"""

import importlib
from pathlib import Path

RUNTIME_INCLUDE_DIR = Path(__file__).parent / "runtime"


def __getattr__(name: str):
    # `ttlink.record(FILE)` without importing Triton's hooks for every ttlink user; a plain
    # import here would also make `python -m ttlink.record` warn that it was imported twice.
    if name == "record":
        return importlib.import_module(f"{__name__}.record")
    raise AttributeError(f"module 'ttlink' has no attribute {name!r}")
