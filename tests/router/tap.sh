# tap.sh - what the router's TAP scripts (router_test.sh, router_follow.sh)
# share: the TAP counters and assertions, their work directory with the
# cleanup of everything started there (by PID, see lib.sh), and psql.
# Source it after lib.sh, then call tap_begin PREFIX.

TESTS=0 FAILED=0
pass() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $1"; }
fail() { TESTS=$((TESTS + 1)); FAILED=$((FAILED + 1)); echo "not ok $TESTS - $1"; [ -n "${2:-}" ] && echo "#   $2"; }
check() { local desc=$1; shift; if "$@"; then pass "$desc"; else fail "$desc" "command failed: $*"; return 1; fi; }
is() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }
diag() { echo "# $*"; }
bail() { echo "Bail out! $*"; FAILED=$((FAILED + 1)); exit 1; }

tap_cleanup() {
	kill_started
	sup_stop_started
	zk_stop_started
	if [ "${KEEP:-0}" = 1 ] || [ "$FAILED" -gt 0 ]; then
		echo "# work dir kept: $W"
	else
		rm -rf "$W"
	fi
}

# tap_begin PREFIX: sets W (a fresh work dir) and T_START, and the traps
tap_begin() {
	W=$(make_workdir "$1") || { echo "Bail out! cannot create work dir"; exit 1; }
	T_START=$(now_ms)
	trap tap_cleanup EXIT
	trap 'exit 1' INT TERM
	export PGPASSWORD=$SUP_PASSWORD PGCONNECT_TIMEOUT=10
}

# conn PORT [more conninfo]; psql_at PORT psql-args...
conn() { echo "host=127.0.0.1 port=$1 user=postgres dbname=postgres connect_timeout=10 ${2:-}"; }
psql_at() { local port=$1; shift; timeout 60 psql "$(conn "$port")" -X -At -v ON_ERROR_STOP=1 "$@"; }
