"""fp16 matmul throughput of cuBLAS, the Triton JIT, upstream AOT and rules_triton on the same
card in the same run; and the Triton JIT's host launch cost."""

from __future__ import annotations

import ctypes
import importlib.util
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import triton
from kernels import MATMUL
from libs import LinkedLibrary

SIZES = (1024, 4096, 8192, 4001)
ROUNDS = 5  # each contender is timed once per round; the spread between rounds is the noise
REL_ERROR_BOUND = 2e-3  # against cuBLAS's result: both round to fp16 after fp32 accumulation


def load_jit_kernel(source: Path):
    spec = importlib.util.spec_from_file_location(f"bench_{source.stem}", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, MATMUL.function)


def _jit_launcher(kernel, config_index: int, a, b, c) -> Callable[[], None]:
    config = MATMUL.configs[config_index]
    size = a.shape[0]
    grid = (MATMUL.grid_size(config, {"M": size, "N": size}),)
    constexprs = dict(zip(MATMUL.constexpr_names, config.constexprs, strict=True))

    def launch() -> None:
        kernel[grid](
            a, b, c, size, size, size, *a.stride(), *b.stride(), *c.stride(),
            num_warps=config.num_warps, num_stages=config.num_stages, **constexprs,
        )  # fmt: skip

    return launch


def _aot_launcher(library: LinkedLibrary, call: Callable, a, b, c) -> Callable[[], None]:
    size = a.shape[0]
    values = (a.data_ptr(), b.data_ptr(), c.data_ptr(), size, size, size, *a.stride(), *b.stride(), *c.stride())
    stream = torch.cuda.current_stream().cuda_stream

    def launch() -> None:
        call(stream, values)

    result = call(stream, values)
    if result != 0:
        raise RuntimeError(f"{library.label} returned CUresult {result}")
    return launch


def matmul_contenders(jit_kernel, libraries: list[LinkedLibrary], size: int, a, b, c):
    """(contender, config name, launch) for everything timed at SIZE: per config, the JIT
    and each library's algo function (the aligned variant's algo: it also holds the
    unit-stride variant that odd sizes reach)."""
    yield "cuBLAS", "", lambda: torch.matmul(a, b, out=c)
    for index, config in enumerate(MATMUL.configs):
        yield "Triton JIT", config.name, _jit_launcher(jit_kernel, index, a, b, c)
        for library in libraries:
            algo = next(x for x in library.algos if x.config_index == index and "aligned" in x.specs)
            call = lambda s, v, lib=library, x=algo: lib.algo(x, s, v)  # noqa: E731
            yield library.label, config.name, _aot_launcher(library, call, a, b, c)
    if size == 4096:  # the unhinted kernel: what specialisation buys
        generic = MATMUL.specialisations[-1]
        for library in libraries:
            call = lambda s, v, lib=library: lib.variant(0, generic, s, v)  # noqa: E731
            yield f"{library.label} unhinted", MATMUL.configs[0].name, _aot_launcher(library, call, a, b, c)


def cublas_kernels(a, b) -> list[str]:
    """The GPU kernels torch.matmul runs: what the Triton kernels are measured against."""
    from torch.profiler import ProfilerActivity, profile

    torch.matmul(a, b)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as trace:
        torch.matmul(a, b)
        torch.cuda.synchronize()
    return sorted({event.key for event in trace.key_averages() if event.device_type.name == "CUDA"})


def relative_errors(contenders: list, c, expected) -> dict[tuple[str, str], float]:
    """|C - expected| / |expected| of each contender's one launch into a NaN-filled C, so a
    launch that wrote nothing (or not everything) shows as NaN."""
    errors = {}
    for contender, config, launch in contenders:
        c.fill_(float("nan"))
        launch()
        torch.cuda.synchronize()
        difference = torch.linalg.vector_norm(c.double() - expected) / torch.linalg.vector_norm(expected)
        errors[contender, config] = float(difference)
    return errors


def _round_orders(contenders: list) -> list[list]:
    """ROUNDS orders of the contenders, each shuffled (fixed seed): under the power cap a
    kernel's speed depends on what ran before it, so no contender may always follow the same
    one (a rotation keeps neighbours together)."""
    rng = random.Random(5)
    orders = []
    for _ in range(ROUNDS):
        order = list(contenders)
        rng.shuffle(order)
        orders.append(order)
    return orders


def bench_matmul(jit_kernel, libraries: list[LinkedLibrary]) -> list[dict]:
    """Each round times every contender once, in a shuffled order, so that clock drift (the
    card throttles under sustained load) spreads over all of them."""
    rows = []
    for size in SIZES:
        a = torch.randn(size, size, dtype=torch.float16, device="cuda")
        b = torch.randn(size, size, dtype=torch.float16, device="cuda")
        expected = torch.matmul(a, b).double()
        c = torch.empty_like(expected, dtype=torch.float16)
        contenders = list(matmul_contenders(jit_kernel, libraries, size, a, b, c))
        errors = relative_errors(contenders, c, expected)
        timings: dict[tuple[str, str], list[float]] = {}
        for order in _round_orders(contenders):
            for contender, config, launch in order:
                ms = triton.testing.do_bench(launch, warmup=10, rep=40, return_mode="median")
                timings.setdefault((contender, config), []).append(ms)
        kernels = cublas_kernels(a, b)
        for (contender, config), runs in timings.items():
            ms = statistics.median(runs)
            rows.append(
                {
                    "kernels": kernels if contender == "cuBLAS" else [],
                    "size": size,
                    "contender": contender,
                    "config": config,
                    "ms": ms,
                    "ms_rounds": runs,
                    "tflops": 2 * size**3 / (ms * 1e-3) / 1e12,
                    "rel_error": errors[contender, config],
                    "correct": errors[contender, config] <= REL_ERROR_BOUND,
                }
            )
    return rows


