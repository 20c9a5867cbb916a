"""The tensor-descriptor examples (examples/tma_matmul.py, examples/attention.py) on the GPU:
their configs, operands, launches through the Triton JIT, and the checks against torch that
every build of them (JIT or ahead of time) must pass. bench/gpu/tma.py runs them.

Shapes a TMA descriptor can take: base 16-byte aligned, last stride 1, the other strides
multiples of 16 bytes (8 fp16 elements). So the odd matmul sizes keep K and N (the row
lengths) multiples of 8 or use a padded row stride, while M, N and K stay off every block size.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from tma_kernels import AttentionConfig, MatmulConfig
from triton.tools.tensor_descriptor import TensorDescriptor

REPO = Path(__file__).resolve().parents[2]
MATMUL_SOURCE = REPO / "examples" / "tma_matmul.py"
ATTENTION_SOURCE = REPO / "examples" / "attention.py"
# ||out - ref|| / ||ref|| against float64 (matmul) or float32 (attention) references; fp16
# rounding of the output alone gives about 3e-4, of attention's P operand about 1e-3 more.
MATMUL_REL_ERROR_BOUND = 2e-3
ATTENTION_REL_ERROR_BOUND = 5e-3


def load_kernel(source: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"tma_{source.stem}", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def num_sms() -> int:
    return torch.cuda.get_device_properties(torch.cuda.current_device()).multi_processor_count


# ---- matmul ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatmulCase:
    """C = A @ B with A M x K, B K x N, each row-major with a row stride of `pad` elements
    past its row length (0: contiguous), C as wide as B."""

    name: str
    m: int
    n: int
    k: int
    pad: int = 0


MATMUL_CASES = (
    MatmulCase("square 4096", 4096, 4096, 4096),
    MatmulCase("odd 1001 x 1000 x 1000", 1001, 1000, 1000),
    MatmulCase("odd, rows padded: 999 x 1001 x 1003", 999, 1001, 1003, pad=13),
    MatmulCase("skinny 16 x 4096 x 4096", 16, 4096, 4096),
    MatmulCase("tiny 3 x 8 x 8", 3, 8, 8),
)


def padded(rows: int, cols: int, pad: int, random: bool) -> torch.Tensor:
    """A rows x cols fp16 view of a NaN-filled buffer whose row stride rounds cols + pad up to
    8 elements (16 bytes), with a guard row after the last; RANDOM: the view holds random
    values. A kernel that reads or writes outside the view meets or leaves NaN."""
    stride = -(-(cols + pad) // 8) * 8
    view = torch.full((rows + 1, stride), float("nan"), dtype=torch.float16, device="cuda")[:rows, :cols]
    if random:
        view.copy_(torch.randn(rows, cols, dtype=torch.float16, device="cuda"))
    return view


def whole_buffer(view: torch.Tensor) -> torch.Tensor:
    """Every element of the buffer VIEW lies in, flattened."""
    return torch.empty(0, dtype=view.dtype, device=view.device).set_(view.untyped_storage())


def guard_state(view: torch.Tensor) -> dict[str, bool]:
    """Whether VIEW's buffer (rows x cols from its first element, a guard row after) is still
    NaN outside it. A TMA store writes whole 16-byte chunks, so where a row's length in bytes is
    not a multiple of 16 the rest of its last chunk may be written too (reported, allowed);
    anything further is a write out of bounds."""
    rows, cols = view.shape
    chunk_end = -(-cols * view.element_size() // 16) * 16 // view.element_size()
    grid = whole_buffer(view).view(-1, view.stride(0))
    beyond = torch.ones_like(grid, dtype=torch.bool)
    beyond[:rows, :chunk_end] = False
    return {
        "guard_intact": bool(torch.isnan(grid[beyond]).all()),
        "tail_chunk_written": not bool(torch.isnan(grid[:rows, cols:chunk_end]).all()),
    }


def matmul_operands(case: MatmulCase, seed: int = 0):
    """a, b, c (NaN-filled, inside a NaN guard) and the float64 reference."""
    torch.manual_seed(seed)
    a, b = padded(case.m, case.k, case.pad, random=True), padded(case.k, case.n, case.pad, random=True)
    c = padded(case.m, case.n, case.pad, random=False)
    return a, b, c, a.double() @ b.double()


def matmul_descriptors(a, b, c, config: MatmulConfig) -> tuple[TensorDescriptor, ...]:
    return (
        TensorDescriptor(a, list(a.shape), list(a.stride()), [config.block_m, config.block_k]),
        TensorDescriptor(b, list(b.shape), list(b.stride()), [config.block_k, config.block_n]),
        TensorDescriptor(c, list(c.shape), list(c.stride()), [config.block_m, config.block_n]),
    )


def matmul_jit(kernel, config: MatmulConfig, a, b, c):
    """A launch of the JIT on these operands (descriptors made once, as a caller would)."""
    descriptors = matmul_descriptors(a, b, c, config)
    (m, k), n, sms = a.shape, b.shape[1], num_sms()
    options = {"num_warps": config.num_warps, "num_stages": config.num_stages, **config.constexprs}

    def launch() -> None:
        kernel[(sms,)](*descriptors, m, n, k, sms, **options)

    return launch


def relative_error(out: torch.Tensor, reference: torch.Tensor) -> float:
    difference = torch.linalg.vector_norm(out.double() - reference.double())
    return float(difference / torch.linalg.vector_norm(reference.double()))


def matmul_cublas(a, b, c):
    return lambda: torch.matmul(a, b, out=c)


def check_matmul(launch, case: MatmulCase, c, reference) -> dict:
    launch()
    torch.cuda.synchronize()
    error = relative_error(c, reference)
    guard = guard_state(c)
    return {
        "case": case.name,
        "rel_error": error,
        **guard,
        "correct": error <= MATMUL_REL_ERROR_BOUND and guard["guard_intact"],  # NaN fails the comparison
    }


# ---- attention -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionCase:
    name: str
    z: int
    h: int
    n_ctx: int


ATTENTION_CASES = (
    AttentionCase("Z 2, H 3, N_CTX 1000", 2, 3, 1000),
    AttentionCase("Z 1, H 2, N_CTX 77", 1, 2, 77),
    AttentionCase("Z 2, H 2, N_CTX 1024", 2, 2, 1024),
    AttentionCase("Z 1, H 1, N_CTX 1", 1, 1, 1),
)


def attention_operands(z: int, h: int, n_ctx: int, head_dim: int, seed: int = 0):
    """q, k, v as [Z, H, N_CTX, HEAD_DIM], and o NaN-filled inside a NaN guard head."""
    torch.manual_seed(seed)
    q, k, v = (torch.randn(z, h, n_ctx, head_dim, dtype=torch.float16, device="cuda") for _ in range(3))
    o = torch.full((z * h + 1, n_ctx, head_dim), float("nan"), dtype=torch.float16, device="cuda")
    return q, k, v, o[: z * h].view(z, h, n_ctx, head_dim)


def heads_view(x: torch.Tensor) -> torch.Tensor:
    """[Z, H, N, D] as the kernel's [Z * H, N, D]."""
    z, h, n, d = x.shape
    return x.view(z * h, n, d)


