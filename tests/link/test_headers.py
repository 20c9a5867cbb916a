"""Reading kernel headers: upstream formats of Triton 3.2 to 3.9 and ttlink-meta headers."""

from __future__ import annotations

import hashlib

import pytest
from link_testing import UPSTREAM_VERSIONS, constexpr, i32, kernel_meta, meta_header, ptr, upstream_headers

from ttlink.errors import TtlinkError
from ttlink.headers import read_header
from ttlink.link_placement import AmbiguousPlacement, place_hints


def only_variant(path):
    (variant,) = read_header(str(path))
    return variant


@pytest.mark.parametrize("version", UPSTREAM_VERSIONS)
def test_vector_add_hints_are_determined_by_the_suffix(version):
    # Branch 1: BLOCK comes after every hinted parameter, so any placement gives the same map.
    by_hash = {p.name.split(".")[1][:8]: only_variant(p) for p in upstream_headers(version, "add")}
    assert by_hash["01feb3de"].hints == (16, 16, 16, 16)
    assert by_hash["caba951e"].hints == (16, 16, 16, None)
    assert by_hash["1b4691f3"].hints == (None, None, None, None)
    variant = by_hash["d9178ee9"]
    assert [a.name for a in variant.args] == ["x_ptr", "y_ptr", "out_ptr", "n"]
    assert (variant.kernel, variant.constexprs, variant.num_warps, variant.num_stages) == ("add", (256,), 2, 3)
    assert variant.backend == "cuda"


@pytest.mark.parametrize("version", UPSTREAM_VERSIONS)
def test_constexpr_placement_recovered_from_the_signature_hash(version):
    # Branch 2: copy_kernel(x_ptr, BLOCK, out_ptr, n) with `*fp32:16, 128, *fp32:16, i32`: hint
    # index 2 is out_ptr if BLOCK is parameter 1, n if it is parameter 3. The hash decides.
    (header,) = [p for p in upstream_headers(version, "copy") if "ec72b9d4" in p.name]
    assert only_variant(header).hints == (16, 16, None)


@pytest.mark.parametrize("version", UPSTREAM_VERSIONS)
def test_undetermined_placement_is_a_clean_error(version):
    # Branch 3: ALPHA typed `2.50` prints as 2.5, so no candidate SIG reproduces the hash.
    (header,) = upstream_headers(version, "axpy")
    with pytest.raises(TtlinkError, match="ambiguous header .*ttlink compile") as error:
        read_header(str(header))
    assert error.value.file == str(header) and error.value.line > 0


@pytest.mark.parametrize("version", UPSTREAM_VERSIONS)
def test_equal_to_one_hint_and_float_and_negative_constexprs(version):
    strided = {p.name.split(".")[1][:8]: only_variant(p) for p in upstream_headers(version, "strided")}
    assert strided["07cfe09f"].hints == (16, 16, None, 1)
    assert strided["07cfe09f"].constexprs == strided["774a70c9"].constexprs == (64,)
    scale = sorted(only_variant(p).constexprs for p in upstream_headers(version, "scale"))
    assert scale == [(-1, 128), (0.5, 128)]


def test_triton_3_2_algo_info_has_no_equal_to_one_parts(tmp_path):
    # 3.2 wrote every index and did not fold `:1` arguments into ALGO_INFO.
    header = tmp_path / "k.h"
    header.write_text(
        "// tt-linker: k_0123abcd_0d1d2c34:CUdeviceptr x, CUdeviceptr y, int32_t s, int32_t n:64_warps4xstages2\n"
    )
    variant = only_variant(header)
    assert variant.hints == (16, 16, 1, None) and variant.constexprs == (64,)


def test_hip_backend_line(tmp_path):
    header = tmp_path / "k.h"
    header.write_text(
        "// tt-linker-backend: hip\n// tt-linker: k_0123abcd_0d:hipDeviceptr_t x, int32_t n:128_warps4xstages3\n"
    )
    variant = only_variant(header)
    assert (variant.backend, variant.hints) == ("hip", (16, None))


def test_meta_line_is_the_truth(tmp_path):
    # The tt-linker line alone would put the hint of index 2 on n (no backend line; ambiguous
    # without a hash match); the ttlink-meta line says it is on out.
    meta = kernel_meta("copy", "copy_00000000_0d2d", [ptr("x", 16), constexpr("B", 128), ptr("out", 16), i32("n")])
    header = tmp_path / "copy.h"
    header.write_text(meta_header(meta))
    variant = only_variant(header)
    assert variant.hints == (16, 16, None)
    assert variant.constexprs == (128,)


def test_meta_and_linker_lines_must_name_one_symbol(tmp_path):
    meta = kernel_meta("add", "add_00000000_0d", [ptr("x", 16)])
    header = tmp_path / "add.h"
    header.write_text(meta_header(meta).replace("// tt-linker: add_00000000_0d", "// tt-linker: add_11111111_0d"))
    with pytest.raises(TtlinkError, match="names 'add_11111111_0d'"):
        read_header(str(header))


def test_place_hints_branches_directly():
    # f(x, C, out, n), `*fp32:16, 7, *fp32:16, i32`: recover from the hash of that exact SIG.
    sig_hash = hashlib.sha256(b"*fp32:16 7 *fp32:16 i32 warps1xstages1").hexdigest()[:8]
    args = ["CUdeviceptr", "CUdeviceptr", "int32_t"]
    assert place_hints(4, {0: 16, 2: 16}, args, ["7"], "warps1xstages1", sig_hash) == (16, 16, None)
    # the same SIG with the constexpr last hashes differently and maps the hint to n
    other = hashlib.sha256(b"*fp32:16 *fp32 i32:16 7 warps1xstages1").hexdigest()[:8]
    assert place_hints(4, {0: 16, 2: 16}, args, ["7"], "warps1xstages1", other) == (16, None, 16)
    with pytest.raises(AmbiguousPlacement):
        place_hints(4, {0: 16, 2: 16}, args, ["7"], "warps1xstages1", "00000000")
    # determined: no hash needed at all
    assert place_hints(4, {0: 16, 1: 16}, args, ["7"], "warps1xstages1", "00000000") == (16, 16, None)
