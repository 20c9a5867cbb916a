"""Which binary the driver runs: each TARGET_BUILDS variant (vector add compiled for targets
that do not include this GPU's, with and without PTX) called once on a poisoned output.
Where CUDA's compatibility rule says the binaries can run, the call must return
CUDA_SUCCESS and write x + y exactly; where not, it must return
CUDA_ERROR_NO_BINARY_FOR_GPU and write nothing."""

from __future__ import annotations

import ctypes
from pathlib import Path

import build
import torch
from correctness import check, problems
from kernels import TARGET_BUILDS
from libs import LinkedLibrary, variant_meta

SIZE = (1 << 20) + 16  # 1025 blocks of 1024, the last partial; a multiple of 16, so the hints hold
CUDA_ERROR_NO_BINARY_FOR_GPU = 209


def result_name(result: int) -> str:
    name = ctypes.c_char_p()
    if ctypes.CDLL("libcuda.so.1").cuGetErrorName(result, ctypes.byref(name)) != 0 or not name.value:
        return str(result)
    return name.value.decode()


def run(source_dir: Path, build_dir: Path, stream: int) -> dict:
    """SOURCE_DIR: prepare.py's `targets/` folder of one toolchain's sources."""
    major, minor = torch.cuda.get_device_capability()
    build_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for target in TARGET_BUILDS:
        kernel, spec = target.compiled, target.kernel.specialisations[0]
        stem = kernel.variant_stem(0, spec)
        path = build.build_with_runtime([source_dir / f"{stem}.c"], build_dir / f"lib{stem}.so")
        symbol = variant_meta(source_dir / f"{stem}.h").symbol
        library = LinkedLibrary(kernel.out_name, path, kernel, kernel.out_name, {(0, spec.name): symbol}, [])
        problem = next(p for p in problems(target.kernel, SIZE) if spec.holds(p.values))
        result = library.variant(0, spec, stream, problem.values)
        passed, error, detail = check(problem, result)
        written = problem.output[: problem.count]
        untouched = bool(torch.isnan(problem.output).all())
        exact = passed and bool(torch.equal(written, problem.reference.to(written.dtype)))
        expected = target.runs_on(major, minor)
        if expected:
            ok = exact
            output = "exact" if exact else detail or f"relative error {error:.3g}, not exact"
        else:
            ok = result == CUDA_ERROR_NO_BINARY_FOR_GPU and untouched
            output = "untouched" if untouched else "written"
        rows.append(
            {
                "build": kernel.out_name,
                "targets": list(target.targets),
                "embed_ptx": target.embed_ptx,
                "expected": "runs" if expected else "CUDA_ERROR_NO_BINARY_FOR_GPU",
                "result": result_name(result),
                "output": output,
                "ok": ok,
            }
        )
    return {"gpu": f"sm_{major}{minor}", "size": SIZE, "rows": rows}
