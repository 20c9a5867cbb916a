"""The link model: variants grouped into algos and kernels, ordered and numbered (pure).

An algo is one (kernel name, constexpr values, num_warps, num_stages, launch options). Its variants differ
only in hints (`:16`, `:1`) and are tried most-specialised first. Nothing here depends on
the order in which headers were given: every list is sorted by a key of its content.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import TtlinkError
from .metadata import (
    C_IDENTIFIER,
    DEFAULT_LAUNCH,
    ConstexprValue,
    LaunchOptions,
    argument_name_problem,
    global_name_problem,
)


@dataclass(frozen=True)
class Backend:
    """How the C of one backend spells its types and its invalid-argument result."""

    includes: tuple[str, ...]
    pointer: str
    stream: str
    result: str
    invalid_value: str


BACKENDS = {
    "cuda": Backend(
        ("#include <cuda.h>", "#include <stdint.h>"), "CUdeviceptr", "CUstream", "CUresult", "CUDA_ERROR_INVALID_VALUE"
    ),
    # The substitution upstream's extra/hip/link.h makes.
    "hip": Backend(
        (
            "#ifndef __HIP_PLATFORM_AMD__",
            "#define __HIP_PLATFORM_AMD__",
            "#endif",
            "#include <hip/hip_runtime.h>",
            "#include <stdint.h>",
        ),
        "hipDeviceptr_t",
        "hipStream_t",
        "hipError_t",
        "hipErrorInvalidValue",
    ),
}
POINTER_TYPES = frozenset(backend.pointer for backend in BACKENDS.values())
INTEGER_TYPES = frozenset({"int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t"})
C_TYPES = POINTER_TYPES | INTEGER_TYPES | {"float", "double", "CUtensorMap"}
# Names the dispatcher's signatures and bodies use besides its arguments: an argument named
# like one would shadow it there.
DISPATCHER_C_NAMES = (
    C_TYPES
    | {"uintptr_t", "NULL"}
    | {name for b in BACKENDS.values() for name in (b.stream, b.result, b.invalid_value)}
)


@dataclass(frozen=True)
class Arg:
    """One C argument of a variant's full signature (`:1` arguments included)."""

    name: str
    c_type: str
    hint: int | None  # 16, 1 or None


@dataclass(frozen=True)
class Variant:
    """One compiled kernel variant, as read from one header directive."""

    kernel: str  # out name K: variants sharing it are linked into one API
    symbol: str  # entry point: CUresult symbol(stream, args without :1 ones)
    backend: str
    args: tuple[Arg, ...]
    constexprs: tuple[ConstexprValue, ...]  # in parameter order
    num_warps: int
    num_stages: int
    file: str  # where it was read, for error messages only
    line: int
    # From ttlink-meta only (upstream headers do not say): the Python function and the
    # targets it was compiled for, which every variant of one out name must share.
    python_kernel: str | None = None
    targets: tuple[str, ...] | None = None
    # The ALGO_INFO of the header's tt-linker line, which Triton's link.py names the
    # variant's algo after (`K_{ALGO_INFO}`).
    link_py_algo: str | None = None
    launch: LaunchOptions = DEFAULT_LAUNCH  # from ttlink-meta; upstream headers have the defaults

    @property
    def hints(self) -> tuple[int | None, ...]:
        return tuple(arg.hint for arg in self.args)

    @property
    def algo_key(self) -> tuple:
        launch = (self.launch.num_ctas, self.launch.launch_pdl, self.launch.launch_cooperative_grid)
        return (tuple(value_key(v) for v in self.constexprs), self.num_warps, self.num_stages, launch)

    @property
    def variant_key(self) -> tuple:
        """Most hints first, then argument by argument `:16` before `:1` before none."""
        rank = {16: 0, 1: 1, None: 2}
        return (-sum(h is not None for h in self.hints), tuple(rank[h] for h in self.hints))

    def error(self, message: str) -> TtlinkError:
        return TtlinkError(message, file=self.file, line=self.line)


