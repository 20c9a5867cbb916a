"""The SIG and target grammar of `ttlink compile` (that of Triton's compile.py), the config
checks and the variant symbol. Pure. The GRID grammar is in grid.py.

SIG has one entry per Python parameter, constexprs included: a Triton type with an optional
hint (`*fp16:16`, `i32`, `i32:1`), a host tensor descriptor (`tensordesc<fp16[64, 32]>`, no
hint), or a literal, which makes the parameter a constexpr (`1024`, `0.5`, `-1e-3`). Entries
are separated by the commas outside brackets.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import TtlinkError
from .metadata import C_IDENTIFIER, ConstexprValue, Param, argument_name_problem, global_name_problem

# Scalar Triton types and the C type of the same size (fp16/bf16 travel as their bit pattern).
SCALAR_C_TYPES = {
    "i1": "int8_t",
    "i8": "int8_t",
    "i16": "int16_t",
    "i32": "int32_t",
    "i64": "int64_t",
    "u1": "uint8_t",
    "u8": "uint8_t",
    "u16": "uint16_t",
    "u32": "uint32_t",
    "u64": "uint64_t",
    "fp16": "uint16_t",
    "bf16": "uint16_t",
    "fp32": "float",
    "fp64": "double",
}
INTEGER_TYPES = frozenset(t for t in SCALAR_C_TYPES if t[0] in "iu")
BOOLEAN_TYPES = frozenset({"i1", "u1"})  # integers in grids, but they take no hints (as in the Bazel rules)
POINTEE_TYPES = frozenset(SCALAR_C_TYPES) | {"fp8e4nv", "fp8e5", "fp8e4b15", "fp8e4b8", "fp8e5b16"}
POINTER_C_TYPE = "CUdeviceptr"
TENSORDESC_C_TYPE = "CUtensorMap"  # what the kernel takes in the descriptor's place (Triton's name)
MAX_TENSORDESC_RANK = 5  # cuTensorMapEncodeTiled's limit
_TENSORDESC = re.compile(r"tensordesc<\s*(\w+)\s*\[([^\]]*)\]\s*>")
# Bytes each C type occupies in the kernel's parameter buffer (checked against the PTX).
C_TYPE_SIZES = {POINTER_C_TYPE: 8, "float": 4, "double": 8} | {
    f"{sign}int{bits}_t": bits // 8 for sign in ("", "u") for bits in (8, 16, 32, 64)
}

_TARGET = re.compile(r"cuda:([0-9]{2,3})(?::32)?")  # compile.py's cuda:ARCH:WARP_SIZE form too
# The compute capabilities (10 * major + minor) CUDA has; the ptxas of the Triton in use may
# know fewer, and then its own message is shown.
CUDA_ARCHS = (50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 88, 89, 90, 100, 101, 103, 107, 110, 120, 121)
MAX_NUM_WARPS = 32  # a block has at most 1024 threads
# Literals in ASCII digits only: Python's int() and float() also take `1_024`, Unicode digits,
# `inf` and `nan`, none of which C or Triton's compile.py users mean.
_INTEGER_LITERAL = re.compile(r"[-+]?[0-9]+")
_FLOAT_LITERAL = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?")
_LOOKS_NUMERIC = re.compile(r"[-+.]?\d")
_MAX_INTEGER_DIGITS = 20  # 2**64 has 20 digits; int() refuses thousands of digits with a ValueError


def takes_hints(triton_type: str) -> bool:
    """Pointers and integers take `:16` / `:1` hints; floats, booleans and descriptors do not."""
    return triton_type.startswith("*") or triton_type in INTEGER_TYPES - BOOLEAN_TYPES


def c_type(triton_type: str) -> str:
    if is_tensordesc(triton_type):
        return TENSORDESC_C_TYPE
    return POINTER_C_TYPE if triton_type.startswith("*") else SCALAR_C_TYPES[triton_type]


def is_tensordesc(triton_type: str | None) -> bool:
    return triton_type is not None and triton_type.startswith("tensordesc")


def parse_tensordesc(text: str) -> tuple[str, tuple[int, ...]]:
    """`tensordesc<DTYPE[B0, B1, ...]>` -> (DTYPE, block shape). Raises TtlinkError saying
    what is wrong (the caller names the entry)."""
    if text.startswith("tensordesc_im2col"):
        raise TtlinkError("im2col tensor descriptors are not supported (tiled ones are)")
    match = _TENSORDESC.fullmatch(text)
    if match is None:
        raise TtlinkError("malformed tensor descriptor type; expected tensordesc<DTYPE[B0, B1, ...]>")
    dtype, dims = match[1], [dim.strip() for dim in match[2].split(",")]
    if dtype not in POINTEE_TYPES:
        raise TtlinkError(f"unknown element type '{dtype}'")
    if not 1 <= len(dims) <= MAX_TENSORDESC_RANK:
        raise TtlinkError(f"rank {len(dims)}; a tensor descriptor has 1 to {MAX_TENSORDESC_RANK} dimensions")
    for dim in dims:
        if not re.fullmatch(r"[0-9]{1,10}", dim) or not 1 <= int(dim) <= 2**31 - 1:
            raise TtlinkError(f"block dimension '{shortened(dim)}' is not a positive integer")
    return dtype, tuple(int(dim) for dim in dims)


def tensordesc_type(dtype: str, block: Sequence[int]) -> str:
    """The canonical spelling, Triton's: `tensordesc<fp16[64, 32]>`."""
    return f"tensordesc<{dtype}[{', '.join(map(str, block))}]>"


