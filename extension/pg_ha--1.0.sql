/* pg_ha--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_ha" to load this file. \quit

CREATE FUNCTION ha_status(
    OUT name text,
    OUT role text,
    OUT state text,
    OUT host text,
    OUT port integer,
    OUT api_url text,
    OUT timeline integer,
    OUT lsn pg_lsn,
    OUT lag_bytes bigint,
    OUT sync_standby boolean,
    OUT tags jsonb,
    OUT is_local boolean,
    OUT zookeeper text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ha_status'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION ha_status() IS
'pg_ha: the cluster''s members as this node''s agent sees them (only the local row while ZooKeeper is unreachable)';

-- Cluster topology (host names, ports, WAL positions) is monitoring data:
-- superusers and members of pg_monitor may read it, nobody else.
REVOKE ALL ON FUNCTION ha_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ha_status() TO pg_monitor;

CREATE FUNCTION ha_switchover(candidate text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ha_switchover'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ha_switchover(text) IS
'pg_ha: planned change of leader to candidate (or the best replica); returns the new leader''s name';

-- Changing the leader ends every session on the old one: superusers only,
-- unless a superuser grants it (GRANT EXECUTE ON FUNCTION ha_switchover(text) TO ...).
REVOKE ALL ON FUNCTION ha_switchover(text) FROM PUBLIC;
