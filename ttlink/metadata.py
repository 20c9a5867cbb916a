"""The `// ttlink-meta:` header line: exact kernel metadata from `ttlink compile` for `ttlink link`.

Upstream's `// tt-linker:` directive forces the linker to guess which parameters are
constexpr and which C argument a suffix hint belongs to. `ttlink compile` writes this line
beside it, so the linker never guesses. The line is one JSON object with sorted keys:

    // ttlink-meta: {"backend":"cuda","embed_ptx":false,"format":1,"kernel":"add_kernel",
    //   "name":"add","num_stages":3,"num_warps":4,"params":[...],"symbol":"add_1a2b3c4d_0d1d",
    //   "targets":["cuda:80","cuda:90"]}

`params` lists every Python parameter of the kernel in order:
  {"kind":"arg","name":"x_ptr","type":"*fp32","c_type":"CUdeviceptr","hint":16}
  {"kind":"constexpr","name":"BLOCK","value":1024}
`hint` is 16 (divisible by 16), 1 (equal to 1: folded into the binary, absent from the
variant's C entry point) or null. A host tensor descriptor argument has type
`tensordesc<fp16[64, 32]>`, c_type `CUtensorMap` and hint null; its C arguments are those
signature.c_arguments gives. Launch options other than Triton's defaults are written as
`"num_ctas":2`, `"launch_pdl":true`, `"launch_cooperative_grid":true`; absent, they are the
defaults (1, false, false), so lines written before them read the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .errors import TtlinkError

DIRECTIVE = "// ttlink-meta:"
FORMAT_VERSION = 1
HINTS = (None, 1, 16)

ConstexprValue = bool | int | float | str

C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names no C argument may take: those the generated C declares itself (the entry points'
# `stream`, the dispatcher's `algo_id`), the keywords of C (up to C23) and C++ (up to C++23),
# C++'s alternative operator spellings, and common compiler extensions. Generated headers are
# included from both languages, so a word either reserves breaks some caller.
RESERVED_NAMES = frozenset(
    """stream algo_id
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
    char32_t class co_await co_return co_yield compl concept const consteval constexpr constinit
    const_cast continue decltype default delete do double dynamic_cast else enum explicit export
    extern false float for friend goto if inline int long mutable namespace new noexcept not
    not_eq nullptr operator or or_eq private protected public register reinterpret_cast requires
    restrict return short signed sizeof static static_assert static_cast struct switch template
    this thread_local throw true try typedef typeid typename typeof typeof_unqual union unsigned
    using virtual void volatile wchar_t while xor xor_eq
    _Alignas _Alignof _Atomic _BitInt _Bool _Complex _Decimal128 _Decimal32 _Decimal64 _Generic
    _Imaginary _Noreturn _Static_assert _Thread_local __asm __asm__ __attribute__ __inline
    __restrict __typeof__""".split()
)
# Prefixes of names the runtime (ttlink_*) and the CUDA driver API (cuInit, cuLaunchKernel, ...)
# define: a generated name there could collide with them at link time.
RESERVED_PREFIX = re.compile(r"ttlink_|cu[A-Z]")


def argument_name_problem(name: str) -> str | None:
    """Why `name` cannot be a C argument of the generated code, or None if it can."""
    if not C_IDENTIFIER.fullmatch(name):
        return "is not an ASCII C identifier"
    if name in RESERVED_NAMES:
        return "is a C/C++ keyword or a name the generated C declares itself"
    if name.startswith("ttlink_"):
        return "starts with 'ttlink_', which the generated C reserves for its own names"
    return None


def global_name_problem(name: str) -> str | None:
    """Why `name` cannot be a global symbol of the generated code, or None if it can."""
    if not C_IDENTIFIER.fullmatch(name):
        return "is not an ASCII C identifier"
    if name in RESERVED_NAMES:
        return "is a C/C++ keyword"
    if RESERVED_PREFIX.match(name):
        return "is reserved: 'ttlink_*' names belong to the ttlink runtime, 'cu[A-Z]*' to the CUDA driver"
    return None


MAX_NUM_CTAS = 16  # the largest (non-portable) cluster


@dataclass(frozen=True)
class LaunchOptions:
    """Triton's launch options of a compiled kernel (CUDAOptions): CTAs per cluster, cooperative
    grid, programmatic dependent launch. Part of what makes a variant, and of its algo's name."""

    num_ctas: int = 1
    launch_pdl: bool = False
    launch_cooperative_grid: bool = False

    def non_default(self) -> dict[str, int | bool]:
        """The options that differ from Triton's defaults, by Triton's names."""
        return {key: value for key, value in vars(self).items() if value != getattr(DEFAULT_LAUNCH, key)}

    @property
    def name_suffix(self) -> str:
        """What algo names append: `_ctas2`, `_pdl`, `_coop`; empty for the defaults."""
        return (
            (f"_ctas{self.num_ctas}" if self.num_ctas != 1 else "")
            + ("_pdl" if self.launch_pdl else "")
            + ("_coop" if self.launch_cooperative_grid else "")
        )


DEFAULT_LAUNCH = LaunchOptions()


def num_ctas_problem(num_ctas: object) -> str | None:
    """Why `num_ctas` is not a cluster size Triton compiles for, or None."""
    if not isinstance(num_ctas, int) or isinstance(num_ctas, bool):
        return "is not an integer"
    if not 1 <= num_ctas <= MAX_NUM_CTAS or num_ctas & (num_ctas - 1):
        return f"is not a power of two from 1 to {MAX_NUM_CTAS}"
    return None


