#!/bin/sh
# Renders cluster/node.conf.in, the one source of pg_ha node configuration
# for the local cluster (scripts/cluster.sh) and the containers (docker/Dockerfile).
#
#   cluster/render-node-conf.sh TEMPLATE KEY=VALUE... > node.conf
#
# Every @KEY@ is replaced by VALUE; a placeholder left unfilled is an error.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 TEMPLATE KEY=VALUE..." >&2; exit 2; }
tmpl=$1; shift
script=""
for kv in "$@"; do
	k=${kv%%=*}; v=${kv#*=}
	v=$(printf '%s' "$v" | sed -e 's/[|&\\]/\\&/g')
	script="$script
/^[[:space:]]*#/!s|@$k@|$v|g"
done
out=$(sed -e "$script" "$tmpl")
if printf '%s\n' "$out" | grep -v '^#' | grep -q '@[A-Z_]*@'; then
	echo "$0: unfilled placeholder(s):" $(printf '%s\n' "$out" | grep -v '^#' | grep -o '@[A-Z_]*@' | sort -u) >&2
	exit 1
fi
printf '%s\n' "$out"
