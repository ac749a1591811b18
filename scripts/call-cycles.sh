#!/bin/sh
# Which file calls which, from the object files' symbols (nm): for each
# object, the other objects of the same directory whose global symbols it
# uses; then any loop (a file reaching itself through those calls).
# Usage: scripts/call-cycles.sh extension   (after make)
# Exits 1 if there is a loop.
dir=${1:-extension}
for o in "$dir"/*.o; do
	nm "$o" | awk -v f="$(basename "$o" .o)" '$1 ~ /^[TDBRC]$/ && NF == 2 { print "def", f, $2 } $2 ~ /^[TDBRC]$/ { print "def", f, $3 } $1 == "U" { print "use", f, $2 }'
done | python3 -c '
import sys, collections
defs, uses = {}, collections.defaultdict(set)
for line in sys.stdin:
    k, f, s = line.split()
    if k == "def": defs[s] = f
    else: uses[f].add(s)
edges = collections.defaultdict(set)
for f, ss in uses.items():
    for s in ss:
        if s in defs and defs[s] != f: edges[f].add(defs[s])
for f in sorted(set(defs.values())):
    print("%-12s -> %s" % (f, " ".join(sorted(edges[f])) or "-"))
state, stack, loops = {}, [], []
def visit(f):
    state[f] = 1; stack.append(f)
    for g in sorted(edges[f]):
        if state.get(g) == 1: loops.append(stack[stack.index(g):] + [g])
        elif g not in state: visit(g)
    stack.pop(); state[f] = 2
for f in sorted(set(defs.values())):
    if f not in state: visit(f)
for l in loops: print("loop: " + " -> ".join(l))
sys.exit(1 if loops else 0)
'
