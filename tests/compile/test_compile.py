"""`ttlink compile` / `ttlink assemble`: real Triton compiles (no GPU), C that compiles, headers
that Triton's own link.py reads, reproducibility and clean errors."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ttlink
from ttlink import RUNTIME_INCLUDE_DIR
from ttlink.compile import assemble_main
from ttlink.compile import main as compile_main
from ttlink.errors import TtlinkError
from ttlink.frontend import CompiledTarget, entry_param_sizes
from ttlink.metadata import DIRECTIVE, Param, parse_line

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
KERNELS = FIXTURES / "kernels.py"
VECTOR_ADD = HERE.parent.parent / "examples" / "vector_add.py"
VECTOR_SIG = "*fp32:16, *fp32:16, *fp32:16, i32, 1024"
VECTOR_GRID = "(n_elements + BLOCK_SIZE - 1) / BLOCK_SIZE, 1, 1"
SCALE_SIG = "*fp32:16, 256, *fp32:16, i32, fp32, i32:1"
SCALE_NAMES = "x_ptr,BLOCK,out_ptr,n,alpha,stride"
STANDIN = HERE.parent / "runtime" / "standin_libcuda.c"
C_FLAGS = ["-Wall", "-Wextra", "-Wpedantic", "-Werror"]
# The oracle for C type sizes: the platform's own, through ctypes.
CTYPES = {
    "CUdeviceptr": ctypes.c_uint64,
    "int8_t": ctypes.c_int8,
    "uint8_t": ctypes.c_uint8,
    "int16_t": ctypes.c_int16,
    "uint16_t": ctypes.c_uint16,
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "float": ctypes.c_float,
    "double": ctypes.c_double,
}


def ttlink_cli(*args: str, module: str = "ttlink", env: dict[str, str] | None = None, cwd: Path | None = None):
    """Runs `python -m MODULE ARGS` in a fresh interpreter, as the build system does."""
    root = str(Path(ttlink.__file__).parent.parent)
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [environment.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=environment, cwd=cwd
    )


def compile_c(sources: list[Path], cuda_include_dir: Path, out: Path, extra: list[str] | None = None) -> None:
    include = ["-I", str(cuda_include_dir), "-I", str(RUNTIME_INCLUDE_DIR)]
    result = subprocess.run(
        ["cc", *include, *(extra or []), *map(str, sources), "-o", str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def vector_add(tmp_path_factory):
    """vector_add for cuda:80 and cuda:90 with PTX, one-shot."""
    out = tmp_path_factory.mktemp("vector_add")
    targets = ["--target", "cuda:80", "--target", "cuda:90", "--embed-ptx"]
    names = ["--arg-names", "x_ptr,y_ptr,out_ptr,n_elements,BLOCK_SIZE"]  # the two-stage test passes none
    compile_main([str(VECTOR_ADD), "-n", "add_kernel", "-s", VECTOR_SIG, *names, "-w", "4", "-g", VECTOR_GRID,
                  *targets, "-on", "add", "-o", str(out / "add")])  # fmt: skip
    return out / "add"


def test_writes_exactly_out_h_and_out_c(vector_add):
    assert sorted(p.name for p in vector_add.parent.iterdir()) == ["add.c", "add.h"]


@pytest.mark.parametrize("language", [["-x", "c", "-std=c11"], ["-x", "c++", "-std=c++17"]])
def test_generated_c_compiles_with_werror(vector_add, tmp_path, cuda_include_dir, language):
    compile_main([str(KERNELS), "-n", "scale", "-s", SCALE_SIG, "-g", "n / BLOCK + 1, 1, stride", "--target", "cuda:80",
                  "-o", str(tmp_path / "scale")])  # fmt: skip
    # Overflow-checked grid steps and divisor tests, with a prefix.
    compile_main([str(KERNELS), "-n", "grid_of_args", "-s", "*fp32, i64, i64", "-g", "(n * d + 127) / 128, n / d, -n",
                  "--target", "cuda:90", "--prefix", "v1_", "-o", str(tmp_path / "checked")])  # fmt: skip
    for source in (vector_add.with_suffix(".c"), tmp_path / "scale.c", tmp_path / "checked.c"):
        compile_c([source], cuda_include_dir, tmp_path / "out.o", ["-c", *language, *C_FLAGS])
    runtime = RUNTIME_INCLUDE_DIR / "ttlink_runtime.c"
    compile_c([runtime], cuda_include_dir, tmp_path / "runtime.o", ["-c", *language, *C_FLAGS])


def test_header_lines(tmp_path):
    compile_main([str(KERNELS), "-n", "scale", "-s", SCALE_SIG, "-w", "2", "-g", "n, 1, 1", "--target", "cuda:90",
                  "--target", "cuda:80", "-on", "scale", "-o", str(tmp_path / "scale")])  # fmt: skip
    header = (tmp_path / "scale.h").read_text()
    symbol = re.search(r"^CUresult (scale_[0-9a-f]{8}_0d2d5c)\(", header, re.M)[1]
    lines = header.splitlines()
    assert "// tt-linker-backend: cuda" in lines
    full = "CUdeviceptr x_ptr, CUdeviceptr out_ptr, int32_t n, float alpha, int32_t stride"
    assert f"// tt-linker: {symbol}:{full}:256x1_warps2xstages3" in lines
    assert f"void load_{symbol}(void);" in lines
    assert f"void unload_{symbol}(void);" in lines
    assert (
        f"CUresult {symbol}(CUstream stream, CUdeviceptr x_ptr, CUdeviceptr out_ptr, int32_t n, float alpha);" in lines
    )
    assert 'extern "C" {' in lines
    (meta_line,) = [line for line in lines if line.startswith(DIRECTIVE)]
    meta = parse_line(meta_line, "scale.h", 1)
    assert meta.symbol == symbol and meta.name == "scale" and meta.kernel == "scale"
    assert meta.targets == ("cuda:80", "cuda:90") and not meta.embed_ptx
    assert (meta.num_warps, meta.num_stages) == (2, 3)
    assert meta.params == (
        Param("x_ptr", "arg", type="*fp32", c_type="CUdeviceptr", hint=16),
        Param("BLOCK", "constexpr", value=256),
        Param("out_ptr", "arg", type="*fp32", c_type="CUdeviceptr", hint=16),
        Param("n", "arg", type="i32", c_type="int32_t", hint=None),
        Param("alpha", "arg", type="fp32", c_type="float", hint=None),
        Param("stride", "arg", type="i32", c_type="int32_t", hint=1),
    )


def test_autotuned_kernel_compiles_its_jit_function(tmp_path):
    grid = "(n + BLOCK - 1) / BLOCK, 1, 1"
    compile_main([str(KERNELS), "-n", "autotuned_copy", "-s", "*fp32:16, *fp32:16, i32, 128", "-w", "4", "-g", grid,
                  "--target", "cuda:80", "-o", str(tmp_path / "copy")])  # fmt: skip
    assert "CUresult autotuned_copy_" in (tmp_path / "copy.h").read_text()


def test_every_scalar_type_matches_the_compiled_kernel_parameters(tmp_path):
    types = ["i1", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "fp16", "bf16", "fp32", "fp64"]
    record_path = tmp_path / "every.json"
    compile_main([str(KERNELS), "-n", "every_scalar", "-s", ", ".join(["*fp32", *types]), "--target", "cuda:90",
                  "--binary-out", str(record_path)])  # fmt: skip
    record = CompiledTarget.from_json(record_path.read_text(), str(record_path))
    assemble_main([str(record_path), "-g", "1, 1, 1", "-o", str(tmp_path / "every")])
    declaration = re.search(r"^CUresult \w+\(CUstream stream, (.*)\);$", (tmp_path / "every.h").read_text(), re.M)[1]
    c_types = [arg.rsplit(" ", 1)[0] for arg in declaration.split(", ")]
    assert c_types[12] == "float" and c_types[13] == "double" and c_types[10] == c_types[11] == "uint16_t"
    sizes = entry_param_sizes(record.ptx, "every_scalar")
    assert sizes[: len(c_types)] == [ctypes.sizeof(CTYPES[t]) for t in c_types]
    assert record.hidden_params == len(sizes) - len(c_types) and record.hidden_params >= 0


def test_two_stages_give_the_one_shot_bytes(vector_add, tmp_path):
    records = []
    for target in ("cuda:90", "cuda:80"):  # order does not matter
        records.append(str(tmp_path / f"{target[5:]}.json"))
        compile_main([str(VECTOR_ADD), "-n", "add_kernel", "-s", VECTOR_SIG, "-w", "4", "--target", target,
                      "--binary-out", records[-1]])  # fmt: skip
    assemble_main([*records, "-g", VECTOR_GRID, "--embed-ptx", "-on", "add", "-o", str(tmp_path / "add")])
    for suffix in (".h", ".c"):
        assert (tmp_path / f"add{suffix}").read_bytes() == vector_add.with_suffix(suffix).read_bytes()


def test_reproducible_across_checkout_paths_and_ignores_shared_cache(tmp_path):
    shared_cache = tmp_path / "shared-triton-cache"
    outputs = []
    for checkout in (tmp_path / "a", tmp_path / "a" / "much" / "longer" / "checkout"):
        checkout.mkdir(parents=True, exist_ok=True)
        kernel = shutil.copy(VECTOR_ADD, checkout / "vector_add.py")
        out = checkout / "out"
        out.mkdir()
        args = [kernel, "-n", "add_kernel", "-s", VECTOR_SIG, "-w", "4", "-g", VECTOR_GRID, "--target", "cuda:80",
                "--target", "cuda:90", "-on", "add", "-o", str(out / "add")]  # fmt: skip
        result = ttlink_cli("compile", *map(str, args), env={"TRITON_CACHE_DIR": str(shared_cache)})
        assert result.returncode == 0, result.stderr
        outputs.append({name: (out / name).read_bytes() for name in ("add.h", "add.c")})
        assert str(checkout).encode() not in outputs[-1]["add.c"]
    assert outputs[0] == outputs[1]
    assert not shared_cache.exists() or not any(shared_cache.iterdir())


def test_no_absolute_path_in_the_binaries(tmp_path):
    kernel = shutil.copy(VECTOR_ADD, tmp_path / "vector_add.py")
    compile_main([str(kernel), "-n", "add_kernel", "-s", VECTOR_SIG, "--target", "cuda:90", "--binary-out",
                  str(tmp_path / "r.json")])  # fmt: skip
    record = CompiledTarget.from_json((tmp_path / "r.json").read_text(), "r.json")
    assert str(tmp_path).encode() not in record.cubin and str(tmp_path) not in record.ptx
    assert b"vector_add.py" not in record.cubin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "nope"], "no kernel 'nope' in the kernel file"),
        (["-n", "not_a_kernel"], "'not_a_kernel' is not a @triton.jit function"),
        (["-s", "*fp32:16, i32"], "signature has 2 entries but kernel 'scale' has 6 parameters"),
        (["-s", "*fp32:8, 256, *fp32:16, i32, fp32, i32"], "bad hint '8'; expected 16 or 1"),
        (["-s", "*fp32, *fp32, *fp32, i32, fp32, i32"], "'BLOCK' is tl.constexpr"),
        (["-s", "*fp33, 256, *fp32, i32, fp32, i32"], "unknown type '*fp33'"),
        (["-g", "n +, 1, 1"], "grid 'n +, 1, 1': incomplete expression"),
        (["-g", "n, 1"], "must have 3 comma-separated expressions"),
        (["-g", "alpha, 1, 1"], "'alpha' is not an integer argument"),
        (["-g", "n; exit(1), 1, 1"], "unexpected ';"),
        (["--target", "hip:gfx942"], "unsupported target 'hip:gfx942'"),
        (["--target", "cuda:sm90"], "unsupported target 'cuda:sm90'"),
        (["-on", "bad-name"], "out name 'bad-name' is not an ASCII C identifier"),
        (["-g", "(n + 1023) / (1024 / 2048), 1, 1"], "grid '(n + 1023) / (1024 / 2048), 1, 1': division by zero"),
        (["-g", "n / (BLOCK - 256), 1, 1"], "division by zero"),
        (["-g", "n % (1 - 1), 1, 1"], "division by zero"),
        (["-g", "9223372036854775807 + 1 + n, 1, 1"], "overflows int64_t"),
        (["-w", "64"], "num_warps 64 is not a power of two from 1 to 32"),
        (["--target", "cuda:900"], "unsupported target 'cuda:900'; expected cuda:ARCH with ARCH (10 * major + minor)"),
        (["-on", "cuInit"], "out name 'cuInit' is reserved: 'ttlink_*' names belong to the ttlink runtime"),
        (["-on", "ttlink_launch"], "out name 'ttlink_launch' is reserved"),
        (["-on", "load", "--prefix", "ttlink_"], "generated function 'ttlink_load_"),
        (["-on", "typeof"], "out name 'typeof' is a C/C++ keyword"),
        (["--prefix", "my-lib_"], "--prefix 'my-lib_' is not the start of an ASCII C identifier"),
        (["-g", "\u0661\u0662, 1, 1"], "'\u0661\u0662' is not a decimal integer literal"),
        (["-g", "1_024, 1, 1"], "'1_024' is not a decimal integer literal"),
        (["-g", "n_\u00e9l\u00e9ments, 1, 1"], "'n_\u00e9l\u00e9ments' is not an ASCII C identifier"),
        (["-s", "*fp32:16, 1_024, *fp32:16, i32, fp32, i32:1"], "for parameter 'BLOCK': not a literal"),
        (["-s", f"*fp32:16, {'7' * 5000}, *fp32:16, i32, fp32, i32:1"], "does not fit in 64 bits"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_with_no_output(tmp_path, args, message):
    options = {"-n": "scale", "-s": SCALE_SIG, "-g": "n, 1, 1", "--target": "cuda:80", "-on": "scale"}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    _assert_fails(tmp_path, [str(KERNELS), *[x for item in options.items() for x in item]], message)


def test_matching_arg_names_change_nothing(tmp_path):
    records = []
    for names in ([], ["--arg-names", SCALE_NAMES], ["--arg-names", " x_ptr, BLOCK,out_ptr ,n,alpha,stride"]):
        records.append(tmp_path / f"{len(records)}.json")
        compile_main([str(KERNELS), "-n", "scale", "-s", SCALE_SIG, *names, "--target", "cuda:80",
                      "--binary-out", str(records[-1])])  # fmt: skip
    assert records[0].read_bytes() == records[1].read_bytes() == records[2].read_bytes()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("x_ptr,out_ptr,BLOCK,n,alpha,stride", "kernel 'scale' parameter 1 is 'BLOCK', --arg-names says 'out_ptr'"),
        ("x_ptr,BLOCK,out_ptr,N,alpha,stride", "kernel 'scale' parameter 3 is 'n', --arg-names says 'N'"),
        ("x_ptr,BLOCK,out_ptr,n,alpha", "kernel 'scale' has 6 parameters (x_ptr, BLOCK, out_ptr, n, alpha, stride), "
         "--arg-names gives 5 (x_ptr, BLOCK, out_ptr, n, alpha)"),
        (SCALE_NAMES + ",extra", "kernel 'scale' has 6 parameters (x_ptr, BLOCK, out_ptr, n, alpha, stride), "
         "--arg-names gives 7 (x_ptr, BLOCK, out_ptr, n, alpha, stride, extra)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("stage", ["one-shot", "binary-out"])
def test_arg_names_that_differ_from_the_kernel(tmp_path, names, message, stage):
    args = [str(KERNELS), "-n", "scale", "-s", SCALE_SIG, "--arg-names", names, "--target", "cuda:80"]
    if stage == "one-shot":
        args += ["-g", "n, 1, 1"]
    _assert_fails(tmp_path, args, f"ttlink: error: {KERNELS.absolute()}: {message}", binary_out=stage == "binary-out")


def test_malformed_arg_names(tmp_path):
    args = [str(KERNELS), "-n", "scale", "-s", SCALE_SIG, "--arg-names", "x_ptr,,n", "--target", "cuda:80"]
    _assert_fails(tmp_path, args, "ttlink: error: --arg-names 'x_ptr,,n': '' is not a parameter name", binary_out=True)


def test_kernel_file_that_raises_on_import(tmp_path):
    path = FIXTURES / "raises_on_import.py"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("raise"))
    message = f"{path}:{line}: importing the kernel file raised RuntimeError: this kernel file is broken on purpose"
    _assert_fails(tmp_path, [str(path), "-n", "never", "-s", "*fp32", "-g", "1, 1, 1", "--target", "cuda:80"], message)


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("import sys\n\nsys.exit(3)\n", 3, "importing the kernel file raised SystemExit: 3"),
        ("def broken(:\n    pass\n", 1, "importing the kernel file raised SyntaxError: "),
    ],
)
def test_kernel_file_that_exits_or_does_not_parse(tmp_path, source, line, message):
    path = tmp_path / "kernel.py"
    path.write_text(source)
    _assert_fails(tmp_path, [str(path), "-n", "k", "-s", "i32", "-g", "1, 1, 1", "--target", "cuda:80"],
                  f"{path}:{line}: {message}")  # fmt: skip


def _assert_fails(tmp_path: Path, args: list[str], message: str, binary_out: bool = False) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = ttlink_cli(
        "compile", *args, *(["--binary-out", str(out / "k.json")] if binary_out else ["-o", str(out / "k")])
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ttlink: error: "), result.stderr
    assert message in lines[0]
    assert list(out.iterdir()) == []


def test_assemble_rejects_records_that_disagree(tmp_path):
    paths = {}
    for key, sig, warps, target in (
        ("a80", VECTOR_SIG, "4", "cuda:80"),
        ("a90", VECTOR_SIG, "4", "cuda:90"),
        ("w8", VECTOR_SIG, "8", "cuda:90"),
        ("nohint", "*fp32, *fp32, *fp32, i32, 1024", "4", "cuda:90"),
    ):
        paths[key] = str(tmp_path / f"{key}.json")
        compile_main([str(VECTOR_ADD), "-n", "add_kernel", "-s", sig, "-w", warps, "--target", target,
                      "--binary-out", paths[key]])  # fmt: skip
    out = ["-g", VECTOR_GRID, "-o", str(tmp_path / "add")]
    for pair, message in (
        (("a80", "w8"), "compiled records disagree on num_warps"),
        (("a80", "nohint"), "compiled records disagree on params"),
        (("a90", "w8"), "two compiled records are for the same target cuda:90"),
    ):
        with pytest.raises(TtlinkError, match=message):
            assemble_main([paths[pair[0]], paths[pair[1]], *out])
    with pytest.raises(TtlinkError) as error:  # names the record that differs, and the other
        assemble_main([paths["a80"], paths["w8"], *out])
    assert str(error.value).startswith(f"{paths['w8']}: ") and str(error.value).endswith(f" in {paths['a80']}")
    with pytest.raises(TtlinkError, match="--embed-ptx needs a target below cuda:90"):
        assemble_main([paths["a90"], *out, "--embed-ptx"])
    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(TtlinkError, match="not a ttlink compile record"):
        assemble_main([str(tmp_path / "broken.json"), *out])
    assert not (tmp_path / "add.h").exists() and not (tmp_path / "add.c").exists()


def _upstream_link_py() -> Path:
    import triton

    if tuple(int(x) for x in triton.__version__.split(".")[:2]) < (3, 7):
        pytest.skip(
            f"Triton {triton.__version__}'s link.py reads the pre-3.7 suffix format; ttlink writes the 3.7+ one"
        )
    return Path(importlib.util.find_spec("triton").origin).parent / "tools" / "link.py"


def test_triton_link_py_links_our_headers(tmp_path, cuda_include_dir):
    link_py = _upstream_link_py()
    for name, sig in (("hinted", VECTOR_SIG), ("generic", "*fp32, *fp32, *fp32, i32, 1024")):
        compile_main([str(VECTOR_ADD), "-n", "add_kernel", "-s", sig, "-w", "4", "-g", VECTOR_GRID,
                      "--target", "cuda:90", "-on", "add", "-o", str(tmp_path / name)])  # fmt: skip
    result = subprocess.run([sys.executable, str(link_py), str(tmp_path / "hinted.h"), str(tmp_path / "generic.h"),
                             "-o", str(tmp_path / "linked")], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (tmp_path / "main.c").write_text(
        '#include "linked.h"\n'
        "int main(void) {\n"
        "  CUresult aligned = add_default((CUstream)0, 0x1000, 0x2000, 0x3000, 4096);\n"
        "  CUresult unaligned = add_default((CUstream)0, 0x1004, 0x2000, 0x3000, 10);\n"
        "  return aligned == CUDA_ERROR_INVALID_CONTEXT && unaligned == CUDA_ERROR_INVALID_CONTEXT ? 0 : 1;\n"
        "}\n"
    )
    sources = [tmp_path / n for n in ("main.c", "linked.c", "hinted.c", "generic.c")] + [
        RUNTIME_INCLUDE_DIR / "ttlink_runtime.c"
    ]
    compile_c(sources, cuda_include_dir, tmp_path / "app", ["-I", str(tmp_path), "-ldl", "-lpthread"])
    compile_c([STANDIN], cuda_include_dir, tmp_path / "libcuda.so.1", ["-shared", "-fPIC"])
    log = tmp_path / "log"
    env = {**os.environ, "TTLINK_LIBCUDA_PATH": str(tmp_path / "libcuda.so.1"), "STANDIN_LOG": str(log)}
    # No context is current: both calls reach our runtime through link.py's dispatcher and
    # return CUDA_ERROR_INVALID_CONTEXT instead of exiting the process.
    assert subprocess.run([str(tmp_path / "app")], env=env).returncode == 0
    assert log.read_text().splitlines() == ["init status=0"]


def test_assemble_runs_without_triton(vector_add, tmp_path):
    record = tmp_path / "r.json"
    compile_main([str(VECTOR_ADD), "-n", "add_kernel", "-s", VECTOR_SIG, "--target", "cuda:80", "--binary-out",
                  str(record)])  # fmt: skip
    script = (
        "import sys\n"
        "sys.modules['triton'] = None  # any import of triton now fails\n"
        "from ttlink.__main__ import main\n"
        f"sys.exit(main(['assemble', {str(record)!r}, '-g', '1, 1, 1', '-o', {str(tmp_path / 'add')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(ttlink.__file__).parent.parent)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "add.c").is_file() and (tmp_path / "add.h").is_file()


def test_binary_out_takes_one_target_and_no_c_options(tmp_path):
    base = [str(VECTOR_ADD), "-n", "add_kernel", "-s", VECTOR_SIG, "--binary-out", str(tmp_path / "r.json")]
    with pytest.raises(TtlinkError, match="exactly one --target"):
        compile_main([*base, "--target", "cuda:80", "--target", "cuda:90"])
    with pytest.raises(TtlinkError, match="--binary-out writes no C"):
        compile_main([*base, "--target", "cuda:80", "-g", "1, 1, 1"])
    with pytest.raises(TtlinkError, match="a target is given twice"):
        compile_main([*base[:-2], "--target", "cuda:80", "--target", "cuda:80", "-g", "1,1,1", "-o", "x"])
    assert list(tmp_path.iterdir()) == []


def test_errors_name_the_kernel_file_as_given(tmp_path):
    # Under Bazel the file is execroot-relative; its absolute sandbox path means nothing to users.
    shutil.copy(KERNELS, tmp_path / "kernels.py")
    result = ttlink_cli("compile", "kernels.py", "-n", "nope", "-s", "i32", "--target", "cuda:80",
                        "--binary-out", "r.json", cwd=tmp_path)  # fmt: skip
    assert (result.returncode, result.stderr) == (2, "ttlink: error: kernels.py: no kernel 'nope' in the kernel file\n")
    assert not (tmp_path / "r.json").exists()


def _symbol(header: Path) -> str:
    return re.search(r"^CUresult (\w+)\(CUstream stream", header.read_text(), re.M)[1]


ADD_SIG = "*fp32:16, *fp32:16, *fp32:16, i32, 1024"


def test_variant_symbols_cover_the_kernel_and_take_the_prefix(tmp_path):
    # add_kernel and sub_kernel have the same parameters; compiled with the same -on they
    # must not declare the same symbol, or a binary linking both runs one for the other.
    symbols = {}
    for kernel in ("add_kernel", "sub_kernel"):
        record = tmp_path / f"{kernel}.json"
        compile_main([str(KERNELS), "-n", kernel, "-s", ADD_SIG, "-t", "cuda:80", "--binary-out", str(record)])
        for prefix in ("", "a_", "s_"):
            out = tmp_path / f"{kernel}{prefix}"
            result = ttlink_cli("assemble", str(record), "-g", "(n + 1023) / 1024, 1, 1", "-on", "add",
                                "-o", str(out), *(["--prefix", prefix] if prefix else []))  # fmt: skip
            assert result.returncode == 0, result.stderr
            symbols[kernel, prefix] = _symbol(out.with_suffix(".h"))
            meta = parse_line(next(line for line in out.with_suffix(".h").read_text().splitlines()
                                   if line.startswith(DIRECTIVE)), "h", 1)  # fmt: skip
            assert meta.name == "add" and meta.symbol == symbols[kernel, prefix]
    assert len(set(symbols.values())) == 6
    for (kernel, prefix), symbol in symbols.items():
        assert symbol.startswith(f"{prefix}add_")
        if prefix:
            assert symbol.removeprefix(prefix) == symbols[kernel, ""]
    # The one-shot compile gives the same symbol as the two stages.
    compile_main([str(KERNELS), "-n", "sub_kernel", "-s", ADD_SIG, "-t", "cuda:80", "-g", "(n + 1023) / 1024, 1, 1",
                  "-on", "add", "--prefix", "s_", "-o", str(tmp_path / "oneshot")])  # fmt: skip
    assert _symbol(tmp_path / "oneshot.h") == symbols["sub_kernel", "s_"]


def test_configs_that_differ_only_in_the_grid_get_distinct_symbols(tmp_path):
    record = tmp_path / "r.json"
    compile_main([str(KERNELS), "-n", "add_kernel", "-s", ADD_SIG, "-t", "cuda:80", "--binary-out", str(record)])
    for chunk in (1024, 2048):
        assemble_main([str(record), "-g", f"(n + {chunk} - 1) / {chunk}, 1, 1", "-on", "add", "-o",
                       str(tmp_path / f"c{chunk}")])  # fmt: skip
    assert _symbol(tmp_path / "c1024.h") != _symbol(tmp_path / "c2048.h")


def test_grid_overflow_and_bad_division_return_invalid_value_without_launching(tmp_path, cuda_include_dir):
    """n / d and (n * d + 127) / 128 over int64_t arguments, under UBSan, with the recording
    stand-in driver: INT64_MIN / -1 and 2^40 * 2^24 are errors, not SIGFPE or a wrapped grid."""
    for name, grid in (("divide", "n / d, 1, 1"), ("multiply", "(n * d + 127) / 128, 1, 1")):
        compile_main([str(KERNELS), "-n", "grid_of_args", "-s", "*fp32, i64, i64", "-g", grid, "-t", "cuda:90",
                      "-on", name, "-o", str(tmp_path / name)])  # fmt: skip
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "divide.h"\n#include "multiply.h"\n'
        "int main(void) {\n"
        f"  printf(\"%d\\n\", (int){_symbol(tmp_path / 'divide.h')}(0, 0x1000, INT64_MIN, -1));\n"
        f"  printf(\"%d\\n\", (int){_symbol(tmp_path / 'divide.h')}(0, 0x1000, 1, 0));\n"
        f"  printf(\"%d\\n\", (int){_symbol(tmp_path / 'multiply.h')}(0, 0x1000, 1LL << 40, 1LL << 24));\n"
        f"  printf(\"%d\\n\", (int){_symbol(tmp_path / 'multiply.h')}(0, 0x1000, 1000, 7));\n"
        "  return 0;\n}\n"
    )  # fmt: skip
    sanitize = ["-fsanitize=undefined", "-fno-sanitize-recover=all"]
    sources = [
        tmp_path / "main.c",
        tmp_path / "divide.c",
        tmp_path / "multiply.c",
        RUNTIME_INCLUDE_DIR / "ttlink_runtime.c",
    ]
    compile_c(
        sources, cuda_include_dir, tmp_path / "app", ["-I", str(tmp_path), *C_FLAGS, *sanitize, "-ldl", "-lpthread"]
    )
    compile_c([STANDIN], cuda_include_dir, tmp_path / "libcuda.so.1", ["-shared", "-fPIC"])
    log = tmp_path / "log"
    env = {**os.environ, "TTLINK_LIBCUDA_PATH": str(tmp_path / "libcuda.so.1"), "STANDIN_LOG": str(log)}
    result = subprocess.run([str(tmp_path / "app")], env=env, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
    # CUDA_ERROR_INVALID_VALUE (1) three times; the last call is valid and reaches the
    # runtime, which finds no current context (201).
    assert result.stdout.split() == ["1", "1", "1", "201"]
    assert not any(line.startswith("launch ") for line in log.read_text().splitlines())


@pytest.mark.parametrize("name", ["typeof", "requires", "asm", "concept", "nullptr", "constexpr", "xor", "n\u00e9"])
def test_parameter_names_c_or_cpp_cannot_take_are_refused_when_compiling(tmp_path, name):
    kernel = tmp_path / "kernel.py"
    kernel.write_text(
        f"import triton\nimport triton.language as tl\n\n\n@triton.jit\ndef k(out_ptr, {name}):\n"
        f"    tl.store(out_ptr, {name})\n"
    )
    _assert_fails(tmp_path, [str(kernel), "-n", "k", "-s", "*i32, i32", "-g", "1, 1, 1", "--target", "cuda:80"],
                  f"kernel 'k' parameter '{name}' ")  # fmt: skip


def _assemble_fails(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    result = ttlink_cli("assemble", str(path), "-g", "1, 1, 1", "-o", str(out / "k"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"ttlink: error: {path}: "), result.stderr
    assert message in result.stderr
    assert list(out.iterdir()) == []


@pytest.fixture(scope="module")
def add_record(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("record") / "r.json"
    compile_main([str(KERNELS), "-n", "add_kernel", "-s", ADD_SIG, "-t", "cuda:80", "--binary-out", str(path)])
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("target", "cuda:abc", "unsupported target 'cuda:abc'"),
        ("target", "cuda:80:32", "not in canonical form cuda:80"),
        ("shared", -1, "field 'shared' is -1"),
        ("shared", "0); evil(", "field 'shared' missing or not of type int"),
        ("shared", True, "field 'shared' missing or not of type int"),
        ("hidden_params", -1, "field 'hidden_params' is -1"),
        ("hidden_params", 1.5, "field 'hidden_params' missing or not of type int"),
        ("num_warps", 64, "num_warps 64 is not a power of two"),
        ("kernel", 'add"); evil("', "is not an ASCII C identifier"),
        ("triton_version", "3.9 */ evil(); /*", "is not a version number"),
        ("cubin", "not base64!", "field 'cubin' is not base64"),
        ("params", [{"kind": "arg", "name": "typeof", "type": "i32", "c_type": "int32_t", "hint": None}], "typeof"),
        ("params", [{"kind": "arg", "name": "n", "type": "i32", "c_type": "double", "hint": None}], "not those of any"),
        ("params", [{"kind": "arg", "name": "n", "type": "i32", "c_type": "int32_t", "hint": 8}], "bad hint '8'"),
        ("params", [{"kind": "constexpr", "name": "B", "value": 2**64}], "does not fit in 64 bits"),
    ],
)
def test_assemble_checks_every_field_of_a_record(tmp_path, add_record, field, value, message):
    _assemble_fails(tmp_path, json.dumps({**add_record, field: value}), message)


# Short ids: pytest puts the test's id into PYTEST_CURRENT_TEST, and an environment string over
# 128 KiB cannot be passed on to the child process.
@pytest.mark.parametrize(
    "text", ["[" * 200_000, '{"format": 1, "shared": ' + "7" * 5000 + "}"], ids=["deep", "long_number"]
)
def test_assemble_of_json_python_cannot_read_is_one_line(tmp_path, text):
    _assemble_fails(tmp_path, text, "malformed ttlink compile record: invalid JSON")


@pytest.mark.parametrize("out", ["o/", ".", "o"])
def test_out_path_naming_a_directory_is_refused(tmp_path, out):
    (tmp_path / "o").mkdir()
    result = ttlink_cli("compile", str(KERNELS), "-n", "add_kernel", "-s", ADD_SIG, "-g", "1, 1, 1", "-t", "cuda:80",
                        "-o", out, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2 and f"-o '{out}' names a directory" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"] and list((tmp_path / "o").iterdir()) == []


def test_an_output_that_is_a_directory_writes_nothing(tmp_path):
    (tmp_path / "pw" / "x.h").mkdir(parents=True)
    result = ttlink_cli("compile", str(KERNELS), "-n", "add_kernel", "-s", ADD_SIG, "-g", "1, 1, 1", "-t", "cuda:80",
                        "-o", "pw/x", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2 and result.stderr == "ttlink: error: pw/x.h: cannot write output: it is a directory\n"
    assert [p.name for p in (tmp_path / "pw").iterdir()] == ["x.h"]


def _ptxas_failure() -> tuple[str, str]:
    """A target in CUDA's list that the ptxas of the Triton in use does not know."""
    import triton

    return (
        ("cuda:101", "ptxas-blackwell fatal : Value 'sm_101a' is not defined for option 'gpu-name'")
        if (triton.__version__.startswith("3.9"))
        else ("cuda:110", "ptxas-blackwell fatal : Value 'sm_110a' is not defined for option 'gpu-name'")
    )


