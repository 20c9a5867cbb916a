"""Helpers shared by the analysis tests: find actions, check hermetic command lines, declare
one failure test per bad target."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

KERNELS = "tests/bazel/testdata/kernels.py"

# add_kernel and sub_kernel of testdata/kernels.py (the same parameters).
ADD_SIGNATURE = {
    "x_ptr": "*fp32",
    "y_ptr": "*fp32",
    "out_ptr": "*fp32",
    "n": "i32",
    "BLOCK": "{BLOCK}",
}

# scale_kernel of testdata/kernels.py.
SCALE_SIGNATURE = {
    "x_ptr": "*fp32",
    "out_ptr": "*fp32",
    "n": "i32",
    "stride": "i32",
    "scale": "fp32",
    "BLOCK": "{BLOCK}",
}

# One program per BLOCK elements: the grid of add_kernel, sub_kernel and scale_kernel.
BLOCKS_GRID = [
    "(n + BLOCK - 1) / BLOCK",
    "1",
    "1",
]

# tile_copy_kernel of testdata/kernels.py (built by //tests/bazel:tile_copy_tma, analysed by
# tensordesc_tests.bzl and, recorded, by record_tests.bzl): the block shape comes from each config.
TILE_COPY_SIGNATURE = {
    "in_desc": "tensordesc<fp16[{BLOCK_M}, {BLOCK_N}]>",
    "out_desc": "tensordesc<fp16[{BLOCK_M}, {BLOCK_N}]>",
    "M": "i32",
    "N": "i32",
    "BLOCK_M": "{BLOCK_M}",
    "BLOCK_N": "{BLOCK_N}",
}

TILE_COPY_GRID = [
    "(M + BLOCK_M - 1) / BLOCK_M",
    "(N + BLOCK_N - 1) / BLOCK_N",
    "1",
]

def actions_of(env, mnemonic):
    """Returns the actions of the target under test with `mnemonic`."""
    return [action for action in analysistest.target_actions(env) if action.mnemonic == mnemonic]

def action_writing(env, actions, suffix):
    """Returns the one action among `actions` with an output path ending in `suffix`."""
    found = [a for a in actions if [o for o in a.outputs.to_list() if o.path.endswith(suffix)]]
    asserts.equals(env, 1, len(found), "actions writing *%s" % suffix)
    return found[0] if found else None

def output_ending(action, suffix):
    """Returns the output of `action` whose path ends in `suffix`."""
    return [o for o in action.outputs.to_list() if o.path.endswith(suffix)][0]

def assert_hermetic(env, actions):
    """Asserts no absolute paths on the command line, a fixed hash seed, no bytecode writes.

    Args:
      env: the analysistest env.
      actions: the actions to check.
    """
    for action in actions:
        for arg in action.argv:
            asserts.false(env, arg.startswith("/"), "absolute path in %s argv: %s" % (action.mnemonic, arg))
        asserts.equals(env, "0", action.env.get("PYTHONHASHSEED"), action.mnemonic + " PYTHONHASHSEED")
        asserts.equals(env, "1", action.env.get("PYTHONDONTWRITEBYTECODE"), action.mnemonic + " PYTHONDONTWRITEBYTECODE")

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

# Passes when the target under test fails analysis with `message` in the error.
failure_test = analysistest.make(
    _failure_test_impl,
    expect_failure = True,
    attrs = {"message": attr.string(mandatory = True, doc = "Expected in the failure message.")},
)

def failure_tests(rule, valid, bad, attribute = None):
    """Declares one broken target per entry of `bad` and a failure_test of each.

    The targets are manual (analysed only); each failure_test expects
    `//tests/bazel:NAME: attribute 'ATTRIBUTE': TEXT` from its target's analysis.

    Args:
      rule: the rule of the targets, e.g. triton_kernel.
      valid: the attributes of a valid target, which each entry overrides.
      bad: name -> (overriding attributes, attribute at fault, expected message text); where
        `attribute` is given, name -> (overriding attributes, expected message text).
      attribute: the attribute at fault in every entry of `bad`, if they share one.

    Returns:
      The labels of the failure tests.
    """
    tests = []
    for target, entry in bad.items():
        overrides, at_fault, text = (entry[0], attribute, entry[1]) if attribute else entry
        rule(name = target, **dict(valid, tags = ["manual"], **overrides))
        failure_test(
            name = target + "_test",
            message = "//tests/bazel:%s: attribute '%s': %s" % (target, at_fault, text),
            target_under_test = ":" + target,
        )
        tests.append(":%s_test" % target)
    return tests