@dataclass(frozen=True)
class Algo:
    name: str  # `{algo}`: a C identifier fragment, e.g. 1024_warps4xstages3
    variants: tuple[Variant, ...]  # in dispatch order; a generic one, if any, last

    @property
    def link_py_names(self) -> tuple[str, ...]:
        """The other names Triton's link.py gives this algo: one per distinct ALGO_INFO of its
        variants (3.3+ writes one `x1` per `:1` argument, `64x1_warps4xstages2`). Only those
        that are C identifier fragments: link.py's own C does not compile with the others."""
        names = {v.link_py_algo for v in self.variants if v.link_py_algo and ALGO_NAME.fullmatch(v.link_py_algo)}
        return tuple(sorted(names - {self.name}))


@dataclass(frozen=True)
class Tuning:
    """The algo chosen per autotune key (ttlink/tuning.py builds it from a record file)."""

    key: tuple[str, ...]  # the key parameters, integer arguments of the kernel
    entries: tuple[tuple[tuple[int, ...], int], ...]  # (key values, algo_id), sorted by key values
    source: str  # the tuning file, for messages


@dataclass(frozen=True)
class KernelGroup:
    name: str  # K
    backend: str
    params: tuple[tuple[str, str], ...]  # (C type, name) of the full signature
    algos: tuple[Algo, ...]  # algo_id order
    tuning: Tuning | None = None  # gives the group K_autotuned


ALGO_NAME = re.compile(r"[A-Za-z0-9_]+")


def value_key(value: ConstexprValue) -> tuple:
    """Numbers compare numerically (1 < 2 < 10); anything else sorts after them by text."""
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return (0, value, str(value))
    return (1, 0, str(value))


def algo_name(variant: Variant) -> str:
    """`{constexprs joined by x}_warps{W}xstages{S}` as a C identifier fragment, then what
    launch options other than the defaults add (`_ctas2_pdl_coop`)."""
    text = "x".join(str(v) for v in variant.constexprs) + f"_warps{variant.num_warps}xstages{variant.num_stages}"
    text += variant.launch.name_suffix
    name = text.replace("-", "m").replace(".", "p").replace("+", "")
    if not ALGO_NAME.fullmatch(name):
        raise variant.error(f"algo '{text}' of kernel '{variant.kernel}' cannot be made a C identifier")
    return name


def check_variant(variant: Variant) -> None:
    """Rejects what would make the generated C invalid or the dispatch meaningless."""
    if variant.backend not in BACKENDS:
        raise variant.error(f"unknown backend '{variant.backend}' (expected {' or '.join(BACKENDS)})")
    if not C_IDENTIFIER.fullmatch(variant.kernel):
        raise variant.error(f"'{variant.kernel}' is not a C identifier")
    problem = global_name_problem(variant.symbol)
    if problem:
        raise variant.error(f"symbol '{variant.symbol}' {problem}")
    if variant.num_warps <= 0 or variant.num_stages < 0:
        raise variant.error(f"invalid num_warps {variant.num_warps} / num_stages {variant.num_stages}")
    seen: set[str] = set()
    for arg in variant.args:
        problem = argument_name_problem(arg.name)
        if problem:
            raise variant.error(f"argument name '{arg.name}' {problem}")
        if arg.name in seen:
            raise variant.error(f"argument '{arg.name}' appears twice")
        seen.add(arg.name)
        if arg.c_type not in C_TYPES:
            raise variant.error(f"argument '{arg.name}' has unsupported C type '{arg.c_type}'")
        if arg.c_type in POINTER_TYPES and arg.c_type != BACKENDS[variant.backend].pointer:
            raise variant.error(f"argument '{arg.name}' is a {arg.c_type} in a {variant.backend} kernel")
        if arg.hint == 16 and arg.c_type not in POINTER_TYPES | INTEGER_TYPES:
            raise variant.error(f"hint :16 on '{arg.name}' of C type {arg.c_type}; only pointers and integers")
        if arg.hint == 1 and arg.c_type not in INTEGER_TYPES:
            raise variant.error(f"hint :1 on '{arg.name}' of C type {arg.c_type}; only integers")


