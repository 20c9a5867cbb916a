"""Pure expansion of `triton_kernel` attributes into variants: signature, configs, hints, targets.

Every function here validates as it goes and fails with
`//pkg:name: attribute 'ATTR': message`, so the user sees which attribute of which target
is wrong. Nothing here touches `ctx`; the kernel rule passes in decoded values.
"""

INT_TYPES = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"]
FLOAT_TYPES = ["fp16", "bf16", "fp32", "fp64"]
SCALAR_TYPES = INT_TYPES + FLOAT_TYPES + ["i1"]
POINTEE_TYPES = SCALAR_TYPES + ["fp8e4nv", "fp8e4b8", "fp8e4b15", "fp8e5", "fp8e5b16"]

# Targets used when neither `targets` nor `@rules_cuda//cuda:archs` says otherwise.
DEFAULT_TARGETS = ["cuda:80", "cuda:90"]

HINT_DIVISIBLE = 16
HINT_ONE = 1
_HINTS = [HINT_DIVISIBLE, HINT_ONE, None]
_DIGITS = "0123456789"
_UPPERCASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_IDENTIFIER_START = "abcdefghijklmnopqrstuvwxyz" + _UPPERCASE + "_"
_IDENTIFIER_CHARS = _IDENTIFIER_START + _DIGITS

# A program is num_warps x 32 threads, and a CUDA block holds at most 1024.
_MAX_NUM_WARPS = 32

# A thread block cluster holds at most 16 CTAs (16 needs the non-portable cluster size).
_MAX_NUM_CTAS = 16

# TMA tensor maps have 1 to 5 dimensions, from cuda:90 (Hopper) on.
_MAX_TENSORDESC_RANK = 5
_TMA_ARCH = 90
_TENSORDESC = "tensordesc<"
_TENSORDESC_FORM = "write tensordesc<DTYPE[B0, B1, ...]>, e.g. tensordesc<fp16[64, {BLOCK_K}]>"

def display_label(label):
    """`//pkg:name` for the main repository, `@repo//pkg:name` otherwise."""
    repo = "@" + label.workspace_name if label.workspace_name else ""
    return "%s//%s:%s" % (repo, label.package, label.name)

def attr_fail(label, attribute, message):
    fail("%s: attribute '%s': %s" % (display_label(label), attribute, message))

def is_identifier(text):
    """Tells whether `text` is a C identifier (kernel.bzl checks API names with it too).

    Args:
      text: the name to check.

    Returns:
      True for ASCII letters, digits and `_`, not starting with a digit.
    """
    if not text or text[0] not in _IDENTIFIER_START:
        return False
    for char in text.elems():
        if char not in _IDENTIFIER_CHARS:
            return False
    return True

def c_identifier(label, attribute, text, role):
    """Fails unless `text` is a C identifier.

    Args:
      label: the target, for error messages.
      attribute: the attribute `text` comes from.
      text: the name.
      role: what the name does, completing "it ...", e.g. "names the linked API".

    Returns:
      text.
    """
    if not is_identifier(text):
        attr_fail(label, attribute, "'%s' must be a C identifier: it %s" % (text, role))
    return text

def symbol_name(label, attribute, text, role):
    """Fails unless `text` is a C identifier that may start a symbol of the generated C.

    ttlink reserves the same names (`ttlink_*` for its runtime, `cu[A-Z]*` for the CUDA
    driver API) at action time; checking them here fails before any kernel compiles.

    Args:
      label: the target, for error messages.
      attribute: the attribute `text` comes from.
      text: the name.
      role: what the name does, completing "it ...", e.g. "names the linked API".

    Returns:
      text.
    """
    c_identifier(label, attribute, text, role)
    if text.startswith("ttlink_") or (text.startswith("cu") and len(text) > 2 and text[2] in _UPPERCASE):
        attr_fail(label, attribute, "'%s' is reserved: 'ttlink_*' names belong to the ttlink runtime, 'cu[A-Z]*' to the CUDA driver" % text)
    return text

