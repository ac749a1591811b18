# Stand-in for the official haproxy image (Debian's haproxy package).
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy && \
    rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d && mkdir -p /usr/local/etc/haproxy
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
