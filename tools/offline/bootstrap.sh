#!/usr/bin/env bash
# Builds the Debian-unstable root filesystem that the offline tools/bazel runs Bazel in.
# Usage: bootstrap.sh ROOTFS MIRROR
# This file is the bootstrap recipe: tools/bazel keys its cache by a hash of it, so any change
# here builds a fresh rootfs on the next run.
set -euo pipefail

rootfs=$1
mirror=$2

# bazel-bootstrap 7.7.1 (Bzlmod, offline module copies) needs glibc >= 2.38: only unstable has it.
# The rest is what the rules and their tests run: gcc (its sanitizer runtimes come with it),
# Python with pip (wheels are fetched with `pip download`), pytest and hypothesis, git.
packages=(
  bazel-bootstrap
  build-essential
  ca-certificates
  git
  python3
  python3-hypothesis
  python3-pip
  python3-pytest
  python3-venv
)

# The TLS proxy's CA certificates (host trust store) are imported so that pip and Bazel's
# downloader (Java's cacerts, rebuilt by update-ca-certificates) trust it too.
hooks=()
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
  hooks+=(--customize-hook='sync-in /usr/local/share/ca-certificates /usr/local/share/ca-certificates')
fi
# shellcheck disable=SC2016 # mmdebstrap expands $1 (the rootfs) in its hooks, not this shell.
hooks+=(--customize-hook='chroot "$1" update-ca-certificates --fresh >/dev/null 2>&1')

# The host's apt proxy settings apply to the download too (mmdebstrap ignores host apt.conf).
aptopts=('Acquire::Check-Valid-Until "false"')
for key in Acquire::http::Proxy Acquire::https::Proxy; do
  value=$(apt-config dump "$key" 2>/dev/null | sed -n "s/^$key \"\\(.*\\)\";$/\\1/p" | head -n 1)
  if [[ -n $value ]]; then
    aptopts+=("$key \"$value\"")
  fi
done

args=(--variant=apt)
for opt in "${aptopts[@]}"; do
  args+=(--aptopt="$opt")
done
packages_csv=$(IFS=,; echo "${packages[*]}")

# A private mount namespace: the mounts mmdebstrap makes inside ROOTFS end with it, even when
# it is interrupted.
exec unshare --mount -- mmdebstrap "${args[@]}" --include="$packages_csv" "${hooks[@]}" \
  unstable "$rootfs" "$mirror"
