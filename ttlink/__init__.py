"""ttlink: ahead-of-time compiler front end and linker for Triton kernels.

Subcommands (``python -m ttlink --help``):
  compile  compile one @triton.jit kernel into C source with embedded GPU binaries
  link     link kernel headers into one dispatcher library (drop-in for Triton's link.py)
"""

from pathlib import Path

RUNTIME_INCLUDE_DIR = Path(__file__).parent / "runtime"
