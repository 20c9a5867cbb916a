"""`python -m ttlink SUBCOMMAND ...`: dispatches to the compile and link commands."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import RUNTIME_INCLUDE_DIR
from .errors import run_cli

USAGE = """usage: python -m ttlink {compile,assemble,link,record,configs,include-dir} ...

  compile      compile a @triton.jit kernel ahead of time (python -m ttlink compile --help)
  assemble     write kernel C from `compile --binary-out` files (python -m ttlink assemble --help)
  link         link kernel headers into a dispatcher (python -m ttlink link --help)
  record       record the specialisations a Python run's Triton JIT compiled (python -m ttlink record --help)
  configs      write a kernel's @triton.autotune configs for BUILD files (python -m ttlink configs --help)
  include-dir  print the directory holding ttlink_runtime.h, which generated sources include
"""


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else 2
    command, rest = argv[0], list(argv[1:])
    if command == "compile":
        from .compile import main as compile_main

        return run_cli(compile_main, rest)
    if command == "assemble":
        from .compile import assemble_main

        return run_cli(assemble_main, rest)
    if command == "link":
        from .link import main as link_main

        return run_cli(link_main, rest)
    if command == "record":
        from .record import main as record_main

        return run_cli(record_main, rest)
    if command == "configs":
        from .autotune_configs import main as configs_main

        return run_cli(configs_main, rest)
    if command == "include-dir":
        print(RUNTIME_INCLUDE_DIR)
        return 0
    print(
        f"ttlink: error: unknown command '{command}' "
        "(expected compile, assemble, link, record, configs or include-dir)",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
