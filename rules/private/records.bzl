"""Pure expansion of `triton_kernel(records = [...])`: a kernel's recorded specialisations as
configs and hint sets (docs/RECORD.md, docs/RULES.md).

A record is the `RECORD` that `ttlink record -o NAME.bzl` writes: the JSON record, decoded,
plus `source`, the path of its file. Every function fails
with `//pkg:name: attribute 'records': message` naming the record and the kernel; nothing
here touches `ctx`.
"""

load(":specializations.bzl", "FLOAT_TYPES", "INT_TYPES", "attr_fail", "is_hintable", "split_tensordesc")

_RECORD_FORMAT = 1

# The JIT types a Python value by what it is, not by what the kernel declares (an int that
# fits in 32 bits is i32, a bool u1), so a recorded type matches any declared type of its family.
_TYPE_FAMILIES = [INT_TYPES, FLOAT_TYPES, ["i1", "u1"]]

def _record_name(index, record):
    source = record.get("source") if type(record) == "dict" else None
    return "records[%d] (%s)" % (index, source) if source else "records[%d]" % index

def _same_type_family(recorded, declared):
    if recorded.startswith("*") or declared.startswith("*"):
        return recorded == declared
    for family in _TYPE_FAMILIES:
        if recorded in family:
            return declared in family
    return recorded == declared

def _kernel_group(label, where, record, src_path, kernel):
    """The record's entry for the kernel `src_path:kernel`; fails if there is none."""
    if type(record) != "dict" or record.get("format") != _RECORD_FORMAT or type(record.get("kernels")) != "list":
        attr_fail(label, "records", "%s is not a record of format %d: load the RECORD of a .bzl file that `ttlink record -o NAME.bzl` wrote" % (where, _RECORD_FORMAT))
    recorded = []
    for group in record["kernels"]:
        if group.get("file") == src_path and group.get("kernel") == kernel:
            return group
        recorded.append("'%s:%s'" % (group.get("file"), group.get("kernel")))
    attr_fail(label, "records", "%s has no kernel '%s:%s' (%s); kernel files are recorded relative to the repository root (`ttlink record --root`)" % (
        where,
        src_path,
        kernel,
        "it records " + ", ".join(recorded) if recorded else "it records no kernel",
    ))
    return None

def _check_params(label, where, params, recorded_params):
    declared = [param.name for param in params]
    for name in recorded_params:
        if name not in declared:
            attr_fail(label, "records", "%s records parameter '%s', which `signature` lacks: the kernel changed since it was recorded; record it afresh" % (where, name))
    for name in declared:
        if name not in recorded_params:
            attr_fail(label, "records", "%s lacks parameter '%s' of `signature`: the kernel changed since it was recorded; record it afresh" % (where, name))
    if declared != recorded_params:
        attr_fail(label, "records", "%s records the parameters in the order (%s), `signature` in (%s)" % (where, ", ".join(recorded_params), ", ".join(declared)))

def _tensordesc_values(label, where, param, recorded, values):
    """Adds the `{KEY}` block dimensions of a recorded tensor descriptor type to `values`.

    A key that `values` holds already (a constexpr of the kernel) must agree.
    """
    declared = "%s: argument '%s' is recorded as %s, which `signature` declares %s" % (where, param.name, recorded, param.template)
    parts = split_tensordesc(recorded)
    if parts == None or parts[0] != param.dtype or len(parts[1]) != len(param.block) or not all([dim.isdigit() for dim in parts[1]]):
        attr_fail(label, "records", declared)
    for block_dim, dim in zip(param.block, parts[1]):
        if not block_dim.startswith("{"):
            if dim != block_dim:
                attr_fail(label, "records", declared)
            continue
        key = block_dim[1:-1]
        if values.setdefault(key, int(dim)) != int(dim):
            attr_fail(label, "records", "%s, so {%s} is %s there, but %r elsewhere in the specialisation" % (declared, key, dim, values[key]))

