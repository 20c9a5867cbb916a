"""What `specializations = "auto"` compiles for the example matmul's signature, and which of
those variants each operand layout reaches through the linked dispatcher (recording
stand-ins for the variants, on the CPU).

The hint sets come from rules/private/specializations.bzl itself: its expansion is written in
the subset of Starlark that Python runs, so the test evaluates the file rather than a copy."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest
from link_testing import build_dispatcher, constexpr, kernel_meta, meta_header

from ttlink.metadata import Param

SPECIALIZATIONS_BZL = Path(__file__).parents[2] / "rules" / "private" / "specializations.bzl"
LABEL = SimpleNamespace(workspace_name="", package="examples", name="matmul_kernel")
ALIGNED = 0x10000
UNALIGNED = 0x10004

# examples/BUILD.bazel's matmul_kernel with one config (the layouts do not depend on it): its
# signature from the .bzl both load, which is a Python dict literal too.
MATMUL_SIGNATURE_BZL = Path(__file__).parents[2] / "examples" / "matmul_signature.bzl"


def exec_bzl(path: Path, **builtins) -> dict:
    """The globals of a .bzl file written in the subset of Starlark that Python runs. Starlark
    strings iterate through `.elems()`; Python's iterate as they are, so that call is the one
    thing taken out."""
    namespace = dict(builtins)
    exec(compile(path.read_text().replace(".elems()", ""), str(path), "exec"), namespace)
    return namespace


MATMUL_SIGNATURE = list(exec_bzl(MATMUL_SIGNATURE_BZL)["MATMUL_SIGNATURE"].items())
CONFIG = {"BLOCK_SIZE_M": 128, "BLOCK_SIZE_N": 256, "BLOCK_SIZE_K": 64}


class StarlarkFail(Exception):
    pass


def _starlark_type(value) -> str:
    names = {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "dict", tuple: "tuple"}
    return names.get(type(value), type(value).__name__)


def _fail(message):
    raise StarlarkFail(message)


def load_specializations() -> SimpleNamespace:
    """The functions of specializations.bzl."""
    return SimpleNamespace(**exec_bzl(SPECIALIZATIONS_BZL, struct=SimpleNamespace, fail=_fail, type=_starlark_type))


@pytest.fixture(scope="module")
def bzl() -> SimpleNamespace:
    return load_specializations()


def expand(bzl, signature, specializations="auto") -> tuple[list, list[dict]]:
    params = bzl.parse_signature(LABEL, [list(entry) for entry in signature])
    return params, bzl.expand_specializations(LABEL, params, specializations)


def unit_strides(hints: dict) -> set[str]:
    return {name for name, hint in hints.items() if hint == 1}


def variant_params(bzl, params, hints: dict) -> list[Param]:
    result = []
    for param in params:
        if param.kind == "constexpr":
            result.append(constexpr(param.name, int(bzl.substitute(param.template, CONFIG))))
        else:
            c_type = "CUdeviceptr" if param.type.startswith("*") else "int32_t"
            result.append(Param(param.name, "arg", type=param.type, c_type=c_type, hint=hints[param.name]))
    return result


@pytest.fixture(scope="module")
def matmul(bzl, tmp_path_factory, cuda_include_dir):
    """The dispatcher linked from every variant "auto" gives the matmul, and its hint sets by
    the hash in their symbols (`matmul_HASH_SUFFIX`)."""
    params, hint_sets = expand(bzl, MATMUL_SIGNATURE)
    out = tmp_path_factory.mktemp("auto_layouts")
    headers, by_hash = [], {}
    for index, hints in enumerate(hint_sets):
        tag = bzl.variant_tag(params, hints)
        digest = f"{index:08x}"
        symbol = f"matmul_{digest}_{'' if tag == 'generic' else tag}"
        header = out / f"{symbol}.h"
        header.write_text(meta_header(kernel_meta("matmul", symbol, variant_params(bzl, params, hints))))
        headers.append(header)
        by_hash[digest] = hints
    return build_dispatcher(headers, out / "link", cuda_include_dir), by_hash


def strides(layout: str, rows: int, cols: int) -> tuple[int, int]:
    """(row stride, column stride) of a rows x cols operand: 'row'-major or 'col'-major."""
    return (cols, 1) if layout == "row" else (1, rows)


def reached(matmul, a: str, b: str, c: str, m: int, n: int, k: int, pointer: int = ALIGNED) -> dict:
    """The hint set of the one variant a C = A @ B call with these layouts reaches."""
    dispatcher, by_hash = matmul
    args = [pointer, ALIGNED, ALIGNED, m, n, k, *strides(a, m, k), *strides(b, k, n), *strides(c, m, n)]
    code, calls = dispatcher.call("matmul_default", None, *args)
    assert code == 0 and len(calls) == 1, (code, calls)
    return by_hash[calls[0].rsplit("_", 2)[1]]


LAYOUTS = ("row", "col")
POINTERS = {"a_ptr", "b_ptr", "c_ptr"}
UNIT = {"row": ("stride_ak", "stride_bn", "stride_cn"), "col": ("stride_am", "stride_bk", "stride_cm")}


def expected_units(a: str, b: str, c: str) -> set[str]:
    return {UNIT[a][0], UNIT[b][1], UNIT[c][2]}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(LAYOUTS, LAYOUTS)))
def test_each_ab_layout_reaches_its_own_variant(matmul, a, b):
    hints = reached(matmul, a, b, "row", 4096, 4096, 4096)
    assert unit_strides(hints) == expected_units(a, b, "row")
    assert all(hint == 16 for name, hint in hints.items() if name not in expected_units(a, b, "row"))


@pytest.mark.parametrize("m", [16, 128, 4096])
def test_x_times_w_transposed_reaches_its_own_variant(matmul, m):
    # x (M x K) row-major, W (N x K) row-major: W.T is K x N with unit stride along K.
    assert unit_strides(reached(matmul, "row", "col", "row", m, 4096, 4096)) == {"stride_ak", "stride_bk", "stride_cn"}


def test_a_column_major_output_with_one_transposed_input(matmul):
    for a, b in [("row", "row"), ("col", "row"), ("row", "col")]:
        assert unit_strides(reached(matmul, a, b, "col", 256, 512, 1024)) == expected_units(a, b, "col")


@pytest.mark.parametrize(("a", "b"), list(itertools.product(LAYOUTS, LAYOUTS)))
def test_odd_sizes_reach_the_layout_with_only_pointers_and_unit_strides_hinted(matmul, a, b):
    # As the JIT compiles 4001: pointers :16, unit strides 1, the other integers unhinted.
    hints = reached(matmul, a, b, "row", 4001, 4001, 4001)
    assert unit_strides(hints) == expected_units(a, b, "row")
    assert {name for name, hint in hints.items() if hint == 16} == POINTERS


def test_odd_rows_of_x_times_w_transposed_reach_the_odd_size_layout(matmul):
    # 17 tokens through a 4096 x 4096 linear layer: M alone is not divisible by 16.
    hints = reached(matmul, "row", "col", "row", 17, 4096, 4096)
    assert (unit_strides(hints), {name for name, hint in hints.items() if hint == 16}) == (
        {"stride_ak", "stride_bk", "stride_cn"},
        POINTERS,
    )


def test_three_transposed_operands_and_misalignment_reach_generic(matmul):
    generic = dict.fromkeys(expected_units("row", "col", "row") | expected_units("col", "row", "col"))
    generic.update(dict.fromkeys(POINTERS | {"M", "N", "K"}))
    assert reached(matmul, "col", "col", "col", 4096, 4096, 4096) == generic
    assert reached(matmul, "col", "col", "col", 4001, 4001, 4001) == generic
    assert reached(matmul, "row", "row", "row", 4096, 4096, 4096, pointer=UNALIGNED) == generic


def test_strided_view_without_unit_stride_reaches_all_divisible(matmul):
    # Every operand a view X[:, ::16] of a row-major X 16 times as wide: strides divisible by 16, none 1.
    dispatcher, by_hash = matmul
    args = [ALIGNED, ALIGNED, ALIGNED, 4096, 4096, 4096, 65536, 16, 65536, 16, 65536, 16]
    code, calls = dispatcher.call("matmul_default", None, *args)
    assert code == 0 and set(by_hash[calls[0].rsplit("_", 2)[1]].values()) == {16}


def test_matmul_variant_count(bzl):
    # all :16, the generic variant, and 1 + 3 + 3 layouts of the 3 strided operands, each
    # once with every other integer :16 and once with none.
    _, hint_sets = expand(bzl, MATMUL_SIGNATURE)
    assert len(hint_sets) == 2 + 2 * 7
    assert sum(not unit_strides(hints) for hints in hint_sets) == 2


def test_auto16_keeps_the_old_two_variants(bzl):
    _, hint_sets = expand(bzl, MATMUL_SIGNATURE, "auto16")
    assert [set(hints.values()) for hints in hint_sets] == [{16}, {None}]
    assert expand(bzl, MATMUL_SIGNATURE, ["auto16", "auto"])[1][:2] == hint_sets


def test_kernel_without_strides_gets_what_auto16_gives(bzl):
    # A bare `stride` names no operand; one stride alone has no layout to choose.
    signature = [("x_ptr", "*fp32"), ("n", "i32"), ("stride", "i32"), ("stride_xm", "i32"), ("BLOCK", "128")]
    assert expand(bzl, signature)[1] == expand(bzl, signature, "auto16")[1]


def test_strides_grouped_by_operand_name(bzl):
    # stride_x_row / stride_x_col: the last `_` part is the dimension; the rest one letter each.
    # q is 3-D: contiguous puts 1 on its last stride, transposed on the one before; qz is
    # :16 with the sizes, or unhinted with them in the odd-size layouts.
    signature = [
        ("x_ptr", "*fp32"),
        ("stride_x_row", "i32"),
        ("stride_x_col", "i32"),
        ("q_ptr", "*fp32"),
        ("stride_qz", "i64"),
        ("stride_qm", "i64"),
        ("stride_qk", "i64"),
        ("n", "i32"),
    ]
    _, hint_sets = expand(bzl, signature)
    layouts = [
        ["stride_qk", "stride_x_col"],
        ["stride_qk", "stride_x_row"],
        ["stride_qm", "stride_x_col"],
        ["stride_qm", "stride_x_row"],
    ]
    assert [sorted(unit_strides(hints)) for hints in hint_sets] == [[], *layouts, *layouts, []]
    assert [(hints["stride_qz"], hints["n"], hints["q_ptr"]) for hints in hint_sets] == (
        [(16, 16, 16)] * 5 + [(None, None, 16)] * 4 + [(None, None, None)]
    )


def test_layouts_grow_quadratically_with_operands(bzl):
    # Four 2-D operands: all contiguous, 4 with one transposed, 6 with two, twice; plus auto16's two.
    signature = [(f"{o}_ptr", "*fp16") for o in "abcd"] + [(f"stride_{o}{d}", "i32") for o in "abcd" for d in "mn"]
    assert len(expand(bzl, signature)[1]) == 2 * (1 + 4 + 6) + 2


def test_unknown_keyword_names_the_choices(bzl):
    with pytest.raises(StarlarkFail, match=r"^//examples:matmul_kernel: attribute 'specializations': .*\"auto16\""):
        expand(bzl, MATMUL_SIGNATURE, ["auto", "auto32"])
