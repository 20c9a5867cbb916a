"""One test per defect of Triton's link.py (../shared/TRITON_AOT.md, "Known defects") that a
linker can have: each runs upstream tools/link.py of the installed Triton on the same fixture
headers, shows it misbehaving, and shows ttlink right.

Defects 4 (float scalars declared double) and 8-9 live in compile.py, and most of 7 in the
kernel runtime: the compile tests cover them. The linker's share of 7 (globals not static,
no extern "C") is tested here.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from link_testing import (
    CUDA_ERROR_INVALID_VALUE,
    build_dispatcher,
    compile_c,
    load_dispatcher,
    python_env,
    run_module,
    upstream_headers,
)

ALIGNED = 0x10000
UNALIGNED = 0x10004
VERSION = "triton-3.9.0"  # upstream 3.9 link.py needs the backend line its own compile.py writes


def upstream_link(*args) -> subprocess.CompletedProcess:
    spec = importlib.util.find_spec("triton")
    if spec is None or spec.origin is None:
        pytest.fail("the pinned triton wheel is not installed")
    script = Path(spec.origin).parent / "tools" / "link.py"
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)], capture_output=True, text=True, env=python_env(), check=False
    )


def link_both(headers, tmp_path, *options) -> tuple[Path, Path]:
    """OUT paths (without extension) of upstream's and ttlink's link of the same headers."""
    upstream, ours = tmp_path / "upstream" / "lib", tmp_path / "ttlink" / "lib"
    upstream.parent.mkdir(parents=True)
    ours.parent.mkdir(parents=True)
    result = upstream_link(*headers, "-o", upstream, *options)
    assert result.returncode == 0, result.stderr
    result = run_module("ttlink", "link", *headers, "-o", ours, *options)
    assert result.returncode == 0, result.stderr
    return upstream, ours


def text(out: Path, extension: str) -> str:
    return Path(f"{out}{extension}").read_text()


def test_defect_1_every_kernel_gets_the_full_api(tmp_path, cuda_include_dir):
    headers = upstream_headers(VERSION, "add", "copy")
    upstream, ours = link_both(headers, tmp_path)
    assert "copy_default" not in text(upstream, ".h") and "copy_get_num_algos" not in text(upstream, ".h")
    for name in ("copy", "copy_default", "copy_get_num_algos", "load_copy", "unload_copy", "add", "add_default"):
        assert f" {name}(" in text(ours, ".h")
    lib = build_dispatcher(headers, tmp_path / "run", cuda_include_dir)
    assert lib.lib.copy_get_num_algos() == 1 and lib.lib.add_get_num_algos() == 2


def test_defect_2_hint_is_tested_on_its_own_argument(tmp_path, cuda_include_dir):
    # copy_kernel(x_ptr, BLOCK: constexpr, out_ptr, n), `*fp32:16, 128, *fp32:16, i32` + generic.
    headers = upstream_headers(VERSION, "copy")
    upstream, ours = link_both(headers, tmp_path)
    args = (None, ALIGNED, UNALIGNED, 32, 0)  # out_ptr unaligned, n divisible by 16
    upstream_code, upstream_calls = load_dispatcher(upstream, headers, cuda_include_dir, strict=False).call(
        "copy", *args
    )
    assert upstream_calls == ["copy_ec72b9d4_0d2d"]  # the :16 variant with an unaligned pointer
    assert load_dispatcher(ours, headers, cuda_include_dir).call("copy", *args) == (0, ["copy_3e94f10f_"])


def test_defect_3_equal_to_one_variant_keeps_its_fallback(tmp_path, cuda_include_dir):
    headers = upstream_headers(VERSION, "strided")
    upstream, ours = link_both(headers, tmp_path)
    theirs = load_dispatcher(upstream, headers, cuda_include_dir, strict=False)
    assert theirs.lib.strided_get_num_algos() == 2
    args = (None, ALIGNED, ALIGNED, 4001, 3)  # stride 3: only the generic variant fits
    assert theirs.call("strided_64x1_warps4xstages2", *args) == (CUDA_ERROR_INVALID_VALUE, [])
    mine = load_dispatcher(ours, headers, cuda_include_dir)
    assert mine.lib.strided_get_num_algos() == 1
    assert mine.call("strided_default", *args) == (0, ["strided_774a70c9_0d1d"])


def test_defect_5_float_and_negative_constexprs_give_valid_c(tmp_path, cuda_include_dir):
    upstream, ours = link_both(upstream_headers(VERSION, "scale"), tmp_path)
    assert "scale_0.5x128_warps4xstages3" in text(upstream, ".c")
    assert compile_c([Path(f"{upstream}.c")], cuda_include_dir, strict=False).returncode != 0
    assert "scale_0p5x128_warps4xstages3(" in text(ours, ".h") and "scale_m1x128_warps4xstages3(" in text(ours, ".h")
    assert compile_c([Path(f"{ours}.c")], cuda_include_dir).returncode == 0


def test_defect_6_prefix_is_applied(tmp_path):
    upstream, ours = link_both(upstream_headers(VERSION, "add"), tmp_path, "--prefix", "lib1_")
    assert "lib1_" not in text(upstream, ".h") + text(upstream, ".c")
    header = text(ours, ".h")
    for name in (
        "lib1_add(",
        "lib1_add_default(",
        "lib1_add_1024_warps4xstages3(",
        "load_lib1_add(",
        "lib1_add_get_num_algos(",
    ):
        assert name in header
    assert " add(" not in header


def test_defect_6_missing_out_is_a_clean_error(tmp_path):
    headers = upstream_headers(VERSION, "add")
    result = upstream_link(*headers)
    assert result.returncode != 0 and "Traceback" in result.stderr
    result = run_module("ttlink.link", *headers)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_defect_6_header_order_does_not_renumber_algos(tmp_path):
    headers = upstream_headers(VERSION, "add")
    outputs = {"upstream": set(), "ttlink": set()}
    for index, order in enumerate((headers, headers[::-1])):
        upstream, ours = link_both(order, tmp_path / str(index))
        outputs["upstream"].add(text(upstream, ".c"))
        outputs["ttlink"].add(text(ours, ".c"))
    assert len(outputs["upstream"]) == 2 and len(outputs["ttlink"]) == 1


def test_defect_7_linker_share_internal_symbols_static_and_extern_c(tmp_path):
    upstream, ours = link_both(upstream_headers(VERSION, "add"), tmp_path)
    assert "kernel_func_t add_kernels[] = {" in text(upstream, ".c") and 'extern "C"' not in text(upstream, ".h")
    assert "static const ttlink_add_algo_fn ttlink_add_algos[] = {" in text(ours, ".c") and 'extern "C"' in text(
        ours, ".h"
    )