def _variant(label, where, params, entry):
    """One recorded specialisation as struct(values, launch, hints).

    A record gives `num_ctas` where it is not 1; the JIT's specialisations it holds launch
    without launch flags.
    """
    values = {}
    hints = {}
    for param in params:
        if param.kind != "constexpr" and param.name not in entry["args"]:
            attr_fail(label, "records", "%s: '%s' is a constexpr there, an argument in `signature`" % (where, param.name))
        if param.kind == "arg":
            arg = entry["args"][param.name]
            if not _same_type_family(arg["type"], param.type):
                attr_fail(label, "records", "%s: argument '%s' is recorded as %s, which `signature` declares %s" % (where, param.name, arg["type"], param.type))
            if is_hintable(param):
                hints[param.name] = arg["hint"]
            continue
        if param.kind == "tensordesc":
            continue
        if param.name not in entry["constexprs"]:
            attr_fail(label, "records", "%s: '%s' is an argument there, a constexpr in `signature`" % (where, param.name))
        value = entry["constexprs"][param.name]
        template = param.template
        if template.startswith("{"):
            key = template[1:-1]
            if "{" in key:
                attr_fail(label, "records", "%s: constexpr '%s' is '%s' in `signature`; with records it is a literal or one {KEY}" % (where, param.name, template))
            if type(value) not in ("int", "float"):
                attr_fail(label, "records", "%s: constexpr '%s' is recorded as %r; config values are numbers" % (where, param.name, value))
            values[key] = value
        elif type(value) not in ("int", "float") or str(value) != template:
            attr_fail(label, "records", "%s: constexpr '%s' is recorded as %r, which `signature` fixes to %s" % (where, param.name, value, template))

    # After the constexprs: a block dimension `{KEY}` is usually a constexpr of the kernel too.
    for param in params:
        if param.kind == "tensordesc":
            _tensordesc_values(label, where, param, entry["args"][param.name]["type"], values)
    launch = {
        "num_warps": entry["num_warps"],
        "num_stages": entry["num_stages"],
        "num_ctas": entry.get("num_ctas", 1),
        "launch_pdl": False,
        "launch_cooperative_grid": False,
    }
    return struct(values = values, launch = launch, hints = hints)

def recorded_variants(label, src_path, kernel, params, records):
    """Every recorded specialisation of one kernel, the target left out.

    Args:
      label: the target, for error messages.
      src_path: the kernel's source file relative to its repository root, as records name it.
      kernel: the kernel's function name.
      params: from parse_signature.
      records: the decoded `records` attribute, a list of RECORDs.

    Returns:
      the distinct struct(values = {config key: value}, launch = {launch option: value},
      hints = {argument: 16 | 1 | None}), in record order.
    """
    variants = []
    for index, record in enumerate(records):
        where = _record_name(index, record)
        group = _kernel_group(label, where, record, src_path, kernel)
        where = "%s, kernel '%s:%s'" % (where, src_path, kernel)
        _check_params(label, where, params, group["params"])
        for entry_index, entry in enumerate(group["specializations"]):
            variant = _variant(label, "%s: specializations[%d]" % (where, entry_index), params, entry)
            if variant not in variants:
                variants.append(variant)
    return variants

def recorded_configs(variants):
    """The `configs` a BUILD file that gives none gets: each recorded config once, in record order.

    Args:
      variants: from recorded_variants.

    Returns:
      list of dicts {config key: value, launch option: value}.
    """
    configs = []
    for variant in variants:
        config = dict(variant.values, **variant.launch)
        if config not in configs:
            configs.append(config)
    return configs

def recorded_hint_sets(label, configs, variants):
    """The recorded hint sets of each config: those of the variants compiled with its values.

    Args:
      label: the target, for error messages.
      configs: from expand_configs.
      variants: from recorded_variants.

    Returns:
      one list of hint sets per config, in the order of `configs`. Fails when records were
      given and no recorded variant has the values of any config.
    """
    by_config = []
    used = 0
    for config in configs:
        hint_sets = []
        for variant in variants:
            same = variant.launch == config.launch
            for key, value in variant.values.items():
                same = same and config.values.get(key) == value
            if same and variant.hints not in hint_sets:
                hint_sets.append(variant.hints)
                used += 1
        by_config.append(hint_sets)
    if variants and not used:
        attr_fail(label, "records", "none of the %d recorded specialisations was compiled with the values of a config in `configs`; leave `configs` out to take the recorded ones" % len(variants))
    return by_config
