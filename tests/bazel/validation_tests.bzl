"""Failure tests: every bad attribute fails analysis with a message naming the attribute and the target."""

load("//rules:defs.bzl", "triton_kernel", "triton_link_library")
load(":common.bzl", "ADD_SIGNATURE", "BLOCKS_GRID", "failure_tests")

# name -> (attributes overriding a valid triton_kernel, attribute, expected message text)
_BAD_KERNELS = {
    "bad_config_key": ({"configs": [{"BLOCK": 64, "BLOKC": 2}]}, "configs", "configs[0]: key 'BLOKC' is not used"),
    "bad_config_num_warps": (
        {"configs": [{"BLOCK": 64}, {"BLOCK": 128, "num_warps": 3}]},
        "configs",
        "configs[1]: num_warps must be a power of two up to 32, got 3",
    ),
    "bad_grid": ({"grid": ["n", "1"]}, "grid", "needs exactly 3 entries (x, y, z), got 2"),
    "bad_hint": ({"specializations": [{"x_ptr": 1}]}, "specializations", "specializations[0]: pointer 'x_ptr' cannot be hinted 1"),
    "bad_grid_name": (
        {"grid": ["(m + BLOCK - 1) / BLOCK", "1", "1"]},
        "grid",
        "entry '(m + BLOCK - 1) / BLOCK' names 'm', which is not a parameter of the kernel",
    ),
    "bad_grid_pointer": ({"grid": ["n / BLOCK", "x_ptr", "1"]}, "grid", "entry 'x_ptr' names 'x_ptr', which is not an integer argument"),
    "bad_kernel_name": ({"kernel": "add-kernel"}, "kernel", "'add-kernel' must be a C identifier: it names the kernel in the compiled binary"),
    "bad_num_warps": ({"num_warps": 64}, "num_warps", "must be a power of two up to 32, got 64"),
    "bad_out_name": ({"out_name": "add-v2"}, "out_name", "'add-v2' must be a C identifier: it names the linked API"),
    "driver_out_name": ({"out_name": "cuAdd"}, "out_name", "'cuAdd' is reserved: 'ttlink_*' names belong to the ttlink runtime, 'cu[A-Z]*' to the CUDA driver"),
    "bad_signature_type": ({"signature": dict(ADD_SIGNATURE, n = "int32")}, "signature", "parameter 'n' has unknown type 'int32'"),
    "bad_specialization_name": ({"specializations": ["auto", {"m": 16}]}, "specializations", "specializations[1] names 'm'"),
    "bad_target": ({"targets": ["cuda:90", "sm_80"]}, "targets", "malformed target 'sm_80'"),
    "empty_configs": ({"configs": []}, "configs", "must list at least one config"),
    "grid_only_difference": (
        {
            "configs": [{"BLOCK": 64, "CHUNK": 1024}, {"BLOCK": 128, "CHUNK": 1024}, {"BLOCK": 64, "CHUNK": 2048}],
            "grid": ["(n + {CHUNK} - 1) / {CHUNK}", "1", "1"],
        },
        "configs",
        "configs[2] differs from configs[0] only in 'CHUNK', which only `grid` uses: both compile to the same binary",
    ),
    "hint_in_signature": ({"signature": dict(ADD_SIGNATURE, x_ptr = "*fp32:16")}, "signature", "parameter 'x_ptr': '*fp32:16' carries a hint"),
    "missing_placeholder": ({"configs": [{"num_warps": 8}]}, "configs", "configs[0] has no value for placeholder {BLOCK}"),
}

# name -> (attributes overriding a valid triton_link_library, attribute, expected message text)
_BAD_LIBRARIES = {
    "bad_prefix": ({"prefix": "my-lib_"}, "prefix", "'my-lib_' must be a C identifier: it starts every linked symbol"),
    "clashing_names": ({"kernels": [":add", ":add_again"]}, "kernels", "two kernels share the API name 'add'"),
    "driver_prefix": ({"prefix": "cuAdd_"}, "prefix", "'cuAdd_' is reserved: 'ttlink_*' names belong to the ttlink runtime"),
    "runtime_prefix": ({"prefix": "ttlink_"}, "prefix", "'ttlink_' is reserved: 'ttlink_*' names belong to the ttlink runtime"),
}

def validation_test_suite(name):
    """Declares one broken target per check (manual: analysed only) and a failure test for each.

    Args:
      name: the test_suite of all failure tests.
    """
    valid_kernel = dict(
        src = "testdata/kernels.py",
        configs = [{"BLOCK": 64}],
        grid = BLOCKS_GRID,
        kernel = "add_kernel",
        signature = ADD_SIGNATURE,
        targets = ["cuda:90"],
    )
    tests = failure_tests(triton_kernel, valid_kernel, _BAD_KERNELS)

    # Two kernels with one API name cannot be linked together.
    triton_kernel(name = "add_again", out_name = "add", tags = ["manual"], **valid_kernel)
    tests += failure_tests(triton_link_library, {"kernels": [":add"]}, _BAD_LIBRARIES)
    native.test_suite(
        name = name,
        tests = tests,
    )
