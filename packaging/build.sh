#!/bin/sh
# packaging/build.sh BIN OUTDIR: the deb and rpm of mamori from the static
# binary BIN, built by nfpm run as a Go tool (pinned; no downloaded
# binary). Prints the two paths. The version is packaging/version.sh's
# ($VERSION overrides it). Run from the repository root.
set -eu
bin=$1
out=$2
nfpm=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
version=$(packaging/version.sh)
case "$bin" in /*) ;; *) bin=$(pwd)/$bin ;; esac
mkdir -p "$out"
deb="$out/mamori_${version}_amd64.deb"
rpm="$out/mamori-${version}-1.x86_64.rpm"
# nfpm expands ${VAR} in some fields only (version, not a content's src):
# the binary's path is written into a copy of the configuration.
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
sed "s|\${MAMORI_BIN}|$bin|" packaging/nfpm.yaml >"$cfg"
export MAMORI_VERSION="$version"
${GO:-go} build -o "$cfg.nfpm" "$nfpm" 2>/dev/null || true
${GO:-go} run "$nfpm" package --config "$cfg" --packager deb --target "$deb" >&2
${GO:-go} run "$nfpm" package --config "$cfg" --packager rpm --target "$rpm" >&2
printf '%s\n%s\n' "$deb" "$rpm"