def tensordesc_rank(param: Param) -> int:
    return len(parse_tensordesc(param.type or "")[1])


@dataclass(frozen=True)
class TensordescArguments:
    """The C arguments that stand for tensor descriptor `d` of rank n: what a C caller has."""

    base: str  # d_base, CUdeviceptr
    shape: tuple[str, ...]  # d_shape0..n-1, int64_t, elements, outermost first
    strides: tuple[str, ...]  # d_stride0..n-1, int64_t, elements
    padding: str  # d_padding, int32_t: 0 zero, 1 NaN


def tensordesc_arguments(param: Param) -> TensordescArguments:
    rank, name = tensordesc_rank(param), param.name
    return TensordescArguments(
        base=f"{name}_base",
        shape=tuple(f"{name}_shape{i}" for i in range(rank)),
        strides=tuple(f"{name}_stride{i}" for i in range(rank)),
        padding=f"{name}_padding",
    )


def c_arguments(param: Param) -> list[tuple[str, str]]:
    """(C type, name) of the C arguments that stand for argument `param` in entry points and
    dispatchers; a tensor descriptor's are its TensordescArguments, in that order."""
    if not is_tensordesc(param.type):
        return [(param.c_type or "", param.name)]
    names = tensordesc_arguments(param)
    return [
        (POINTER_C_TYPE, names.base),
        *[("int64_t", shape) for shape in names.shape],
        *[("int64_t", stride) for stride in names.strides],
        ("int32_t", names.padding),
    ]


def grid_params(params: Sequence[Param]) -> list[Param]:
    """`params` with each tensor descriptor's shape arguments (`d_shape0`, ... int64_t) added:
    what a GRID may name."""
    shapes = [
        Param(shape, "arg", type="i64", c_type="int64_t", hint=None)
        for param in params
        if param.is_arg and is_tensordesc(param.type)
        for shape in tensordesc_arguments(param).shape
    ]
    return [*params, *shapes]


def kernel_param_sizes(param: Param) -> list[int]:
    """Bytes of the compiled kernel's parameters for argument `param`: a tensor descriptor of
    rank n is the 128-byte CUtensorMap, n i32 dims and n i64 strides (Triton's expansion)."""
    if not is_tensordesc(param.type):
        return [C_TYPE_SIZES[param.c_type or ""]]
    rank = tensordesc_rank(param)
    return [128] + [4] * rank + [8] * rank


def split_entries(text: str) -> list[str]:
    """SIG split on the commas outside brackets (`tensordesc<fp16[64, 32]>` is one entry)."""
    entries, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += (char in "[<") - (char in "]>")
        if depth < 0:
            break
        if char == "," and depth == 0:
            entries.append(text[start:index].strip())
            start = index + 1
    if depth != 0:
        raise TtlinkError(f"signature '{shortened(text)}': unbalanced brackets ('<' '>' or '[' ']')")
    return [*entries, text[start:].strip()]


