#!/usr/bin/env bash
# Dispatcher overhead of a generated entry point, on the CPU against the stand-in libcuda.
# Needs .device/aot_check from prepare.sh. Usage: bench/gpu/aot_check/dispatch_overhead.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
out=$repo/.device/aot_check
include=${TTLINK_CUDA_INCLUDE:-$(python3 -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("triton").origin).parent / "backends/nvidia/include")')}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
symbol=$(grep -oP '^CUresult \K\w+' "$out/add.h")
cc -O2 -shared -fPIC -I"$include" "$repo/tests/runtime/standin_libcuda.c" -o "$work/standin.so"
cc -O2 -I"$include" -I"$repo/ttlink/runtime" -include "$out/add.h" -DADD="$symbol" \
  "$repo/bench/gpu/aot_check/dispatch_overhead.c" "$out/add.c" "$repo/ttlink/runtime/ttlink_runtime.c" \
  -o "$work/dispatch_overhead" -ldl -lpthread
TTLINK_LIBCUDA_PATH=$work/standin.so "$work/dispatch_overhead"
