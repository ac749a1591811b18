#!/usr/bin/env bash
# Makes the certificates for the HTTP API's TLS with openssl: a CA, one
# server certificate per node (its names and addresses as SANs) and a
# client certificate (for pg_ha.api_verify_client and HAProxy's crt).
#
#   scripts/make-certs.sh DIR NODE[=SAN,SAN...] ...
#
#   scripts/make-certs.sh /etc/pg_ha/tls pg1=DNS:pg1.example.com,IP:10.0.0.11 pg2
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/NODE.crt, DIR/NODE.key, DIR/client.crt,
# DIR/client.key and DIR/client.pem (certificate and key in one, as HAProxy
# wants).  A node without SANs gets DNS:NODE, DNS:localhost, IP:127.0.0.1,
# IP:::1.  An existing CA in DIR is reused, so nodes can be added later.
# Keys are readable by their owner only: chown them to the postgres user.
# The docker lab and the packages use it the same way (see README.md, TLS).
set -euo pipefail

usage() { echo "usage: $0 DIR NODE[=SAN,SAN...] ..." >&2; exit 2; }
[ $# -ge 2 ] || usage
dir=$1
shift
days=${PGHA_CERT_DAYS:-825}
mkdir -p "$dir"
umask 077

if [ ! -f "$dir/ca.crt" ] || [ ! -f "$dir/ca.key" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
		-subj "/CN=pg_ha API CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# sign NAME CN EXTFILE: a key and a certificate signed by the CA
sign() {
	local name=$1 cn=$2 ext=$3
	openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=$cn" \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
	openssl x509 -req -sha256 -days "$days" -in "$dir/$name.csr" \
		-CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
		-extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
	rm -f "$dir/$name.csr"
}

ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
for spec in "$@"; do
	node=${spec%%=*}
	sans=${spec#*=}
	[ "$sans" != "$spec" ] || sans="DNS:$node,DNS:localhost,IP:127.0.0.1,IP:::1"
	case $node in
		''|*/*|client|ca) echo "$0: bad node name '$node'" >&2; exit 2 ;;
	esac
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
		"$sans" > "$ext"
	sign "$node" "$node" "$ext"
done
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > "$ext"
sign client "pg_ha client" "$ext"
cat "$dir/client.crt" "$dir/client.key" > "$dir/client.pem"
chmod 644 "$dir"/*.crt
echo "$0: certificates in $dir (CA ca.crt; nodes: ${*%%=*}; client client.pem)"
