"""The SIG, GRID and target grammar of `ttlink compile` (the same as Triton's compile.py). Pure.

SIG has one entry per Python parameter, constexprs included: a Triton type with an optional
hint (`*fp16:16`, `i32`, `i32:1`) or a literal, which makes the parameter a constexpr (`1024`,
`0.5`). GRID is three C expressions over the kernel's integer arguments and constexpr names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import TtlinkError
from .metadata import C_IDENTIFIER, RESERVED_NAMES, ConstexprValue, Param

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
# Bytes each C type occupies in the kernel's parameter buffer (checked against the PTX).
C_TYPE_SIZES = {POINTER_C_TYPE: 8, "float": 4, "double": 8} | {
    f"{sign}int{bits}_t": bits // 8 for sign in ("", "u") for bits in (8, 16, 32, 64)
}

_GRID_TOKEN = re.compile(r"\s*(?:(?P<number>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/%()]))")
_TARGET = re.compile(r"cuda:(\d{2,3})(?::32)?")  # compile.py's cuda:ARCH:WARP_SIZE form too


def c_type(triton_type: str) -> str:
    return POINTER_C_TYPE if triton_type.startswith("*") else SCALAR_C_TYPES[triton_type]


def parse_literal(text: str) -> ConstexprValue | None:
    """A constexpr literal (`1024`, `0.5`, `-1`) as int or float; None if `text` is not one."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return None


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
    entries = [entry.strip() for entry in text.split(",")]
    if len(entries) != len(names):
        raise TtlinkError(
            f"signature has {len(entries)} entries but kernel '{kernel}' has {len(names)} parameters "
            f"({', '.join(names)})"
        )
    params = []
    for name, entry in zip(names, entries, strict=True):
        where = f"signature entry '{entry}' for parameter '{name}'"
        value = parse_literal(entry)
        if value is not None:
            params.append(Param(name, "constexpr", value=value))
            continue
        if name in constexpr_names:
            raise TtlinkError(f"{where}: '{name}' is tl.constexpr, so its entry must be a value")
        type_, _, hint_text = entry.partition(":")
        type_ = type_.strip()
        is_pointer = type_.startswith("*")
        if not (type_[1:] in POINTEE_TYPES if is_pointer else type_ in SCALAR_C_TYPES):
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
        if name in RESERVED_NAMES or name.startswith("ttlink_"):
            raise TtlinkError(f"{where}: '{name}' cannot name a C argument (reserved in the generated C)")
        params.append(Param(name, "arg", type=type_, c_type=c_type(type_), hint=hint))
    return tuple(params)


def signature_entries(params: Sequence[Param]) -> list[str]:
    """The SIG entries that give `params` back, in canonical spelling."""
    entries = []
    for p in params:
        if p.is_arg:
            entries.append(p.type + (f":{p.hint}" if p.hint is not None else ""))
        else:
            entries.append(repr(p.value))
    return entries


@dataclass(frozen=True)
class Grid:
    """The launch grid as C expressions of type int64_t over the entry point's arguments."""

    dims: tuple[str, str, str]
    # Divisors that hold a run-time argument, inner ones first: the entry point returns
    # CUDA_ERROR_INVALID_VALUE when one is 0 instead of dividing by it.
    divisors: tuple[str, ...] = ()


@dataclass
class _Group:
    """An open parenthesis of a grid expression."""

    start: int  # its index in the output tokens
    is_divisor: bool
    has_argument: bool = False


