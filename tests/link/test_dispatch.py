"""Dispatch semantics on the CPU: the generated dispatcher, linked against recording stand-ins
for the variant entry points, is called through ctypes with aligned and unaligned pointers,
values divisible by 16 and values equal to 1."""

from __future__ import annotations

import ctypes

import pytest
from link_testing import (
    CUDA_ERROR_INVALID_VALUE,
    UPSTREAM_VERSIONS,
    build_dispatcher,
    constexpr,
    i32,
    kernel_meta,
    meta_header,
    ptr,
    upstream_headers,
)

ALIGNED = 0x10000
UNALIGNED = 0x10004
OK = 0


def called(calls: list[str]) -> list[str]:
    """The variant hashes reached, e.g. ['01feb3de']: symbols are NAME_HASH_SUFFIX."""
    return [c.rsplit("_", 2)[1] for c in calls]


@pytest.fixture(params=UPSTREAM_VERSIONS)
def upstream(request, tmp_path, cuda_include_dir):
    headers = upstream_headers(request.param, "add", "copy", "strided")
    return build_dispatcher(headers, tmp_path, cuda_include_dir)


def test_add_tries_most_specialised_first(upstream):
    # algo 1 = 1024_warps4xstages3: all :16 (01feb3de), pointers :16 (caba951e), generic (1b4691f3)
    code, calls = upstream.call("add", None, ALIGNED, ALIGNED, ALIGNED, 32, 1)
    assert (code, called(calls)) == (OK, ["01feb3de"])
    code, calls = upstream.call("add", None, ALIGNED, ALIGNED, ALIGNED, 33, 1)
    assert (code, called(calls)) == (OK, ["caba951e"])
    code, calls = upstream.call("add", None, ALIGNED, UNALIGNED, ALIGNED, 32, 1)
    assert (code, called(calls)) == (OK, ["1b4691f3"])
    code, calls = upstream.call("add_1024_warps4xstages3", None, UNALIGNED, ALIGNED, ALIGNED, 32)
    assert (code, called(calls)) == (OK, ["1b4691f3"])


def test_no_matching_variant_is_invalid_value(upstream):
    # algo 0 = 256_warps2xstages3 has only the all-:16 variant (d9178ee9) and no generic one
    assert called(upstream.call("add", None, ALIGNED, ALIGNED, ALIGNED, 64, 0)[1]) == ["d9178ee9"]
    assert upstream.call("add", None, ALIGNED, ALIGNED, ALIGNED, 33, 0) == (CUDA_ERROR_INVALID_VALUE, [])
    assert upstream.call("add_default", None, ALIGNED, ALIGNED, UNALIGNED, 64) == (CUDA_ERROR_INVALID_VALUE, [])


def test_algo_id_out_of_range_is_invalid_value(upstream):
    for algo_id in (-1, 2, 1 << 30):
        assert upstream.call("add", None, ALIGNED, ALIGNED, ALIGNED, 32, algo_id) == (CUDA_ERROR_INVALID_VALUE, [])
    assert upstream.call("copy", None, ALIGNED, ALIGNED, 32, 1) == (CUDA_ERROR_INVALID_VALUE, [])


def test_algo_table_and_names(upstream):
    lib = upstream.lib
    assert lib.add_get_num_algos() == 2
    assert lib.copy_get_num_algos() == 1
    lib.add_get_algo_name.restype = ctypes.c_char_p
    assert [lib.add_get_algo_name(i) for i in (0, 1, 2, -1)] == [
        b"256_warps2xstages3",
        b"1024_warps4xstages3",
        None,
        None,
    ]
    assert upstream.call("add_default", None, ALIGNED, ALIGNED, ALIGNED, 32) == upstream.call(
        "add", None, ALIGNED, ALIGNED, ALIGNED, 32, 0
    )


def test_hint_checked_on_its_own_argument(upstream):
    # copy_kernel(x_ptr, BLOCK: constexpr, out_ptr, n): the :16 hint of parameter 2 is out_ptr
    code, calls = upstream.call("copy", None, ALIGNED, UNALIGNED, 32, 0)
    assert (code, called(calls)) == (OK, ["3e94f10f"])
    code, calls = upstream.call("copy", None, ALIGNED, ALIGNED, 33, 0)
    assert (code, called(calls)) == (OK, ["ec72b9d4"])


def test_equal_to_one_variant_and_its_fallback_are_one_algo(upstream):
    assert upstream.lib.strided_get_num_algos() == 1
    code, calls = upstream.call("strided", None, ALIGNED, ALIGNED, 100, 1, 0)
    assert (code, called(calls)) == (OK, ["07cfe09f"])
    code, calls = upstream.call("strided_default", None, ALIGNED, ALIGNED, 100, 2)
    assert (code, called(calls)) == (OK, ["774a70c9"])
    code, calls = upstream.call("strided_default", None, UNALIGNED, ALIGNED, 100, 1)
    assert (code, called(calls)) == (CUDA_ERROR_INVALID_VALUE, [])


def test_load_and_unload_reach_every_variant_of_the_kernel_only(upstream):
    code, calls = upstream.call("load_add")
    assert sorted(called(calls)) == ["01feb3de", "1b4691f3", "caba951e", "d9178ee9"]
    assert all(c.startswith("load_add_") for c in calls)
    code, calls = upstream.call("unload_strided")
    assert sorted(called(calls)) == ["07cfe09f", "774a70c9"]


def test_meta_headers_with_prefix(tmp_path, cuda_include_dir):
    """ttlink compile headers: hints on ints (:16 and :1 on one argument in two variants),
    no generic variant, and `--prefix`."""
    variants = {
        "mm_0000000a_0d3d4c": [ptr("a", 16), i32("m"), constexpr("BLOCK", 64), i32("lda", 16), i32("stride", 1)],
        "mm_0000000b_0d3d4d": [ptr("a", 16), i32("m"), constexpr("BLOCK", 64), i32("lda", 16), i32("stride", 16)],
        "mm_0000000c_0d": [ptr("a", 16), i32("m"), constexpr("BLOCK", 64), i32("lda"), i32("stride")],
    }
    headers = []
    for symbol, params in variants.items():
        header = tmp_path / f"{symbol}.h"
        header.write_text(meta_header(kernel_meta("mm", symbol, params)))
        headers.append(header)
    lib = build_dispatcher(headers, tmp_path / "out", cuda_include_dir, prefix="lib1_")
    assert called(lib.call("lib1_mm", None, ALIGNED, 7, 32, 1, 0)[1]) == ["0000000a"]
    assert called(lib.call("lib1_mm", None, ALIGNED, 7, 32, 32, 0)[1]) == ["0000000b"]
    assert called(lib.call("lib1_mm", None, ALIGNED, 7, 32, 3, 0)[1]) == ["0000000c"]
    assert called(lib.call("lib1_mm_default", None, ALIGNED, 7, 31, 1)[1]) == ["0000000c"]
    assert lib.call("lib1_mm_default", None, UNALIGNED, 7, 32, 1) == (CUDA_ERROR_INVALID_VALUE, [])
    assert lib.call("lib1_mm", None, ALIGNED, 7, 32, 1, 1) == (CUDA_ERROR_INVALID_VALUE, [])
