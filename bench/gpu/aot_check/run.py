"""GPU check of `ttlink compile` output on the real driver: correctness against torch and timings.

usage (GPU machine, after prepare.sh here): python3 bench/gpu/aot_check/run.py .device/aot_check [RESULT.json]

Builds the generated sources with the ttlink runtime into one shared library (no -lcuda),
calls the entry points through ctypes on torch's stream and checks:
  - vector add (cuda:80 + cuda:90 cubins) against x + y, exactly; an empty grid launches nothing;
  - the cuda:80-only variant with PTX runs on the H100 (driver JIT), without PTX it is refused;
  - the tutorial matmul (fully hinted, and pointer-hints-only at an odd shape) against torch.matmul;
  - 32 threads racing on the first launch after an unload;
  - several contexts (contexts.c, its own process): one module each, a race across two
    contexts, a context destroyed and another created;
then times the matmul against torch.matmul and Triton's JIT, and launch cost against raw cuLaunchKernel.
"""

from __future__ import annotations

import base64
import ctypes
import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CTYPES = {"CUdeviceptr": ctypes.c_uint64, "int32_t": ctypes.c_int32, "float": ctypes.c_float}
CUDA_ERROR_NO_BINARY_FOR_GPU = 209


def cuda_include() -> Path:
    spec = importlib.util.find_spec("triton")
    for candidate in ([Path(spec.origin).parent / "backends/nvidia/include"] if spec else []) + [
        Path("/usr/local/cuda/include")
    ]:
        if (candidate / "cuda.h").is_file():
            return candidate
    raise SystemExit("cuda.h not found")


def build(out: Path) -> ctypes.CDLL:
    sources = sorted(str(p) for p in out.glob("*.c")) + [str(HERE / "bench.c")]
    library = out / "libaot_check.so"
    command = ["gcc", "-O2", "-shared", "-fPIC", f"-I{cuda_include()}", f"-I{out}", *sources, "-o", str(library)]
    subprocess.run([*command, "-ldl", "-lpthread"], check=True)
    return ctypes.CDLL(str(library))


def entry(library: ctypes.CDLL, header: Path):
    """The variant's entry point from its header, with ctypes argument types."""
    text = header.read_text()
    symbol, args = re.search(r"^CUresult (\w+)\(CUstream stream, (.*)\);$", text, re.M).groups()
    function = getattr(library, symbol)
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_void_p] + [CTYPES[a.rsplit(" ", 1)[0]] for a in args.split(", ")]
    function.unload = getattr(library, f"unload_{symbol}")
    return function


def stream() -> int:
    return torch.cuda.current_stream().cuda_stream


def check_vector_add(library, out: Path, results: dict) -> None:
    add = entry(library, out / "add.h")
    n = (1 << 24) + 7
    x, y = torch.rand(n, device="cuda"), torch.rand(n, device="cuda")
    result = torch.full_like(x, -1.0)
    status = add(stream(), x.data_ptr(), y.data_ptr(), result.data_ptr(), n)
    torch.cuda.synchronize()
    results["vector_add"] = {"status": status, "exact": bool(torch.equal(result, x + y)), "n": n}
    untouched = torch.full_like(x, -1.0)
    status = add(stream(), x.data_ptr(), y.data_ptr(), untouched.data_ptr(), 0)
    torch.cuda.synchronize()
    results["empty_grid"] = {"status": status, "untouched": bool((untouched == -1).all())}
    for name in ("add_ptx", "add_sm80"):
        variant = entry(library, out / f"{name}.h")
        result.fill_(-1)
        status = variant(stream(), x.data_ptr(), y.data_ptr(), result.data_ptr(), n)
        torch.cuda.synchronize()
        results[name] = {"status": status, "exact": bool(torch.equal(result, x + y))}

    # The first launch after an unload, 32 threads at once, each into its own output.
    add.unload()
    outs = [torch.zeros_like(x) for _ in range(32)]
    pointers = (ctypes.c_uint64 * 32)(*[o.data_ptr() for o in outs])
    library.bench_race.restype = ctypes.c_int
    failures = library.bench_race(
        ctypes.cast(add, ctypes.c_void_p), ctypes.c_void_p(stream()), ctypes.c_uint64(x.data_ptr()),
        ctypes.c_uint64(y.data_ptr()), pointers, 32, n,
    )  # fmt: skip
    torch.cuda.synchronize()
    results["race_32_threads"] = {"failures": failures, "all_exact": all(torch.equal(o, x + y) for o in outs)}


def matmul_args(a, b, c):
    m, k = a.shape
    n = b.shape[1]
    return (a.data_ptr(), b.data_ptr(), c.data_ptr(), m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
            c.stride(0), c.stride(1))  # fmt: skip


def call_matmul(function, hinted: bool, a, b, c) -> int:
    args = matmul_args(a, b, c)
    if hinted:  # unit strides are folded into the binary (:1) and absent from the entry point
        args = tuple(v for i, v in enumerate(args) if i not in (7, 9, 11))
    return function(stream(), *args)


def time_ms(launch, repeats: int = 20) -> float:
    for _ in range(3):
        launch()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        launch()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / repeats


