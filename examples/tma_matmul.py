"""Persistent fp16 matrix multiplication C = A @ B (fp32 accumulation, fp16 result) that moves
its tiles with the Tensor Memory Accelerator (TMA): A, B and C arrive as host tensor
descriptors, so the kernel needs a GPU of compute capability 9.0 or newer (cuda:90, cuda:100).

Launch exactly `num_sms` programs (one per multiprocessor): each walks the output tiles
`pid, pid + num_sms, ...`, so the whole product runs in one wave and a program's next tile
starts loading while the current one finishes. Tiles are visited GROUP_M block rows at a time
so that programs running together share blocks of A and B in L2. Partial tiles at the edges
need no masks: the descriptors zero-fill out-of-bounds reads and drop out-of-bounds writes,
with one hardware exception: a TMA store writes whole 16-byte chunks, so where a row of C is
not a multiple of 8 halves long, the rest of its last chunk is written too: inside the row
stride (a multiple of 16 bytes), but after the last row past C's end unless its allocation
has room (docs/PERFORMANCE.md).

How to build it (what examples/BUILD.bazel and bench/gpu/tma_kernels.py compile):

  kernel:    matmul_tma_kernel
  arguments: a_desc    tensordesc<fp16[{BLOCK_M}, {BLOCK_K}]>  A, M x K, last stride 1
             b_desc    tensordesc<fp16[{BLOCK_K}, {BLOCK_N}]>  B, K x N, last stride 1
             c_desc    tensordesc<fp16[{BLOCK_M}, {BLOCK_N}]>  C, M x N, last stride 1
             M, N, K   i32   (hints: "M:16, N:16, K:16" for sizes that are multiples of 16,
                              plus an unhinted variant for any size)
             num_sms   i32   the number of programs launched
  grid:      "num_sms, 1, 1"
  configs:   TMA_MATMUL_CONFIGS of examples/tma_configs.bzl (BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M,
             num_warps, num_stages): 128x256x64 for large squares, smaller tiles for odd
             and skinny products
  out_name:  tma_matmul
  targets:   cuda:90 (and cuda:100 with a Triton that supports it)

From C, each descriptor argument `x_desc` is passed as its base pointer, shape and strides in
elements (outermost first) and a padding mode: `x_desc_base, x_desc_shape0, x_desc_shape1,
x_desc_stride0, x_desc_stride1, x_desc_padding` (docs/COMPILE.md).
"""

import triton
import triton.language as tl


@triton.jit
def matmul_tma_kernel(
    a_desc,
    b_desc,
    c_desc,
    M,
    N,
    K,
    num_sms,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,
):
    tiles_m = tl.cdiv(M, BLOCK_M)
    tiles_n = tl.cdiv(N, BLOCK_N)
    k_steps = tl.cdiv(K, BLOCK_K)
    tiles_per_group = GROUP_M * tiles_n

    # flatten: one software pipeline over every (tile, k) step of this program, so the loads
    # of the next tile overlap the last steps and the store of the current one
    for tile in tl.range(tl.program_id(0), tiles_m * tiles_n, num_sms, flatten=True):
        group = tile // tiles_per_group
        first_m = group * GROUP_M
        group_rows = min(tiles_m - first_m, GROUP_M)
        offset_m = (first_m + (tile % tiles_per_group) % group_rows) * BLOCK_M
        offset_n = ((tile % tiles_per_group) // group_rows) * BLOCK_N

        accumulator = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for step in range(k_steps):
            offset_k = step * BLOCK_K
            a = a_desc.load([offset_m, offset_k])
            b = b_desc.load([offset_k, offset_n])
            accumulator = tl.dot(a, b, accumulator)
        c_desc.store([offset_m, offset_n], accumulator.to(tl.float16))