def _is_int_literal(text):
    digits = text[1:] if text.startswith("-") else text
    if not digits:
        return False
    for char in digits.elems():
        if char not in _DIGITS:
            return False
    return True

def _is_float_literal(text):
    body = text[1:] if text.startswith("-") else text
    whole, dot, fraction = body.partition(".")
    if not dot or not (whole or fraction):
        return False
    for char in (whole + fraction).elems():
        if char not in _DIGITS:
            return False
    return True

def placeholders(label, attribute, text):
    """Returns the names NAME of every `{NAME}` in `text`, in order.

    Args:
      label: the target, for error messages.
      attribute: the attribute `text` comes from, for error messages.
      text: a signature entry or grid expression.

    Returns:
      list of str.
    """
    names = []
    rest = text
    for _ in range(len(text)):
        start = rest.find("{")
        if start < 0:
            if "}" in rest:
                attr_fail(label, attribute, "unmatched '}' in '%s'" % text)
            return names
        end = rest.find("}", start)
        name = rest[start + 1:end] if end > 0 else ""
        if end < 0 or not is_identifier(name):
            attr_fail(label, attribute, "malformed placeholder in '%s': write {NAME} with NAME a config key" % text)
        names.append(name)
        rest = rest[end + 1:]
    return names

def substitute(text, values):
    """Replaces every `{NAME}` in `text` by `values[NAME]` (all names must be present)."""
    for name, value in values.items():
        text = text.replace("{%s}" % name, format_value(value))
    return text

def format_value(value):
    """The text of a config value inside a signature or grid: `128`, `0.5`, `-1`."""
    return str(value)

def split_tensordesc(text):
    """Splits a tensor descriptor type `tensordesc<DTYPE[B0, B1, ...]>` into its parts.

    Args:
      text: a signature entry or recorded type.

    Returns:
      (DTYPE, [B0, B1, ...]) with the parts stripped but not checked, or None when `text` is
      not of that form.
    """
    if not text.startswith(_TENSORDESC) or not text.endswith("]>"):
        return None
    dtype, bracket, dims = text[len(_TENSORDESC):-len("]>")].partition("[")
    if not bracket or "[" in dims or "]" in dims:
        return None
    return dtype.strip(), [dim.strip() for dim in dims.split(",")]

def _parse_tensordesc(label, name, entry):
    """The param of a tensor descriptor entry, its block dimensions literals or one `{KEY}` each."""
    where = "parameter '%s': '%s'" % (name, entry)
    if entry.startswith("tensordesc_im2col<"):
        attr_fail(label, "signature", "%s: im2col tensor descriptors are not supported; use tensordesc<...>" % where)
    if ":" in entry:
        attr_fail(label, "signature", "%s carries a hint; tensor descriptors take none" % where)
    parts = split_tensordesc(entry)
    if parts == None:
        attr_fail(label, "signature", "%s is not a tensor descriptor type: %s" % (where, _TENSORDESC_FORM))
    dtype, dims = parts
    if dtype not in POINTEE_TYPES:
        attr_fail(label, "signature", "%s has unknown element type '%s' (expected e.g. fp16, bf16, fp32, i8)" % (where, dtype))
    if len(dims) > _MAX_TENSORDESC_RANK:
        attr_fail(label, "signature", "%s has %d block dimensions; TMA takes 1 to %d" % (where, len(dims), _MAX_TENSORDESC_RANK))
    block = []
    for dim in dims:
        if _is_int_literal(dim) and int(dim) > 0:
            block.append(str(int(dim)))
        elif dim.startswith("{") and placeholders(label, "signature", dim) == [dim[1:-1]]:
            block.append(dim)
        else:
            attr_fail(label, "signature", "parameter '%s': block dimension '%s' of '%s' must be a positive integer or one {KEY}" % (name, dim, entry))

    # Triton's spelling, ", " between the dimensions.
    return struct(name = name, kind = "tensordesc", type = None, template = "%s%s[%s]>" % (_TENSORDESC, dtype, ", ".join(block)), dtype = dtype, block = block)

