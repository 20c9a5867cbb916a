"""The GRID grammar: folding with C's int64_t rules, clean errors, and generated C that is
checked against unbounded integer arithmetic under UBSan."""

from __future__ import annotations

import random
import subprocess

import pytest

from ttlink.errors import TtlinkError
from ttlink.grid import INT64_MAX, INT64_MIN, Arg, Const, Neg, grid_c, parse_grid
from ttlink.signature import parse_signature

NAMES = ["x_ptr", "BLOCK", "out_ptr", "n", "alpha", "stride"]


def params(sig: str = "*fp32:16, 256, *fp16, i64:16, fp32, i32:1"):
    return parse_signature(sig, NAMES, frozenset({"BLOCK"}), "scale")


def test_arguments_are_widened_and_values_substituted():
    grid = parse_grid("(n + BLOCK - 1) / BLOCK, n % 7, -stride + 2", params())
    assert grid.text == "((int64_t)n + 256 - 1) / 256, (int64_t)n % 7, 1"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("7 / 2, -7 / 2, 7 / -2", "3, (-3), (-3)"),  # C truncates toward zero
        ("7 % 2, -7 % 2, 7 % -2", "1, (-1), 1"),  # the remainder takes the dividend's sign
        ("BLOCK * 4 - 1, (BLOCK + 1) / 2 * 2, 1 - 1", "1023, 256, 0"),
        ("n / (BLOCK / 2), n * (2 - 1), -(-n)", "(int64_t)n / 128, (int64_t)n * 1, - -(int64_t)n"),
    ],
)
def test_constant_parts_are_folded_with_cs_rules(text, folded):
    assert parse_grid(text, params()).text == folded


def test_signs_are_kept_apart():
    # `--n` would be C's decrement operator, not two signs.
    assert parse_grid("--n, -+n, -BLOCK - BLOCK", params("*fp32, -4, *fp16, i64:16, fp32, i32:1")).text == (
        "- -(int64_t)n, -(int64_t)n, 8"
    )


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("1, 1", "must have 3 comma-separated expressions"),
        ("m, 1, 1", "'m' is not a parameter of the kernel"),
        ("x_ptr, 1, 1", "'x_ptr' is not an integer argument"),
        ("alpha, 1, 1", "'alpha' is not an integer argument"),
        ("(n, 1, 1", "incomplete expression"),
        ("n), 1, 1", "unbalanced or empty parentheses"),
        ("(), 1, 1", "unbalanced or empty parentheses"),
        ("n n, 1, 1", "missing operator before 'n'"),
        ("n (1), 1, 1", "missing operator before '\\('"),
        ("* n, 1, 1", "operator '\\*' lacks its left operand"),
        ("n / 2.5, 1, 1", "unexpected '.5'"),
        ("f(n), 1, 1", "'f' is not a parameter"),
        (", 1, 1", "incomplete expression"),
        ("n; exit(1), 1, 1", "unexpected ';"),
        ("\u0661\u0662, 1, 1", "'\u0661\u0662' is not a decimal integer literal"),
        ("1_024, 1, 1", "'1_024' is not a decimal integer literal"),
        ("n_\u00e9l\u00e9ments, 1, 1", "'n_\u00e9l\u00e9ments' is not an ASCII C identifier"),
        ("9223372036854775808, 1, 1", "9223372036854775808 does not fit in int64_t"),
        ("1" * 5000 + ", 1, 1", "does not fit in int64_t"),
        ("9223372036854775807 + 1, 1, 1", "constant arithmetic overflows int64_t"),
        ("-9223372036854775807 - 1 - 1, 1, 1", "constant arithmetic overflows int64_t"),
        ("BLOCK * BLOCK * BLOCK * BLOCK * BLOCK * BLOCK * BLOCK * BLOCK, 1, 1", "overflows int64_t"),
    ],
)
def test_grid_errors(grid, message):
    with pytest.raises(TtlinkError, match=f"^grid '.*': .*{message}"):
        parse_grid(grid, params())


