"""Grouping, ordering and numbering rules of the link model (docs/DESIGN.md, "Linked API")."""

from __future__ import annotations

import itertools

import pytest

from ttlink.errors import TtlinkError
from ttlink.model import Arg, Variant, build_groups


def variant(
    symbol, constexprs=(64,), hints=(None, None), warps=4, stages=3, kernel="k", types=("CUdeviceptr", "int32_t")
):
    args = tuple(Arg(name, c_type, hint) for name, c_type, hint in zip(("x", "n"), types, hints, strict=True))
    return Variant(kernel, symbol, "cuda", args, tuple(constexprs), warps, stages, f"{symbol}.h", 1)


def test_algos_numbered_numerically_by_constexprs_then_warps_then_stages():
    variants = [
        variant("k_a", (1024,)),
        variant("k_b", (256,)),
        variant("k_c", (256,), warps=8),
        variant("k_d", (256,), warps=8, stages=2),
        variant("k_e", (-1.5,)),
    ]
    expected = [
        "m1p5_warps4xstages3",
        "256_warps4xstages3",
        "256_warps8xstages2",
        "256_warps8xstages3",
        "1024_warps4xstages3",
    ]
    for order in itertools.islice(itertools.permutations(variants), 0, None, 17):
        (group,) = build_groups(order)
        assert [algo.name for algo in group.algos] == expected


def test_variants_most_hints_first_then_16_before_1_generic_last():
    variants = [
        variant("k_generic"),
        variant("k_n1", hints=(None, 1)),
        variant("k_both", hints=(16, 16)),
        variant("k_x16", hints=(16, None)),
        variant("k_n16", hints=(None, 16)),
    ]
    (group,) = build_groups(variants)
    (algo,) = group.algos
    assert [v.symbol for v in algo.variants] == ["k_both", "k_x16", "k_n16", "k_n1", "k_generic"]


def test_equal_to_one_argument_type_comes_from_the_variants_that_pass_it():
    # upstream declares `:1` arguments int32_t even when the kernel parameter is i64
    generic = variant("k_g", types=("CUdeviceptr", "int64_t"))
    unit = variant("k_u", hints=(None, 1), types=("CUdeviceptr", "int32_t"))
    (group,) = build_groups([unit, generic])
    assert group.params == (("CUdeviceptr", "x"), ("int64_t", "n"))


def test_two_kernels_are_two_groups_each_numbered_alone():
    groups = build_groups([variant("b_1", kernel="b"), variant("a_1", (8,), kernel="a"), variant("a_2", kernel="a")])
    assert [(g.name, [a.name for a in g.algos]) for g in groups] == [
        ("a", ["8_warps4xstages3", "64_warps4xstages3"]),
        ("b", ["64_warps4xstages3"]),
    ]


@pytest.mark.parametrize(
    ("variants", "prefix", "message"),
    [
        ([variant("k_a", ("0.5",)), variant("k_b", (0.5,))], "", "both named '0p5_warps4xstages3'"),
        ([variant("k_a", ("a b",))], "", "cannot be made a C identifier"),
        ([variant("k_a")], "9", r"'9k' is not an ASCII C identifier \(from out name 'k' with --prefix '9'\)"),
        ([variant("k_a")], "ttlink_", r"'ttlink_k' is reserved: 'ttlink_\*' names belong to the ttlink runtime"),
        ([variant("cuK_a", kernel="cuK")], "", r"'cuK_a' is reserved"),
        ([variant("k_a"), variant("k_default", kernel="k_a")], "", "clashes"),
        ([variant("k_a"), variant("k_num_1", kernel="k_num")], "", "'ttlink_k_num_algos' for kernel 'k_num' clashes"),
        ([variant("int_1", kernel="int")], "", "'int' is a C/C\\+\\+ keyword"),
        ([variant("k_a", constexprs=()), variant("k_b", constexprs=(1,))], "", "has 2 arguments and 1 constexprs"),
    ],
)
def test_inconsistent_or_unnameable_input_is_an_error(variants, prefix, message):
    with pytest.raises(TtlinkError, match=message):
        build_groups(variants, prefix)
