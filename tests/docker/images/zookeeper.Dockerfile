# Stand-in for the official zookeeper image (Debian's zookeeper package), client port 2181.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper && \
    rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d && mkdir -p /data
EXPOSE 2181
# like the official image, the configuration comes from ZOO_TICK_TIME (default 2000)
CMD ["sh", "-c", "printf 'tickTime=%s\\ndataDir=/data\\nclientPort=2181\\nadmin.enableServer=false\\n4lw.commands.whitelist=ruok,srvr,stat,mntr\\n' \"${ZOO_TICK_TIME:-2000}\" > /zoo.cfg && exec java -Xmx256m -cp /usr/share/java/zookeeper.jar:/etc/zookeeper/conf org.apache.zookeeper.server.ZooKeeperServerMain /zoo.cfg"]
