#!/usr/bin/env bash
# Compiles the kernels of the GPU check here, with no GPU, into .device/aot_check:
#   add       vector_add, cuda:80 + cuda:90
#   add_ptx   vector_add, cuda:80 + embedded PTX (the H100 must JIT it)
#   add_sm80  vector_add, cuda:80 only (the H100 must refuse it)
#   mm        tutorial matmul 128x256x64 w8 s3, cuda:80 + cuda:90, every hint
#   mm_any    the same config with pointer hints only (any shape and stride)
# Then run on the GPU machine: python3 bench/gpu/aot_check/run.py .device/aot_check
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
python=${PYTHON:-python3}
out=$repo/.device/aot_check
rm -rf "$out" && mkdir -p "$out"
ttlink() { PYTHONPATH=$repo "$python" -m ttlink "$@"; }

add=(compile "$repo/examples/vector_add.py" -n add_kernel -w 4 -s "*fp32:16, *fp32:16, *fp32:16, i32, 1024"
  -g "(n_elements + BLOCK_SIZE - 1) / BLOCK_SIZE, 1, 1")
ttlink "${add[@]}" --target cuda:80 --target cuda:90 -on add -o "$out/add"
ttlink "${add[@]}" --target cuda:80 --embed-ptx -on add_ptx -o "$out/add_ptx"
ttlink "${add[@]}" --target cuda:80 -on add_sm80 -o "$out/add_sm80"
ttlink "${add[@]:0:8}" --target cuda:90 --binary-out "$out/add_sm90.json"

mm_grid="((M + BLOCK_SIZE_M - 1) / BLOCK_SIZE_M) * ((N + BLOCK_SIZE_N - 1) / BLOCK_SIZE_N), 1, 1"
mm=(compile "$repo/examples/matmul.py" -n matmul_kernel -w 8 -ns 3 -g "$mm_grid" --target cuda:80 --target cuda:90)
ttlink "${mm[@]}" -on mm -o "$out/mm" \
  -s "*fp16:16, *fp16:16, *fp16:16, i32:16, i32:16, i32:16, i32:16, i32:1, i32:16, i32:1, i32:16, i32:1, 128, 256, 64, 8"
ttlink "${mm[@]}" -on mm_any -o "$out/mm_any" \
  -s "*fp16:16, *fp16:16, *fp16:16, i32, i32, i32, i32, i32, i32, i32, i32, i32, 128, 256, 64, 8"

cp "$repo/ttlink/runtime/ttlink_runtime.h" "$repo/ttlink/runtime/ttlink_runtime.c" "$out/"
ls -l "$out"
