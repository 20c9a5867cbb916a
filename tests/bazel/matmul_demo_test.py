"""matmul_demo on a machine without a GPU: says so, lists every compiled algo, exits 0.

The CUDA driver is pointed at a path that does not exist, so the test means the same on a
machine with a GPU. Usage: matmul_demo_test.py PATH_TO_MATMUL_DEMO
"""

import os
import subprocess
import sys
import unittest

# examples/BUILD.bazel: BLOCK_SIZE_M x N x K x GROUP_SIZE_M _warps x stages, ascending.
EXPECTED_ALGOS = [
    "64x128x32x8_warps4xstages4",
    "128x128x32x8_warps4xstages4",
    "128x256x64x8_warps8xstages3",
]


class MatmulDemoWithoutGpu(unittest.TestCase):
    def test_reports_no_gpu_and_lists_algos(self) -> None:
        env = dict(os.environ, TTLINK_LIBCUDA_PATH="/nonexistent/libcuda.so.1")
        result = subprocess.run([DEMO], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertTrue(lines[0].startswith("matmul_demo: no usable GPU: cannot load the CUDA driver"), lines[0])
        self.assertIn(f"{len(EXPECTED_ALGOS)} compiled matmul algos", lines[1])
        self.assertEqual([line.split() for line in lines[2:]], [[str(i), a] for i, a in enumerate(EXPECTED_ALGOS)])


if __name__ == "__main__":
    DEMO = sys.argv.pop(1)
    unittest.main()
