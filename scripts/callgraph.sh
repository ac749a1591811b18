#!/bin/sh
# callgraph.sh OBJDIR: which object file calls which other object file's
# functions (from nm: a file's undefined symbols matched against the symbols
# the others define), then any loop among them.  Exit 1 when there is a loop.
# Example: make -C router && scripts/callgraph.sh router/.build/release
set -eu
dir=${1:?usage: callgraph.sh OBJDIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for o in "$dir"/*.o; do
	f=$(basename "$o" .o)
	nm "$o" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u > "$tmp/$f.def"
	nm "$o" | awk '$1 == "U" {print $2}' | sort -u > "$tmp/$f.use"
done
: > "$tmp/edges"
for u in "$tmp"/*.use; do
	f=$(basename "$u" .use)
	for d in "$tmp"/*.def; do
		g=$(basename "$d" .def)
		[ "$f" = "$g" ] && continue
		syms=$(comm -12 "$u" "$d" | tr '\n' ' ')
		[ -n "$syms" ] && { echo "$f -> $g: $syms"; echo "$f $g" >> "$tmp/edges"; }
	done
done
# tsort reports a cycle on stderr
if tsort "$tmp/edges" > "$tmp/order" 2> "$tmp/cycle"; then
	echo "no loop; bottom-up order: $(tac "$tmp/order" | tr '\n' ' ')"
else
	echo "LOOP:"; cat "$tmp/cycle"; exit 1
fi
