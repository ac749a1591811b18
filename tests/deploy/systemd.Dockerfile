# Debian 12 booted with systemd as PID 1, with what the pg_ha packages need
# from Debian (PostgreSQL 15, ZooKeeper with its service); the .deb files are
# installed into a container of it by tests/deploy/run.sh.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
# no default cluster 15/main: the pg_ha nodes make their own
RUN mkdir -p /etc/postgresql-common/createcluster.d && \
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/pg_ha-deploy.conf && \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        systemd systemd-sysv dbus postgresql-15 postgresql-client-15 zookeeperd \
        libuv1 libzookeeper-mt2 libpq5 curl procps iproute2 && \
    rm -rf /var/lib/apt/lists/* && \
    systemctl mask getty@tty1.service console-getty.service systemd-logind.service \
        systemd-networkd-wait-online.service
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
