"""Kernels the Bazel tests point triton_kernel at: the analysis tests never run them; the
prefix test (prefix_test.c) builds add_kernel and sub_kernel, tensordesc_test.c builds
tile_copy_kernel, and they launch them against the recording stand-in libcuda."""

import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) + tl.load(y_ptr + offsets, mask=mask), mask=mask)


@triton.jit
def sub_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) - tl.load(y_ptr + offsets, mask=mask), mask=mask)


# `scale` is also the name of the linked API of the kernel targets that compile it.
@triton.jit
def scale_kernel(x_ptr, out_ptr, n, stride, scale, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(out_ptr + offsets * stride, tl.load(x_ptr + offsets * stride, mask=mask) * scale, mask=mask)


# Host tensor descriptor arguments (TMA, cuda:90 and newer): copies one BLOCK_M x BLOCK_N tile
# per program.
@triton.jit
def tile_copy_kernel(in_desc, out_desc, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    m = tl.program_id(0) * BLOCK_M
    n = tl.program_id(1) * BLOCK_N
    out_desc.store([m, n], in_desc.load([m, n]))
