--
-- ha_status() on a running primary with a live ZooKeeper
--
SELECT pg_ha_wait_for($$SELECT EXISTS (SELECT 1 FROM ha_status()
                                       WHERE is_local AND role = 'leader')$$, 30);

-- shape
SELECT pg_get_function_arguments('ha_status'::regproc);

-- content: this node is the leader and reports its real position
SELECT name = current_setting('pg_ha.name') AS named_right,
       role, state, host, port = current_setting('port')::int AS port_right,
       api_url LIKE 'http://%:%/patroni' AS api_url_ok,
       timeline = (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline_right,
       lsn <= pg_current_wal_lsn() AND lsn > '0/0' AS lsn_sane,
       lag_bytes, sync_standby, tags, is_local, zookeeper, paused
FROM ha_status() WHERE is_local;

-- exactly one leader, and it is us
SELECT count(*) FILTER (WHERE role = 'leader') AS leaders,
       bool_and(is_local) FILTER (WHERE role = 'leader') AS leader_is_local
FROM ha_status();

-- the position follows writes (refreshed at most a heartbeat later)
CREATE TABLE pg_ha_t (x int);
INSERT INTO pg_ha_t SELECT generate_series(1, 1000);
SELECT pg_current_wal_flush_lsn() AS after_write \gset
SELECT pg_ha_wait_for(format($$SELECT lsn >= %L::pg_lsn FROM ha_status() WHERE is_local$$,
                             :'after_write'), 10);
DROP TABLE pg_ha_t;