@dataclass(frozen=True)
class Param:
    """One Python parameter of the kernel: a C argument (`kind == "arg"`) or a constexpr."""

    name: str
    kind: str  # "arg" or "constexpr"
    type: str | None = None  # Triton type of an argument, e.g. "*fp16", "i32", "fp32"
    c_type: str | None = None  # C type of an argument, e.g. "CUdeviceptr", "int32_t", "float"
    hint: int | None = None  # arguments only: 16, 1 or None
    value: ConstexprValue | None = None  # constexprs only

    @property
    def is_arg(self) -> bool:
        return self.kind == "arg"

    def to_record(self) -> dict:
        """The JSON object this parameter is written as (see the module docstring)."""
        if self.is_arg:
            return {"kind": "arg", "name": self.name, "type": self.type, "c_type": self.c_type, "hint": self.hint}
        return {"kind": "constexpr", "name": self.name, "value": self.value}


@dataclass(frozen=True)
class KernelMeta:
    """Everything the linker needs to know about one compiled kernel variant."""

    name: str  # out name: variants sharing it are linked into one API `name`, `name_default`, ...
    symbol: str  # the variant's C entry point: CUresult symbol(CUstream, args without :1 ones)
    kernel: str  # the Python function's name
    backend: str
    params: tuple[Param, ...]
    num_warps: int
    num_stages: int
    targets: tuple[str, ...]
    embed_ptx: bool
    launch: LaunchOptions = DEFAULT_LAUNCH

    @property
    def args(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_arg)

    @property
    def constexprs(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.is_arg)

    def to_line(self) -> str:
        record = {
            "format": FORMAT_VERSION,
            "name": self.name,
            "symbol": self.symbol,
            "kernel": self.kernel,
            "backend": self.backend,
            "params": [p.to_record() for p in self.params],
            "num_warps": self.num_warps,
            "num_stages": self.num_stages,
            "targets": list(self.targets),
            "embed_ptx": self.embed_ptx,
            **self.launch.non_default(),
        }
        return f"{DIRECTIVE} {json.dumps(record, sort_keys=True, separators=(',', ':'))}"


def parse_line(text: str, file: str, line: int) -> KernelMeta:
    """Parses the JSON after `// ttlink-meta:`. Raises TtlinkError naming file and line."""

    def fail(what: str) -> TtlinkError:
        return TtlinkError(f"malformed ttlink-meta directive: {what}", file=file, line=line)

    body = text.strip()
    if body.startswith(DIRECTIVE):
        body = body[len(DIRECTIVE) :]
    try:
        record = json.loads(body)
    except json.JSONDecodeError as error:
        raise fail(f"invalid JSON ({error.msg})") from None
    except RecursionError:
        raise fail("nested too deeply") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise fail("a number has too many digits") from None
    if not isinstance(record, dict):
        raise fail("expected a JSON object")
    if record.get("format") != FORMAT_VERSION:
        raise fail(f"unsupported format {record.get('format')!r} (this ttlink reads {FORMAT_VERSION})")

    def field(key: str, kind: type | tuple[type, ...]):
        value = record.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise fail(f"field '{key}' missing or of the wrong type")
        return value

    params = []
    raw_params = field("params", list)
    for raw in raw_params:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise fail("each param needs a name")
        if raw.get("kind") == "arg":
            if not isinstance(raw.get("type"), str) or not isinstance(raw.get("c_type"), str):
                raise fail(f"param '{raw['name']}' needs 'type' and 'c_type'")
            if "hint" not in raw or raw["hint"] not in HINTS or isinstance(raw["hint"], bool):
                raise fail(f"param '{raw['name']}' has hint {raw.get('hint')!r}; expected 16, 1 or null")
            params.append(Param(raw["name"], "arg", type=raw["type"], c_type=raw["c_type"], hint=raw["hint"]))
        elif raw.get("kind") == "constexpr":
            if not isinstance(raw.get("value"), (bool, int, float, str)):
                raise fail(f"constexpr '{raw['name']}' needs a value")
            params.append(Param(raw["name"], "constexpr", value=raw["value"]))
        else:
            raise fail(f"param '{raw['name']}' has kind {raw.get('kind')!r}; expected 'arg' or 'constexpr'")
    targets = field("targets", list)
    if not all(isinstance(t, str) for t in targets):
        raise fail("field 'targets' must list strings")
    launch = LaunchOptions(**{key: record.get(key, default) for key, default in vars(DEFAULT_LAUNCH).items()})
    problem = num_ctas_problem(launch.num_ctas)
    if problem is not None:
        raise fail(f"field 'num_ctas' {problem}")
    for key in ("launch_pdl", "launch_cooperative_grid"):
        if not isinstance(getattr(launch, key), bool):
            raise fail(f"field '{key}' is not a boolean")
    return KernelMeta(
        name=field("name", str),
        symbol=field("symbol", str),
        kernel=field("kernel", str),
        backend=field("backend", str),
        params=tuple(params),
        num_warps=field("num_warps", int),
        num_stages=field("num_stages", int),
        targets=tuple(targets),
        embed_ptx=field("embed_ptx", bool),
        launch=launch,
    )