def build_groups(variants: Iterable[Variant], prefix: str = "") -> tuple[KernelGroup, ...]:
    """Groups variants into kernels and algos; raises TtlinkError on any inconsistency.
    `prefix` is the one public names get (`--prefix`), checked for clashes here."""
    ordered = sorted(variants, key=lambda v: (v.kernel, v.algo_key, v.variant_key, v.symbol, v.file, v.line))
    if not ordered:
        raise TtlinkError("no kernel variants to link")
    for variant in ordered:
        check_variant(variant)
    first = ordered[0]
    for variant in ordered:
        if variant.backend != first.backend:
            raise variant.error(
                f"backend '{variant.backend}' differs from '{first.backend}' of {first.symbol} "
                f"({first.file}:{first.line}); one link takes one backend"
            )
    _check_unique(ordered)
    kernels: dict[str, list[Variant]] = {}
    for variant in ordered:
        kernels.setdefault(variant.kernel, []).append(variant)
    groups = tuple(_build_group(name, members) for name, members in kernels.items())
    check_names(groups, prefix)
    for group in groups:
        _check_argument_names(group, prefix)
    return groups


def _check_unique(ordered: Sequence[Variant]) -> None:
    by_symbol: dict[str, Variant] = {}
    by_config: dict[tuple, Variant] = {}
    for variant in ordered:
        other = by_symbol.setdefault(variant.symbol, variant)
        if other is not variant:
            raise variant.error(f"duplicate variant {variant.symbol} (also at {other.file}:{other.line})")
        config = (variant.kernel, variant.algo_key, variant.hints)
        other = by_config.setdefault(config, variant)
        if other is not variant:
            raise variant.error(
                f"duplicate variant: {variant.symbol} has the same algo and hints as {other.symbol} "
                f"({other.file}:{other.line})"
            )


def _build_group(name: str, variants: Sequence[Variant]) -> KernelGroup:
    reference = variants[0]
    _check_one_python_kernel(name, variants)
    for variant in variants[1:]:
        if len(variant.args) != len(reference.args) or len(variant.constexprs) != len(reference.constexprs):
            raise variant.error(
                f"variant {variant.symbol} of kernel '{name}' has {len(variant.args)} arguments and "
                f"{len(variant.constexprs)} constexprs, but {reference.symbol} ({reference.file}:{reference.line}) "
                f"has {len(reference.args)} and {len(reference.constexprs)}"
            )
    params = tuple(
        (_unified_type(name, variants, index), reference.args[index].name) for index in range(len(reference.args))
    )
    algos: list[Algo] = []
    names: dict[str, Variant] = {}
    for variant in variants:
        if algos and algos[-1].variants[0].algo_key == variant.algo_key:
            algos[-1] = Algo(algos[-1].name, algos[-1].variants + (variant,))
            continue
        algo = algo_name(variant)
        other = names.setdefault(algo, variant)
        if other is not variant:
            raise variant.error(
                f"algos of kernel '{name}' from {variant.symbol} and {other.symbol} are both named '{algo}'"
            )
        algos.append(Algo(algo, (variant,)))
    return KernelGroup(name=name, backend=reference.backend, params=params, algos=tuple(algos))


def _check_one_python_kernel(name: str, variants: Sequence[Variant]) -> None:
    """Variants linked as one out name must come from one Python kernel compiled for one target
    set: dispatch picks a variant by its hints alone. Upstream headers name neither."""
    known = [v for v in variants if v.python_kernel is not None]
    if not known:
        return
    first = known[0]
    for variant in known[1:]:
        if variant.python_kernel != first.python_kernel:
            raise variant.error(
                f"out name '{name}' joins two Python kernels: {variant.python_kernel} here, "
                f"{first.python_kernel} in {first.file}:{first.line}; give each its own out name"
            )
        if variant.targets != first.targets:
            raise variant.error(
                f"variants of '{name}' are compiled for different targets: {', '.join(variant.targets or ())} "
                f"here, {', '.join(first.targets or ())} in {first.file}:{first.line}; compile all for the same ones"
            )