def is_hintable(param):
    """Pointers and integer scalars take `:16` / `:1` hints; floats and `i1` do not."""
    return param.kind == "arg" and (param.type.startswith("*") or param.type in INT_TYPES)

def parse_signature(label, entries):
    """Parses the `signature` attribute.

    Args:
      label: the target, for error messages.
      entries: list of [name, entry] pairs, every Python parameter in order. An entry is a
        Triton type (`*fp16`, `i32`, `fp32`, ...: a runtime argument), a host tensor
        descriptor (`tensordesc<fp16[64, {BLOCK_K}]>`: block dimensions literal or from each
        config), a literal (`8`, `0.5`: a constexpr) or `{NAME}` (a constexpr taken from
        each config).

    Returns:
      list of struct(name, kind = "arg" | "tensordesc" | "constexpr", type, template):
      `type` is an argument's Triton type, `template` a constexpr's or tensor descriptor's
      text with its `{KEY}` placeholders (the descriptor's in Triton's spelling); a tensor
      descriptor also has `dtype` and `block` (its block dimensions: digits or `{KEY}`).
    """
    if not entries:
        attr_fail(label, "signature", "must name every parameter of the kernel, in order")
    params = []
    seen = {}
    for name, entry in entries:
        if not is_identifier(name):
            attr_fail(label, "signature", "'%s' is not a Python parameter name" % name)
        if name in seen:
            attr_fail(label, "signature", "parameter '%s' is listed twice" % name)
        seen[name] = True
        entry = entry.strip()
        if entry.startswith("tensordesc"):
            params.append(_parse_tensordesc(label, name, entry))
            continue
        if ":" in entry:
            attr_fail(label, "signature", "parameter '%s': '%s' carries a hint; hints come from `specializations`" % (name, entry))
        if entry.startswith("*") and entry[1:] in POINTEE_TYPES or entry in SCALAR_TYPES:
            params.append(struct(name = name, kind = "arg", type = entry, template = None))
        elif _is_int_literal(entry) or _is_float_literal(entry):
            params.append(struct(name = name, kind = "constexpr", type = None, template = entry))
        elif entry.startswith("{") and entry.endswith("}"):
            placeholders(label, "signature", entry)
            params.append(struct(name = name, kind = "constexpr", type = None, template = entry))
        else:
            attr_fail(label, "signature", "parameter '%s' has unknown type '%s' (expected e.g. *fp16, i32, fp32, tensordesc<fp16[64, 64]>, a literal or {CONFIG_KEY})" % (name, entry))
    return params

def _append_new(names, more):
    for name in more:
        if name not in names:
            names.append(name)

def _grid_names(entry):
    """The identifiers of a grid entry outside its `{KEY}` placeholders, in order."""
    names = []
    word = ""
    in_placeholder = False
    for char in (entry + " ").elems():
        if char in _IDENTIFIER_CHARS:
            word += char
            continue
        if word and not in_placeholder and word[0] not in _DIGITS:
            names.append(word)
        word = ""
        if char == "{":
            in_placeholder = True
        elif char == "}":
            in_placeholder = False
    return names

def _check_grid_names(label, params, entry):
    """Fails unless every name in `entry` is an integer argument or a constexpr (as ttlink requires)."""
    by_name = {p.name: p for p in params}
    for name in _grid_names(entry):
        param = by_name.get(name)
        if param == None:
            attr_fail(label, "grid", "entry '%s' names '%s', which is not a parameter of the kernel (a config value is written {KEY})" % (entry, name))
        if param.kind == "tensordesc":
            attr_fail(label, "grid", "entry '%s' names '%s', a tensor descriptor; a grid takes integer arguments and constexprs" % (entry, name))
        if param.kind == "arg" and param.type not in INT_TYPES + ["i1"]:
            attr_fail(label, "grid", "entry '%s' names '%s', which is not an integer argument" % (entry, name))

def _num_warps_problem(value):
    if type(value) != "int" or value < 1 or value > _MAX_NUM_WARPS or value & (value - 1):
        return "must be a power of two up to %d, got %r" % (_MAX_NUM_WARPS, value)
    return None

