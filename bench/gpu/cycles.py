"""Elapsed GPU cycles of one 4096^3 fp16 matmul per contender, read by Nsight Compute.

Sustained timings run at whatever clock the card's power cap allows, and different kernels
draw different power. Cycles do not depend on the clock: equal cycles and unequal times
mean the clock (power) made the difference, not the code.

    ncu ... python3 bench/gpu/cycles.py OURS_LIB OURS_ALGO UPSTREAM_LIB UPSTREAM_ALGO KERNEL_FILE

(run.py's `cycles` step runs this under ncu). Each contender launches twice, the first as
warm-up; the launch order is CONTENDERS.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import torch
from kernels import MATMUL

SIZE = 4096
CONTENDERS = ("cuBLAS", "Triton JIT", "upstream AOT", "rules_triton")
LAUNCHES_EACH = 2


def aot_launcher(library: str, symbol: str, a, b, c):
    function = getattr(ctypes.CDLL(library), symbol)
    function.argtypes = [ctypes.c_void_p] + [ctypes.c_uint64] * 3 + [ctypes.c_int32] * 9
    function.restype = ctypes.c_int
    values = (a.data_ptr(), b.data_ptr(), c.data_ptr(), SIZE, SIZE, SIZE, *a.stride(), *b.stride(), *c.stride())
    return lambda: function(None, *values)


def main() -> None:
    ours_lib, ours_algo, up_lib, up_algo, kernel_file = sys.argv[1:]
    import speed

    a = torch.randn(SIZE, SIZE, dtype=torch.float16, device="cuda")
    b = torch.randn(SIZE, SIZE, dtype=torch.float16, device="cuda")
    c = torch.empty(SIZE, SIZE, dtype=torch.float16, device="cuda")
    jit = speed._jit_launcher(speed.load_jit_kernel(Path(kernel_file)), 0, a, b, c)
    launchers = {
        "cuBLAS": lambda: torch.matmul(a, b, out=c),
        "Triton JIT": jit,
        "upstream AOT": aot_launcher(up_lib, up_algo, a, b, c),
        "rules_triton": aot_launcher(ours_lib, ours_algo, a, b, c),
    }
    for name in CONTENDERS:
        for _ in range(LAUNCHES_EACH):
            launchers[name]()
        torch.cuda.synchronize()
    print(f"config {MATMUL.configs[0].name}: launched {', '.join(CONTENDERS)}, {LAUNCHES_EACH} each")


if __name__ == "__main__":
    main()
