"""`python -m ttlink compile`, `python -m ttlink assemble` and the compile.py drop-in.

One shot:  compile PATH -n KERNEL -s SIG -g GRID --target cuda:80 [--target ...] -on NAME -o OUT
Stage 1:   compile PATH -n KERNEL -s SIG --target cuda:90 --binary-out F   (one target -> F.json)
Stage 2:   assemble F1 [F2 ...] -g GRID -on NAME -o OUT                  (no Triton needed)
Both ways write exactly OUT.h and OUT.c, byte for byte the same. `compile --arg-names A,B,...`
makes it an error if the kernel's parameters are not named A, B, ... in that order.
`compile --num-ctas N --launch-pdl --launch-cooperative-grid` are Triton's launch options.
Recorded:  compile PATH -n KERNEL --record FILE --target ... -g GRID -o OUT   (docs/RECORD.md)
compiles every specialisation `ttlink record` wrote to FILE for KERNEL of PATH (named relative
to the current directory), each into OUT.{hash}_{suffix}.h and .c, for `ttlink link OUT.*.h`.

`python -m ttlink.compile` takes the arguments of Triton's compile.py instead (one optional
`-t`, else the active GPU's target) and writes its file names, OUT.{hash}_{suffix}.h and .c.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .emit_kernel import Variant, emit_header, emit_source
from .errors import ArgumentParser, TtlinkError, run_cli
from .frontend import CompiledTarget, active_target, compile_targets
from .grid import parse_grid
from .metadata import DEFAULT_LAUNCH, KernelMeta, LaunchOptions, num_ctas_problem
from .outputs import output_base, write_outputs
from .record_format import compile_signature, kernel_label, load
from .signature import (
    check_config,
    check_global_name,
    check_prefix,
    grid_params,
    parse_arg_names,
    parse_target,
    signature_entries,
    variant_symbol,
)

PREFIX_HELP = "prepended to the variant's C symbols (P + NAME_{hash}_{suffix}); the API name stays NAME"


def _add_output_arguments(parser: ArgumentParser, required: bool) -> None:
    parser.add_argument("-g", "--grid", required=required, help='three C expressions, e.g. "(n + 1023) / 1024, 1, 1"')
    parser.add_argument("-on", "--out-name", help="name of the kernel's C API (default: the kernel's name)")
    parser.add_argument("-o", "--out-path", type=output_base, required=required, help="writes OUT.h, OUT.c")
    parser.add_argument("--embed-ptx", action="store_true", help="embed PTX of the oldest target as JIT fallback")
    parser.add_argument("--prefix", type=check_prefix, default="", help=PREFIX_HELP)


def _add_kernel_arguments(parser: ArgumentParser, signature_required: bool = True) -> None:
    parser.add_argument("path", type=Path, help="Python file defining the @triton.jit kernel (executed)")
    parser.add_argument("-n", "--kernel-name", required=True)
    parser.add_argument(
        "-s", "--signature", required=signature_required, help='one entry per parameter, e.g. "*fp32:16, i32, 1024"'
    )
    parser.add_argument("-w", "--num-warps", type=int)
    parser.add_argument("-ns", "--num-stages", type=int)


def _add_launch_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--num-ctas", type=int, default=1, help="CTAs per program, launched as a cluster (cuda:90+)")
    parser.add_argument("--launch-pdl", action="store_true", help="programmatic dependent launch")
    parser.add_argument("--launch-cooperative-grid", action="store_true", help="launch as a cooperative grid")


def compile_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m ttlink compile", description=__doc__.split("\n\n")[0])
    _add_kernel_arguments(parser, signature_required=False)
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="instead of -s/-w/-ns: every specialisation of the kernel that `ttlink record` wrote to FILE",
    )
    parser.add_argument(
        "--arg-names", help="the kernel's parameter names, in order, e.g. x_ptr,n,BLOCK; checked before compiling"
    )
    parser.add_argument("-t", "--target", action="append", required=True, help="cuda:ARCH; repeat for more targets")
    parser.add_argument("--binary-out", type=Path, help="stage 1: write the compiled target as JSON, no C")
    _add_launch_arguments(parser)
    _add_output_arguments(parser, required=False)
    return parser


def launch_options(args) -> LaunchOptions:
    problem = num_ctas_problem(args.num_ctas)
    if problem is not None:
        raise TtlinkError(f"--num-ctas {args.num_ctas} {problem}")
    return LaunchOptions(args.num_ctas, args.launch_pdl, args.launch_cooperative_grid)


def main(argv: Sequence[str]) -> None:
    args = compile_parser().parse_args(argv)
    targets = [parse_target(t) for t in args.target]
    if len(set(targets)) != len(targets):
        raise TtlinkError(f"a target is given twice in {', '.join(args.target)}")
    launch = launch_options(args)
    if args.record is not None:
        if launch != DEFAULT_LAUNCH:
            raise TtlinkError("--record compiles what FILE recorded: leave out --num-ctas and --launch-*")
        compile_recorded(args, targets)
        return
    if args.signature is None:
        raise TtlinkError("the following arguments are required: -s/--signature (or --record)")
    args.num_warps = 1 if args.num_warps is None else args.num_warps
    args.num_stages = 3 if args.num_stages is None else args.num_stages
    check_config(args.num_warps, args.num_stages)
    if args.binary_out is not None:
        if len(targets) != 1:
            raise TtlinkError("--binary-out takes exactly one --target")
        if args.grid or args.out_path or args.out_name or args.embed_ptx or args.prefix:
            raise TtlinkError(
                "--binary-out writes no C: pass -g, -on, -o, --embed-ptx and --prefix to assemble instead"
            )
    elif args.grid is None or args.out_path is None:
        raise TtlinkError("the following arguments are required: -g/--grid, -o/--out-path (or --binary-out)")
    if args.out_name is not None:
        check_global_name(args.out_name, "out name")
    arg_names = parse_arg_names(args.arg_names) if args.arg_names is not None else None

    compiled = compile_targets(
        args.path, args.kernel_name, args.signature, args.num_warps, args.num_stages, targets, arg_names, launch
    )
    if args.binary_out is not None:
        write_outputs({args.binary_out: compiled[0].to_json()})
    else:
        variant = assemble(compiled, args.grid, args.out_name, args.embed_ptx, args.prefix)
        write_outputs(variant_files(variant, args.out_path))


def compile_recorded(args, targets: Sequence[str]) -> None:
    """`--record FILE`: each distinct (SIG, warps, stages, CTAs) recorded for the kernel, for every
    `--target` (the recorded targets are not used), as OUT.{hash}_{suffix}.h and .c."""
    if args.signature is not None or args.num_warps is not None or args.num_stages is not None:
        raise TtlinkError("--record compiles what FILE recorded: leave out -s, -w, -ns")
    if args.binary_out is not None:
        raise TtlinkError("--record writes C: leave out --binary-out")
    if args.grid is None or args.out_path is None:
        raise TtlinkError("the following arguments are required with --record: -g/--grid, -o/--out-path")
    recording = load(args.record)
    kernel_id = (Path(os.path.relpath(args.path)).as_posix(), args.kernel_name)
    if kernel_id not in recording:
        recorded = ", ".join(f"'{kernel_label(other)}'" for other in sorted(recording)) or "nothing"
        raise TtlinkError(
            f"no kernel '{kernel_label(kernel_id)}' is recorded (it records {recorded})", file=str(args.record)
        )
    group = recording[kernel_id]
    specializations = {}
    for entry in group.specializations.values():
        config = (entry["num_warps"], entry["num_stages"], entry.get("num_ctas", 1))
        specializations[compile_signature(group.params, entry), *config] = True
    outputs: dict[Path, str] = {}
    for signature, num_warps, num_stages, num_ctas in sorted(specializations):
        check_config(num_warps, num_stages)
        launch = LaunchOptions(num_ctas=num_ctas)
        compiled = compile_targets(
            args.path, args.kernel_name, signature, num_warps, num_stages, targets, group.params, launch
        )
        variant = assemble(compiled, args.grid, args.out_name, args.embed_ptx, args.prefix)
        suffix = variant.meta.symbol[len(args.prefix) + len(variant.meta.name) + 1 :]
        outputs.update(variant_files(variant, args.out_path.with_name(f"{args.out_path.name}.{suffix}")))
    write_outputs(outputs)


def assemble(
    compiled: Sequence[CompiledTarget], grid_text: str, out_name: str | None, embed_ptx: bool, prefix: str = ""
) -> Variant:
    """Stage 2: one kernel variant from its compiled targets. Its symbol's hash covers what
    makes it this variant, so no two different variants share a symbol."""
    compiled = sorted(compiled, key=lambda record: record.arch)
    first = compiled[0]
    name = check_global_name(out_name if out_name is not None else first.kernel, "out name")
    if embed_ptx and first.tensor_args:
        raise TtlinkError(
            f"--embed-ptx: kernel '{first.kernel}' takes tensordesc arguments, whose tensor maps are known for the "
            "compiled binaries only, not for a GPU that JIT-compiles the PTX"
        )
    grid = parse_grid(grid_text, grid_params(first.params))
    targets = tuple(record.target for record in compiled)
    binaries = hashlib.sha256()
    for record in compiled:
        for part in (record.target.encode(), record.cubin, record.ptx.encode()):
            binaries.update(len(part).to_bytes(8, "little") + part)
    identity = [
        f"kernel {first.kernel}",
        f"triton {first.triton_version}",
        f"binaries {binaries.hexdigest()}",
        f"signature {', '.join(signature_entries(first.params))}",
        f"warps{first.num_warps}xstages{first.num_stages}",
        f"targets {' '.join(targets)}",
        f"embed_ptx {embed_ptx}",
        f"grid {grid.text}",
    ]
    if first.launch != DEFAULT_LAUNCH:  # absent for the defaults: symbols from before launch options stay
        identity.append(f"launch {' '.join(f'{key}={value}' for key, value in vars(first.launch).items())}")
    symbol = variant_symbol(name, first.params, identity, prefix)
    for function in (symbol, f"load_{symbol}", f"unload_{symbol}"):
        check_global_name(function, "generated function")
    meta = KernelMeta(
        name=name,
        symbol=symbol,
        kernel=first.kernel,
        backend="cuda",
        params=first.params,
        num_warps=first.num_warps,
        num_stages=first.num_stages,
        targets=targets,
        embed_ptx=embed_ptx,
        launch=first.launch,
    )
    return Variant(meta=meta, compiled=tuple(compiled), grid=grid)


def variant_files(variant: Variant, base: Path) -> dict[Path, str]:
    """BASE.h and BASE.c of a variant."""
    header = Path(f"{base}.h")
    return {header: emit_header(variant), Path(f"{base}.c"): emit_source(variant, header.name)}


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
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise TtlinkError(f"cannot read compile record: {reason}", file=str(path)) from None
        record = CompiledTarget.from_json(text, str(path))
        _check_same_variant(record, str(path), compiled)
        compiled[record.target] = (str(path), record)
    records = [record for _, record in compiled.values()]
    variant = assemble(records, args.grid, args.out_name, args.embed_ptx, args.prefix)
    write_outputs(variant_files(variant, args.out_path))


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
    for field in ("kernel", "params", "num_warps", "num_stages", "triton_version", "hidden_params", "launch"):
        if getattr(record, field) != getattr(first, field):
            raise TtlinkError(
                f"compiled records disagree on {field}: {getattr(record, field)!r} here, "
                f"{getattr(first, field)!r} in {first_file}",
                file=file,
            )


def dropin_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m ttlink.compile",
        description="Triton's compile.py arguments; writes OUT_PATH.{hash}_{suffix}.h and .c",
    )
    _add_kernel_arguments(parser)
    parser.add_argument("-g", "--grid", required=True, help='three C expressions, e.g. "(n + 1023) / 1024, 1, 1"')
    parser.add_argument("-t", "--target", help="cuda:ARCH or cuda:ARCH:32 (default: the active GPU's)")
    parser.add_argument("-on", "--out-name", help="name of the kernel's C API (default: the kernel's name)")
    parser.add_argument("-o", "--out-path", help="base of the file names (default: the out name)")
    return parser


def dropin_main(argv: Sequence[str]) -> None:
    """compile.py's command line: one target, OUT_PATH with the symbol's `{hash}_{suffix}` as
    extension, so variants compiled with the same -o do not overwrite each other."""
    args = dropin_parser().parse_args(argv)
    args.num_warps = 1 if args.num_warps is None else args.num_warps
    args.num_stages = 3 if args.num_stages is None else args.num_stages
    check_config(args.num_warps, args.num_stages)
    if args.out_name is not None:
        check_global_name(args.out_name, "out name")
    out_path = output_base(args.out_path or args.out_name or args.kernel_name)
    target = parse_target(args.target) if args.target is not None else None
    compiled = compile_targets(
        args.path, args.kernel_name, args.signature, args.num_warps, args.num_stages, [target or active_target()]
    )
    variant = assemble(compiled, args.grid, args.out_name, embed_ptx=False)
    name_length = len(variant.meta.name)
    write_outputs(variant_files(variant, out_path.with_suffix("." + variant.meta.symbol[name_length + 1 :])))


if __name__ == "__main__":
    sys.exit(run_cli(dropin_main, sys.argv[1:]))
