#!/usr/bin/env bash
# Builds the release archive of rules_triton, the one .bcr/source.template.json points at:
#
#   tools/release.sh VERSION [COMMIT] [OUT_DIR]    e.g. tools/release.sh 0.1.0 v0.1.0 dist
#
# writes OUT_DIR/rules_triton-vVERSION.tar.gz (top directory rules_triton-VERSION/, the files
# of COMMIT, default HEAD, with `version = "VERSION"` stamped into MODULE.bazel) and prints
# its sha256 and the Subresource Integrity value for the registry's source.json. The archive
# depends only on COMMIT and VERSION: same bytes on every machine, checkout and run.
set -euo pipefail

die() {
  printf 'release.sh: error: %s\n' "$*" >&2
  exit 1
}

(($# >= 1 && $# <= 3)) || die "usage: tools/release.sh VERSION [COMMIT] [OUT_DIR]"
version=$1 commit=${2:-HEAD} out_dir=${3:-dist}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.-][0-9A-Za-z.-]+)?$ ]] || die "VERSION must look like 1.2.3, got '$version'"
git rev-parse --verify --quiet "$commit^{commit}" >/dev/null || die "no commit '$commit' in $(pwd -P)"

prefix=rules_triton-$version
archive=$out_dir/rules_triton-v$version.tar.gz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git archive --format=tar --prefix="$prefix/" "$commit" | tar -x -C "$work"
module=$work/$prefix/MODULE.bazel
grep -q '^    name = "rules_triton",$' "$module" || die "MODULE.bazel of $commit has no 'name = \"rules_triton\",' line to stamp"
grep -q '^    version = ' "$module" && die "MODULE.bazel of $commit already sets a version"
sed -i "s|^    name = \"rules_triton\",\$|&\n    version = \"$version\",|" "$module"
sed -i '/^# `version` is left unset: release tooling stamps it/d' "$module"

# Fixed order, times, owners and modes; gzip without name or time stamp.
mkdir -p "$out_dir"
(cd "$work" && tar --sort=name --format=gnu --mtime="@$(git -C "$OLDPWD" log -1 --format=%ct "$commit")" \
  --owner=0 --group=0 --numeric-owner --mode='u+rwX,go+rX,go-w' -cf - "$prefix") | gzip -n -9 >"$archive"

sha256=$(sha256sum "$archive" | cut -d' ' -f1)
printf '%s\nsha256: %s\nintegrity: sha256-%s\n' "$archive" "$sha256" \
  "$(printf "$(printf %s "$sha256" | sed 's/../\\x&/g')" | base64 -w0)"
