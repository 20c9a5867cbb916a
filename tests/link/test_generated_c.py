"""Golden dispatcher sources, and the generated C compiling as C11 and C++17 with -Werror.

Update the golden files after an intended change of the generated C with
`python -m pytest tests/link --update-golden` (or TTLINK_UPDATE_GOLDEN=1) and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from link_testing import compile_c, constexpr, i32, kernel_meta, meta_header, ptr, upstream_headers

from ttlink.headers import read_header
from ttlink.link import main as link_main
from ttlink.model import api_names, build_groups, internal_names

GOLDEN = Path(__file__).parent / "golden"
HIP_HEADER = "// tt-linker-backend: hip\n// tt-linker: {symbol}:hipDeviceptr_t x, int32_t n:{block}_warps4xstages3\n"


def meta_headers(directory: Path) -> list[Path]:
    variants = {
        "mm_0000000a_0d3d4c": [ptr("a", 16), i32("m"), constexpr("BLOCK", 64), i32("lda", 16), i32("stride", 1)],
        "mm_0000000b_0d3d4d": [ptr("a", 16), i32("m"), constexpr("BLOCK", 64), i32("lda", 16), i32("stride", 16)],
        "mm_0000000c_": [ptr("a"), i32("m"), constexpr("BLOCK", 64), i32("lda"), i32("stride")],
        "mm_0000000d_": [ptr("a"), i32("m"), constexpr("BLOCK", 1.5e-05), i32("lda"), i32("stride")],
    }
    paths = []
    for symbol, params in variants.items():
        path = directory / f"{symbol}.h"
        path.write_text(meta_header(kernel_meta("mm", symbol, params)))
        paths.append(path)
    return paths


def hip_headers(directory: Path) -> list[Path]:
    paths = []
    for symbol, block in (("k_0000000a_0d", 128), ("k_0000000b_", 128), ("k_0000000c_", 64)):
        path = directory / f"{symbol}.h"
        path.write_text(HIP_HEADER.format(symbol=symbol, block=block))
        paths.append(path)
    return paths


CASES = {
    "upstream39": (lambda d: upstream_headers("triton-3.9.0", "add", "copy", "strided", "scale"), []),
    "upstream36_prefix": (lambda d: upstream_headers("triton-3.6.0", "add", "strided"), ["--prefix", "lib1_"]),
    "ttlink_meta": (meta_headers, []),
    "hip": (hip_headers, []),
}


def link_case(case: str, directory: Path) -> tuple[Path, Path]:
    make_headers, options = CASES[case]
    headers = make_headers(directory)
    link_main([*map(str, headers), "-o", str(directory / "kernels"), *options])
    return directory / "kernels.h", directory / "kernels.c"


def file_scope_names(c_text: str) -> set[str]:
    """Names the dispatcher source declares or defines at file scope (functions, the table
    typedef, static tables and constants)."""
    names = set()
    for line in c_text.splitlines():
        if not line or line[0] in " #/{}" or line.startswith("extern"):
            continue
        if line.startswith("typedef"):
            match = re.search(r"\(\*(\w+)\)", line)
        else:  # a function, a table or a constant
            match = re.search(r"(\w+)\s*(?:\(|\[\]| = )", line)
        assert match, line
        names.add(match[1])
    return names


@pytest.mark.parametrize("case", sorted(CASES))
def test_clash_check_covers_every_generated_name(case, tmp_path):
    """model.api_names and internal_names, which the name clash check uses, list exactly what
    emit_link defines besides the variants' own entry points."""
    make_headers, options = CASES[case]
    prefix = options[1] if options else ""
    groups = build_groups([v for header in make_headers(tmp_path) for v in read_header(str(header))], prefix)
    expected = {name for group in groups for name in api_names(group, prefix) + internal_names(group, prefix)}
    expected |= {
        f"{action}{variant.symbol}"
        for group in groups
        for algo in group.algos
        for variant in algo.variants
        for action in ("", "load_", "unload_")
    }
    (tmp_path / "out").mkdir()
    _, source = link_case(case, tmp_path / "out")
    assert file_scope_names(source.read_text()) == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case, tmp_path, update_golden):
    for generated in link_case(case, tmp_path):
        golden = GOLDEN / f"{case}{generated.suffix}"
        if update_golden:
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(generated.read_text())
        assert generated.read_text() == golden.read_text(), f"{golden} differs; see this module's docstring"


@pytest.mark.parametrize("cplusplus", [False, True], ids=["c11", "cxx17"])
@pytest.mark.parametrize("case", sorted(set(CASES) - {"hip"}))
def test_compiles_with_warnings_as_errors(case, cplusplus, tmp_path, cuda_include_dir):
    header, source = link_case(case, tmp_path)
    # One translation unit with both: the definitions must match the declarations exactly.
    unit = tmp_path / "unit.c"
    unit.write_text(f'#include "{header.name}"\n#include "{header.name}"\n#include "{source.name}"\n')
    result = compile_c([unit], cuda_include_dir, cplusplus=cplusplus)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_c_shape(case, tmp_path):
    """Only <cuda.h>/<stdint.h> (HIP: its runtime header) are included; internals are static
    and tables const; nothing asserts or exits."""
    header, source = link_case(case, tmp_path)
    for text in (header.read_text(), source.read_text()):
        includes = {line for line in text.splitlines() if line.startswith("#include")}
        expected = {"#include <stdint.h>", "#include <hip/hip_runtime.h>" if case == "hip" else "#include <cuda.h>"}
        assert includes == expected
        assert 'extern "C" {' in text
        for word in ("assert", "exit(", "abort(", "printf"):
            assert word not in text
    c_text = source.read_text()
    tables = [line for line in c_text.splitlines() if line.endswith("[] = {")]
    assert tables and all(line.startswith("static const ") for line in tables)
    text = header.read_text()
    assert text.startswith("/* Generated") and re.search(r"^#ifndef TTLINK_\w+_H$", text, re.M)


def test_dispatcher_headers_of_one_file_name_include_together(tmp_path, cuda_include_dir):
    """Libraries of one name in two Bazel packages both write kernels.h: the include guard
    comes from the API a header declares, not from its file name."""
    for case, directory in (("upstream39", "a"), ("ttlink_meta", "b")):
        (tmp_path / directory).mkdir()
        link_case(case, tmp_path / directory)
    unit = tmp_path / "unit.c"
    unit.write_text(
        '#include "a/kernels.h"\n#include "b/kernels.h"\n\n'
        "int num_algos(void) { return add_get_num_algos() + mm_get_num_algos(); }\n"
    )
    result = compile_c([unit], cuda_include_dir)
    assert result.returncode == 0, result.stderr