def parse_literal(text: str) -> ConstexprValue | None:
    """A constexpr literal (`1024`, `0.5`, `-1`, `1e-3`) as int or float; None if `text` is not
    one. An integer must fit in 64 bits (signed or unsigned) and a float must be finite."""
    text = text.strip()
    if _INTEGER_LITERAL.fullmatch(text):
        if len(text.lstrip("+-").lstrip("0")) <= _MAX_INTEGER_DIGITS and -(2**63) <= int(text) < 2**64:
            return int(text)
        raise TtlinkError(f"literal '{shortened(text)}' does not fit in 64 bits")
    if _FLOAT_LITERAL.fullmatch(text):
        value = float(text)
        if not math.isfinite(value):
            raise TtlinkError(f"literal '{shortened(text)}' is beyond the range of a double")
        return value
    return None


def shortened(text: str) -> str:
    """`text`, cut in the middle if long: error messages stay one readable line."""
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text)} characters)"


def parse_arg_names(text: str) -> tuple[str, ...]:
    """`--arg-names a,b,c` -> ("a", "b", "c")."""
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if not C_IDENTIFIER.fullmatch(name):
            raise TtlinkError(f"--arg-names '{text}': '{name}' is not a parameter name")
    return names


def check_arg_names(expected: Sequence[str], names: Sequence[str], kernel: str, file: str) -> None:
    """The kernel's parameters must be `expected` exactly, in order: a build system that keys
    the signature by name (Bazel's dict) would otherwise compile types for the wrong parameters."""
    for index, (name, said) in enumerate(zip(names, expected, strict=False)):
        if name != said:
            raise TtlinkError(f"kernel '{kernel}' parameter {index} is '{name}', --arg-names says '{said}'", file=file)
    if len(names) != len(expected):
        raise TtlinkError(
            f"kernel '{kernel}' has {len(names)} parameters ({', '.join(names)}), "
            f"--arg-names gives {len(expected)} ({', '.join(expected)})",
            file=file,
        )


def parse_signature(text: str, names: Sequence[str], constexpr_names: frozenset[str], kernel: str) -> tuple[Param, ...]:
    """Parses SIG against the kernel's Python parameter names. Raises TtlinkError on any problem."""
    entries = split_entries(text)
    if len(entries) != len(names):
        raise TtlinkError(
            f"signature has {len(entries)} entries but kernel '{kernel}' has {len(names)} parameters "
            f"({', '.join(names)})"
        )
    params = []
    for name, entry in zip(names, entries, strict=True):
        if not C_IDENTIFIER.fullmatch(name):
            raise TtlinkError(f"kernel '{kernel}' parameter '{name}' is not an ASCII C identifier")
        where = f"signature entry '{shortened(entry)}' for parameter '{name}'"
        try:
            value = parse_literal(entry)
        except TtlinkError as error:
            raise TtlinkError(f"{where}: {error}") from None
        if value is None and _LOOKS_NUMERIC.match(entry):
            raise TtlinkError(f"{where}: not a literal (ASCII digits, an optional sign, '.' and exponent)")
        if value is not None:
            params.append(Param(name, "constexpr", value=value))
            continue
        if name in constexpr_names:
            raise TtlinkError(f"{where}: '{name}' is tl.constexpr, so its entry must be a value")
        type_, colon, hint_text = entry.partition(":")
        type_ = type_.strip()
        is_pointer = type_.startswith("*")
        if is_tensordesc(type_):
            try:
                type_ = tensordesc_type(*parse_tensordesc(type_))
            except TtlinkError as error:
                raise TtlinkError(f"{where}: {error}") from None
            if colon:
                raise TtlinkError(f"{where}: a tensor descriptor takes no hint")
        elif not (type_[1:] in POINTEE_TYPES if is_pointer else type_ in SCALAR_C_TYPES):
            raise TtlinkError(f"{where}: unknown type '{type_}'")
        hint = None
        if hint_text:
            if hint_text.strip() not in ("1", "16"):
                raise TtlinkError(f"{where}: bad hint '{hint_text.strip()}'; expected 16 or 1")
            hint = int(hint_text)
            if not is_pointer and type_ in BOOLEAN_TYPES:
                raise TtlinkError(f"{where}: {type_} is a boolean; hints apply to pointers and integers only")
            if not is_pointer and type_ not in INTEGER_TYPES:
                raise TtlinkError(f"{where}: hints apply to pointers and integers only")
            if is_pointer and hint == 1:
                raise TtlinkError(f"{where}: a pointer cannot be hinted :1")
        problem = argument_name_problem(name)
        if problem is not None:
            raise TtlinkError(f"kernel '{kernel}' parameter '{name}' cannot name a C argument: it {problem}")
        params.append(Param(name, "arg", type=type_, c_type=c_type(type_), hint=hint))
    _check_c_argument_names(params, kernel)
    return tuple(params)


