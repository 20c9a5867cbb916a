"""The compile -> link contract on real `ttlink compile` output (no GPU needed): the linker
reads its headers, and the dispatcher's own declarations of the variant entry points agree
with the variants' headers in one translation unit, as C and as C++."""

from __future__ import annotations

import pytest
from link_testing import FIXTURES, compile_c, run_module

from ttlink.headers import read_header

VARIANTS = {  # out path: signature of copy_kernel(x_ptr, BLOCK: constexpr, out_ptr, n)
    "copy_aligned": "*fp32:16, 128, *fp32:16, i32:16",
    "copy_generic": "*fp32, 128, *fp32, i32",
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    directory = tmp_path_factory.mktemp("compiled")
    for out, signature in VARIANTS.items():
        result = run_module(
            "ttlink",
            "compile",
            FIXTURES / "kernels.py",
            "-n",
            "copy_kernel",
            "-s",
            signature,
            "-w",
            "4",
            "-t",
            "cuda:90",
            "-g",
            "(n + 127) / 128, 1, 1",
            "-on",
            "copy",
            "-o",
            directory / out,
            cwd=directory,
        )
        assert result.returncode == 0, result.stderr
    return directory


def test_linker_reads_compile_headers_exactly(compiled):
    (aligned,) = read_header(str(compiled / "copy_aligned.h"))
    assert aligned.hints == (16, 16, 16) and aligned.constexprs == (128,)
    (generic,) = read_header(str(compiled / "copy_generic.h"))
    assert generic.hints == (None, None, None)


@pytest.mark.parametrize("cplusplus", [False, True], ids=["c11", "cxx17"])
def test_dispatcher_declarations_match_the_variant_headers(compiled, tmp_path, cplusplus, cuda_include_dir):
    headers = [compiled / f"{out}.h" for out in VARIANTS]
    result = run_module("ttlink", "link", *headers, "-o", tmp_path / "copy_lib")
    assert result.returncode == 0, result.stderr
    unit = tmp_path / "unit.c"
    includes = [*map(str, headers), str(tmp_path / "copy_lib.h"), str(tmp_path / "copy_lib.c")]
    unit.write_text("".join(f'#include "{path}"\n' for path in includes))
    result = compile_c([unit], cuda_include_dir, cplusplus=cplusplus)
    assert result.returncode == 0, result.stderr
