"""What the runtime suites share to build C against the stand-in libcuda: the compiler call,
the sanitizer variants every harness is built in, and the CUresult codes the tests expect."""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).parent
SANITIZE = {
    "asan": ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
    "tsan": ["-fsanitize=thread"],
}
CUDA_ERROR_INVALID_VALUE = 1
CUDA_ERROR_OUT_OF_MEMORY = 2
CUDA_ERROR_NO_DEVICE = 100
CUDA_ERROR_INVALID_IMAGE = 200
CUDA_ERROR_INVALID_CONTEXT = 201
CUDA_ERROR_NO_BINARY_FOR_GPU = 209
CUDA_ERROR_SHARED_OBJECT_INIT_FAILED = 303
CUDA_ERROR_INVALID_HANDLE = 400
CUDA_ERROR_NOT_FOUND = 500
CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701
CUDA_ERROR_NOT_SUPPORTED = 801


def cc(args: list[str]) -> None:
    """Runs the host C compiler; fails the test with its errors."""
    result = subprocess.run(["cc", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
