# Sourced by scripts that run parts of the tree as the postgres user.
# If postgres cannot read the source tree (a clone under /root, say), copy
# it to a world-readable temporary directory and re-run the script there.
# Usage: source scripts/relocate.sh "$@"   (srcdir must be set)
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -r "$srcdir/Makefile" -a -x "$srcdir/scripts/zk.sh" 2>/dev/null; then
	copy=$(mktemp -d /tmp/pg_ha-src.XXXXXX)
	cp -a "$srcdir/." "$copy/"
	chmod -R a+rX "$copy"
	echo "$(basename "$0"): postgres cannot read $srcdir; running from a copy in $copy"
	exec "$copy/scripts/$(basename "$0")" "$@"
fi
