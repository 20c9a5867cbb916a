"""The configs of the tensor-descriptor examples, which bench/gpu/tma.py's tune step chose on the
H200: examples/BUILD.bazel compiles them and bench/gpu/tma_kernels.py reads them (plain literals,
so Python reads this file too)."""

# examples/tma_matmul.py: 128x256x64 for large squares (4096, 8192), 128x128x64 for odd and
# mid-sized products, 64x128x64 for skinny ones (small M).
TMA_MATMUL_CONFIGS = [
    {
        "BLOCK_M": 128,
        "BLOCK_N": 256,
        "BLOCK_K": 64,
        "GROUP_M": 16,
        "num_warps": 8,
        "num_stages": 3,
    },
    {
        "BLOCK_M": 128,
        "BLOCK_N": 128,
        "BLOCK_K": 64,
        "GROUP_M": 8,
        "num_warps": 4,
        "num_stages": 4,
    },
    {
        "BLOCK_M": 64,
        "BLOCK_N": 128,
        "BLOCK_K": 64,
        "GROUP_M": 8,
        "num_warps": 4,
        "num_stages": 4,
    },
]

# examples/attention.py, one per head dim; each is compiled causal and not (CAUSAL 1 and 0).
ATTENTION_CONFIGS = [
    {
        "HEAD_DIM": 64,
        "BLOCK_M": 128,
        "BLOCK_N": 128,
        "num_warps": 4,
        "num_stages": 3,
    },
    {
        "HEAD_DIM": 128,
        "BLOCK_M": 128,
        "BLOCK_N": 128,
        "num_warps": 8,
        "num_stages": 3,
    },
]
