#!/usr/bin/env bash
# Builds the Debian packages postgresql-15-pg-ha and pg-ha-router from this
# tree (Debian 12, as root: installs the build dependencies with apt-get).
#
#   sudo scripts/build-debs.sh [OUTDIR]      # default OUTDIR: build/deb (gitignored)
#
# dpkg-buildpackage runs in a copy of the tree's files (tracked and new, not
# ignored) under a temporary directory, so the tree's own objects are left
# alone; the .deb, .buildinfo and .changes files are moved to OUTDIR, and
# lintian's report is written to OUTDIR/lintian.txt (exit 1 on a lintian error).
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$srcdir/build/deb}

if [ "$(id -u)" -ne 0 ]; then
	echo "build-debs.sh: run as root (it calls apt-get)" >&2
	exit 1
fi

# the build tools and debian/control's Build-Depends
tools=(dpkg-dev debhelper fakeroot lintian)
build_deps=$(sed -n '/^Build-Depends:/,/^[^ ]/p' "$srcdir/debian/control" |
	sed -e 's/^Build-Depends://' -e '/^[A-Z]/d' | tr ',' '\n' |
	sed -e 's/(.*)//' -e 's/[[:space:]]//g' -e '/^$/d' -e 's/^debhelper-compat$/debhelper/')
missing=()
for p in "${tools[@]}" $build_deps; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "build-debs.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

version=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
work=$(mktemp -d /var/tmp/pg_ha-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
tree=$work/pg-ha-$version
mkdir -p "$tree"
# the files git knows or would add (an uncommitted change is built too)
(cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
	tar -C "$srcdir" --null -T - -cf - | tar -C "$tree" -xf -

(cd "$tree" && dpkg-buildpackage -b -us -uc -j2) > "$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "build-debs.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
ls -1 "$out"/*.deb

# lintian: errors fail the build, warnings are listed
rc=0
lintian --display-info "$out"/*.changes > "$out/lintian.txt" 2>&1 || rc=$?
cat "$out/lintian.txt"
if grep -q '^E:' "$out/lintian.txt"; then
	echo "build-debs.sh: lintian reports errors" >&2
	exit 1
fi
[ $rc -le 1 ] || { echo "build-debs.sh: lintian failed (exit $rc)" >&2; exit 1; }
echo "build-debs.sh: packages in $out (lintian: $(grep -c '^E:' "$out/lintian.txt") errors, $(grep -c '^W:' "$out/lintian.txt") warnings)"