def attention_descriptors(q, k, v, o, config: AttentionConfig) -> tuple[TensorDescriptor, ...]:
    rows = {"q": config.block_m, "k": config.block_n, "v": config.block_n, "o": config.block_m}
    descriptors = []
    for name, x in zip("qkvo", (q, k, v, o), strict=True):
        view = heads_view(x)
        descriptors.append(
            TensorDescriptor(view, list(view.shape), list(view.stride()), [1, rows[name], config.head_dim])
        )
    return tuple(descriptors)


def attention_jit(kernel, config: AttentionConfig, causal: bool, q, k, v, o, sm_scale: float):
    descriptors = attention_descriptors(q, k, v, o, config)
    z, h, n_ctx, _ = q.shape
    grid = (-(-n_ctx // config.block_m), z * h, 1)
    options = {"num_warps": config.num_warps, "num_stages": config.num_stages, **config.constexprs(causal)}

    def launch() -> None:
        kernel[grid](*descriptors, sm_scale, n_ctx, z * h, **options)

    return launch


def attention_sdpa(q, k, v, causal: bool, sm_scale: float):
    return lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=sm_scale)


def attention_reference(q, k, v, causal: bool, sm_scale: float) -> torch.Tensor:
    """fp32 softmax(Q K^T * scale) V."""
    scores = (q.float() @ k.float().transpose(-1, -2)) * sm_scale
    if causal:
        n_ctx = q.shape[2]
        upper = torch.ones(n_ctx, n_ctx, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(upper, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v.float()


def check_attention(launch, name: str, o, reference) -> dict:
    """O is the first Z * H heads of a buffer whose last head is a NaN guard."""
    launch()
    torch.cuda.synchronize()
    error = relative_error(o, reference)
    intact = bool(torch.isnan(whole_buffer(o)[o.numel() :]).all())
    return {
        "case": name,
        "rel_error": error,
        "guard_intact": intact,
        "correct": error <= ATTENTION_REL_ERROR_BOUND and intact,
    }


def attention_flops(z: int, h: int, n_ctx: int, head_dim: int, causal: bool) -> float:
    """Two products of N_CTX x N_CTX x HEAD_DIM per head; half of them with CAUSAL."""
    flops = 4.0 * z * h * n_ctx * n_ctx * head_dim
    return flops / 2 if causal else flops


def default_scale(head_dim: int) -> float:
    return 1.0 / math.sqrt(head_dim)


# ---- ahead of time: the linked dispatchers through ctypes ----------------------------------


def descriptor_values(x: torch.Tensor) -> tuple:
    """A tensor descriptor argument as the C API takes it: base, shape, strides (elements,
    outermost first) and padding 0 (out-of-bounds reads give zero)."""
    return (x.data_ptr(), *x.shape, *x.stride(), 0)


def descriptor_ctypes(rank: int) -> list:
    return [ctypes.c_uint64] + [ctypes.c_int64] * (2 * rank) + [ctypes.c_int32]


class Dispatcher:
    """`NAME(stream, args..., algo_id)` of a library `ttlink link` wrote, and its algo names."""

    def __init__(self, path: Path, name: str, arg_types: list):
        self.name = name
        self._library = ctypes.CDLL(str(path))
        self._function = getattr(self._library, name)
        self._function.argtypes = [ctypes.c_void_p, *arg_types, ctypes.c_int]
        self._function.restype = ctypes.c_int
        get_name = getattr(self._library, f"{name}_get_algo_name")
        get_name.argtypes, get_name.restype = [ctypes.c_int], ctypes.c_char_p
        count = getattr(self._library, f"{name}_get_num_algos")()
        self.algos = [get_name(i).decode() for i in range(count)]

    def launcher(self, algo_name: str, values: tuple):
        """A launch of algo ALGO_NAME on the current stream; raises if it returns an error."""
        algo_id = self.algos.index(algo_name)
        stream = torch.cuda.current_stream().cuda_stream

        def launch() -> None:
            result = self._function(stream, *values, algo_id)
            if result != 0:
                raise RuntimeError(f"{self.name} algo {algo_name} returned CUresult {result}")

        return launch


def matmul_dispatcher(path: Path) -> Dispatcher:
    return Dispatcher(path, "tma_matmul", descriptor_ctypes(2) * 3 + [ctypes.c_int32] * 4)


def attention_dispatcher(path: Path) -> Dispatcher:
    return Dispatcher(path, "attention", descriptor_ctypes(3) * 4 + [ctypes.c_float, ctypes.c_int32, ctypes.c_int32])


def matmul_aot(dispatcher: Dispatcher, config: MatmulConfig, a, b, c):
    (m, k), n = a.shape, b.shape[1]
    values = (*descriptor_values(a), *descriptor_values(b), *descriptor_values(c), m, n, k, num_sms())
    return dispatcher.launcher(config.name, values)


def attention_aot(dispatcher: Dispatcher, config: AttentionConfig, causal: bool, q, k, v, o, sm_scale: float):
    z, h, n_ctx, _ = q.shape
    views = [descriptor_values(heads_view(x)) for x in (q, k, v, o)]
    values = (*[value for view in views for value in view], sm_scale, n_ctx, z * h)
    return dispatcher.launcher(config.name(causal), values)
