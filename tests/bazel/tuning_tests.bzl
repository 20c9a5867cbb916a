"""Analysis tests of `triton_link_library(tuning = [RECORD])`: each record is written as JSON
for TritonLink (`--tuning`), and what is not a record fails naming `tuning`."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//examples:matmul_record.bzl", MATMUL_RECORD = "RECORD")
load("//rules:defs.bzl", "triton_link_library")
load(":common.bzl", "actions_of", "assert_hermetic", "failure_tests")

_TUNING_JSON = "tests/bazel/_triton/matmul_tuned.tuning/examples/matmul_record.json"

def _tuning_argv_test_impl(ctx):
    env = analysistest.begin(ctx)
    links = actions_of(env, "TritonLink")
    asserts.equals(env, 1, len(links))
    tuning = [arg for arg in links[0].argv if arg.startswith("--tuning=")]
    asserts.equals(env, 1, len(tuning), "one --tuning per record")
    asserts.true(env, tuning[0].endswith("/" + _TUNING_JSON), tuning[0])
    path = tuning[0][len("--tuning="):]
    asserts.true(env, path in [f.path for f in links[0].inputs.to_list()], "the tuning file is an input of TritonLink")
    writes = [a for a in actions_of(env, "FileWrite") if [o for o in a.outputs.to_list() if o.path == path]]
    asserts.equals(env, 1, len(writes))
    expected = {key: value for key, value in MATMUL_RECORD.items() if key != "source"}
    asserts.equals(env, expected, json.decode(writes[0].content), "the record as loaded, without its source")
    assert_hermetic(env, links)
    return analysistest.end(env)

tuning_argv_test = analysistest.make(_tuning_argv_test_impl)

# name -> (attributes overriding the valid tuned library, expected message text)
_BAD_TUNING = {
    "tuning_not_a_record": ({"tuning": [{"kernels": []}]}, "tuning[0] is not a record: load the RECORD"),
    "tuning_twice": ({"tuning": [MATMUL_RECORD, MATMUL_RECORD]}, "tuning[1] (examples/matmul_record.bzl) is given twice"),
}

def tuning_test_suite(name):
    """Declares tuned libraries (manual: analysed only) and their tests.

    Args:
      name: the test_suite of all tuning tests.
    """
    triton_link_library(
        name = "matmul_tuned",
        kernels = ["//examples:matmul_kernel"],
        tuning = [MATMUL_RECORD],
        tags = ["manual"],
    )
    tuning_argv_test(name = "tuning_argv_test", target_under_test = ":matmul_tuned")
    tests = [":tuning_argv_test"]
    tests += failure_tests(triton_link_library, {"kernels": ["//examples:matmul_kernel"]}, _BAD_TUNING, attribute = "tuning")
    native.test_suite(name = name, tests = tests)
