"""`python -m ttlink compile` and `python -m ttlink assemble`.

One shot:  compile PATH -n KERNEL -s SIG -g GRID --target cuda:80 [--target ...] -on NAME -o OUT
Stage 1:   compile PATH -n KERNEL -s SIG --target cuda:90 --binary-out F   (one target -> F.json)
Stage 2:   assemble F1 [F2 ...] -g GRID -on NAME -o OUT                  (no Triton needed)
Both ways write exactly OUT.h and OUT.c, byte for byte the same. `compile --arg-names A,B,...`
makes it an error if the kernel's parameters are not named A, B, ... in that order.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from .emit_kernel import Variant, emit_header, emit_source
from .errors import ArgumentParser, TtlinkError, run_cli
from .frontend import CompiledTarget, compile_targets
from .metadata import KernelMeta
from .outputs import output_base, write_outputs
from .signature import check_identifier, parse_arg_names, parse_grid, parse_target, variant_symbol


def _add_output_arguments(parser: ArgumentParser, required: bool) -> None:
    parser.add_argument("-g", "--grid", required=required, help='three C expressions, e.g. "(n + 1023) / 1024, 1, 1"')
    parser.add_argument("-on", "--out-name", help="name of the kernel's C API (default: the kernel's name)")
    parser.add_argument("-o", "--out-path", type=output_base, required=required, help="writes OUT.h, OUT.c")
    parser.add_argument("--embed-ptx", action="store_true", help="embed PTX of the oldest target as JIT fallback")


def compile_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m ttlink compile", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="Python file defining the @triton.jit kernel (executed)")
    parser.add_argument("-n", "--kernel-name", required=True)
    parser.add_argument("-s", "--signature", required=True, help='one entry per parameter, e.g. "*fp32:16, i32, 1024"')
    parser.add_argument(
        "--arg-names", help="the kernel's parameter names, in order, e.g. x_ptr,n,BLOCK; checked before compiling"
    )
    parser.add_argument("-w", "--num-warps", type=int, default=1)
    parser.add_argument("-ns", "--num-stages", type=int, default=3)
    parser.add_argument("-t", "--target", action="append", required=True, help="cuda:ARCH; repeat for more targets")
    parser.add_argument("--binary-out", type=Path, help="stage 1: write the compiled target as JSON, no C")
    _add_output_arguments(parser, required=False)
    return parser


def main(argv: Sequence[str]) -> None:
    args = compile_parser().parse_args(argv)
    targets = [parse_target(t) for t in args.target]
    if len(set(targets)) != len(targets):
        raise TtlinkError(f"a target is given twice in {', '.join(args.target)}")
    if args.num_warps < 1 or args.num_warps & (args.num_warps - 1):
        raise TtlinkError(f"--num-warps {args.num_warps} is not a power of two")
    if args.num_stages < 1:
        raise TtlinkError(f"--num-stages {args.num_stages} is not positive")
    if args.binary_out is not None:
        if len(targets) != 1:
            raise TtlinkError("--binary-out takes exactly one --target")
        if args.grid or args.out_path or args.out_name or args.embed_ptx:
            raise TtlinkError("--binary-out writes no C: pass -g, -on, -o and --embed-ptx to assemble instead")
    elif args.grid is None or args.out_path is None:
        raise TtlinkError("the following arguments are required: -g/--grid, -o/--out-path (or --binary-out)")
    if args.out_name is not None:
        check_identifier(args.out_name, "out name")
    arg_names = parse_arg_names(args.arg_names) if args.arg_names is not None else None

    compiled = compile_targets(
        args.path, args.kernel_name, args.signature, args.num_warps, args.num_stages, targets, arg_names
    )
    if args.binary_out is not None:
        write_outputs({args.binary_out: compiled[0].to_json()})
    else:
        write_outputs(assemble(compiled, args.grid, args.out_name, args.out_path, args.embed_ptx))


def assemble(
    compiled: Sequence[CompiledTarget], grid: str, out_name: str | None, out_path: Path, embed_ptx: bool
) -> dict[Path, str]:
    """Stage 2: OUT.h and OUT.c text for compiled targets of one kernel variant."""
    compiled = sorted(compiled, key=lambda record: record.arch)
    first = compiled[0]
    name = check_identifier(out_name if out_name is not None else first.kernel, "out name")
    targets = tuple(record.target for record in compiled)
    meta = KernelMeta(
        name=name,
        symbol=variant_symbol(name, first.params, first.num_warps, first.num_stages, targets, embed_ptx),
        kernel=first.kernel,
        backend="cuda",
        params=first.params,
        num_warps=first.num_warps,
        num_stages=first.num_stages,
        targets=targets,
        embed_ptx=embed_ptx,
    )
    variant = Variant(meta=meta, compiled=tuple(compiled), grid=parse_grid(grid, first.params))
    header = Path(f"{out_path}.h")
    return {header: emit_header(variant), Path(f"{out_path}.c"): emit_source(variant, header.name)}


def assemble_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m ttlink assemble", description="stage 2: C from stage-1 JSON files")
    parser.add_argument("records", type=Path, nargs="+", help="files written by compile --binary-out")
    _add_output_arguments(parser, required=True)
    return parser


def assemble_main(argv: Sequence[str]) -> None:
    args = assemble_parser().parse_args(argv)
    compiled: dict[str, tuple[str, CompiledTarget]] = {}  # target -> (file, record)
    for path in args.records:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise TtlinkError(f"cannot read compile record: {error.strerror}", file=str(path)) from None
        record = CompiledTarget.from_json(text, str(path))
        _check_same_variant(record, str(path), compiled)
        compiled[record.target] = (str(path), record)
    records = [record for _, record in compiled.values()]
    write_outputs(assemble(records, args.grid, args.out_name, args.out_path, args.embed_ptx))


def _check_same_variant(record: CompiledTarget, file: str, earlier: dict[str, tuple[str, CompiledTarget]]) -> None:
    """Records assembled together must be one variant compiled for distinct targets."""
    if record.target in earlier:
        raise TtlinkError(
            f"two compiled records are for the same target {record.target} (also {earlier[record.target][0]})",
            file=file,
        )
    if not earlier:
        return
    first_file, first = next(iter(earlier.values()))
    for field in ("kernel", "params", "num_warps", "num_stages", "triton_version", "hidden_params"):
        if getattr(record, field) != getattr(first, field):
            raise TtlinkError(
                f"compiled records disagree on {field}: {getattr(record, field)!r} here, "
                f"{getattr(first, field)!r} in {first_file}",
                file=file,
            )


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
