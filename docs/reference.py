"""The reference part of docs/RULES.md, rendered from starlark_doc_extract's ModuleInfo textprotos.

    reference.py check RULES.md MODULE.textproto...    exit 1 (with a diff) if RULES.md is stale
    reference.py update RULES.md MODULE.textproto...   rewrite RULES.md's generated part

The generated part lies between the BEGIN and END markers below; the rest of RULES.md is
written by hand. `tools/bazel test //docs:reference_test` checks it, `tools/bazel run
//docs:update_reference` rewrites it.
"""

import difflib
import os
import re
import sys
from pathlib import Path

BEGIN = "<!-- BEGIN REFERENCE: generated from the docstrings by //docs:update_reference; do not edit -->"
END = "<!-- END REFERENCE -->"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<punct>[{}:])
      | (?P<number>-?[0-9][0-9.]*)
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}


def _unquote(literal: str) -> str:
    """A text-format string literal: C escapes, non-ASCII as octal UTF-8 bytes."""
    out, body, i = bytearray(), literal[1:-1], 0
    while i < len(body):
        if body[i] != "\\":
            out += body[i].encode()
            i += 1
        elif body[i + 1] in "01234567":
            digits = re.match(r"[0-7]{1,3}", body[i + 1 :]).group()
            out.append(int(digits, 8))
            i += 1 + len(digits)
        else:
            out += _ESCAPES[body[i + 1]]
            i += 2
    return out.decode()


def parse_textproto(text: str) -> dict:
    """Protobuf text format as nested dicts: field -> list of values (str, or dict for messages)."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        tokens.append((kind, _unquote(match.group(kind)) if kind == "string" else match.group(kind)))
    position = 0

    def message(until):
        nonlocal position
        fields = {}
        while position < len(tokens) and tokens[position][1] != until:
            name = tokens[position][1]
            position += 1
            if tokens[position][1] == ":":
                position += 1
            if tokens[position][1] == "{":
                position += 1
                value = message("}")
                position += 1
            else:
                value = tokens[position][1]
                position += 1
            fields.setdefault(name, []).append(value)
        return fields

    return message(None)


def _one(fields: dict, name: str, default: str = "") -> str:
    return fields.get(name, [default])[0]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|") or " "


def _default(fields: dict) -> str:
    if _one(fields, "mandatory") == "true":
        return "required"
    value = _one(fields, "default_value")
    return f"`{value}`" if value else " "


def _attributes(rows: list[dict], heading: str) -> list[str]:
    rows = [row for row in rows if _one(row, "name") != "name"]
    if not rows:
        return []
    lines = ["", f"| {heading} | default | |", "| --- | --- | --- |"]
    for row in rows:
        lines.append(f"| `{_one(row, 'name')}` | {_cell(_default(row))} | {_cell(_one(row, 'doc_string'))} |")
    return lines


def _section(title: str, kind: str, doc: str) -> list[str]:
    return ["", f"#### `{title}` ({kind})", "", doc.strip()] if doc.strip() else ["", f"#### `{title}` ({kind})"]


def render(modules: list[dict]) -> str:
    """Markdown for the given ModuleInfo messages, in their order; each module's symbols as declared."""
    lines = ["## Reference", "", "Generated from the docstrings (`//docs:update_reference`)."]
    for module in modules:
        lines += ["", f"### `{_one(module, 'file').replace('//', '@rules_triton//', 1)}`"]
        for rule in module.get("rule_info", []):
            lines += _section(_one(rule, "rule_name"), "rule", _one(rule, "doc_string"))
            lines += _attributes(rule.get("attribute", []), "attribute")
        for function in module.get("func_info", []):
            lines += _section(_one(function, "function_name"), "macro", _one(function, "doc_string"))
            lines += _attributes(function.get("parameter", []), "argument")
        for provider in module.get("provider_info", []):
            lines += _section(_one(provider, "provider_name"), "provider", _one(provider, "doc_string"))
            fields = provider.get("field_info", [])
            if fields:
                lines += ["", "| field | |", "| --- | --- |"]
                lines += [f"| `{_one(f, 'name')}` | {_cell(_one(f, 'doc_string'))} |" for f in fields]
        for extension in module.get("module_extension_info", []):
            lines += _section(_one(extension, "extension_name"), "module extension", _one(extension, "doc_string"))
            for tag in extension.get("tag_class", []):
                lines += ["", f"Tag `{_one(tag, 'tag_name')}`: {_cell(_one(tag, 'doc_string'))}"]
                lines += _attributes(tag.get("attribute", []), "attribute")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] not in ("check", "update"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    mode, rules_md, protos = argv[0], Path(argv[1]), argv[2:]
    if mode == "update":  # under `bazel run`, RULES.md is the checkout's
        rules_md = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY", ".")) / rules_md
    reference = render([parse_textproto(Path(p).read_text()) for p in protos])
    text = rules_md.read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        print(f"{rules_md}: needs one {BEGIN!r} line and one {END!r} line after it", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN + "\n", 1)
    current, tail = rest.split(END, 1)
    if mode == "update":
        rules_md.write_text(head + BEGIN + "\n" + reference + END + tail)
        print(f"{rules_md}: reference rewritten")
        return 0
    if current == reference:
        return 0
    diff = difflib.unified_diff(current.splitlines(True), reference.splitlines(True), "RULES.md", "docstrings")
    sys.stderr.writelines(diff)
    print(f"\n{rules_md}: the reference no longer matches the docstrings; run tools/bazel run //docs:update_reference",
          file=sys.stderr)  # fmt: skip
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