def _num_stages_problem(value):
    if type(value) != "int" or value < 1:
        return "must be a positive integer, got %r" % value
    return None

def _num_ctas_problem(value):
    if type(value) != "int" or value < 1 or value > _MAX_NUM_CTAS or value & (value - 1):
        return "must be a power of two from 1 to %d, got %r" % (_MAX_NUM_CTAS, value)
    return None

def _flag_problem(value):
    if type(value) != "bool":
        return "must be True or False, got %r" % value
    return None

# The launch options a config may set, each with its check, in `ttlink compile`'s order.
LAUNCH_OPTIONS = {
    "num_warps": _num_warps_problem,
    "num_stages": _num_stages_problem,
    "num_ctas": _num_ctas_problem,
    "launch_pdl": _flag_problem,
    "launch_cooperative_grid": _flag_problem,
}

def check_launch_defaults(label, defaults):
    """Fails unless every launch option default (a `triton_kernel` attribute) is valid.

    Args:
      label: the target, for error messages.
      defaults: dict {launch option: value}, every key of LAUNCH_OPTIONS.
    """
    for option, problem in LAUNCH_OPTIONS.items():
        message = problem(defaults[option])
        if message:
            attr_fail(label, option, message)

def _config_tag(values, used, launch):
    """`128x64_w8s3`, plus `cN` for num_ctas N > 1, `_pdl` and `_coop` for the launch flags."""
    options = "w%ds%d" % (launch["num_warps"], launch["num_stages"])
    if launch["num_ctas"] != 1:
        options += "c%d" % launch["num_ctas"]
    if launch["launch_pdl"]:
        options += "_pdl"
    if launch["launch_cooperative_grid"]:
        options += "_coop"
    constexprs = "x".join([format_value(values[name]) for name in used])
    tag = "%s_%s" % (constexprs, options) if constexprs else options
    return tag.replace("-", "m").replace(".", "p")

def _description(values, launch):
    """The config for progress messages: its values, then the launch options that are set."""
    options = ["num_warps=%d" % launch["num_warps"], "num_stages=%d" % launch["num_stages"]]
    if launch["num_ctas"] != 1:
        options.append("num_ctas=%d" % launch["num_ctas"])
    options += [flag for flag in ["launch_pdl", "launch_cooperative_grid"] if launch[flag]]
    return ", ".join(["%s=%s" % (k, format_value(v)) for k, v in values.items()] + options)

def _block_keys(params):
    """{KEY: tensor descriptor} for every config key a tensor descriptor's block shape uses."""
    keys = {}
    for param in params:
        if param.kind == "tensordesc":
            for dim in param.block:
                if dim.startswith("{"):
                    keys.setdefault(dim[1:-1], param.name)
    return keys