def carveout_experiment(
    upstream: LinkedLibrary, ours: list[LinkedLibrary], config_index: int, size: int = 4001
) -> dict:
    """Upstream's loader asks for CU_FUNC_CACHE_PREFER_SHARED when a kernel needs more than
    48 KiB of shared memory (so does the Triton JIT's); the ttlink runtime leaves the cache
    configuration alone. Times upstream's unit-stride variant of one config as loaded, then
    after cuFuncSetCacheConfig(PREFER_NONE) on its CUfunction, beside ours."""
    spec = next(s for s in MATMUL.specialisations if s.name == "unit_stride")
    a = torch.randn(size, size, dtype=torch.float16, device="cuda")
    b = torch.randn(size, size, dtype=torch.float16, device="cuda")
    c = torch.empty(size, size, dtype=torch.float16, device="cuda")

    def timed(library: LinkedLibrary) -> float:
        launch = _aot_launcher(library, lambda s, v: library.variant(config_index, spec, s, v), a, b, c)
        ms = [triton.testing.do_bench(launch, warmup=10, rep=40, return_mode="median") for _ in range(3)]
        return 2 * size**3 / (statistics.median(ms) * 1e-3) / 1e12

    result = {"config": MATMUL.configs[config_index].name, "size": size, "variant": spec.name}
    result["upstream as loaded"] = timed(upstream)
    symbol = upstream.variants[config_index, spec.name]
    function = upstream.pointer_variable(f"{symbol}_func")
    driver = ctypes.CDLL("libcuda.so.1")
    prefer_none = 0
    status = driver.cuFuncSetCacheConfig(function, prefer_none)
    if status != 0:
        raise RuntimeError(f"cuFuncSetCacheConfig returned {status}")
    result["upstream with PREFER_NONE"] = timed(upstream)
    for library in ours:
        result[library.label] = timed(library)
    return result


def bench_back_to_back(jit_kernel, libraries: list[LinkedLibrary], size: int = 4096, launches: int = 50) -> list[dict]:
    """A second method beside do_bench: LAUNCHES launches back to back between two events
    (no L2 flush in between, the card in its sustained power state), median of ROUNDS
    interleaved rounds; config by config as in bench_matmul."""
    a = torch.randn(size, size, dtype=torch.float16, device="cuda")
    b = torch.randn(size, size, dtype=torch.float16, device="cuda")
    c = torch.empty(size, size, dtype=torch.float16, device="cuda")
    contenders = [x for x in matmul_contenders(jit_kernel, libraries, size, a, b, c) if not x[0].endswith("unhinted")]
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    timings: dict[tuple[str, str], list[float]] = {}
    for order in _round_orders(contenders):
        for contender, config, launch in order:
            launch()
            start.record()
            for _ in range(launches):
                launch()
            end.record()
            end.synchronize()
            timings.setdefault((contender, config), []).append(start.elapsed_time(end) / launches)
    return [
        {"size": size, "contender": contender, "config": config, "ms_rounds": runs,
         "tflops": 2 * size**3 / (statistics.median(runs) * 1e-3) / 1e12}
        for (contender, config), runs in timings.items()
    ]  # fmt: skip


def jit_launch_cost(jit_kernel, batch: int = 100, batches: int = 200) -> dict:
    """Host ns per Triton JIT launch of the 128^3 matmul, plain and inside graph capture."""
    size = 128
    a = torch.ones(size, size, dtype=torch.float16, device="cuda")
    b = torch.ones(size, size, dtype=torch.float16, device="cuda")
    c = torch.empty(size, size, dtype=torch.float16, device="cuda")
    launch = _jit_launcher(jit_kernel, 0, a, b, c)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for _ in range(2000):
            launch()
        torch.cuda.synchronize()
        plain = []
        for _ in range(batches):
            start = time.perf_counter_ns()
            for _ in range(batch):
                launch()
            plain.append((time.perf_counter_ns() - start) / batch)
            torch.cuda.synchronize()
    captured = []
    for _ in range(batches // 4):
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            start = time.perf_counter_ns()
            for _ in range(batch):
                launch()
            captured.append((time.perf_counter_ns() - start) / batch)
    c.fill_(float("nan"))
    graph.replay()
    torch.cuda.synchronize()
    return {
        "plain_ns": statistics.median(plain),
        "captured_ns": statistics.median(captured),
        "graph_matches_plain": bool((c == size).all()),
    }
