"""ttlink: ahead-of-time compiler front end and linker for Triton kernels.

Subcommands (``python -m ttlink --help``):
  compile      compile one @triton.jit kernel into C source with embedded GPU binaries
  assemble     write that C from `compile --binary-out` records, without Triton
  link         link kernel headers into one dispatcher library (drop-in for Triton's link.py)
  include-dir  print the directory of the C runtime (ttlink_runtime.h, ttlink_runtime.c)
"""

from pathlib import Path

RUNTIME_INCLUDE_DIR = Path(__file__).parent / "runtime"
