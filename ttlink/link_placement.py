"""Which Python parameters of an upstream kernel were constexprs (pure).

An upstream header gives the C arguments, the constexpr values and a suffix whose hint
indices count ALL Python parameters. A hint belongs to C argument `index - (constexprs
before index)`, so the linker must know where the constexprs sat. Three steps:

1. If every placement of the constexprs on unhinted positions puts each hint on the same
   C argument, that is the answer (the usual case: constexprs after the hinted arguments).
2. Else the placement is recovered from the symbol's signature hash, which upstream computes
   as sha256(" ".join(SIG entries + ["warps{W}xstages{S}"]))[:8] over the SIG the user typed:
   candidate SIG lists (placements x element types the C types allow) are hashed, at most
   CANDIDATE_LIMIT of them, and a match fixes the placement.
3. Else the header is ambiguous: AmbiguousPlacement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from itertools import combinations, product
from math import comb

CANDIDATE_LIMIT = 200_000

# Element types tried for `*T` pointer arguments, most common first.
POINTER_ELEMENTS = ("fp32", "fp16", "bf16", "i32", "i64", "fp64", "i8", "u8", "i16", "u16", "u32", "u64", "i1")
SCALAR_TYPES = {
    "int8_t": ("i8", "i1"),
    "int16_t": ("i16",),
    "int32_t": ("i32",),
    "int64_t": ("i64",),
    "uint8_t": ("u8", "u1"),
    "uint16_t": ("u16",),
    "uint32_t": ("u32",),
    "uint64_t": ("u64",),
    "float": ("fp32", "fp16", "bf16", "f32"),
    "double": ("fp32", "fp16", "bf16", "fp64", "f32"),
}
# Upstream declares every `:1` argument int32_t, whatever its Triton type.
EQUAL_TO_ONE_TYPES = ("i32", "i64", "u32", "u64", "i16", "u16", "i8", "u8")
HINT_TEXT = {16: ":16", 1: ":1"}


class AmbiguousPlacement(Exception):
    """The header does not say which C argument a hint belongs to."""


def place_hints(
    num_params: int,
    hints: Mapping[int, int],
    c_types: Sequence[str],
    constexprs: Sequence[str],
    meta_sig: str,
    sig_hash: str,
) -> tuple[int | None, ...]:
    """Returns the hint (16, 1 or None) of each C argument.

    `hints` maps Python parameter index -> 16 or 1; `constexprs` are the constexpr values as
    upstream printed them; `meta_sig` is `warps{W}xstages{S}`."""
    free = [p for p in range(num_params) if p not in hints]
    if len(constexprs) > len(free) or len(free) - len(constexprs) + len(hints) != len(c_types):
        raise AmbiguousPlacement(
            f"{len(c_types)} C arguments and {len(constexprs)} constexprs do not fit {num_params} parameters"
        )
    if _placement_is_irrelevant(free, hints, len(constexprs)):
        return _arg_hints(num_params, hints, set(free[: len(constexprs)]))
    found = {
        _arg_hints(num_params, hints, set(p))
        for p in _matching_placements(free, hints, c_types, constexprs, meta_sig, sig_hash)
    }
    if len(found) == 1:
        return found.pop()
    raise AmbiguousPlacement(
        "the constexpr positions are not determined by the suffix and the signature hash "
        + ("matches no candidate signature" if not found else "matches several placements")
    )


def _placement_is_irrelevant(free: Sequence[int], hints: Mapping[int, int], num_constexprs: int) -> bool:
    """True when every hinted parameter has the same number of constexprs before it in
    every placement: at least n - (free after it) and at most min(n, free before it)."""
    for index in hints:
        before = sum(p < index for p in free)
        if max(0, num_constexprs - (len(free) - before)) != min(num_constexprs, before):
            return False
    return True


def _arg_hints(num_params: int, hints: Mapping[int, int], constexpr_positions: set[int]) -> tuple[int | None, ...]:
    return tuple(hints.get(p) for p in range(num_params) if p not in constexpr_positions)


def _matching_placements(
    free: Sequence[int],
    hints: Mapping[int, int],
    c_types: Sequence[str],
    constexprs: Sequence[str],
    meta_sig: str,
    sig_hash: str,
) -> Iterator[tuple[int, ...]]:
    num_params = len(free) + len(hints)
    if comb(len(free), len(constexprs)) > CANDIDATE_LIMIT:
        return
    placements = list(combinations(free, len(constexprs)))
    options_by_placement = []
    for placement in placements:
        arg_hints = _arg_hints(num_params, hints, set(placement))
        options_by_placement.append([_type_options(c, h) for c, h in zip(c_types, arg_hints, strict=True)])
    deepest = max((len(o) for options in options_by_placement for o in options), default=1)
    tried = 0
    # Rank r tries the candidates whose least likely choice is the r-th of its list, so the
    # common signatures (one element type for all pointers) come first.
    for rank in range(deepest):
        for placement, options in zip(placements, options_by_placement, strict=True):
            ranges = [range(min(rank + 1, len(o))) for o in options]
            for choice in product(*ranges):
                if rank and max(choice) != rank:
                    continue
                if tried == CANDIDATE_LIMIT:
                    return
                tried += 1
                types = iter(o[c] for o, c in zip(options, choice, strict=True))
                values = iter(constexprs)
                entries = [next(values) if p in placement else next(types) for p in range(num_params)]
                digest = hashlib.sha256(" ".join([*entries, meta_sig]).encode()).hexdigest()
                if digest[:8] == sig_hash.lower():
                    yield placement


def _type_options(c_type: str, hint: int | None) -> tuple[str, ...]:
    """The SIG entries (type plus hint) a C argument of `c_type` may have been typed as."""
    if hint == 1:
        types = EQUAL_TO_ONE_TYPES
    elif c_type in ("CUdeviceptr", "hipDeviceptr_t"):
        types = tuple("*" + element for element in POINTER_ELEMENTS)
    else:
        types = SCALAR_TYPES.get(c_type, ())
    suffix = HINT_TEXT.get(hint, "")
    return tuple(t + suffix for t in types)
