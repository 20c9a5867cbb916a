"""The `toolchain` module extension of the rules_cuda stand-in."""

load(":private/toolkit.bzl", "cuda_toolkit")

_toolkit = tag_class(
    doc = "A CUDA toolkit repository (only its headers, in this stand-in).",
    attrs = {
        "name": attr.string(mandatory = True, doc = "Name of the repository, e.g. `cuda`."),
        "toolkit_path": attr.string(
            doc = "CUDA toolkit root. Empty: CUDA_PATH, nvcc on PATH, /usr/local/cuda, " +
                  "else none (no :cuda_headers, as in rules_cuda).",
        ),
    },
)

def _toolchain_impl(module_ctx):
    # Like rules_cuda: the root module's toolkits if it declares any, else rules_cuda's own.
    root_toolkits = [tag for mod in module_ctx.modules if mod.is_root for tag in mod.tags.toolkit]
    own_toolkits = [tag for mod in module_ctx.modules if mod.name == "rules_cuda" for tag in mod.tags.toolkit]
    toolkit_paths = {}
    for tag in root_toolkits or own_toolkits:
        if toolkit_paths.get(tag.name, tag.toolkit_path) != tag.toolkit_path:
            fail("cuda.toolkit: conflicting toolkit_path for {}: {} and {}".format(
                tag.name,
                toolkit_paths[tag.name],
                tag.toolkit_path,
            ))
        toolkit_paths[tag.name] = tag.toolkit_path
    for name, toolkit_path in toolkit_paths.items():
        cuda_toolkit(name = name, toolkit_path = toolkit_path)

toolchain = module_extension(
    implementation = _toolchain_impl,
    tag_classes = {"toolkit": _toolkit},
)
