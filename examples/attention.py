"""FlashAttention forward, O = softmax(Q K^T * sm_scale) V per head, in fp16 with fp32
softmax statistics and accumulation, for GPUs of compute capability 9.0 or newer (host tensor
descriptors: cuda:90, cuda:100).

Each program computes BLOCK_M query rows of one head. It walks the key/value sequence
BLOCK_N rows at a time with an online softmax: the running row maximum `m` and row sum `l`
rescale the accumulator whenever a later block raises the maximum, so the N_CTX x N_CTX score
matrix never leaves the multiprocessor. With CAUSAL, query row i attends to keys 0..i only:
the blocks left of the diagonal run unmasked, the one or two blocks on it masked, the ones to
its right are skipped.

Q, K, V and O are [Z * H, N_CTX, HEAD_DIM] views of the usual [Z, H, N_CTX, HEAD_DIM] tensors
(each head's rows contiguous, last stride 1). Giving the head its own descriptor dimension keeps
any N_CTX correct: a block that runs past a head's last row reads zeros and writes nothing,
instead of reaching into the next head.

How to build it (what examples/BUILD.bazel and bench/gpu/tma_kernels.py compile):

  kernel:    attention_fwd_kernel
  arguments: q_desc    tensordesc<fp16[1, {BLOCK_M}, {HEAD_DIM}]>
             k_desc    tensordesc<fp16[1, {BLOCK_N}, {HEAD_DIM}]>
             v_desc    tensordesc<fp16[1, {BLOCK_N}, {HEAD_DIM}]>
             o_desc    tensordesc<fp16[1, {BLOCK_M}, {HEAD_DIM}]>
             sm_scale     fp32  usually 1 / sqrt(HEAD_DIM)
             N_CTX        i32   sequence length (hints: "N_CTX:16" for multiples of 16, plus an
                                unhinted variant for any length)
             batch_heads  i32   Z * H: the grid's y size (a grid names integer arguments only)
  constexpr: HEAD_DIM (64 or 128), BLOCK_M, BLOCK_N (BLOCK_M a multiple of BLOCK_N), CAUSAL (0 or 1)
  grid:      "(N_CTX + {BLOCK_M} - 1) / {BLOCK_M}", "batch_heads", "1"
  configs:   ATTENTION_CONFIGS of examples/tma_configs.bzl (one per HEAD_DIM), each with CAUSAL
             0 and 1
  out_name:  attention (the C caller picks the algo of its HEAD_DIM and CAUSAL by name,
             `attention_get_algo_name`: "HEAD_DIMxBLOCK_MxBLOCK_NxCAUSAL_warpsWxstagesS")
  targets:   cuda:90 (and cuda:100 with a Triton that supports it)
"""

import triton
import triton.language as tl


@triton.jit
def _attend(
    accumulator,
    row_sum,
    row_max,
    q,
    k_desc,
    v_desc,
    head,
    first_key,
    end_key,
    rows,
    qk_scale,
    N_CTX,
    BLOCK_N: tl.constexpr,
    HEAD_DIM: tl.constexpr,
    MASKED: tl.constexpr,
    CAUSAL: tl.constexpr,
):
    """Folds key/value blocks FIRST_KEY, FIRST_KEY + BLOCK_N, ... < END_KEY into the running
    softmax. MASKED: some keys of these blocks lie past N_CTX or (CAUSAL) after their row."""
    for start in tl.range(first_key, end_key, BLOCK_N):
        k = k_desc.load([head, start, 0]).reshape(BLOCK_N, HEAD_DIM)
        scores = tl.dot(q, k.T)
        if MASKED:
            keys = start + tl.arange(0, BLOCK_N)
            allowed = keys[None, :] < N_CTX
            if CAUSAL:
                allowed = allowed & (keys[None, :] <= rows[:, None])
            scores = tl.where(allowed, scores, float("-inf"))
        # base-2 exponentials: qk_scale includes log2(e)
        new_max = tl.maximum(row_max, tl.max(scores, 1) * qk_scale)
        p = tl.math.exp2(scores * qk_scale - new_max[:, None])
        correction = tl.math.exp2(row_max - new_max)
        row_sum = row_sum * correction + tl.sum(p, 1)
        v = v_desc.load([head, start, 0]).reshape(BLOCK_N, HEAD_DIM)
        accumulator = tl.dot(p.to(tl.float16), v, accumulator * correction[:, None])
        row_max = new_max
    return accumulator, row_sum, row_max


@triton.jit
def attention_fwd_kernel(
    q_desc,
    k_desc,
    v_desc,
    o_desc,
    sm_scale,
    N_CTX,
    batch_heads,
    HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    CAUSAL: tl.constexpr,
):
    tl.static_assert(BLOCK_M % BLOCK_N == 0)
    first_row = tl.program_id(0) * BLOCK_M
    head = tl.program_id(1)
    rows = first_row + tl.arange(0, BLOCK_M)
    qk_scale = sm_scale * 1.4426950408889634  # log2(e)

    q = q_desc.load([head, first_row, 0]).reshape(BLOCK_M, HEAD_DIM)
    accumulator = tl.zeros((BLOCK_M, HEAD_DIM), dtype=tl.float32)
    row_sum = tl.zeros((BLOCK_M,), dtype=tl.float32)
    row_max = tl.full((BLOCK_M,), float("-inf"), dtype=tl.float32)

    # Blocks that need no mask: every key before this block's first row (CAUSAL), or every
    # whole block of keys; then the blocks on the diagonal or the partial last block, masked.
    if CAUSAL:
        unmasked_end = first_row
        masked_end = tl.minimum(first_row + BLOCK_M, N_CTX)
    else:
        unmasked_end = (N_CTX // BLOCK_N) * BLOCK_N
        masked_end = N_CTX
    accumulator, row_sum, row_max = _attend(
        accumulator, row_sum, row_max, q, k_desc, v_desc, head, 0, unmasked_end, rows, qk_scale, N_CTX,
        BLOCK_N, HEAD_DIM, False, CAUSAL,
    )  # fmt: skip
    accumulator, row_sum, row_max = _attend(
        accumulator, row_sum, row_max, q, k_desc, v_desc, head, unmasked_end, masked_end, rows, qk_scale, N_CTX,
        BLOCK_N, HEAD_DIM, True, CAUSAL,
    )  # fmt: skip

    out = (accumulator / row_sum[:, None]).to(tl.float16)
    o_desc.store([head, first_row, 0], out.reshape(1, BLOCK_M, HEAD_DIM))
