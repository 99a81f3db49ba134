#!/bin/sh
# Prints the package version, valid for both dpkg and rpm, from git:
#   tag v1.2.3, 4 commits after it, sha abc123 -> 1.2.3+git4.abc123
#   no tag yet, 812 commits                    -> 0.0.0~git812.abc123
# The commit count keeps successive builds ordered for upgrades; "~"
# sorts before the first release. A tree with uncommitted changes gets
# ".dirty". $VERSION, when set, is used as it is (tests build a newer
# package with it).
set -eu
if [ -n "${VERSION:-}" ]; then
	printf '%s\n' "$VERSION"
	exit 0
fi
sha=$(git rev-parse --short=12 HEAD)
dirty=""
git diff --quiet HEAD -- 2>/dev/null || dirty=".dirty"
if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
	n=$(git rev-list --count "$tag"..HEAD)
	base=$(printf %s "${tag#v}" | tr - "~")
	if [ "$n" = 0 ] && [ -z "$dirty" ]; then
		printf '%s\n' "$base"
	else
		printf '%s+git%s.%s%s\n' "$base" "$n" "$sha" "$dirty"
	fi
else
	n=$(git rev-list --count HEAD)
	printf '0.0.0~git%s.%s%s\n' "$n" "$sha" "$dirty"
fi