def parse_grid(text: str, params: Sequence[Param]) -> Grid:
    """Checks GRID and returns it as C expressions of type int64_t.

    Integer arguments are widened to int64_t before any arithmetic; constexprs and `:1`
    arguments are replaced by their values, since the entry point has no such variables."""
    by_name = {p.name: p for p in params}
    parts = text.split(",")
    if len(parts) != 3:
        raise TtlinkError(f"grid '{text}' must have 3 comma-separated expressions, got {len(parts)}")
    exprs = []
    divisors: list[str] = []
    for part in parts:
        out: list[str] = []
        groups: list[_Group] = []
        pos = 0
        expect_operand = True
        divisor_next = False  # the next operand follows `/` or `%` (through unary signs)
        while pos < len(part):
            if not part[pos:].strip():
                break
            match = _GRID_TOKEN.match(part, pos)
            if match is None:
                raise TtlinkError(f"grid '{text}': unexpected '{part[pos:].strip()}'")
            pos = match.end()
            if match["number"] is not None or match["name"] is not None:
                if not expect_operand:
                    raise TtlinkError(f"grid '{text}': missing operator before '{match.group().strip()}'")
                if match["number"] is not None:
                    operand = _grid_integer(int(match["number"]), text)
                else:
                    operand = _grid_name(match["name"], by_name, text)
                if operand == "0" and divisor_next:
                    raise TtlinkError(f"grid '{text}': division by zero")
                if operand.startswith("(int64_t)"):
                    for group in groups:
                        group.has_argument = True
                    if divisor_next:
                        divisors.append(operand)
                out.append(operand)
                expect_operand = divisor_next = False
            elif match["op"] == "(":
                if not expect_operand:
                    raise TtlinkError(f"grid '{text}': missing operator before '('")
                groups.append(_Group(start=len(out), is_divisor=divisor_next))
                divisor_next = False
                out.append("(")
            elif match["op"] == ")":
                if not groups or expect_operand:
                    raise TtlinkError(f"grid '{text}': unbalanced or empty parentheses")
                out.append(")")
                group = groups.pop()
                if group.is_divisor and group.has_argument:
                    divisors.append("".join(out[group.start :]))
            else:
                if expect_operand:
                    if match["op"] not in "+-":
                        raise TtlinkError(f"grid '{text}': operator '{match['op']}' lacks its left operand")
                    if out and out[-1] in ("+", "-"):
                        out.append(" ")  # `- -n`, not the C decrement `--n`
                    out.append(match["op"])
                else:
                    out.append(f" {match['op']} ")
                    expect_operand = True
                    divisor_next = match["op"] in "/%"
        if expect_operand or groups:
            raise TtlinkError(f"grid '{text}': incomplete expression '{part.strip()}'")
        exprs.append("".join(out))
    return Grid(dims=(exprs[0], exprs[1], exprs[2]), divisors=tuple(dict.fromkeys(divisors)))


def _grid_name(name: str, by_name: dict[str, Param], text: str) -> str:
    param = by_name.get(name)
    if param is None:
        raise TtlinkError(f"grid '{text}': '{name}' is not a parameter of the kernel")
    if not param.is_arg:
        if isinstance(param.value, bool) or not isinstance(param.value, int):
            raise TtlinkError(f"grid '{text}': constexpr '{name}' is not an integer")
        return _grid_integer(param.value, text)
    if param.type not in INTEGER_TYPES:
        raise TtlinkError(f"grid '{text}': '{name}' is not an integer argument")
    if param.hint == 1:
        return "1"
    return f"(int64_t){name}"


def _grid_integer(value: int, text: str) -> str:
    """An integer as an int64_t C operand; negative ones in parentheses (`-(-4)`, not `--4`)."""
    if not -(2**63) < value < 2**63:
        raise TtlinkError(f"grid '{text}': {value} does not fit in int64_t")
    return f"({value})" if value < 0 else str(value)


def parse_target(text: str) -> str:
    """`cuda:ARCH` or `cuda:ARCH:32` (ARCH = 10 * major + minor, e.g. 80, 90, 120) -> `cuda:ARCH`."""
    match = _TARGET.fullmatch(text.strip())
    if match is None or int(match[1]) < 50:
        raise TtlinkError(f"unsupported target '{text}'; expected cuda:ARCH with ARCH >= 50, e.g. cuda:80 or cuda:90")
    return f"cuda:{int(match[1])}"


def target_arch(target: str) -> int:
    return int(target.split(":")[1])


def check_identifier(name: str, what: str) -> str:
    if not C_IDENTIFIER.fullmatch(name):
        raise TtlinkError(f"{what} '{name}' is not a C identifier")
    return name


def variant_symbol(
    out_name: str, params: Sequence[Param], num_warps: int, num_stages: int, targets: Sequence[str], embed_ptx: bool
) -> str:
    """`NAME_{hash}_{suffix}`: hash over signature, config, targets and embed_ptx; the suffix
    lists hinted Python parameter indices with `d` (:16) or `c` (:1), as Triton >= 3.7 does."""
    words = signature_entries(params) + [f"warps{num_warps}xstages{num_stages}"] + sorted(targets)
    if embed_ptx:
        words.append("embed_ptx")
    digest = hashlib.sha256(" ".join(words).encode()).hexdigest()[:8]
    suffix = "".join(f"{i}{'c' if p.hint == 1 else 'd'}" for i, p in enumerate(params) if p.is_arg and p.hint)
    return f"{out_name}_{digest}_{suffix}"
