#!/usr/bin/env bash
# Proves that rules_triton's actions can be shared through a remote cache between checkouts:
# starts BuildGrid as a remote cache (CAS + action cache, in memory) on 127.0.0.1, builds the
# targets in two clones of this checkout's HEAD commit at different paths (so two output
# bases), and fails unless every process of the second build was a remote cache hit and
# running them all again in the second clone gives the first clone's bytes. docs/REMOTE.md
# says why, and what remote execution needs on top.
#   tools/remote_cache_check.sh [TARGET...]     (default: //examples:matmul)
# BuildGrid is installed with pip (so the machine's pip configuration applies) into a venv kept
# in the cache outside the repository, like tools/lint.sh's tools. The clones, their output bases
# and the server are removed on exit, also on failure.
set -euo pipefail

BUILDGRID_VERSION=0.4.4 # needs Python >= 3.11

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cache=${RULES_TRITON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rules_triton}
targets=("$@")
((${#targets[@]})) || targets=(//examples:matmul)

say() { printf 'remote_cache_check: %s\n' "$*" >&2; }
die() {
  printf 'remote_cache_check: error: %s\n' "$*" >&2
  exit 1
}

# BuildGrid in a venv of the host's python3, installed once (an interrupted install lacks the
# marker and is redone).
venv=$cache/buildgrid-$BUILDGRID_VERSION
if [[ ! -e $venv/installed ]]; then
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "BuildGrid $BUILDGRID_VERSION needs Python >= 3.11; python3 is $(python3 -V 2>&1)"
  say "installing BuildGrid $BUILDGRID_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "buildgrid==$BUILDGRID_VERSION" ||
    die "pip could not install buildgrid==$BUILDGRID_VERSION (see above)"
  : >"$venv/installed"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rules_triton_remote_cache.XXXXXX")
server_pid=
clones=()
cleanup() {
  local clone
  for clone in "${clones[@]}"; do
    # The clone's output base (fetched wheels, outputs) lives in the shared Bazel cache: drop it.
    [[ -x $clone/tools/bazel ]] && (cd "$clone" && tools/bazel clean --expunge >/dev/null 2>&1) || true
  done
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free port: the kernel picks one; BuildGrid binds it a moment later.
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
remote=grpc://127.0.0.1:$port
cat >"$work/buildgrid.yml" <<EOF
# Written by tools/remote_cache_check.sh: a remote cache only (no execution service), in memory.
server:
  - !channel
    address: "127.0.0.1:$port"
    insecure-mode: true
authorization:
  method: none
storages:
  - !lru-storage &cas
    size: 2G
caches:
  - !lru-action-cache &action-cache
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
    cache-failed-actions: false
instances:
  - name: ""
    services:
      - !action-cache
        cache: *action-cache
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
EOF
"$venv/bin/bgd" server start "$work/buildgrid.yml" >"$work/buildgrid.log" 2>&1 &
server_pid=$!
# Ready when it answers the REAPI GetCapabilities call with action cache updates enabled.
for ((waited = 0; ; waited++)); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/buildgrid.log" >&2
    die "BuildGrid exited before it served $remote (its log is above)"
  fi
  if "$venv/bin/bgd" capabilities --remote "http://127.0.0.1:$port" 2>/dev/null |
    grep -q '"updateEnabled": true'; then
    break
  fi
  if ((waited == 60)); then
    cat "$work/buildgrid.log" >&2
    die "BuildGrid did not serve $remote within 60 s (its log is above)"
  fi
  sleep 1
done
say "BuildGrid $BUILDGRID_VERSION serves a remote cache at $remote"

# Two clones of this commit at different paths (and so different output bases), like two
# developers' checkouts.
head=$(git -C "$repo" rev-parse HEAD)
for clone in "$work/first/rules_triton" "$work/second/other/path/rules_triton"; do
  git clone --quiet --no-checkout "$repo" "$clone"
  git -C "$clone" checkout --quiet --detach "$head"
  clones+=("$clone")
done

# Execution logs go inside the clone: the offline tools/bazel mounts only the workspace.
build() {
  local clone=$1 log=$2
  shift 2
  say "building ${targets[*]} in $clone $*"
  (cd "$clone" && tools/bazel build --execution_log_json_file="$clone/$log" "$@" "${targets[@]}")
}
build "${clones[0]}" first.json --remote_cache="$remote"
build "${clones[1]}" second.json --remote_cache="$remote"
# A cache hit never runs the action, so it cannot show that outputs depend on the checkout path:
# run every action again in the second clone, without the cache, and compare the bytes.
(cd "${clones[1]}" && tools/bazel clean)
build "${clones[1]}" rebuilt.json
python3 "$repo/tools/check_execution_logs.py" "${clones[0]}/first.json" "${clones[1]}/second.json" \
  "${clones[1]}/rebuilt.json"
