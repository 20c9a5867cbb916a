"""The SIG / target grammar, the config checks and the symbol name (pure; no Triton)."""

from __future__ import annotations

import re

import pytest

from ttlink.errors import TtlinkError
from ttlink.metadata import Param
from ttlink.signature import (
    c_arguments,
    check_config,
    grid_params,
    kernel_param_sizes,
    parse_literal,
    parse_signature,
    parse_target,
    signature_entries,
    variant_symbol,
)

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
    identity = ["kernel scale", "binaries 0123", "warps4xstages3"]
    symbol = variant_symbol("scale", params(), identity)
    assert re.fullmatch(r"scale_[0-9a-f]{8}_0d3d5c", symbol)  # hinted Python parameter indices
    assert symbol == variant_symbol("scale", params(), list(identity))
    others = {variant_symbol("scale", params(), [*identity[:2], word]) for word in ("warps8xstages3", "grid 1, 1, 1")}
    assert symbol not in others and len(others) == 2
    assert variant_symbol("scale", params(), identity, prefix="v1_") == "v1_" + symbol
    assert variant_symbol("k", params("*fp32, 1, *fp32, i32, fp32, i32"), identity).endswith("_")


@pytest.mark.parametrize("text", ["cuda:900", "cuda:91", "cuda:49", "cuda:abc"])
def test_targets_outside_cudas_list_name_the_accepted_ones(text):
    with pytest.raises(TtlinkError, match=f"unsupported target '{text}'.* one of 50 52 53 .* 90 100 .* 120 121$"):
        parse_target(text)


@pytest.mark.parametrize(("warps", "ok"), [(1, True), (32, True), (64, False), (3, False), (0, False), (-4, False)])
def test_num_warps_is_a_power_of_two_up_to_32(warps, ok):
    if ok:
        check_config(warps, 3)
    else:
        with pytest.raises(TtlinkError, match=f"num_warps {warps} is not a power of two from 1 to 32"):
            check_config(warps, 3)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1024", 1024), ("-1", -1), ("+7", 7), ("0.5", 0.5), ("-1e-3", -1e-3), (".5", 0.5), ("2e3", 2000.0),
     (str(2**64 - 1), 2**64 - 1), (str(-(2**63)), -(2**63)), ("i32", None), ("*fp16:16", None)],
)  # fmt: skip
def test_parse_literal(text, value):
    assert parse_literal(text) == value and type(parse_literal(text)) is type(value)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("1_024", "not a literal"),
        ("\u0661\u0662", "not a literal"),
        ("1" * 5000, "does not fit in 64 bits"),
        (str(2**64), "does not fit in 64 bits"),
        ("1e999", "beyond the range of a double"),
    ],
)
def test_literals_python_takes_but_c_does_not_are_refused(entry, message):
    with pytest.raises(TtlinkError, match=message):
        parse_signature(entry, ["BLOCK"], frozenset({"BLOCK"}), "k")


@pytest.mark.parametrize("name", ["typeof", "requires", "asm", "concept", "nullptr", "constexpr", "xor", "n\u00e9"])
def test_argument_names_c_or_cpp_cannot_take_are_refused(name):
    with pytest.raises(TtlinkError, match=f"kernel 'k' parameter '{name}' "):
        parse_signature("i32", [name], frozenset(), "k")


TILE_NAMES = ["a", "M", "b", "BLOCK"]


def tile(sig: str, names=TILE_NAMES) -> tuple[Param, ...]:
    return parse_signature(sig, names, frozenset({"BLOCK"}), "tile")


def test_tensor_descriptor_entries_split_outside_brackets_and_take_triton_spelling():
    params = tile("tensordesc<fp16[64,32]>, i32:16, tensordesc< bf16 [ 8 , 16 , 4 ] >, 64")
    assert params[0] == Param("a", "arg", type="tensordesc<fp16[64, 32]>", c_type="CUtensorMap", hint=None)
    assert params[1] == Param("M", "arg", type="i32", c_type="int32_t", hint=16)
    assert params[2].type == "tensordesc<bf16[8, 16, 4]>"
    assert signature_entries(params) == ["tensordesc<fp16[64, 32]>", "i32:16", "tensordesc<bf16[8, 16, 4]>", "64"]
    assert tile(", ".join(signature_entries(params))) == params


