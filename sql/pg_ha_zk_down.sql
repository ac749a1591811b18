--
-- ZooKeeper stops and comes back: the primary stops claiming leadership
-- at once, ha_status() says why, and all returns with no postgres restart.
-- (The test runner exports PGHA_ZK_DIR, PGHA_ZK_PORT and PGHA_API_PORT.)
--
\set VERBOSITY terse
\getenv zk_dir PGHA_ZK_DIR
\getenv zk_port PGHA_ZK_PORT
\getenv api_port PGHA_API_PORT
\getenv srcdir PGHA_SRCDIR
SELECT pg_postmaster_start_time() AS started \gset
\! curl -s -o /dev/null -w '/master before: %{http_code}\n' http://127.0.0.1:$PGHA_API_PORT/master

\! "$PGHA_SRCDIR/scripts/zk.sh" stop "$PGHA_ZK_DIR"
SET client_min_messages = error;
SELECT pg_ha_wait_for($$SELECT EXISTS (SELECT 1 FROM ha_status()
                                       WHERE is_local AND zookeeper <> 'connected')$$, 10);
RESET client_min_messages;
\! curl -s -o /dev/null -w '/master while ZooKeeper is down: %{http_code}\n' http://127.0.0.1:$PGHA_API_PORT/master
-- only the local row, marked, with a warning saying ZooKeeper is unreachable
SELECT name = current_setting('pg_ha.name') AS local_row, role, state, is_local,
       zookeeper IN ('connecting', 'session expired') AS zk_down
FROM ha_status();

-- postgres itself goes on serving: the node is fenced only when ZooKeeper
-- stays away for retry_timeout (10 s here; this outage is shorter)
CREATE TABLE zk_down_t AS SELECT 1 AS still_serving;
SELECT * FROM zk_down_t;
DROP TABLE zk_down_t;

\! "$PGHA_SRCDIR/scripts/zk.sh" start "$PGHA_ZK_DIR" "$PGHA_ZK_PORT" > /dev/null
SET client_min_messages = error;
SELECT pg_ha_wait_for($$SELECT EXISTS (SELECT 1 FROM ha_status()
                                       WHERE is_local AND role = 'leader')$$, 30);
RESET client_min_messages;
\! curl -s -o /dev/null -w '/master after: %{http_code}\n' http://127.0.0.1:$PGHA_API_PORT/master
SELECT pg_postmaster_start_time() = :'started' AS no_restart;
SELECT role, zookeeper FROM ha_status() WHERE is_local;