def expand_configs(label, params, grid, configs, launch_defaults):
    """Resolves every config: constexpr values, launch options, grid.

    Args:
      label: the target, for error messages.
      params: from parse_signature.
      grid: the three grid expressions, with `{KEY}` placeholders.
      configs: list of dicts {KEY: number}, optionally with launch options (LAUNCH_OPTIONS).
      launch_defaults: dict {launch option: value} for configs that do not set it, every
        key of LAUNCH_OPTIONS (checked by check_launch_defaults).

    Returns:
      list of struct(tag, values, launch, num_warps, num_stages, grid, description): `launch`
      holds every launch option; `tag` names the config in output paths and depends only on
      its values and launch options.
    """
    if len(grid) != 3:
        attr_fail(label, "grid", "needs exactly 3 entries (x, y, z), got %d" % len(grid))
    for entry in grid:
        if not entry.strip():
            attr_fail(label, "grid", "entries must not be empty")
        if "," in entry:
            attr_fail(label, "grid", "entry '%s' contains ','; give one C expression per entry" % entry)
        _check_grid_names(label, params, entry)
    if not configs:
        attr_fail(label, "configs", "must list at least one config (use [{}] for a kernel with no tunables)")

    # Keys the signature uses pick the binary; keys only the grid uses change only the launch.
    # The constexprs' keys first, in parameter order, then those only block shapes use.
    compiled = []
    for kind in ["constexpr", "tensordesc"]:
        for param in params:
            if param.kind == kind:
                _append_new(compiled, placeholders(label, "signature", param.template))
    used = list(compiled)
    for entry in grid:
        _append_new(used, placeholders(label, "grid", entry))
    block_keys = _block_keys(params)

    expanded = []
    tags = {}
    binaries = {}
    for index, config in enumerate(configs):
        where = "configs[%d]" % index
        if type(config) != "dict":
            attr_fail(label, "configs", "%s must be a dict, got %s" % (where, type(config)))
        for name in used:
            if name not in config:
                attr_fail(label, "configs", "%s has no value for placeholder {%s}" % (where, name))
        for key, value in config.items():
            if key in LAUNCH_OPTIONS:
                continue
            if key not in used:
                attr_fail(label, "configs", "%s: key '%s' is not used by `signature` or `grid`" % (where, key))
            if type(value) not in ("int", "float"):
                attr_fail(label, "configs", "%s: '%s' must be a number, got %r" % (where, key, value))
            if key in block_keys and (type(value) != "int" or value < 1):
                attr_fail(label, "configs", "%s: '%s' is a block dimension of tensor descriptor '%s' and must be a positive integer, got %r" % (where, key, block_keys[key], value))
        launch = {option: config.get(option, default) for option, default in launch_defaults.items()}
        for option, problem in LAUNCH_OPTIONS.items():
            message = problem(launch[option])
            if message:
                attr_fail(label, "configs", "%s: %s %s" % (where, option, message))
        values = {name: config[name] for name in used}
        tag = _config_tag(values, used, launch)
        if tag in tags:
            attr_fail(label, "configs", "%s repeats configs[%d]" % (where, tags[tag]))
        tags[tag] = index

        # The linker tells variants apart by their constexprs and launch options only.
        binary = tuple([values[name] for name in compiled] + [launch[option] for option in LAUNCH_OPTIONS])
        if binary in binaries:
            same = expanded[binaries[binary]]
            differing = ", ".join(["'%s'" % name for name in used if values[name] != same.values[name]])
            attr_fail(label, "configs", "%s differs from configs[%d] only in %s, which only `grid` uses: both compile to the same binary, and the linker cannot tell them apart" % (where, binaries[binary], differing))
        binaries[binary] = index
        expanded.append(struct(
            tag = tag,
            values = values,
            launch = launch,
            num_warps = launch["num_warps"],
            num_stages = launch["num_stages"],
            grid = [substitute(entry.strip(), values) for entry in grid],
            description = _description(values, launch),
        ))
    return expanded

def _all_divisible_and_generic(params):
    """What "auto16" stands for: every pointer and integer `:16`, then no hints at all."""
    divisible = {p.name: HINT_DIVISIBLE for p in params if is_hintable(p)}
    generic = {p.name: None for p in params if is_hintable(p)}
    return [divisible, generic]

def _stride_operand(name):
    """The operand a stride parameter belongs to, or None for a name that is no stride.

    `stride_am` -> "a" (one letter per dimension), `stride_a_row` -> "a" (the last `_` part
    is the dimension); a bare `stride` names no operand.
    """
    if not name.startswith("stride"):
        return None
    rest = name[len("stride"):].lstrip("_")
    if not rest:
        return None
    if "_" in rest:
        return rest.rpartition("_")[0]
    return rest[:-1]

def _strided_operands(params):
    """The strides of each operand with at least two, in parameter order.

    Returns:
      list of lists of parameter names, operands in the order of their first stride.
    """
    by_operand = {}
    for param in params:
        if param.kind == "arg" and param.type in INT_TYPES:
            operand = _stride_operand(param.name)
            if operand != None:
                by_operand.setdefault(operand, []).append(param.name)
    return [strides for strides in by_operand.values() if len(strides) > 1]

