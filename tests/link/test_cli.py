"""The link command line: entry points, bad input, determinism."""

from __future__ import annotations

import itertools
import shutil

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
        ("C keyword", {"a.h": GOOD.replace("int32_t n", "int32_t default")}, "cannot be used", 2),
        ("pointer type", {"a.h": GOOD.replace("CUdeviceptr", "hipDeviceptr_t")}, "hipDeviceptr_t in a cuda kernel", 2),
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