@pytest.mark.parametrize(
    "grid",
    ["n / 0, 1, 1", "1, n % (BLOCK - BLOCK), 1", "n / -0, 1, 1", "(n + 1023) / (1024 / 2048), 1, 1",
     "n / (BLOCK - 1024), 1, 1", "n % (1 - 1), 1, 1", "1, 1, stride / (stride - 1)", "1 / 0 * n, 1, 1"],
)  # fmt: skip
def test_a_divisor_that_folds_to_zero_is_refused(grid):
    with pytest.raises(TtlinkError, match="division by zero"):
        parse_grid(grid, params("*fp32, 1024, *fp16, i64:16, fp32, i32:1"))


@pytest.mark.parametrize("value", [2**63, 0.5])
def test_constexprs_must_be_int64_integers(value):
    with pytest.raises(TtlinkError, match="constexpr 'BLOCK'"):
        parse_grid("BLOCK, 1, 1", params(f"*fp32, {value}, *fp32, i32, fp32, i32"))


def test_steps_that_cannot_overflow_are_not_checked():
    # i32 arguments widened to int64_t: (n + 1023) / 1024 and n * n fit; a divisor that
    # is a constant other than 0 and -1 needs no test.
    statements, dims = grid_c(parse_grid("(n + 1023) / 1024, n * n, n % 7", params("*fp32, 1, *fp32, i32, fp32, i32")))
    assert statements == []
    assert dims == ("((int64_t)n + 1023) / 1024", "(int64_t)n * (int64_t)n", "(int64_t)n % 7")


def test_checked_steps_read_as_c():
    statements, dims = grid_c(
        parse_grid("(n * stride + 127) / 128, n / stride, 1", params("*fp32, 1, *fp32, i64, fp32, i64"))
    )
    assert statements == [
        "int64_t ttlink_grid_x1;",
        "if (__builtin_mul_overflow((int64_t)n, (int64_t)stride, &ttlink_grid_x1)) return CUDA_ERROR_INVALID_VALUE;",
        "int64_t ttlink_grid_x2;",
        "if (__builtin_add_overflow(ttlink_grid_x1, 127, &ttlink_grid_x2)) return CUDA_ERROR_INVALID_VALUE;",
        "if ((int64_t)stride == 0 || ((int64_t)n == INT64_MIN && (int64_t)stride == -1)) "
        "return CUDA_ERROR_INVALID_VALUE;",
    ]
    assert dims == ("ttlink_grid_x2 / 128", "(int64_t)n / (int64_t)stride", "1")


# --- The generated C against unbounded arithmetic -------------------------------------------

ARGUMENTS = {"a": "i64", "b": "i64", "m": "i32", "u": "u32", "s": "i8"}
EDGES = {
    "i64": [
        INT64_MIN,
        INT64_MIN + 1,
        -(2**40),
        -(2**31),
        -2,
        -1,
        0,
        1,
        2,
        2**24,
        2**31,
        2**40,
        INT64_MAX - 1,
        INT64_MAX,
    ],
    "i32": [-(2**31), -1, 0, 1, 7, 2**31 - 1],
    "u32": [0, 1, 2, 2**31, 2**32 - 1],
    "i8": [-128, -1, 0, 1, 127],
}
EXPRESSIONS = [
    "a / b", "a % b", "(a * b + 127) / 128", "a + b", "a - b", "-a", "- -a", "a * m", "m * m * m", "u * u",
    "u * u * u", "(a + 1023) / 1024", "m / s", "m % s", "a / (m - 1)", "(a + b) % (u + 1)", "s * s * s * s * s * s",
    "-(a / b) * -1", "(m + 255) / 256 * u", "a % -1", "a / -1", "u - a", "1 - a * 2",
]  # fmt: skip


