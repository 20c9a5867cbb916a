"""The SIG / GRID / target grammar and the symbol name (pure; no Triton)."""

from __future__ import annotations

import pytest

from ttlink.errors import TtlinkError
from ttlink.metadata import Param
from ttlink.signature import parse_grid, parse_signature, parse_target, signature_entries, variant_symbol

NAMES = ["x_ptr", "BLOCK", "out_ptr", "n", "alpha", "stride"]
CONSTEXPRS = frozenset({"BLOCK"})


def params(sig: str = "*fp32:16, 256, *fp16, i64:16, fp32, i32:1") -> tuple[Param, ...]:
    return parse_signature(sig, NAMES, CONSTEXPRS, "scale")


def test_parse_signature():
    assert params() == (
        Param("x_ptr", "arg", type="*fp32", c_type="CUdeviceptr", hint=16),
        Param("BLOCK", "constexpr", value=256),
        Param("out_ptr", "arg", type="*fp16", c_type="CUdeviceptr", hint=None),
        Param("n", "arg", type="i64", c_type="int64_t", hint=16),
        Param("alpha", "arg", type="fp32", c_type="float", hint=None),
        Param("stride", "arg", type="i32", c_type="int32_t", hint=1),
    )
    assert params("*fp32, 0.5, *fp32, i32, fp32, 7")[5] == Param("stride", "constexpr", value=7)
    assert signature_entries(params()) == ["*fp32:16", "256", "*fp16", "i64:16", "fp32", "i32:1"]


@pytest.mark.parametrize(
    ("sig", "message"),
    [
        ("*fp32, 256", "signature has 2 entries but kernel 'scale' has 6 parameters"),
        ("*fp32:4, 256, *fp32, i32, fp32, i32", "bad hint '4'"),
        ("*fp32:1, 256, *fp32, i32, fp32, i32", "a pointer cannot be hinted :1"),
        ("*fp32, 256, *fp32, i32, fp32:16, i32", "hints apply to pointers and integers only"),
        ("*fp32, 256, *fp32, i1:1, fp32, i32", "i1 is a boolean; hints apply to pointers and integers only"),
        ("*fp32, i32, *fp32, i32, fp32, i32", "'BLOCK' is tl.constexpr"),
        ("*fp32, 256, *fp32, int, fp32, i32", "unknown type 'int'"),
    ],
)
def test_parse_signature_errors(sig, message):
    with pytest.raises(TtlinkError, match=message):
        params(sig)


def test_reserved_argument_names_are_refused():
    with pytest.raises(TtlinkError, match="'stream' cannot name a C argument"):
        parse_signature("i32", ["stream"], frozenset(), "k")


@pytest.mark.parametrize("name", ["algo_id", "true", "typeid", "export"])
def test_names_the_linker_refuses_are_refused_when_compiling(name):
    # One reserved set for both: a kernel that compiles must also link.
    with pytest.raises(TtlinkError, match=f"'{name}' cannot name a C argument"):
        parse_signature("i32", [name], frozenset(), "k")


def test_parse_grid_widens_arguments_and_substitutes_values():
    assert parse_grid("(n + BLOCK - 1) / BLOCK, n % 7, -stride + 2", params()).dims == (
        "((int64_t)n + 256 - 1) / 256",
        "(int64_t)n % 7",
        "-1 + 2",
    )


