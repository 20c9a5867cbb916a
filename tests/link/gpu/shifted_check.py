"""Runs shifted_check.c on a GPU against real kernels: the `ttlink link` dispatcher and, for
comparison, Triton's link.py dispatcher of the same `ttlink compile` headers.

    python tests/link/gpu/shifted_check.py prepare DIR   # here, with Triton 3.9, no GPU needed
    python tests/link/gpu/shifted_check.py run DIR       # on the GPU machine (gcc, libcuda.so.1)

`prepare` compiles shifted_copy_kernel for sm_90 and writes both dispatchers, the runtime and
cuda.h into DIR; `run` builds two binaries and runs them. Not run by CI (no GPU there).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
# shifted_copy_kernel(x_ptr, BLOCK: constexpr, out_ptr, n, shift). BLOCK 1024 over 128 threads
# and out_ptr, n :16: the specialised variant stores 16-byte vectors. Triton's link.py puts
# the hints of parameters 2 and 3 on n and shift.
VARIANTS = {
    "shifted_aligned": "*fp32:16, 1024, *fp32:16, i32:16, i32",
    "shifted_generic": "*fp32, 1024, *fp32, i32, i32",
}


def prepare(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    python = [sys.executable, "-m"]
    for out, signature in VARIANTS.items():
        subprocess.run(
            [*python, "ttlink", "compile", str(HERE.parent / "fixtures" / "kernels.py"), "-n", "shifted_copy_kernel"]
            + ["-s", signature, "-w", "4", "-t", "cuda:90", "-g", "(n + 1023) / 1024, 1, 1", "-on", "shifted"]
            + ["-o", str(directory / out)],
            check=True,
            cwd=REPO,
        )
    headers = [str(directory / f"{out}.h") for out in VARIANTS]
    subprocess.run([*python, "ttlink", "link", *headers, "-o", str(directory / "ttlink_lib")], check=True, cwd=REPO)
    triton = Path(importlib.util.find_spec("triton").origin).parent
    subprocess.run(
        [sys.executable, str(triton / "tools" / "link.py"), *headers, "-o", str(directory / "upstream_lib")], check=True
    )
    shutil.copy(triton / "backends" / "nvidia" / "include" / "cuda.h", directory)
    for file in ("ttlink_runtime.c", "ttlink_runtime.h"):
        shutil.copy(REPO / "ttlink" / "runtime" / file, directory)
    shutil.copy(HERE / "shifted_check.c", directory)


def run(directory: Path) -> int:
    variants = [str(directory / f"{out}.c") for out in VARIANTS]
    status = 0
    for lib in ("ttlink_lib", "upstream_lib"):
        binary = directory / lib.replace("_lib", "_check")
        sources = [
            str(directory / "shifted_check.c"),
            str(directory / f"{lib}.c"),
            *variants,
            str(directory / "ttlink_runtime.c"),
        ]
        subprocess.run(
            ["gcc", "-O2", f"-I{directory}", *sources, "-o", str(binary), "-l:libcuda.so.1", "-ldl", "-lpthread"],
            check=True,
        )
        result = subprocess.run([str(binary)], capture_output=True, text=True)
        print(f"{lib}: exit {result.returncode}\n{result.stdout}{result.stderr}", end="")
        if lib == "ttlink_lib":
            status = result.returncode
    return status


if __name__ == "__main__":
    command, directory = sys.argv[1], Path(sys.argv[2])
    sys.exit(prepare(directory) if command == "prepare" else run(directory))
