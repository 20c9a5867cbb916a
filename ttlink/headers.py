"""Kernel headers -> link model variants.

A header from `ttlink compile` carries `// ttlink-meta: {json}` with exact metadata; it is
the truth, and its `// tt-linker:` line must name the same symbol. A header from Triton's
compile.py (3.2 .. 3.9) has only `// tt-linker: SYMBOL:FULL_C_SIG:ALGO_INFO` and, from 3.7,
`// tt-linker-backend: cuda|hip`. The backend line also tells the suffix format: with it,
the suffix lists hinted parameter indices only (`0d2d`); without it, every index (`0d12d3`).
"""

from __future__ import annotations

import re
from pathlib import Path

from . import metadata
from .errors import TtlinkError
from .link_placement import AmbiguousPlacement, place_hints
from .metadata import ConstexprValue, KernelMeta
from .model import Arg, Variant
from .signature import c_arguments, parse_literal

DIRECTIVE = re.compile(r"//\s*(tt-linker-backend|tt-linker|ttlink-meta)\b\s*(:?)(.*)$")
SYMBOL = re.compile(r"([A-Za-z_]\w*)_([0-9a-fA-F]{8})_([0-9A-Za-z]*)")
ALGO_INFO = re.compile(r"(.*)_warps([0-9]+)xstages([0-9]+)")
C_PARAM = re.compile(r"\s*([A-Za-z_]\w*)\s+([A-Za-z_]\w*)\s*")
HINT_LETTERS = {"d": 16, "c": 1}
DEFAULT_BACKEND = "cuda"  # headers older than Triton 3.7 have no backend line; HIP ones no directive


def read_header(path: str) -> list[Variant]:
    """All variants one header declares; none for a header without directives (a dispatcher
    header from an earlier link, say). Raises TtlinkError naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise TtlinkError(f"cannot read header: {error.strerror or error}", file=path) from None
    except UnicodeDecodeError:
        raise TtlinkError("cannot read header: not UTF-8 text", file=path) from None
    metas: list[tuple[int, KernelMeta]] = []
    linkers: list[tuple[int, str]] = []
    backend: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        match = DIRECTIVE.match(line) if line.startswith("//") else None
        if match is None:
            continue
        kind, colon, body = match.groups()
        if not colon:
            raise TtlinkError(f"malformed {kind} directive: expected '{kind}:'", file=path, line=number)
        if kind == "ttlink-meta":
            metas.append((number, metadata.parse_line(body, path, number)))
        elif kind == "tt-linker":
            linkers.append((number, body.strip()))
        elif backend not in (None, body.strip()):
            raise TtlinkError(f"backend '{body.strip()}' differs from '{backend}' earlier in this header", path, number)
        else:
            backend = body.strip()
    if metas:
        algo_infos = _link_py_algos(metas, linkers, path)
        return [variant_from_meta(meta, algo_infos.get(meta.symbol), path, number) for number, meta in metas]
    return [_from_upstream(body, backend, path, number) for number, body in linkers]


def _link_py_algos(metas: list[tuple[int, KernelMeta]], linkers: list[tuple[int, str]], path: str) -> dict[str, str]:
    """{symbol: ALGO_INFO} of the tt-linker lines, each of which must name a ttlink-meta symbol."""
    symbols = {meta.symbol for _, meta in metas}
    algo_infos = {}
    for number, body in linkers:
        fields = [field.strip() for field in body.split(":")]
        symbol = fields[0]
        if symbol not in symbols:
            raise TtlinkError(
                f"tt-linker directive names '{symbol}' but the ttlink-meta line names {', '.join(sorted(symbols))}",
                file=path,
                line=number,
            )
        if len(fields) == 3:  # SYMBOL:FULL_C_SIG:ALGO_INFO; the ttlink-meta line has the rest
            algo_infos[symbol] = fields[2]
    return algo_infos


def variant_from_meta(meta: KernelMeta, link_py_algo: str | None = None, path: str = "", line: int = 0) -> Variant:
    """The link model's view of a `ttlink compile` variant (also how its C names its algo): its
    C arguments, a tensor descriptor's expanded to those its entry point takes."""
    args = []
    for param in meta.args:
        try:
            expanded = c_arguments(param)
        except TtlinkError as error:
            raise TtlinkError(f"parameter '{param.name}' of {meta.symbol}: {error.message}", path, line) from None
        args += [Arg(name, c_type, param.hint if len(expanded) == 1 else None) for c_type, name in expanded]
    return Variant(
        kernel=meta.name,
        symbol=meta.symbol,
        backend=meta.backend,
        args=tuple(args),
        constexprs=tuple(p.value for p in meta.constexprs),
        num_warps=meta.num_warps,
        num_stages=meta.num_stages,
        file=path,
        line=line,
        python_kernel=meta.kernel,
        targets=tuple(sorted(meta.targets)),
        link_py_algo=link_py_algo,
        launch=meta.launch,
    )


