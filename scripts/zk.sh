#!/usr/bin/env bash
# Runs a real ZooKeeper server (Debian's zookeeper package) for tests and
# the local cluster: on one loopback address, data in DIR; standalone, or
# one server of an ensemble whose servers all use PORT on their own address.
#
#   scripts/zk.sh start DIR PORT [ADDRESS [ID ADDR1,ADDR2,...]]
#                            start, wait until it answers (bounded); with ID and
#                            the ensemble's addresses, server ID of that ensemble
#                            (quorum ports 2888 and 3888 on each address)
#   scripts/zk.sh stop DIR   stop the server started in DIR (by its PID)
#   scripts/zk.sh status DIR exit 0 if it answers
#   scripts/zk.sh mode DIR   print its mode (standalone, leader, follower); exit 1
#                            if it does not serve (an ensemble server without quorum)
set -euo pipefail

cmd=${1:?usage: zk.sh start|stop|status|mode DIR [PORT] [ADDRESS [ID ADDRESSES]]}
dir=${2:?missing DIR}
jar=/usr/share/java/zookeeper.jar

four() { # ADDRESS PORT WORD: a four-letter-word command's reply
	timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2; printf $3 >&3; cat <&3" 2>/dev/null || true
}
ruok() { [ "$(four "$1" "$2" ruok)" = imok ]; }

case $cmd in
start)
	port=${3:?missing PORT}
	addr=${4:-127.0.0.1}
	id=${5:-}
	ensemble=${6:-}
	mkdir -p "$dir/data"
	if [ -f "$dir/zk.pid" ] && kill -0 "$(cat "$dir/zk.pid")" 2>/dev/null; then
		echo "zk.sh: already running in $dir (pid $(cat "$dir/zk.pid"))"
		exit 0
	fi
	# tickTime 500 ms lets sessions as short as 1 s (2 ticks) and as long
	# as 60 s; pg_ha asks for pg_ha.ttl.
	cat > "$dir/zoo.cfg" <<CFG
tickTime=500
dataDir=$dir/data
clientPort=$port
clientPortAddress=$addr
minSessionTimeout=1000
maxSessionTimeout=60000
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
CFG
	main=org.apache.zookeeper.server.ZooKeeperServerMain
	if [ -n "$id" ]; then
		# initLimit and syncLimit in ticks: 10 s to join, 5 s behind at most
		printf 'initLimit=20\nsyncLimit=10\n' >> "$dir/zoo.cfg"
		i=0
		for a in ${ensemble//,/ }; do
			i=$((i + 1))
			echo "server.$i=$a:2888:3888" >> "$dir/zoo.cfg"
		done
		echo "$id" > "$dir/data/myid"
		main=org.apache.zookeeper.server.quorum.QuorumPeerMain
	fi
	echo "$addr $port" > "$dir/zk.addr"
	nohup java -Xmx256m -Dzookeeper.log.dir="$dir" \
		-Dlog4j.configuration=file:/etc/zookeeper/conf/log4j.properties \
		-cp "$jar:/etc/zookeeper/conf" \
		$main "$dir/zoo.cfg" \
		> "$dir/zookeeper.out" 2>&1 < /dev/null &
	echo $! > "$dir/zk.pid"
	for _ in $(seq 1 120); do
		ruok "$addr" "$port" && { echo "zk.sh: ZooKeeper up on $addr:$port (pid $(cat "$dir/zk.pid"))"; exit 0; }
		kill -0 "$(cat "$dir/zk.pid")" 2>/dev/null || break
		sleep 0.25
	done
	echo "zk.sh: ZooKeeper did not come up on $addr:$port; see $dir/zookeeper.out" >&2
	tail -20 "$dir/zookeeper.out" >&2 || true
	exit 1
	;;
stop)
	[ -f "$dir/zk.pid" ] || exit 0
	pid=$(cat "$dir/zk.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -f "$dir/zk.pid"
	;;
status)
	read -r addr port < "$dir/zk.addr"
	ruok "$addr" "$port"
	;;
mode)
	read -r addr port < "$dir/zk.addr"
	mode=$(four "$addr" "$port" srvr | sed -n 's/^Mode: //p')
	[ -n "$mode" ] || exit 1
	echo "$mode"
	;;
*)
	echo "usage: zk.sh start|stop|status|mode DIR [PORT] [ADDRESS [ID ADDRESSES]]" >&2
	exit 2
	;;
esac
