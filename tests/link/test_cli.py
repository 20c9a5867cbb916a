"""The link command line: entry points, bad input, determinism."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import replace

import pytest
from link_testing import i32, kernel_meta, meta_header, ptr, run_module, upstream_headers

GOOD = "// tt-linker-backend: cuda\n// tt-linker: add_01feb3de_0d:CUdeviceptr x, int32_t n:_warps4xstages3\n"


@pytest.mark.parametrize("module", ["ttlink link", "ttlink.link"])
def test_both_entry_points_write_out_h_and_c(tmp_path, module):
    headers = upstream_headers("triton-3.9.0", "add", "copy")
    args = module.split()[1:]
    result = run_module(module.split()[0], *args, *headers, "-o", tmp_path / "kernels")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kernels.c", "kernels.h"]


def test_out_with_h_extension_writes_the_same_pair(tmp_path):
    headers = upstream_headers("triton-3.9.0", "add")
    assert run_module("ttlink.link", *headers, "-o", tmp_path / "kernels.h").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kernels.c", "kernels.h"]


def bad_inputs():
    """(case, {file name: text}, message fragment, line of the error or None)."""
    mismatch = kernel_meta("k", "k_00000001_0d", [ptr("x", 16), i32("n")])
    other = kernel_meta("k", "k_00000002_", [ptr("x"), ptr("n")])
    add = kernel_meta("add", "add_00000001_0d", [ptr("x", 16), i32("n")])
    sub = replace(kernel_meta("add", "add_00000002_", [ptr("x"), i32("n")]), kernel="sub_kernel")
    sm80 = replace(kernel_meta("add", "add_00000002_", [ptr("x"), i32("n")]), targets=("cuda:80", "cuda:90"))
    shadowing = kernel_meta("k", "k_00000001_", [ptr("x"), i32("k_00000001_")])
    deep = "// ttlink-meta: " + "[" * 200_000 + "\n"
    huge = meta_header(add).replace('"num_warps":4', '"num_warps":' + "9" * 5000)
    no_hint = meta_header(add).replace('"hint":16,', "")
    huge_constexpr = f"// tt-linker: k_01feb3de_01:CUdeviceptr x:{'9' * 5000}_warps4xstages3\n"
    hip = GOOD.replace("cuda", "hip").replace("CUdeviceptr", "hipDeviceptr_t").replace("01feb3de", "01feb3df")
    return [
        ("malformed", {"a.h": "\n// tt-linker: add_01feb3de_0d:not a signature:_warps4xstages3\n"}, "malformed", 2),
        ("no colon", {"a.h": "// tt-linker add_01feb3de_0d\n"}, "malformed tt-linker directive", 1),
        ("bad meta json", {"a.h": "// ttlink-meta: {nope\n"}, "malformed ttlink-meta", 1),
        ("unknown hint", {"a.h": GOOD.replace("_0d:", "_0e:")}, "unknown hint letter 'e'", 2),
        ("no directive", {"a.h": "#include <cuda.h>\n"}, "no '// tt-linker:'", None),
        ("types differ", {"a.h": meta_header(mismatch), "b.h": meta_header(other)}, "argument 1 of kernel 'k' is", 6),
        ("duplicate", {"a.h": GOOD, "b.h": GOOD}, "duplicate variant add_01feb3de_0d", 2),
        (
            "mixed backends",
            {"a.h": GOOD, "b.h": hip},
            "one link takes one backend",
            2,
        ),
        ("bad float hint", {"a.h": GOOD.replace("int32_t n", "double n").replace("_0d", "_0d1d")}, "hint :16", 2),
        ("C keyword", {"a.h": GOOD.replace("int32_t n", "int32_t default")}, "'default' is a C/C++ keyword", 2),
        ("pointer type", {"a.h": GOOD.replace("CUdeviceptr", "hipDeviceptr_t")}, "hipDeviceptr_t in a cuda kernel", 2),
        (
            "two python kernels",
            {"a.h": meta_header(add), "b.h": meta_header(sub)},
            "two Python kernels: sub_kernel here, add_kernel in",
            6,
        ),
        ("two target sets", {"a.h": meta_header(add), "b.h": meta_header(sm80)}, "cuda:80, cuda:90", 6),
        ("deep meta", {"a.h": deep}, "malformed ttlink-meta directive: nested too deeply", 1),
        ("huge meta number", {"a.h": huge}, "malformed ttlink-meta directive: a number", 6),
        ("huge constexpr", {"a.h": huge_constexpr}, "malformed tt-linker directive: constexpr literal '99", 1),
        ("meta without hint", {"a.h": no_hint}, "param 'x' has hint None; expected 16, 1 or null", 6),
        ("C++ keyword", {"a.h": GOOD.replace("int32_t n", "int32_t requires")}, "'requires' is a C/C++ keyword", 2),
        ("typeof", {"a.h": GOOD.replace("int32_t n", "int32_t typeof")}, "'typeof' is a C/C++ keyword", 2),
        ("runtime name", {"a.h": GOOD.replace("int32_t n", "int32_t ttlink_n")}, "starts with 'ttlink_'", 2),
        ("type name", {"a.h": GOOD.replace("int32_t n", "int32_t uintptr_t")}, "'uintptr_t' is a name the", 2),
        ("variant name", {"a.h": meta_header(shadowing)}, "'k_00000001_' is a name the dispatcher", 6),
        ("driver name", {"a.h": GOOD.replace("add_01feb3de", "cuAdd_01feb3de")}, "'cuAdd_01feb3de_0d' is reserved", 2),
        ("meta driver name", {"a.h": meta_header(replace(add, name="cuInit"))}, "'cuInit' is reserved", 6),
    ]


@pytest.mark.parametrize(
    ("files", "message", "line"), [case[1:] for case in bad_inputs()], ids=[c[0] for c in bad_inputs()]
)
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, files, message, line):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    result = run_module("ttlink", "link", *sorted(tmp_path.glob("*.h")), "-o", out / "lib")
    assert result.returncode == 2
    assert result.stdout == ""
    (error,) = result.stderr.splitlines()
    assert error.startswith("ttlink: error: ") and message in error, error
    location = error.removeprefix("ttlink: error: ").split(" ")[0]
    path, _, rest = location.partition(".h:")
    assert path.startswith(str(tmp_path)) and rest == (f"{line}:" if line else "")
    assert list(out.iterdir()) == []


def test_unreadable_header_and_missing_out(tmp_path):
    result = run_module("ttlink", "link", tmp_path / "missing.h", "-o", tmp_path / "lib")
    assert (result.returncode, result.stderr) == (
        2,
        f"ttlink: error: {tmp_path / 'missing.h'}: cannot read header: No such file or directory\n",
    )
    result = run_module("ttlink.link", *upstream_headers("triton-3.9.0", "add"))
    assert (result.returncode, result.stderr) == (2, "ttlink: error: the following arguments are required: --out/-o\n")
    assert list(tmp_path.iterdir()) == []


def test_same_headers_in_any_order_and_place_give_identical_output(tmp_path):
    headers = upstream_headers("triton-3.6.0", "add", "copy", "strided", "scale")
    elsewhere = tmp_path / "elsewhere" / "deeper"
    elsewhere.mkdir(parents=True)
    moved = [shutil.copy(h, elsewhere) for h in headers]
    outputs = set()
    orders = [headers, headers[::-1], moved, list(itertools.permutations(headers))[1234]]
    for index, order in enumerate(orders):
        out = tmp_path / f"run{index}"
        out.mkdir()
        assert run_module("ttlink", "link", *order, "-o", out / "kernels").returncode == 0
        outputs.add(((out / "kernels.h").read_bytes(), (out / "kernels.c").read_bytes()))
    assert len(outputs) == 1


def run_error(*args) -> str:
    """The one error line of a failing `ttlink link`."""
    result = run_module("ttlink", "link", *args)
    assert (result.returncode, result.stdout) == (2, "")
    (error,) = result.stderr.splitlines()
    return error


def test_reserved_generated_name_is_named(tmp_path):
    header = tmp_path / "load.h"
    header.write_text(meta_header(kernel_meta("load", "load_00000001_", [ptr("x"), i32("n")])))
    error = run_error(header, "-o", tmp_path / "lib", "--prefix", "ttlink_")
    assert error == (
        f"ttlink: error: {header}:6: generated name 'ttlink_load' is reserved: "
        "'ttlink_*' names belong to the ttlink runtime, 'cu[A-Z]*' to the CUDA driver "
        "(from out name 'load' with --prefix 'ttlink_')"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["load.h"]


def test_linking_again_skips_its_own_dispatcher_header(tmp_path):
    """`ttlink link out/*.h -o out/add` twice: the second run sees out/add.h, which has no
    directive, and skips it; the output is the same."""
    for header in upstream_headers("triton-3.9.0", "add"):
        shutil.copy(header, tmp_path)
    outputs = []
    for _ in range(2):
        result = run_module("ttlink", "link", *sorted(tmp_path.glob("*.h")), "-o", tmp_path / "add")
        assert result.returncode == 0, result.stderr
        outputs.append(((tmp_path / "add.h").read_bytes(), (tmp_path / "add.c").read_bytes()))
    assert outputs[0] == outputs[1]


def test_no_header_with_a_directive_is_an_error(tmp_path):
    for name in ("a.h", "b.h"):
        (tmp_path / name).write_text("#include <cuda.h>\n")
    error = run_error(tmp_path / "a.h", tmp_path / "b.h", "-o", tmp_path / "lib")
    assert error == (
        "ttlink: error: none of the 2 headers has a '// tt-linker:' or '// ttlink-meta:' directive: nothing to link"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h", "b.h"]


@pytest.mark.parametrize("out", ["lib", "lib/", "lib.h"])
def test_out_onto_a_directory_is_an_error_and_writes_nothing(tmp_path, out):
    """`-o lib` with a directory `lib`, `-o lib/`, and `-o lib.h` where `lib.h` is a directory."""
    (tmp_path / ("lib.h" if out == "lib.h" else "lib")).mkdir()
    headers = upstream_headers("triton-3.9.0", "add")
    error = run_error(*headers, "-o", f"{tmp_path}/{out}" if out != "lib.h" else tmp_path / "lib")
    assert "directory" in error, error
    assert all(p.is_dir() for p in tmp_path.iterdir()) and len(list(tmp_path.rglob("*"))) == 1