def _from_upstream(body: str, backend: str | None, path: str, line: int) -> Variant:
    def fail(what: str) -> TtlinkError:
        return TtlinkError(f"malformed tt-linker directive: {what}", file=path, line=line)

    fields = body.split(":")
    if len(fields) != 3:
        raise fail("expected SYMBOL:C_SIGNATURE:ALGO_INFO")
    symbol, c_signature, algo_info = (field.strip() for field in fields)
    symbol_match = SYMBOL.fullmatch(symbol)
    if symbol_match is None:
        raise fail(f"symbol '{symbol}' is not NAME_HASH_SUFFIX (HASH: 8 hex digits)")
    kernel, sig_hash, suffix = symbol_match.groups()
    c_params = []
    for text in c_signature.split(",") if c_signature else []:
        param = C_PARAM.fullmatch(text)
        if param is None:
            raise fail(f"'{text.strip()}' is not 'C_TYPE NAME'")
        c_params.append(param.groups())
    algo_match = ALGO_INFO.fullmatch(algo_info)
    if algo_match is None:
        raise fail(f"algo info '{algo_info}' does not end in _warpsWxstagesS")
    values_text, warps, stages = algo_match.groups()
    values = values_text.split("x") if values_text else []

    hinted_only = backend is not None
    try:
        tokens = _parse_suffix(suffix, hinted_only)
    except ValueError as error:
        raise fail(f"suffix '{suffix}': {error}") from None
    hints = {index: HINT_LETTERS[letter] for index, letter in tokens if letter}
    equal_to_one = sum(h == 1 for h in hints.values())
    if hinted_only:  # Triton >= 3.7: ALGO_INFO always ends with one `x1` per `:1` argument
        num_constexprs = len(values) - equal_to_one
        num_params = len(c_params) + num_constexprs
        folded = num_constexprs >= 0
    else:  # Triton <= 3.6: the suffix counts the parameters; 3.2 has no `x1` parts
        num_params = len(tokens)
        num_constexprs = num_params - len(c_params)
        folded = len(values) == num_constexprs + equal_to_one
        if not folded and len(values) != num_constexprs:
            raise fail(f"{len(values)} values in '{algo_info}' do not fit {num_constexprs} constexprs")
    if num_constexprs < 0 or (folded and any(v != "1" for v in values[num_constexprs:])):
        raise fail(f"algo info '{algo_info}' does not fit {len(c_params)} arguments with {equal_to_one} ':1' hints")
    if tokens and tokens[-1][0] >= num_params:
        raise fail(f"suffix index {tokens[-1][0]} is beyond the kernel's {num_params} parameters")
    constexpr_texts = values[:num_constexprs]
    try:
        arg_hints = place_hints(
            num_params,
            hints,
            [c_type for c_type, _ in c_params],
            constexpr_texts,
            f"warps{warps}xstages{stages}",
            sig_hash,
        )
    except AmbiguousPlacement as error:
        raise TtlinkError(
            f"ambiguous header for {symbol}: {error}, so which C argument each hint belongs to is unknown; "
            "headers from `ttlink compile` carry exact metadata",
            file=path,
            line=line,
        ) from None
    return Variant(
        kernel=kernel,
        symbol=symbol,
        backend=backend or DEFAULT_BACKEND,
        args=tuple(Arg(name, c_type, hint) for (c_type, name), hint in zip(c_params, arg_hints, strict=True)),
        constexprs=tuple(_constexpr_value(text, fail) for text in constexpr_texts),
        num_warps=int(warps),
        num_stages=int(stages),
        file=path,
        line=line,
        link_py_algo=algo_info,
    )


def _parse_suffix(suffix: str, hinted_only: bool) -> list[tuple[int, str]]:
    """[(parameter index, hint letter or '')]. Hinted-only: `0d2d` (each index has a letter).
    Every index: `0d12d3` (indices 0, 1, 2, ... in order, a letter where hinted)."""
    tokens: list[tuple[int, str]] = []
    position = 0
    while position < len(suffix):
        if hinted_only:
            digits = re.match(r"[0-9]+", suffix[position:])
            if digits is None or digits.group() != str(int(digits.group())):
                raise ValueError(f"expected a parameter index at '{suffix[position:]}'")
            index = int(digits.group())
            if tokens and index <= tokens[-1][0]:
                raise ValueError(f"index {index} is not in increasing order")
        else:
            index = len(tokens)
            if not suffix.startswith(str(index), position):
                raise ValueError(f"expected parameter index {index} at '{suffix[position:]}'")
        position += len(str(index))
        letter = suffix[position] if position < len(suffix) and suffix[position].isalpha() else ""
        if letter and letter not in HINT_LETTERS:
            raise ValueError(f"unknown hint letter '{letter}' (expected 'd' for :16 or 'c' for :1)")
        if hinted_only and not letter:
            raise ValueError(f"index {index} has no hint letter")
        position += len(letter)
        tokens.append((index, letter))
    return tokens


def _constexpr_value(text: str, fail) -> ConstexprValue:
    try:
        value = parse_literal(text)
    except TtlinkError as error:  # a number beyond 64 bits or a double's range
        raise fail(f"constexpr {error.message}") from None
    if value is None:
        raise fail(f"constexpr value '{text}' is not a number")
    return value
