"""The example matmul's signature: examples/BUILD.bazel compiles it, the tests of "auto" expand it."""

MATMUL_SIGNATURE = {
    "a_ptr": "*fp16",
    "b_ptr": "*fp16",
    "c_ptr": "*fp16",
    "M": "i32",
    "N": "i32",
    "K": "i32",
    "stride_am": "i32",
    "stride_ak": "i32",
    "stride_bk": "i32",
    "stride_bn": "i32",
    "stride_cm": "i32",
    "stride_cn": "i32",
    "BLOCK_SIZE_M": "{BLOCK_SIZE_M}",
    "BLOCK_SIZE_N": "{BLOCK_SIZE_N}",
    "BLOCK_SIZE_K": "{BLOCK_SIZE_K}",
    "GROUP_SIZE_M": "8",
}