@pytest.mark.parametrize("case", ["ptxas", "llvm"])
def test_a_failing_compiler_shows_its_own_line_and_nothing_else(tmp_path, case):
    target, message = _ptxas_failure() if case == "ptxas" else ("cuda:88", "sm_88")
    _assert_fails(tmp_path, [str(KERNELS), "-n", "add_kernel", "-s", ADD_SIG, "-g", "1, 1, 1", "-t", target],
                  f"Triton failed to compile 'add_kernel' for {target}: ")  # fmt: skip
    result = ttlink_cli("compile", str(KERNELS), "-n", "add_kernel", "-s", ADD_SIG, "-t", target, "--binary-out", "r")
    assert message in result.stderr and ("ptxas" in result.stderr or "LLVM ERROR" in result.stderr)


MATMUL_HINTS = [(":16", ":16"), (":16", ""), ("", ":16")]


def test_dropin_takes_compile_py_arguments_and_writes_its_file_names(tmp_path):
    """upstream test_aot.py's autotune test: six variants compiled with the same -o."""
    for block in (16, 64):
        for ha, hb in MATMUL_HINTS:
            sig = f"*fp32:16, *fp32:16, *fp32:16, i32{ha}, i32{hb}, {block}"
            grid = f"stride_a/{block}, stride_b/{block}, 1"
            result = ttlink_cli(str(FIXTURES / "matmul_like.py"), "-n", "kernel", "--signature", sig, "--out-name",
                                "mm", "-o", "mm", "-w", "1", "-g", grid, "-t", "cuda:80:32", module="ttlink.compile",
                                cwd=tmp_path)  # fmt: skip
            assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    headers = sorted(tmp_path.glob("mm.*.h"))
    assert len(headers) == 6 and len(list(tmp_path.glob("mm.*.c"))) == 6
    for header in headers:
        assert header.name == f"mm.{_symbol(header).removeprefix('mm_')}.h"
    result = ttlink_cli(*map(str, headers), "-o", "kernel", module="ttlink.link", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    linked = (tmp_path / "kernel.h").read_text()
    assert "int mm_get_num_algos(void)" in linked  # one algo per tile size, each with three variants
    assert "CUresult mm_16_warps1xstages3(" in linked and "CUresult mm_64_warps1xstages3(" in linked


def test_dropin_without_a_target_needs_a_gpu(tmp_path):
    result = ttlink_cli(str(KERNELS), "-n", "add_kernel", "-s", ADD_SIG, "-g", "1, 1, 1", module="ttlink.compile",
                        cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": ""})  # fmt: skip
    assert result.returncode == 2 and list(tmp_path.iterdir()) == []
    assert result.stderr.startswith("ttlink: error: no -t/--target given and no active GPU to compile for (")
    assert result.stderr.endswith("); pass e.g. -t cuda:90\n") and result.stderr.count("\n") == 1
