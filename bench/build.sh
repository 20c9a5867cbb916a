#!/usr/bin/env bash
# Build benchmark of //examples:matmul (3 configs x 3 specialisations x 2 targets):
#   1. cold build (after `bazel clean`; the Triton wheel is fetched beforehand, untimed),
#   2. no-op rebuild,
#   3. rebuild after one config changed (the last config's num_stages 4 -> 3): the actions
#      that ran again, by mnemonic, from Bazel's execution log. Only that config's
#      TritonCompile / TritonAssemble actions, the TritonLink and the C compiles and links
#      that depend on them may run.
# It works on a copy of the checkout in a temporary directory, so the tree is never edited.
# Usage: bench/build.sh   (BAZEL=... to use another Bazel than tools/bazel)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bazel=${BAZEL:-$repo/tools/bazel}
target=//examples:matmul
work=$(mktemp -d "${TMPDIR:-/tmp}/rules_triton_bench.XXXXXX")
logs=$work/.bench

# The copy's output base (~1 GB: its own Triton wheel) goes with it.
cleanup() {
  (cd "$work" && "$bazel" clean --expunge >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf 'bench: %s\n' "$*" >&2; }

# Tracked and new (not ignored) files: what a fresh clone with local edits holds.
(cd "$repo" && git ls-files --cached --others --exclude-standard -z | tar --null -T - -cf -) | (cd "$work" && tar -xf -)
mkdir -p "$logs"
cd "$work"

say "fetching the toolchain (untimed)"
"$bazel" build --nobuild "$target" >/dev/null 2>&1
"$bazel" clean >/dev/null 2>&1

# build NAME: builds $target with an execution log; prints the wall time in seconds.
build() {
  local name=$1 start end
  start=$EPOCHREALTIME
  if ! "$bazel" build --execution_log_json_file="$logs/$name.json" "$target" >"$logs/$name.out" 2>&1; then
    cat "$logs/$name.out" >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  awk -v start="$start" -v end="$end" 'BEGIN { printf "%.1f", end - start }'
}

# ran NAME: the spawns that ran (not served from the action cache), counted by mnemonic.
ran() {
  python3 - "$logs/$1.json" <<'PY'
import collections, json, sys
text = open(sys.argv[1]).read()
decoder, pos, counts = json.JSONDecoder(), 0, collections.Counter()
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos == len(text):
        break
    spawn, pos = decoder.raw_decode(text, pos)
    counts[spawn.get("mnemonic", "?")] += 1
total = sum(counts.values())
print(f"{total} actions" + (": " + ", ".join(f"{n} {m}" for m, n in sorted(counts.items())) if total else ""))
PY
}

say "cold build of $target"
cold=$(build cold)
say "no-op rebuild"
noop=$(build noop)

say "changing the last config of examples/BUILD.bazel (num_stages 4 -> 3)"
python3 - examples/BUILD.bazel <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = '"num_stages": 4,'
at = text.rindex(old)
open(path, "w").write(text[:at] + '"num_stages": 3,' + text[at + len(old):])
PY
changed=$(build changed)

printf 'machine: %s, %s cores\n' "$(uname -m)" "$(nproc)"
printf 'cold build of %s:      %6.1f s (%s)\n' "$target" "$cold" "$(ran cold)"
printf 'no-op rebuild:                       %6.1f s (%s)\n' "$noop" "$(ran noop)"
printf 'rebuild after one config changed:    %6.1f s (%s)\n' "$changed" "$(ran changed)"
