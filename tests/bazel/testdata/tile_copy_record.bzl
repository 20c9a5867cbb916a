# Written by hand in the form `ttlink record` writes (recording tensor descriptors needs a GPU).
"""The Triton JIT's specialisations, for `triton_kernel(records = [RECORD])` (load RECORD from here)."""

RECORD = dict(
    json.decode(r"""
{
  "format": 1,
  "kernels": [
    {
      "file": "tests/bazel/testdata/kernels.py",
      "kernel": "tile_copy_kernel",
      "params": ["in_desc", "out_desc", "M", "N", "BLOCK_M", "BLOCK_N"],
      "specializations": [
        {
          "args": {
            "M": {"hint": 16, "type": "i32"},
            "N": {"hint": 16, "type": "i32"},
            "in_desc": {"hint": null, "type": "tensordesc<fp16[64, 32]>"},
            "out_desc": {"hint": null, "type": "tensordesc<fp16[64, 32]>"}
          },
          "constexprs": {"BLOCK_M": 64, "BLOCK_N": 32},
          "num_stages": 3,
          "num_warps": 4,
          "target": "cuda:90"
        },
        {
          "args": {
            "M": {"hint": null, "type": "i32"},
            "N": {"hint": 16, "type": "i32"},
            "in_desc": {"hint": null, "type": "tensordesc<fp16[128, 64]>"},
            "out_desc": {"hint": null, "type": "tensordesc<fp16[128, 64]>"}
          },
          "constexprs": {"BLOCK_M": 128, "BLOCK_N": 64},
          "num_stages": 3,
          "num_warps": 8,
          "target": "cuda:90"
        },
        {
          "args": {
            "M": {"hint": null, "type": "i32"},
            "N": {"hint": 16, "type": "i32"},
            "in_desc": {"hint": null, "type": "tensordesc<fp16[128, 64]>"},
            "out_desc": {"hint": null, "type": "tensordesc<fp16[128, 64]>"}
          },
          "constexprs": {"BLOCK_M": 128, "BLOCK_N": 64},
          "num_ctas": 2,
          "num_stages": 3,
          "num_warps": 8,
          "target": "cuda:90"
        }
      ]
    }
  ]
}
"""),
    source = "tests/bazel/testdata/tile_copy_record.bzl",
)