def _value(rng: random.Random, kind: str) -> int:
    """Mostly edge values, else any value of the type."""
    return rng.choice(EDGES[kind]) if rng.random() < 0.7 else rng.randint(min(EDGES[kind]), max(EDGES[kind]))


def _reference(expr, values: dict[str, int]) -> int | None:
    """The C result in unbounded integers, or None where a step leaves int64_t or divides by 0
    (INT64_MIN % -1 included: C leaves it undefined, x86 traps)."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Arg):
        return values[expr.name]
    if isinstance(expr, Neg):
        value = _reference(expr.operand, values)
        result = None if value is None else -value
    else:
        left, right = _reference(expr.left, values), _reference(expr.right, values)
        if left is None or right is None:
            return None
        if expr.op in "/%" and (right == 0 or (left == INT64_MIN and right == -1)):
            return None
        if expr.op in "/%":
            quotient = abs(left) // abs(right) * (1 if (left < 0) == (right < 0) else -1)
            result = quotient if expr.op == "/" else left - right * quotient
        else:
            result = {"+": left + right, "-": left - right, "*": left * right}[expr.op]
    return result if result is not None and INT64_MIN <= result <= INT64_MAX else None


def test_generated_c_matches_unbounded_arithmetic_under_ubsan(tmp_path):
    params_ = parse_signature(", ".join(ARGUMENTS.values()), list(ARGUMENTS), frozenset(), "k")
    c_types = {p.name: p.c_type for p in params_}
    functions, grids = [], []
    for index, text in enumerate(EXPRESSIONS):
        grid = parse_grid(f"{text}, 1, 1", params_)
        grids.append(grid)
        statements, dims = grid_c(grid)
        body = "\n".join(f"  {line}" for line in statements)
        arguments = ", ".join(f"{c_types[name]} {name}" for name in ARGUMENTS)
        functions.append(
            f"static int grid{index}({arguments}, int64_t *x) {{\n{body}\n  *x = {dims[0]};\n  return 0;\n}}\n"
        )
    calls = "\n".join(
        f'    if (grid{i}({", ".join(ARGUMENTS)}, &x) == 0) printf("%lld\\n", (long long)x); else puts("invalid");'
        for i in range(len(EXPRESSIONS))
    )
    scans = " ".join("%lld" for _ in ARGUMENTS)
    source = tmp_path / "grid.c"
    source.write_text(
        "#include <stdint.h>\n#include <stdio.h>\n#define CUDA_ERROR_INVALID_VALUE 1\n\n"
        + "\n".join(functions)
        + "\nint main(void) {\n  long long v[5];\n"
        + f'  while (scanf("{scans}", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5) {{\n'
        + "    int64_t a = v[0], b = v[1], x; int32_t m = (int32_t)v[2]; uint32_t u = (uint32_t)v[3];"
        + " int8_t s = (int8_t)v[4];\n"
        + calls
        + "\n  }\n  return 0;\n}\n"
    )
    binary = tmp_path / "grid"
    flags = [
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wno-unused-parameter",
        "-fsanitize=undefined",
        "-fno-sanitize-recover=all",
    ]
    subprocess.run(["cc", *flags, str(source), "-o", str(binary)], check=True)
    rng = random.Random(10)
    inputs = [{name: _value(rng, kind) for name, kind in ARGUMENTS.items()} for _ in range(3000)]
    for value in (INT64_MIN, -1, 2**40, 2**24):
        inputs.append({"a": value, "b": -1 if value == INT64_MIN else 2**24, "m": -1, "u": 0, "s": -1})
    stdin = "".join(" ".join(str(row[name]) for name in ARGUMENTS) + "\n" for row in inputs)
    result = subprocess.run([str(binary)], input=stdin, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    outputs = iter(result.stdout.splitlines())
    for row in inputs:
        for text, grid in zip(EXPRESSIONS, grids, strict=True):
            expected = _reference(grid.dims[0], row)
            assert next(outputs) == ("invalid" if expected is None else str(expected)), (text, row)
