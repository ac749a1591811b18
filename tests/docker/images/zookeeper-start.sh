# The stand-in zookeeper image's start: the official image's variables, the
# same zoo.cfg it writes.  Without ZOO_SERVERS: one standalone server.
set -eu
{
	printf 'tickTime=%s\ndataDir=/data\nclientPort=2181\n' "${ZOO_TICK_TIME:-2000}"
	printf 'admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,stat,mntr\n'
} > /zoo.cfg
main=org.apache.zookeeper.server.ZooKeeperServerMain
if [ -n "${ZOO_SERVERS:-}" ]; then
	printf 'initLimit=%s\nsyncLimit=%s\n' "${ZOO_INIT_LIMIT:-5}" "${ZOO_SYNC_LIMIT:-2}" >> /zoo.cfg
	for server in $ZOO_SERVERS; do echo "$server" >> /zoo.cfg; done
	echo "${ZOO_MY_ID:-1}" > /data/myid
	main=org.apache.zookeeper.server.quorum.QuorumPeerMain
fi
exec java -Xmx256m -cp /usr/share/java/zookeeper.jar:/etc/zookeeper/conf "$main" /zoo.cfg