def _auto_hints(params):
    """What "auto" stands for: "auto16", and between its two variants two per common layout.

    A layout puts `1` on one stride of each strided operand: its last stride when it is
    contiguous (row-major), the one before when its last two dimensions are swapped
    (column-major, a transposed view). Every operand contiguous, and every choice of one or
    two operands transposed: 1 + G + G(G-1)/2 layouts for G strided operands, which covers
    the four layouts of a product's two inputs whatever the output's. Each layout is
    compiled as the JIT compiles it for sizes divisible by 16 (every other pointer and
    integer `:16`) and for odd sizes (only the pointers `:16`); the dispatcher tries the
    first before the second, having more hints.
    """
    divisible, generic = _all_divisible_and_generic(params)
    operands = _strided_operands(params)
    if not operands:
        return [divisible, generic]
    count = len(operands)
    layouts = [[]] + [[first] for first in range(count)]
    layouts += [[first, second] for first in range(count) for second in range(first + 1, count)]
    aligned = {p.name: HINT_DIVISIBLE if p.type.startswith("*") else None for p in params if is_hintable(p)}
    hint_sets = [divisible]
    for base in [divisible, aligned]:
        for transposed in layouts:
            hints = dict(base)
            for index, strides in enumerate(operands):
                hints[strides[-2] if index in transposed else strides[-1]] = HINT_ONE
            hint_sets.append(hints)
    return hint_sets + [generic]

def _explicit_hints(label, params, index, hint_set):
    where = "specializations[%d]" % index
    by_name = {p.name: p for p in params}
    for name, hint in hint_set.items():
        if name != "*" and name not in by_name:
            attr_fail(label, "specializations", "%s names '%s', which is not a parameter" % (where, name))
        if name != "*" and by_name[name].kind == "tensordesc":
            attr_fail(label, "specializations", "%s: '%s' is a tensor descriptor, which takes no hint (only pointers and integers do)" % (where, name))
        if name != "*" and not is_hintable(by_name[name]):
            attr_fail(label, "specializations", "%s: '%s' takes no hint (only pointers and integers do)" % (where, name))
        if hint not in _HINTS or type(hint) == "bool":
            attr_fail(label, "specializations", "%s: hint of '%s' must be 16, 1 or None, got %r" % (where, name, hint))
    hints = {}
    for param in params:
        if is_hintable(param):
            hint = hint_set.get(param.name, hint_set.get("*"))
            if hint == HINT_ONE and param.type.startswith("*"):
                if param.name in hint_set:
                    attr_fail(label, "specializations", "%s: pointer '%s' cannot be hinted 1" % (where, param.name))
                hint = HINT_DIVISIBLE
            hints[param.name] = hint
    return hints

def expand_specializations(label, params, specializations):
    """Expands the `specializations` attribute into hint sets.

    "auto16" stands for every pointer and integer `:16` followed by the generic variant with
    no hints; "auto" adds two variants per common operand layout between them (_auto_hints).
    In a dict, "*" gives the hint of every pointer and integer not named (pointers take 16
    where "*" says 1).

    Args:
      label: the target, for error messages.
      params: from parse_signature.
      specializations: "auto", "auto16" or a list of them and dicts {arg: 16 | 1 | None, "*": ...}.

    Returns:
      the distinct hint sets, dicts {argument name: 16 | 1 | None}, in the order given.
    """
    items = [specializations] if type(specializations) == "string" else specializations
    if type(items) != "list" or not items:
        attr_fail(label, "specializations", "must be \"auto\", \"auto16\" or a non-empty list of them and dicts")
    hint_sets = []
    for index, item in enumerate(items):
        if item == "auto":
            hint_sets.extend(_auto_hints(params))
        elif item == "auto16":
            hint_sets.extend(_all_divisible_and_generic(params))
        elif type(item) == "dict":
            hint_sets.append(_explicit_hints(label, params, index, item))
        else:
            attr_fail(label, "specializations", "specializations[%d] must be \"auto\", \"auto16\" or a dict, got %r" % (index, item))
    distinct = []
    for hints in hint_sets:
        if hints not in distinct:
            distinct.append(hints)
    return distinct