def _unified_type(kernel: str, variants: Sequence[Variant], index: int) -> str:
    """The C type of argument `index` across variants. A `:1` argument's declared type does not
    count where another variant passes it: upstream declares every `:1` argument int32_t."""
    passed = [v for v in variants if v.args[index].hint != 1] or list(variants)
    first = passed[0]
    for variant in passed[1:]:
        if variant.args[index].c_type != first.args[index].c_type:
            raise variant.error(
                f"argument {index} of kernel '{kernel}' is {variant.args[index].c_type} in {variant.symbol} "
                f"but {first.args[index].c_type} in {first.symbol} ({first.file}:{first.line})"
            )
    return first.args[index].c_type


def api_names(group: KernelGroup, prefix: str) -> list[str]:
    """Every global name the dispatcher defines for `group` (emit_link.py spells them the same
    way): its public API, then link.py's names of its algos."""
    base = prefix + group.name
    names = [
        base,
        f"{base}_default",
        f"{base}_get_num_algos",
        f"{base}_get_algo_name",
        f"load_{base}",
        f"unload_{base}",
    ]
    if group.tuning is not None:
        names.append(f"{base}_autotuned")
        if group.backend == "cuda":
            names += [f"{base}_autotune_enable", f"{base}_tuning_export", f"{base}_tuning_import"]
    for algo in group.algos:
        names += [f"{base}_{algo.name}", f"load_{base}_{algo.name}", f"unload_{base}_{algo.name}"]
    for algo in group.algos:
        for link_py_name in algo.link_py_names:
            names += [f"{base}_{link_py_name}", f"load_{base}_{link_py_name}", f"unload_{base}_{link_py_name}"]
    return names


def internal_names(group: KernelGroup, prefix: str) -> list[str]:
    """The dispatcher's static names for `group`: its algo table, their names and count, and the
    table's typedef. They start with `ttlink_`, which no argument can, so no argument shadows them."""
    base = f"ttlink_{prefix}{group.name}"
    return [f"{base}_algo_fn", f"{base}_algos", f"{base}_algo_names", f"{base}_num_algos"]


def tuning_names(group: KernelGroup, prefix: str) -> list[str]:
    """The static names of `group`'s tuning: its table's keys and algos, the table's lookup, the
    struct of a call, the function running an algo on one, and the run-time tuning state."""
    base = f"ttlink_{prefix}{group.name}"
    if group.tuning is None:
        return []
    return [f"{base}_{name}" for name in ("tuned_keys", "tuned_algos", "table_algo", "call", "run_algo", "tuning")]


def check_names(groups: Sequence[KernelGroup], prefix: str) -> None:
    """Every generated name is unique, also against the variants' symbols, and a global one is
    a name a C library may define (no keyword, not the runtime's or the driver's)."""
    owners: dict[str, str] = {}
    for group in groups:
        for algo in group.algos:
            for variant in algo.variants:
                for symbol in (variant.symbol, f"load_{variant.symbol}", f"unload_{variant.symbol}"):
                    owners[symbol] = f"variant {variant.symbol}"
    for group in groups:
        where = group.algos[0].variants[0]
        for name in api_names(group, prefix):
            problem = global_name_problem(name)
            if problem:
                source = f"out name '{group.name}'" + (f" with --prefix '{prefix}'" if prefix else "")
                raise where.error(f"generated name '{name}' {problem} (from {source})")
        for name in api_names(group, prefix) + internal_names(group, prefix) + tuning_names(group, prefix):
            if name in owners:
                raise where.error(f"generated name '{name}' for kernel '{group.name}' clashes with {owners[name]}")
            owners[name] = f"kernel '{group.name}'"


def _check_argument_names(group: KernelGroup, prefix: str) -> None:
    """No argument takes a name a dispatcher body of `group` refers to besides the arguments:
    the C types and constants, the variant entry points (the per-algo functions call them) and
    the per-algo functions (link.py's names of an algo call them). The other bodies refer only
    to `ttlink_` names."""
    used = set(DISPATCHER_C_NAMES)
    for algo in group.algos:
        used.add(f"{prefix}{group.name}_{algo.name}")
        used.update(variant.symbol for variant in algo.variants)
    for algo in group.algos:
        for variant in algo.variants:
            for arg in variant.args:
                if arg.name in used:
                    raise variant.error(
                        f"argument name '{arg.name}' is a name the dispatcher uses; rename the argument"
                    )
