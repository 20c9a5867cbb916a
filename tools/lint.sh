#!/usr/bin/env bash
# Lints the repository: ruff for Python, buildifier for Starlark.
# Installs both (pinned) into a cache outside the repository on first use, through pip and
# npm, so the machine's own registry configuration applies.
set -euo pipefail

RUFF_VERSION=0.17.6
BUILDIFIER_VERSION=8.2.1

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${RULES_TRITON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rules_triton}/lint
mkdir -p "$cache"

ruff=$cache/ruff-$RUFF_VERSION/bin/ruff
if [[ ! -x $ruff ]]; then
  echo "lint: installing ruff $RUFF_VERSION" >&2
  python3 -m venv "$cache/ruff-$RUFF_VERSION"
  "$cache/ruff-$RUFF_VERSION/bin/pip" install --quiet --disable-pip-version-check "ruff==$RUFF_VERSION"
fi

buildifier=$cache/buildifier-$BUILDIFIER_VERSION/node_modules/.bin/buildifier
if [[ ! -x $buildifier ]]; then
  echo "lint: installing buildifier $BUILDIFIER_VERSION" >&2
  npm install --silent --no-audit --no-fund --prefix "$cache/buildifier-$BUILDIFIER_VERSION" \
    "@bazel/buildifier@$BUILDIFIER_VERSION" >&2
fi

cd "$repo"
"$ruff" check .
"$ruff" format --check .
mapfile -t starlark < <(git ls-files '*.bzl' '*.bazel' 'MODULE.bazel' '**/BUILD' '*.star')
if ((${#starlark[@]})); then
  "$buildifier" -mode=check -lint=warn "${starlark[@]}"
fi
echo "lint: ruff and buildifier clean"
