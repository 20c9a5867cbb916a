"""Times `ttlink link` on 10, 100, 1,000 and 10,000 generated variant headers.

    python bench/link_scale.py [--sizes 10 100 1000 10000]

Headers are in Triton 3.9's format: kernels of 100 variants each (25 algos x 4 hint
vectors), so every size exercises parsing, grouping, ordering and C generation. The time is
the whole link (read, model, emit, write), in process; target: 1,000 headers under 1 s on a
2-core CI machine, growing linearly.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ttlink.link import main as link_main  # noqa: E402

HINT_VECTORS = ("0d1d2d3d", "0d1d2d", "0d", "")  # over (x, y, out, n); BLOCK is parameter 4


def write_headers(directory: Path, count: int) -> list[str]:
    paths = []
    for index in range(count):
        kernel, rank = f"k{index // 100}", index % 100
        block, suffix = 16 * (rank // 4 + 1), HINT_VECTORS[rank % 4]
        symbol = f"{kernel}_{index:08x}_{suffix}"
        path = directory / f"{symbol}.h"
        path.write_text(
            "#include <cuda.h>\n// tt-linker-backend: cuda\n"
            f"// tt-linker: {symbol}:CUdeviceptr x, CUdeviceptr y, CUdeviceptr out, int32_t n:{block}_warps4xstages3\n"
            f"CUresult {symbol}(CUstream stream, CUdeviceptr x, CUdeviceptr y, CUdeviceptr out, int32_t n);\n"
        )
        paths.append(str(path))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    sizes = parser.parse_args().sizes
    print(f"{'headers':>8} {'seconds':>9} {'us/header':>10}")
    for size in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            headers = write_headers(directory, size)
            start = time.perf_counter()
            link_main([*headers, "-o", str(directory / "dispatch")])
            elapsed = time.perf_counter() - start
        print(f"{size:>8} {elapsed:>9.3f} {elapsed / size * 1e6:>10.1f}")


if __name__ == "__main__":
    main()