def test_parse_grid_lists_divisors_that_hold_an_argument_inner_ones_first():
    grid = parse_grid("n / (BLOCK - n / -n), 1 + n % (BLOCK * 2), (n + 1) / stride", params())
    assert grid.divisors == ("(int64_t)n", "(256 - (int64_t)n / -(int64_t)n)")
    assert parse_grid("(n + BLOCK - 1) / BLOCK, n % 7, n / (BLOCK)", params()).divisors == ()


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("1, 1", "must have 3 comma-separated expressions"),
        ("m, 1, 1", "'m' is not a parameter of the kernel"),
        ("x_ptr, 1, 1", "'x_ptr' is not an integer argument"),
        ("alpha, 1, 1", "'alpha' is not an integer argument"),
        ("(n, 1, 1", "incomplete expression"),
        ("n), 1, 1", "unbalanced or empty parentheses"),
        ("n n, 1, 1", "missing operator before 'n'"),
        ("* n, 1, 1", "operator '\\*' lacks its left operand"),
        ("n / 2.5, 1, 1", "unexpected '.5'"),
        ("f(n), 1, 1", "'f' is not a parameter"),
        (", 1, 1", "incomplete expression"),
    ],
)
def test_parse_grid_errors(grid, message):
    with pytest.raises(TtlinkError, match=message):
        parse_grid(grid, params())


def test_parse_grid_keeps_signs_apart():
    # `--n` and `-` before a negative value would be C's decrement operator, not two signs.
    assert parse_grid("--n, -+n, -BLOCK - BLOCK", params("*fp32, -4, *fp16, i64:16, fp32, i32:1")).dims == (
        "- -(int64_t)n",
        "- +(int64_t)n",
        "-(-4) - (-4)",
    )


@pytest.mark.parametrize("grid", ["9223372036854775808, 1, 1", "n, BLOCK, 1"])
def test_grid_values_beyond_int64_are_refused(grid):
    with pytest.raises(TtlinkError, match="does not fit in int64_t"):
        parse_grid(grid, params(f"*fp32, {2**63}, *fp16, i64:16, fp32, i32:1"))


@pytest.mark.parametrize("grid", ["n / 0, 1, 1", "1, n % BLOCK, 1", "n / -0, 1, 1"])
def test_grid_division_by_a_zero_value_is_refused(grid):
    with pytest.raises(TtlinkError, match="division by zero"):
        parse_grid(grid, params("*fp32, 0, *fp16, i64:16, fp32, i32:1"))


def test_float_constexpr_is_not_a_grid_value():
    with pytest.raises(TtlinkError, match="constexpr 'BLOCK' is not an integer"):
        parse_grid("BLOCK, 1, 1", params("*fp32, 0.5, *fp32, i32, fp32, i32"))


@pytest.mark.parametrize(
    ("text", "target"),
    [("cuda:80", "cuda:80"), (" cuda:90 ", "cuda:90"), ("cuda:120", "cuda:120"), ("cuda:90:32", "cuda:90")],
)
def test_parse_target(text, target):
    assert parse_target(text) == target


@pytest.mark.parametrize("text", ["cuda:sm_90", "hip:gfx942", "cuda:90:64", "cuda:30", "cuda"])
def test_parse_target_errors(text):
    with pytest.raises(TtlinkError, match="unsupported target"):
        parse_target(text)


def test_variant_symbol():
    symbol = variant_symbol("scale", params(), 4, 3, ["cuda:90", "cuda:80"], False)
    assert symbol.startswith("scale_") and symbol.endswith("_0d3d5c")  # hinted Python parameter indices
    assert symbol == variant_symbol("scale", params(), 4, 3, ["cuda:80", "cuda:90"], False)  # target order
    others = {
        variant_symbol("scale", params(), 8, 3, ["cuda:80", "cuda:90"], False),
        variant_symbol("scale", params(), 4, 4, ["cuda:80", "cuda:90"], False),
        variant_symbol("scale", params(), 4, 3, ["cuda:80"], False),
        variant_symbol("scale", params(), 4, 3, ["cuda:80", "cuda:90"], True),
        variant_symbol(
            "scale", params("*fp32:16, 128, *fp16, i64:16, fp32, i32:1"), 4, 3, ["cuda:80", "cuda:90"], False
        ),
    }
    assert symbol not in others and len(others) == 5
    assert variant_symbol("k", params("*fp32, 1, *fp32, i32, fp32, i32"), 1, 3, ["cuda:80"], False).endswith("_")
