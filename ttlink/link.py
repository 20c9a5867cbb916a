"""`ttlink link HEADERS... -o OUT [--prefix P]`: kernel headers -> one dispatcher OUT.h + OUT.c.

Takes the same arguments as Triton's tools/link.py, so `python -m ttlink.link` is a drop-in
replacement for `python -m triton.tools.link`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from .emit_link import emit_link
from .errors import ArgumentParser, TtlinkError, run_cli
from .headers import read_header
from .model import build_groups
from .outputs import output_base, write_outputs
from .tuning import apply_tuning

DESCRIPTION = """Links kernel headers written by `ttlink compile` or Triton's compile.py (3.2 to 3.9)
into one dispatcher: for every kernel name K, K(stream, args, algo_id), K_default, K_<algo>,
K_get_num_algos, K_get_algo_name, load_K and unload_K; with --tuning, K_autotuned. Writes OUT.h and OUT.c."""


def main(argv: Sequence[str]) -> None:
    parser = ArgumentParser(prog="python -m ttlink link", description=DESCRIPTION)
    parser.add_argument("headers", nargs="+", help="kernel headers (.h) to link")
    parser.add_argument("--out", "-o", required=True, help="output path without extension: writes OUT.h and OUT.c")
    parser.add_argument(
        "--tuning",
        action="append",
        default=[],
        metavar="FILE",
        help="record file (.json or .bzl) whose autotune choices K_autotuned runs (repeatable; docs/AUTOTUNE.md)",
    )
    parser.add_argument("--prefix", default="", help="prefix for every generated public name (P + K...)")
    args = parser.parse_args(argv)
    variants = [variant for header in args.headers for variant in read_header(header)]
    if not variants:  # a header without directives is skipped, but one of them must have some
        missing = "'// tt-linker:' or '// ttlink-meta:' directive"
        if len(args.headers) == 1:
            raise TtlinkError(f"no {missing}: not a kernel header", file=args.headers[0])
        raise TtlinkError(f"none of the {len(args.headers)} headers has a {missing}: nothing to link")
    groups = apply_tuning(build_groups(variants, args.prefix), args.tuning, args.prefix)
    base = output_base(args.out)
    sources = emit_link(groups, args.prefix)
    write_outputs({Path(f"{base}.h"): sources.header, Path(f"{base}.c"): sources.source})


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