def variant_tag(params, hints):
    """Names a hint set like the symbol suffix does.

    Args:
      params: from parse_signature.
      hints: one hint set from expand_specializations.

    Returns:
      Python parameter index + `d` (:16) or `c` (:1) per hinted argument, or "generic".
    """
    suffix = ""
    for index, param in enumerate(params):
        hint = hints.get(param.name)
        if hint == HINT_DIVISIBLE:
            suffix += "%dd" % index
        elif hint == HINT_ONE:
            suffix += "%dc" % index
    return suffix or "generic"

def signature_arg(params, config, hints):
    """Writes the `-s` argument of `ttlink compile` for one config and hint set.

    Args:
      params: from parse_signature.
      config: one struct from expand_configs.
      hints: one hint set from expand_specializations.

    Returns:
      the SIG text, e.g. "*fp16:16, i32:1, tensordesc<fp16[64, 32]>, 128".
    """
    entries = []
    for param in params:
        if param.kind != "arg":
            entries.append(substitute(param.template, config.values))
        else:
            hint = hints.get(param.name)
            entries.append(param.type + (":%d" % hint if hint else ""))
    return ", ".join(entries)

def _target_arch(text):
    if not text.startswith("cuda:"):
        return None
    arch = text[len("cuda:"):]
    if not _is_int_literal(arch) or arch.startswith("-") or int(arch) < 50:
        return None
    return int(arch)

def parse_targets(label, targets):
    """Validates the `targets` attribute.

    Args:
      label: the target, for error messages.
      targets: list of `cuda:ARCH`.

    Returns:
      the targets, deduplicated and sorted by arch.
    """
    archs = {}
    for target in targets:
        arch = _target_arch(target)
        if arch == None:
            attr_fail(label, "targets", "malformed target '%s' (expected cuda:ARCH with ARCH >= 50, e.g. cuda:90)" % target)
        archs[arch] = True
    return ["cuda:%d" % arch for arch in sorted(archs.keys())]

def check_tensordesc_build(label, params, targets, origin, embed_ptx):
    """Fails if the kernel takes a tensor descriptor and is built for what TMA cannot serve.

    That is a target older than cuda:90, or embedded PTX: a binary's tensor maps are known
    only for the binaries compiled here, not for a GPU that JIT-compiles the PTX.

    Args:
      label: the target, for error messages.
      params: from parse_signature.
      targets: the `cuda:ARCH` targets, from parse_targets or the defaults.
      origin: appended to the targets' message: where they come from, or "".
      embed_ptx: the `embed_ptx` attribute.
    """
    descriptors = [param.name for param in params if param.kind == "tensordesc"]
    if not descriptors:
        return
    for target in targets:
        if _target_arch(target) < _TMA_ARCH:
            attr_fail(label, "targets", "%s cannot take tensor descriptor '%s': TMA needs cuda:%d or newer (before it, Triton passes a descriptor decomposed)%s" % (target, descriptors[0], _TMA_ARCH, origin))
    if embed_ptx:
        attr_fail(label, "embed_ptx", "the kernel takes tensor descriptor '%s', whose tensor maps are known for the compiled binaries only, not for a GPU that JIT-compiles the PTX" % descriptors[0])

def targets_from_cuda_archs(cuda_archs_info):
    """Reads the targets from `@rules_cuda//cuda:archs`.

    Args:
      cuda_archs_info: the flag's CudaArchsInfo.

    Returns:
      `cuda:ARCH` for every real or virtual arch, suffixes like 90a dropped; sorted, may be empty.
    """
    archs = {}
    for spec in cuda_archs_info.arch_specs:
        for stage2 in spec.stage2_archs:
            number = ""
            for char in stage2.arch.elems():
                if char not in _DIGITS:
                    break
                number += char
            if number:
                archs[int(number)] = True
    return ["cuda:%d" % arch for arch in sorted(archs.keys())]
