"""The correctness matrix: every entry point of a linked library (default, dispatcher by
algo id, each algo, each variant forced) at every size and operand layout, on poisoned
outputs, against a float64 reference."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
from kernels import MATMUL, VECTOR_ADD, Kernel
from libs import LinkedLibrary

SIZES = (4096, 4001, 1, 17, 0)
GUARD = 256  # poisoned elements after each output: a write there is out of bounds
# ||out - ref|| / ||ref|| bounds per output dtype. fp16 rounding alone gives about 3e-4;
# an fp32 add is exact up to one rounding.
REL_ERROR_BOUND = {torch.float16: 2e-3, torch.float32: 1e-6}
CUDA_SUCCESS = 0


@dataclass(frozen=True)
class Problem:
    layout: str
    values: tuple  # C arguments, pointers as addresses
    output: torch.Tensor  # the result's elements followed by GUARD poisoned ones
    count: int  # elements the kernel must write
    reference: torch.Tensor  # float64, flattened


def _poisoned(count: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.full((count + GUARD,), float("nan"), dtype=dtype, device="cuda")


def problems(kernel: Kernel, size: int) -> Iterator[Problem]:
    """Fresh random inputs for each check; layouts chosen to reach every specialisation."""
    if kernel is MATMUL:
        for layout in ("contiguous", "b_transposed"):
            a = torch.randn(size, size, dtype=torch.float16, device="cuda")
            b = torch.randn(size, size, dtype=torch.float16, device="cuda")
            if layout == "b_transposed":  # stride_bn != 1: only the generic variant applies
                b = b.t()
            c = _poisoned(size * size, torch.float16)
            values = (a.data_ptr(), b.data_ptr(), c.data_ptr(), size, size, size, *a.stride(), *b.stride(), size, 1)
            reference = (a.double() @ b.double()).flatten()
            yield Problem(layout, values, c, size * size, reference)
    elif kernel is VECTOR_ADD:
        for layout in ("aligned", "offset_pointers"):
            skip = 1 if layout == "offset_pointers" else 0  # 4-byte offset: no pointer is 16-aligned
            x = torch.randn(size + skip, device="cuda")[skip:]
            y = torch.randn(size + skip, device="cuda")[skip:]
            out = _poisoned(size + skip, torch.float32)
            values = (x.data_ptr(), y.data_ptr(), out.data_ptr() + 4 * skip, size)
            yield Problem(layout, values, out[skip:], size, (x.double() + y.double()))
    else:
        raise ValueError(f"no problems defined for {kernel.out_name}")


def check(problem: Problem, result: int) -> tuple[bool, float, str]:
    """(passed, relative error, why not). Unwritten (NaN) or out-of-bounds elements fail."""
    torch.cuda.synchronize()
    if result != CUDA_SUCCESS:
        return False, float("nan"), f"returned CUresult {result}"
    written, guard = problem.output[: problem.count], problem.output[problem.count :]
    if not bool(torch.isnan(guard).all()):
        return False, float("nan"), "wrote past the end of the output"
    if bool(torch.isnan(written).any()):
        return False, float("nan"), f"{int(torch.isnan(written).sum())} elements left unwritten"
    if problem.count == 0:
        return True, 0.0, ""
    diff = torch.linalg.vector_norm(written.double() - problem.reference)
    norm = torch.linalg.vector_norm(problem.reference)
    error = float(diff / norm) if float(norm) > 0 else float(diff)
    bound = REL_ERROR_BOUND[problem.output.dtype]
    return error <= bound, error, "" if error <= bound else f"relative error {error:.3g} > {bound}"


@dataclass(frozen=True)
class Row:
    library: str
    kernel: str
    entry: str
    size: int
    layout: str
    status: str  # "pass", "FAIL" or "skip"
    rel_error: float
    detail: str


def run_matrix(library: LinkedLibrary, stream: int) -> list[Row]:
    kernel = library.kernel
    rows = []

    def record(entry: str, size: int, problem: Problem, result: int) -> None:
        ok, error, detail = check(problem, result)
        rows.append(
            Row(library.label, kernel.out_name, entry, size, problem.layout, "pass" if ok else "FAIL", error, detail)
        )

    entries = [("default", lambda v: library.default(stream, v))]
    for algo in library.algos:
        entries.append(
            (f"{library.name}(algo_id={algo.algo_id})", lambda v, a=algo: library.dispatch(stream, v, a.algo_id))
        )
        entries.append((algo.function, lambda v, a=algo: library.algo(a, stream, v)))
    for size in SIZES:
        for name, call in entries:
            for problem in problems(kernel, size):
                record(name, size, problem, call(problem.values))
        for index in range(len(kernel.configs)):
            for spec in (s for s in kernel.specialisations if (index, s.name) in library.variants):
                entry = f"variant {kernel.configs[index].name} {spec.name}"
                for problem in problems(kernel, size):
                    if not spec.holds(problem.values):
                        rows.append(
                            Row(
                                library.label,
                                kernel.out_name,
                                entry,
                                size,
                                problem.layout,
                                "skip",
                                0.0,
                                "hints do not hold",
                            )
                        )
                        continue
                    record(entry, size, problem, library.variant(index, spec, stream, problem.values))
    return rows


def as_dicts(rows: list[Row]) -> list[dict]:
    return [asdict(r) for r in rows]