def _check_c_argument_names(params: Sequence[Param], kernel: str) -> None:
    """The C arguments a tensor descriptor expands to must not take another parameter's name."""
    owners: dict[str, str] = {}
    for param in params:
        if not param.is_arg:
            continue
        for _, name in c_arguments(param):
            problem = argument_name_problem(name)
            if problem is not None:
                raise TtlinkError(
                    f"kernel '{kernel}' parameter '{param.name}' gives C argument '{name}', which {problem}"
                )
            if name in owners:
                what = [f"'{owner}'" if owner == name else f"'{owner}' (its C argument '{name}')"
                        for owner in (owners[name], param.name)]  # fmt: skip
                raise TtlinkError(f"kernel '{kernel}' parameters {what[0]} and {what[1]} both name C argument '{name}'")
            owners[name] = param.name


def signature_entries(params: Sequence[Param]) -> list[str]:
    """The SIG entries that give `params` back, in canonical spelling."""
    entries = []
    for p in params:
        if p.is_arg:
            entries.append(p.type + (f":{p.hint}" if p.hint is not None else ""))
        else:
            entries.append(repr(p.value))
    return entries


def parse_target(text: str) -> str:
    """`cuda:ARCH` or `cuda:ARCH:32` (ARCH = 10 * major + minor, e.g. 80, 90, 120) -> `cuda:ARCH`."""
    match = _TARGET.fullmatch(text.strip())
    if match is None or int(match[1]) not in CUDA_ARCHS:
        raise TtlinkError(
            f"unsupported target '{text}'; expected cuda:ARCH with ARCH (10 * major + minor) one of "
            + " ".join(map(str, CUDA_ARCHS))
        )
    return f"cuda:{int(match[1])}"


def target_arch(target: str) -> int:
    return int(target.split(":")[1])


def check_config(num_warps: int, num_stages: int) -> None:
    if not 1 <= num_warps <= MAX_NUM_WARPS or num_warps & (num_warps - 1):
        raise TtlinkError(
            f"num_warps {num_warps} is not a power of two from 1 to {MAX_NUM_WARPS} (a block has at most 1024 threads)"
        )
    if num_stages < 1:
        raise TtlinkError(f"num_stages {num_stages} is not positive")


def check_global_name(name: str, what: str) -> str:
    problem = global_name_problem(name)
    if problem is not None:
        raise TtlinkError(f"{what} '{name}' {problem}")
    return name


def check_prefix(prefix: str) -> str:
    """`--prefix P`: empty, or the start of a C identifier."""
    if prefix and not C_IDENTIFIER.fullmatch(prefix):
        raise TtlinkError(f"--prefix '{prefix}' is not the start of an ASCII C identifier")
    return prefix


def variant_symbol(
    name: str,
    params: Sequence[Param],
    identity: Sequence[str],
    prefix: str = "",
) -> str:
    """`{prefix}{name}_{hash}_{suffix}`: hash = 8 hex digits of sha256 over `identity` (what
    makes the variant: kernel, binaries, signature, config, targets, grid); the suffix lists
    hinted Python parameter indices with `d` (:16) or `c` (:1), as Triton >= 3.7 does."""
    digest = hashlib.sha256("\n".join(identity).encode()).hexdigest()[:8]
    suffix = "".join(f"{i}{'c' if p.hint == 1 else 'd'}" for i, p in enumerate(params) if p.is_arg and p.hint)
    return f"{prefix}{name}_{digest}_{suffix}"