def check_matmul(library, out: Path, results: dict) -> None:
    mm, mm_any = entry(library, out / "mm.h"), entry(library, out / "mm_any.h")
    for name, function, hinted, size in (("matmul_4096", mm, True, 4096), ("matmul_any_4001", mm_any, False, 4001)):
        torch.manual_seed(0)
        a = torch.randn(size, size, device="cuda", dtype=torch.float16)
        b = torch.randn(size, size, device="cuda", dtype=torch.float16)
        c = torch.empty(size, size, device="cuda", dtype=torch.float16)
        status = call_matmul(function, hinted, a, b, c)
        torch.cuda.synchronize()
        reference = torch.matmul(a, b)
        error = (c.float() - reference.float()).abs().max().item() / reference.float().abs().max().item()
        flops = 2 * size**3
        aot_ms = time_ms(lambda f=function, h=hinted, a=a, b=b, c=c: call_matmul(f, h, a, b, c))
        torch_ms = time_ms(lambda a=a, b=b: torch.matmul(a, b))
        results[name] = {
            "status": status,
            "max_error_relative_to_max": error,
            "aot_tflops": flops / aot_ms / 1e9,
            "torch_tflops": flops / torch_ms / 1e9,
        }
        if hinted:
            results[name]["triton_jit_tflops"] = jit_matmul_tflops(a, b, c, flops)


def jit_matmul_tflops(a, b, c, flops) -> float | None:
    """Triton's JIT on the same kernel and config (the GPU machine's Triton)."""
    try:
        sys.path.insert(0, str(REPO / "examples"))
        from matmul import matmul_kernel

        m, k = a.shape
        n = b.shape[1]
        grid = (triton_cdiv(m, 128) * triton_cdiv(n, 256),)

        def launch():
            matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0),
                                c.stride(1), BLOCK_SIZE_M=128, BLOCK_SIZE_N=256, BLOCK_SIZE_K=64, GROUP_SIZE_M=8,
                                num_warps=8, num_stages=3)  # fmt: skip

        return flops / time_ms(launch) / 1e9
    except Exception as error:  # report, do not fail the AOT checks
        print(f"triton JIT comparison skipped: {type(error).__name__}: {error}")
        return None


def triton_cdiv(x: int, y: int) -> int:
    return (x + y - 1) // y


def check_contexts(out: Path, results: dict) -> None:
    symbol = re.search(r"^CUresult (\w+)\(", (out / "add.h").read_text(), re.M)[1]
    binary = out / "contexts"
    command = ["gcc", "-O2", f"-I{cuda_include()}", f"-I{out}", "-include", str(out / "add.h"), f"-DADD={symbol}",
               f"-DUNLOAD_ADD=unload_{symbol}", str(HERE / "contexts.c"), str(out / "add.c"),
               str(out / "ttlink_runtime.c"), "-o", str(binary), "-ldl", "-lpthread"]  # fmt: skip
    subprocess.run(command, check=True)
    result = subprocess.run([str(binary)], capture_output=True, text=True)
    results["contexts"] = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", result.stdout)}
    results["contexts"]["exit"] = result.returncode


def check_launch_cost(library, out: Path, results: dict) -> None:
    add = entry(library, out / "add.h")
    record = json.loads((out / "add_sm90.json").read_text())
    cubin = base64.b64decode(record["cubin"])
    n = 1024  # one block: the loops measure launching, not the kernel
    x, y, z = (torch.zeros(n, device="cuda") for _ in range(3))
    common = (ctypes.c_void_p(stream()), ctypes.c_uint64(x.data_ptr()), ctypes.c_uint64(y.data_ptr()),
              ctypes.c_uint64(z.data_ptr()), ctypes.c_int32(n), 128, 200)  # fmt: skip
    best = {}
    statuses = set()
    for _ in range(3):  # interleaved, best of 3
        for name, call in (
            ("ttlink", lambda *t: library.bench_entry(ctypes.cast(add, ctypes.c_void_p), *common, *t)),
            ("raw_cuLaunchKernel", lambda *t: library.bench_raw(cubin, b"add_kernel", 128, record["hidden_params"],
                                                                 *common, *t)),
        ):  # fmt: skip
            throughput, enqueue = ctypes.c_double(), ctypes.c_double()
            statuses.add(call(ctypes.byref(throughput), ctypes.byref(enqueue)))
            for key, value in ((f"{name}_throughput_us", throughput.value), (f"{name}_enqueue_us", enqueue.value)):
                best[key] = min(best.get(key, value), value)
    results["launch_cost"] = {**best, "statuses": sorted(statuses), "launches_per_loop": 128 * 200}


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve()
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    started = time.time()
    library = build(out)
    torch.zeros(1, device="cuda")  # makes torch's primary context current on this thread
    check_vector_add(library, out, results)
    check_matmul(library, out, results)
    check_launch_cost(library, out, results)
    check_contexts(out, results)
    results["seconds"] = round(time.time() - started, 1)
    failures = []
    if results["vector_add"] != {"status": 0, "exact": True, "n": (1 << 24) + 7}:
        failures.append("vector_add")
    if results["empty_grid"] != {"status": 0, "untouched": True}:
        failures.append("empty_grid")
    if results["add_ptx"] != {"status": 0, "exact": True}:
        failures.append("add_ptx")
    if results["add_sm80"]["status"] != CUDA_ERROR_NO_BINARY_FOR_GPU:
        failures.append("add_sm80")
    if results["race_32_threads"] != {"failures": 0, "all_exact": True}:
        failures.append("race_32_threads")
    for name in ("matmul_4096", "matmul_any_4001"):
        if results[name]["status"] != 0 or results[name]["max_error_relative_to_max"] > 1e-2:
            failures.append(name)
    if results["launch_cost"]["statuses"] != [0]:
        failures.append("launch_cost")
    contexts = dict(results["contexts"])
    contexts.pop("same_address", None)  # either is fine: the context id tells them apart
    expected = dict.fromkeys(["first_a", "first_b", "race_failures", "recreated", "exit"], 0)
    expected.update(dict.fromkeys(["first_a_correct", "first_b_correct", "recreated_correct"], 1))
    if contexts != expected:
        failures.append("contexts")
    results["failures"] = failures
    text = json.dumps(results, indent=1, sort_keys=True)
    print(text)
    if len(argv) > 1:
        Path(argv[1]).write_text(text + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
