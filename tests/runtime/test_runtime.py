"""The C runtime on the CPU: generated kernels driven against a recording stand-in libcuda.

The kernels are compiled for real (cuda:80, cuda:86, cuda:90); only the driver is a stand-in
(standin_libcuda.c), loaded through TTLINK_LIBCUDA_PATH. Every harness is built with
ASan + UBSan; the race also runs under TSan. The real driver is exercised on the GPU machine
(bench/gpu/run.py).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from native import (
    CUDA_ERROR_INVALID_CONTEXT,
    CUDA_ERROR_INVALID_HANDLE,
    CUDA_ERROR_INVALID_IMAGE,
    CUDA_ERROR_INVALID_VALUE,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES,
    CUDA_ERROR_NO_BINARY_FOR_GPU,
    CUDA_ERROR_NO_DEVICE,
    CUDA_ERROR_NOT_FOUND,
    CUDA_ERROR_SHARED_OBJECT_INIT_FAILED,
    HERE,
    SANITIZE,
    cc,
)

from ttlink import RUNTIME_INCLUDE_DIR
from ttlink.compile import assemble_main
from ttlink.compile import main as compile_main
from ttlink.frontend import CompiledTarget, entry_param_sizes
from ttlink.link import main as link_main

KERNELS = HERE / "fixtures" / "kernels.py"
EXAMPLES = HERE.parent.parent / "examples"
EVERY_SIG = "*fp32:16, i32, i1, i8, i16, i32, i64, u8, u16, u32, u64, fp16, bf16, fp32, fp64, i32:1, 64"
EVERY_GRID = "(n + BLOCK - 1) / BLOCK, 2, unit"
# The same kernel without hints: the generic variant of the dispatcher `reached`.
GENERIC_SIG = "*fp32, i32, i1, i8, i16, i32, i64, u8, u16, u32, u64, fp16, bf16, fp32, fp64, i32, 64"
DIVIDING_GRID = "n / i32, 1 + n % (i16 - 1), 1"  # divisors that are run-time arguments
GRID_OF_ARGS = "i64, i32, u32"  # any grid the caller asks for
BIG_SIG = (
    "*fp16:16, *fp16:16, *fp16:16, i32:16, i32:16, i32:16, i32:16, i32:1, i32:16, i32:1, i32:16, i32:1, 128, 256, 64, 8"
)
BIG_GRID = "((M + BLOCK_SIZE_M - 1) / BLOCK_SIZE_M) * ((N + BLOCK_SIZE_N - 1) / BLOCK_SIZE_N), 1, 1"


def _symbol(header: Path) -> str:
    return re.search(r"^CUresult (\w+)\(CUstream", header.read_text(), re.M)[1]


@pytest.fixture(scope="module")
def build(tmp_path_factory, cuda_include_dir):
    """Generated sources, stand-ins and harness binaries; returns a namespace of paths."""
    if shutil.which("cc") is None:
        pytest.fail("a C compiler (cc) is needed on PATH")
    out = tmp_path_factory.mktemp("runtime")
    records = []
    for target in ("cuda:80", "cuda:86", "cuda:90"):
        record = out / f"every_{target[5:]}.json"
        compile_main(
            [
                str(KERNELS),
                "-n",
                "every_scalar",
                "-s",
                EVERY_SIG,
                "-w",
                "2",
                "--target",
                target,
                "--binary-out",
                str(record),
            ]
        )
        records.append(str(record))
    assemble_main([*records, "-g", EVERY_GRID, "-on", "every", "-o", str(out / "every"), "--embed-ptx"])
    assemble_main([*records, "-g", EVERY_GRID, "-on", "every_no_ptx", "-o", str(out / "every_no_ptx")])
    assemble_main([*records, "-g", DIVIDING_GRID, "-on", "dividing", "-o", str(out / "dividing")])
    assemble_main([*records, "-g", GRID_OF_ARGS, "-on", "grid_of_args", "-o", str(out / "grid_of_args")])
    compile_main(
        [
            str(EXAMPLES / "matmul.py"),
            "-n",
            "matmul_kernel",
            "-s",
            BIG_SIG,
            "-w",
            "8",
            "-ns",
            "3",
            "--target",
            "cuda:90",
            "-g",
            BIG_GRID,
            "-on",
            "big",
            "-o",
            str(out / "big"),
        ]
    )
    for key, signature in (("reached_specialised", EVERY_SIG), ("reached_generic", GENERIC_SIG)):
        compile_main(
            [str(KERNELS), "-n", "every_scalar", "-s", signature, "-w", "2", "--target", "cuda:90"]
            + ["-g", EVERY_GRID, "-on", "reached", "-o", str(out / key)]
        )
    link_main([str(out / "reached_specialised.h"), str(out / "reached_generic.h"), "-o", str(out / "reached")])
    include = ["-I", str(cuda_include_dir), "-I", str(RUNTIME_INCLUDE_DIR)]
    for name, flags in (("standin.so", []), ("standin_no_ctx_id.so", ["-DSTANDIN_NO_CTX_ID"])):
        cc(["-shared", "-fPIC", *flags, *include, str(HERE / "standin_libcuda.c"), "-o", str(out / name)])
    names = {key: _symbol(out / f"{key}.h") for key in ("every", "every_no_ptx", "dividing", "grid_of_args", "big")}
    macros = [
        f"-DEVERY={names['every']}",
        f"-DLOAD_EVERY=load_{names['every']}",
        f"-DUNLOAD_EVERY=unload_{names['every']}",
        f"-DEVERY_NO_PTX={names['every_no_ptx']}",
        f"-DDIVIDING={names['dividing']}",
        f"-DGRID_OF_ARGS={names['grid_of_args']}",
        f"-DBIG={names['big']}",
    ]
    headers = [arg for key in [*names, "reached"] for arg in ("-include", str(out / f"{key}.h"))]
    sources = [str(out / f"{key}.c") for key in [*names, "reached", "reached_specialised", "reached_generic"]]
    sources.append(str(RUNTIME_INCLUDE_DIR / "ttlink_runtime.c"))
    for variant, flags in SANITIZE.items():
        cc(
            [
                *flags,
                "-g",
                "-O1",
                "-Wall",
                "-Wextra",
                "-Werror",
                *include,
                *macros,
                *headers,
                str(HERE / "harness.c"),
                *sources,
                "-o",
                str(out / f"harness_{variant}"),
                "-ldl",
                "-lpthread",
            ]
        )
    every_90 = CompiledTarget.from_json(Path(records[2]).read_text(), records[2])
    symbols = {key: _symbol(out / f"{key}.h") for key in ("reached_specialised", "reached_generic")}
    return {"out": out, "param_sizes": entry_param_sizes(every_90.ptx, every_90.kernel), **names, **symbols}


def run_harness(build, *args: str, variant: str = "asan", standin: str = "standin.so", **env: str):
    out = build["out"]
    log = out / f"log-{os.getpid()}-{len(list(out.glob('log-*')))}"
    environment = {
        **{key: value for key, value in os.environ.items() if key != "TTLINK_REPORT_VARIANTS"},
        "TTLINK_LIBCUDA_PATH": str(out / standin),
        "STANDIN_LOG": str(log),
        "STANDIN_PARAM_SIZES": ",".join(map(str, build["param_sizes"])),
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
        "TSAN_OPTIONS": "halt_on_error=1",
        **env,
    }
    result = subprocess.run([str(out / f"harness_{variant}"), *args], capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sanitizer" not in result.stderr and "runtime error" not in result.stderr, result.stderr
    values = dict(re.findall(r"(\w+)=(-?\d+)", result.stdout))
    lines = log.read_text().splitlines() if log.exists() else []
    return {k: int(v) for k, v in values.items()}, lines, result.stderr


def _launches(lines):
    return [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines if line.startswith("launch ")]


def _loads(lines):
    return [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines if line.startswith("load ")]


def test_a_grid_divisor_of_zero_is_an_error_not_a_crash(build):
    values, lines, _ = run_harness(build, "divide")
    # UBSan (-fno-sanitize-recover) would have stopped the harness at a division by zero.
    assert values == {"argument_zero": CUDA_ERROR_INVALID_VALUE, "group_zero": CUDA_ERROR_INVALID_VALUE, "status": 0}
    (launch,) = _launches(lines)
    assert launch["grid"] == "142,1,1"  # 1000 / 7, 1 + 1000 % (3 - 1)


def test_grid_above_the_device_limits_is_an_error_not_a_launch(build):
    values, lines, _ = run_harness(build, "grid_limits")
    assert values == {
        "x_max": 0,
        "x_over": CUDA_ERROR_INVALID_VALUE,
        "y_max": 0,
        "y_over": CUDA_ERROR_INVALID_VALUE,
        "z_max": 0,
        "z_over": CUDA_ERROR_INVALID_VALUE,
        "all_over": CUDA_ERROR_INVALID_VALUE,
    }
    # 2^31 - 1 blocks in x, 65535 in y and z: the limits of every device since compute capability 3.0
    assert [launch["grid"] for launch in _launches(lines)] == ["2147483647,1,1", "1,65535,1", "1,1,65535"]


def test_launch_passes_exact_grid_block_shared_and_argument_bytes(build):
    values, lines, _ = run_harness(build, "launch")
    assert values == {"status": 0, "empty": 0}
    (launch,) = _launches(lines)  # the empty grid launched nothing
    assert launch["image"] == "sm_90"
    assert launch["name"] == "every_scalar"
    assert launch["grid"] == "16,2,1"  # (1000 + 63) / 64, 2, unit (:1 -> 1)
    assert launch["block"] == "64,1,1"  # 2 warps
    assert launch["stream"] == "0x5a5a" and launch["extra"] in ("(nil)", "0x0")
    expected = [
        struct.pack("<Q", 0x7000),
        struct.pack("<i", 1000),
        struct.pack("<b", 1),
        struct.pack("<b", -2),
        struct.pack("<h", 0x1234),
        struct.pack("<i", -5),
        struct.pack("<q", 0x0102030405060708),
        struct.pack("<B", 0xAB),
        struct.pack("<H", 0xBEEF),
        struct.pack("<I", 0xDEADBEEF),
        struct.pack("<Q", 0x1122334455667788),
        struct.pack("<H", 0x3C00),  # fp16 1.0 bit pattern
        struct.pack("<H", 0x3F80),  # bf16 1.0 bit pattern
        struct.pack("<f", 1.5),
        struct.pack("<d", 2.5),
        struct.pack("<Q", 0),  # global scratch: NULL
        struct.pack("<Q", 0),  # profile scratch: NULL
    ]
    assert [len(b) for b in expected] == build["param_sizes"]  # sizes of the compiled kernel's parameters
    assert launch["args"].split(":") == [b.hex() for b in expected]
    assert (
        int(launch["shared"])
        == CompiledTarget.from_json((build["out"] / "every_90.json").read_text(), "every_90.json").shared
    )


@pytest.mark.parametrize(
    ("capability", "every", "no_ptx"),
    [
        ("8.0", "sm_80", "sm_80"),
        ("8.6", "sm_86", "sm_86"),
        ("8.9", "sm_86", "sm_86"),  # highest lower minor of the same major
        ("9.0", "sm_90", "sm_90"),
        ("12.0", "ptx_sm_80", None),  # no cubin of major 12: the PTX, else no binary
        ("7.5", None, None),  # older than every binary, PTX included
    ],
)
def test_binary_choice_by_compute_capability(build, capability, every, no_ptx):
    values, lines, _ = run_harness(build, "choose", "1", STANDIN_DEVICES=capability)
    assert values["every"] == (0 if every else CUDA_ERROR_NO_BINARY_FOR_GPU)
    assert values["no_ptx"] == (0 if no_ptx else CUDA_ERROR_NO_BINARY_FOR_GPU)
    assert [load["image"] for load in _loads(lines)] == [image for image in (every, no_ptx) if image]
    assert [launch["image"] for launch in _launches(lines)] == [image for image in (every, no_ptx) if image]


@pytest.mark.parametrize("variant", ["asan", "tsan"])
def test_racing_first_launches_load_once_per_context(build, variant):
    values, lines, _ = run_harness(
        build, "race", "32", variant=variant, STANDIN_DEVICES="8.6,9.0", STANDIN_LOAD_DELAY_US="20000"
    )
    assert values["failures"] == 0
    loads = _loads(lines)
    assert sorted((load["context"], load["image"]) for load in loads) == [("1", "sm_86"), ("2", "sm_90")]
    launches = _launches(lines)
    assert len(launches) == 32
    assert all(launch["context"] == launch["module_context"] for launch in launches)


@pytest.mark.parametrize("variant", ["asan", "tsan"])
def test_unload_racing_with_launches_never_uses_an_unloaded_function(build, variant):
    # The stand-in aborts when a launch and the unload of its function's module overlap, or a
    # launch uses a function unloaded before; its delay makes every launch a wide target.
    values, lines, _ = run_harness(build, "unload_race", "4", "200", variant=variant, STANDIN_LAUNCH_DELAY_US="20")
    assert values["failures"] == 0
    launches = _launches(lines)
    assert len(launches) == values["launches"] > 0
    assert all(launch["context"] == launch["module_context"] == "1" for launch in launches)
    events = [line.split(" status")[0] for line in lines if line.startswith(("load ", "unload "))]
    # Loads and unloads alternate: one load after each unload, by load_S() or by a launch. Every
    # odd round loads, so the next round has something to unload.
    assert set(events[0::2]) == {"load context=1 image=sm_90"}
    assert set(events[1::2]) == {"unload context=1 image=sm_90"}
    assert len(events[1::2]) >= 100


@pytest.mark.parametrize(
    ("standin", "reloads_on_new_context"),
    [("standin.so", True), ("standin_no_ctx_id.so", False)],
)
def test_unload_and_context_recreated_at_same_address(build, standin, reloads_on_new_context):
    values, lines, _ = run_harness(build, "reload", standin=standin)
    assert values == {
        "first": 0,
        "after_unload": 0,
        "same_address": 1,
        "second": 0 if reloads_on_new_context else CUDA_ERROR_INVALID_HANDLE,
    }
    events = [line.split(" status")[0] for line in lines if line.startswith(("load", "unload"))]
    expected = ["load context=1 image=sm_90", "unload context=1 image=sm_90", "load context=1 image=sm_90"]
    if reloads_on_new_context:  # keyed by cuCtxGetId: the new context gets its own module
        expected.append("load context=2 image=sm_90")
    assert events == expected
    if not reloads_on_new_context:  # keyed by address: the stale module is used, which the id avoids
        assert _launches(lines)[-1]["module_context"] == "1"


# What TTLINK_REPORT_VARIANTS=1 writes for the variants of every_scalar (BLOCK=64, 2 warps,
# 3 stages): the one specialised on out_ptr:16 and unit=1, and the generic one.
SPECIALISED_REPORT = (
    "ttlink: {name} algo 64_warps2xstages3 -> variant {symbol}: specialised on out_ptr:16 unit=1, "
    "not on n i8 i16 i32 i64 u8 u16 u32 u64"  # b1 (i1) and the floats take no hints
)
GENERIC_REPORT = "ttlink: {name} algo 64_warps2xstages3 -> variant {symbol}: generic, specialised on no argument"


def test_report_names_the_variant_each_call_reached_once(build):
    values, lines, stderr = run_harness(build, "dispatch", TTLINK_REPORT_VARIANTS="1")
    assert values == {"specialised": 0, "specialised_again": 0, "generic": 0, "generic_again": 0}
    assert len(_launches(lines)) == 4
    # The first call of each variant, in call order; the second call of each adds nothing.
    assert stderr.splitlines() == [
        SPECIALISED_REPORT.format(name="reached", symbol=build["reached_specialised"]),
        GENERIC_REPORT.format(name="reached", symbol=build["reached_generic"]),
    ]
    # The algo as the dispatcher names it (reached_get_algo_name(0), reached_64_warps2xstages3).
    assert "CUresult reached_64_warps2xstages3(CUstream stream" in (build["out"] / "reached.h").read_text()


@pytest.mark.parametrize("setting", [None, "", "0"], ids=["unset", "empty", "zero"])
def test_report_is_off_unless_asked(build, setting):
    env = {} if setting is None else {"TTLINK_REPORT_VARIANTS": setting}
    values, lines, stderr = run_harness(build, "dispatch", **env)
    assert set(values.values()) == {0} and len(_launches(lines)) == 4
    assert stderr == ""


@pytest.mark.parametrize("variant", ["asan", "tsan"])
def test_report_of_racing_first_launches_is_written_once(build, variant):
    """8 threads in two contexts launch one variant first at once: one line for the process."""
    values, lines, stderr = run_harness(
        build, "race", "8", variant=variant, STANDIN_DEVICES="8.6,9.0", TTLINK_REPORT_VARIANTS="1"
    )
    assert values["failures"] == 0 and len(_launches(lines)) == 8
    assert stderr.splitlines() == [SPECIALISED_REPORT.format(name="every", symbol=build["every"])]


@pytest.mark.parametrize(("fail", "status"), [("cuModuleLoadData:200", 200), ("cuLaunchKernel:1", 1)])
def test_report_names_the_variant_a_failing_launch_reached(build, fail, status):
    values, _, stderr = run_harness(build, "twice", STANDIN_FAIL=fail, TTLINK_REPORT_VARIANTS="1")
    assert values == {"first": status, "second": status}
    assert stderr.splitlines() == [SPECIALISED_REPORT.format(name="every", symbol=build["every"])]


def test_report_is_written_once_across_unloads_and_contexts(build):
    values, lines, stderr = run_harness(build, "reload", TTLINK_REPORT_VARIANTS="1")
    assert values["second"] == 0 and len(_loads(lines)) == 3  # loaded again after the unload, and in context 2
    assert stderr.splitlines() == [SPECIALISED_REPORT.format(name="every", symbol=build["every"])]


def test_large_shared_memory_opts_in(build):
    values, lines, _ = run_harness(build, "big", STANDIN_PARAM_SIZES="8,8,8,4,4,4,4,4,4,8,8")
    assert values["status"] == 0
    (launch,) = _launches(lines)
    shared = int(launch["shared"])
    assert shared > 49152
    assert f"set_max_dynamic_shared {shared}" in lines
    assert launch["grid"] == "8,1,1" and launch["block"] == "256,1,1"  # 4 x 2 blocks of 128 x 256, 8 warps
    # a, b, c, M, N, K, stride_am, stride_bk, stride_cm (unit strides folded), 2 scratch pointers
    values = [0x1000, 0x2000, 0x3000, 512, 512, 256, 256, 512, 512, 0, 0]
    sizes = [8, 8, 8, 4, 4, 4, 4, 4, 4, 8, 8]
    assert launch["args"] == ":".join(v.to_bytes(n, "little").hex() for v, n in zip(values, sizes, strict=True))


def test_device_with_too_little_shared_memory_is_refused(build):
    values, lines, _ = run_harness(build, "big", STANDIN_OPTIN_SHARED="65536", STANDIN_PARAM_SIZES="")
    assert values["status"] == CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES
    assert _loads(lines) == [] and _launches(lines) == []


@pytest.mark.parametrize(
    ("fail", "status", "loads", "unloads"),
    [
        ("cuModuleLoadData:200", CUDA_ERROR_INVALID_IMAGE, 2, 0),  # not cached: the next launch retries
        ("cuModuleGetFunction:500", CUDA_ERROR_NOT_FOUND, 2, 2),  # the loaded module is released
        ("cuDeviceGetAttribute:1", CUDA_ERROR_INVALID_VALUE, 0, 0),
        ("cuLaunchKernel:1", CUDA_ERROR_INVALID_VALUE, 1, 0),
    ],
)
def test_failures_are_returned(build, fail, status, loads, unloads):
    values, lines, _ = run_harness(build, "twice", STANDIN_FAIL=fail)
    assert values == {"first": status, "second": status}
    assert len([line for line in lines if line.startswith("load ")]) == loads
    assert len([line for line in lines if line.startswith("unload ")]) == unloads


def test_no_device(build):
    values, lines, _ = run_harness(build, "twice", STANDIN_FAIL="cuInit:100")
    assert values == {"first": CUDA_ERROR_NO_DEVICE, "second": CUDA_ERROR_NO_DEVICE}
    assert lines == ["init status=100"]  # cuInit once, nothing loaded


def test_no_current_context(build):
    values, lines, _ = run_harness(build, "no_context")
    assert values == {"status": CUDA_ERROR_INVALID_CONTEXT}
    assert _loads(lines) == []


def test_driver_missing(build, tmp_path):
    values, _, _ = run_harness(build, "no_context", TTLINK_LIBCUDA_PATH=str(tmp_path / "libcuda.so.1"))
    assert values == {"status": CUDA_ERROR_SHARED_OBJECT_INIT_FAILED}


def test_only_documented_symbols_are_global(build, tmp_path, cuda_include_dir):
    out = build["out"]
    include = ["-I", str(cuda_include_dir)]
    objects = []
    for source in ("every.c", "big.c"):
        obj = tmp_path / f"{source}.o"
        cc(["-c", "-I", str(RUNTIME_INCLUDE_DIR), *include, str(out / source), "-o", str(obj)])
        objects.append(obj)
    runtime = tmp_path / "runtime.o"
    cc(["-c", *include, str(RUNTIME_INCLUDE_DIR / "ttlink_runtime.c"), "-o", str(runtime)])
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not on PATH")
    for obj in [*objects, runtime]:
        defined = subprocess.run([nm, "-g", "--defined-only", str(obj)], capture_output=True, text=True).stdout
        names = {line.split()[-1] for line in defined.splitlines() if line.strip()}
        if obj == runtime:
            assert names == {
                "ttlink_autotune",
                "ttlink_launch",
                "ttlink_load",
                "ttlink_set_scratch_allocator",
                "ttlink_tuning_export",
                "ttlink_tuning_import",
                "ttlink_unload",
            }
        else:
            symbol = _symbol(out / obj.name.replace(".c.o", ".h"))
            assert names == {symbol, f"load_{symbol}", f"unload_{symbol}"}
