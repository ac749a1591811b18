#!/usr/bin/env bash
# Which supervisor source file calls which (from `nm` of the object files),
# and whether any files call each other in a loop.  Prints one line per
# file: "file -> the files whose functions or data it uses"; exits 1 on a
# loop (naming the files in it).
#   supervisor/tests/layers.sh [object files]   (default supervisor/.build/*.o)
set -euo pipefail
if [ $# -gt 0 ]; then objs=("$@"); else objs=("$(cd "$(dirname "$0")/.." && pwd)"/.build/*.o); fi
declare -A def
for o in "${objs[@]}"; do
	f=$(basename "$o" .o)
	while read -r _ sym; do def[$sym]=$f; done < <(nm --defined-only "$o" | awk '$2 ~ /^[TDBR]$/ {print $2, $3}')
done
declare -A edges
for o in "${objs[@]}"; do
	f=$(basename "$o" .o)
	to=$(nm --undefined-only "$o" | awk '{print $2}' | while read -r sym; do
		t=${def[$sym]:-}; if [ -n "$t" ] && [ "$t" != "$f" ]; then echo "$t"; fi; done | sort -u | tr '\n' ' ')
	edges[$f]=$to
	echo "$f -> ${to:-(none)}"
done
# depth-first search for a back edge
declare -A color
loop=""
visit() {
	local f=$1 t
	color[$f]=grey
	for t in ${edges[$f]}; do
		if [ "${color[$t]:-}" = grey ]; then loop="$loop $f->$t"; fi
		if [ -z "${color[$t]:-}" ]; then visit "$t"; fi
	done
	color[$f]=black
}
for f in "${!edges[@]}"; do if [ -z "${color[$f]:-}" ]; then visit "$f"; fi; done
if [ -n "$loop" ]; then echo "layers: files call each other in a loop (back edges:$loop)"; exit 1; fi
echo "layers: no loop of files calling each other"
