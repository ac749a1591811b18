--
-- pg_ha settings: every bad value is refused with a clear message
--
\set VERBOSITY default
SHOW pg_ha.scope;
SHOW pg_ha.loop_wait;

-- server-wide settings cannot be SET in a session (ttl: reload, zk_hosts: restart)
SET pg_ha.ttl = 20;
SET pg_ha.zk_hosts = '127.0.0.1:2181';

-- ALTER SYSTEM validates values with the same checks as postgresql.conf
ALTER SYSTEM SET pg_ha.zk_hosts = '';
ALTER SYSTEM SET pg_ha.zk_hosts = 'zk1';
ALTER SYSTEM SET pg_ha.zk_hosts = 'zk1:0';
ALTER SYSTEM SET pg_ha.zk_hosts = 'zk1:99999';
ALTER SYSTEM SET pg_ha.zk_hosts = 'zk1:2181,,zk2:2181';
ALTER SYSTEM SET pg_ha.zk_hosts = 'zk1:2181/';
ALTER SYSTEM SET pg_ha.zk_hosts = 'zk 1:2181';
ALTER SYSTEM SET pg_ha.api_listen = '';
ALTER SYSTEM SET pg_ha.api_listen = 'localhost';
ALTER SYSTEM SET pg_ha.api_listen = '[::1:8008';
ALTER SYSTEM SET pg_ha.connect_address = 'db1:port';
ALTER SYSTEM SET pg_ha.name = 'bad name!';
ALTER SYSTEM SET pg_ha.scope = '';
ALTER SYSTEM SET pg_ha.namespace = 'service';
ALTER SYSTEM SET pg_ha.namespace = '/service/';
ALTER SYSTEM SET pg_ha.ttl = 1;
ALTER SYSTEM SET pg_ha.ttl = 'ten';
ALTER SYSTEM SET pg_ha.retry_timeout = 0;
ALTER SYSTEM SET pg_ha.loop_wait = '2h';
ALTER SYSTEM SET pg_ha.maximum_lag_on_failover = -1;
ALTER SYSTEM SET pg_ha.api_auth = 'no-colon';
ALTER SYSTEM SET pg_ha.api_allowlist = '10.0.0.0/33';
ALTER SYSTEM SET pg_ha.api_allowlist = '10.0.0.300';
ALTER SYSTEM SET pg_ha.api_verify_client = 'sometimes';
ALTER SYSTEM SET pg_ha.synchronous_mode = 'perhaps';
ALTER SYSTEM SET pg_ha.no_such_setting = 1;

-- good values are accepted (and taken back at once)
ALTER SYSTEM SET pg_ha.zk_hosts = 'zk1:2181,zk2:2181,[::1]:2181/pg_ha';
ALTER SYSTEM SET pg_ha.api_listen = '*:8008';
ALTER SYSTEM SET pg_ha.api_allowlist = '10.0.0.0/8, fd00::/8, 192.0.2.7 admin.example.com';
ALTER SYSTEM SET pg_ha.maximum_lag_on_failover = '16MB';
ALTER SYSTEM RESET pg_ha.zk_hosts;
ALTER SYSTEM RESET pg_ha.api_listen;
ALTER SYSTEM RESET pg_ha.api_allowlist;
ALTER SYSTEM RESET pg_ha.maximum_lag_on_failover;

-- the API password is not shown to ordinary users
CREATE ROLE ha_nobody;
SET ROLE ha_nobody;
SHOW pg_ha.api_auth;
RESET ROLE;
DROP ROLE ha_nobody;
