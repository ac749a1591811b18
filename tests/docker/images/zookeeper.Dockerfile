# Stand-in for the official zookeeper image (Debian's zookeeper package), client port 2181.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper && \
    rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d && mkdir -p /data
COPY zookeeper-start.sh /usr/local/bin/zookeeper-start.sh
EXPOSE 2181 2888 3888
# like the official image, the configuration comes from ZOO_TICK_TIME (default 2000) and, for
# an ensemble, ZOO_MY_ID and ZOO_SERVERS (with ZOO_INIT_LIMIT, ZOO_SYNC_LIMIT)
CMD ["sh", "/usr/local/bin/zookeeper-start.sh"]
