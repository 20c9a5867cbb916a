"""requires_cuda() of the rules_cuda stand-in."""

def requires_cuda():
    """Constraints for target_compatible_with: CUDA rules enabled and a CUDA toolkit found.

    Returns:
      A select() of constraint values that no platform has unless both conditions hold.
    """
    return select({
        "@rules_cuda//cuda:is_enabled": [],
        "//conditions:default": ["@rules_cuda//cuda:rules_are_enabled"],
    }) + select({
        "@rules_cuda//cuda:is_valid_toolchain_found": [],
        "//conditions:default": ["@rules_cuda//cuda:valid_toolchain_is_configured"],
    })