def test_a_tensor_descriptor_is_base_shape_strides_and_padding_in_c():
    a, m, b, _ = tile("tensordesc<fp8e4nv[128, 64]>, i32, tensordesc<fp32[32]>, 64")
    assert c_arguments(a) == [
        ("CUdeviceptr", "a_base"),
        ("int64_t", "a_shape0"),
        ("int64_t", "a_shape1"),
        ("int64_t", "a_stride0"),
        ("int64_t", "a_stride1"),
        ("int32_t", "a_padding"),
    ]
    assert c_arguments(m) == [("int32_t", "M")]
    assert [name for _, name in c_arguments(b)] == ["b_base", "b_shape0", "b_stride0", "b_padding"]
    # The kernel takes the 128-byte CUtensorMap, the shape as i32 and the strides as i64.
    assert kernel_param_sizes(a) == [128, 4, 4, 8, 8] and kernel_param_sizes(b) == [128, 4, 8]
    assert kernel_param_sizes(m) == [4]
    assert [p.name for p in grid_params((a, m, b))] == ["a", "M", "b", "a_shape0", "a_shape1", "b_shape0"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("tensordesc<fp16[64, 32]>:16", "for parameter 'a': a tensor descriptor takes no hint"),
        ("tensordesc<fp16[64, 32]>:1", "a tensor descriptor takes no hint"),
        ("tensordesc<fp17[64, 32]>", "for parameter 'a': unknown element type 'fp17'"),
        ("tensordesc<*fp16[64, 32]>", "malformed tensor descriptor type; expected tensordesc<DTYPE[B0, B1, ...]>"),
        ("tensordesc<fp16>", "malformed tensor descriptor type"),
        ("tensordesc<fp16[64, 32]", "unbalanced brackets"),
        ("tensordesc<fp16[64, 32]]>", "unbalanced brackets"),
        ("tensordesc<fp16[]>", "block dimension '' is not a positive integer"),
        ("tensordesc<fp16[64, 0]>", "block dimension '0' is not a positive integer"),
        ("tensordesc<fp16[64, -32]>", "block dimension '-32' is not a positive integer"),
        ("tensordesc<fp16[64, 1_024]>", "block dimension '1_024' is not a positive integer"),
        ("tensordesc<fp16[99999999999]>", "block dimension '99999999999' is not a positive integer"),
        ("tensordesc<fp16[1, 2, 1, 2, 1, 2]>", "rank 6; a tensor descriptor has 1 to 5 dimensions"),
        ("tensordesc_im2col<fp16[64, 32]>", "im2col tensor descriptors are not supported"),
    ],
)
def test_malformed_tensor_descriptors_are_one_clear_error(entry, message):
    with pytest.raises(TtlinkError, match=re.escape(message)) as error:
        tile(f"{entry}, i32, *fp16, 64")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["a", "a_base", "b", "BLOCK"],
            "parameters 'a' (its C argument 'a_base') and 'a_base' both name C argument 'a_base'",
        ),
        (["a_stride1", "M", "a", "BLOCK"], "parameters 'a_stride1' and 'a' (its C argument 'a_stride1') both name"),
        (
            ["a", "M", "a_shape0", "BLOCK"],
            "parameters 'a' (its C argument 'a_shape0') and 'a_shape0' both name C argument",
        ),
    ],
)
def test_expanded_names_that_clash_with_a_parameter_name_both(names, message):
    kinds = {"a": "tensordesc<fp16[64, 32]>"}
    sig = ", ".join("64" if name == "BLOCK" else kinds.get(name, "i32") for name in names)
    with pytest.raises(TtlinkError, match=re.escape(f"kernel 'tile' {message}")):
        tile(sig, names)
