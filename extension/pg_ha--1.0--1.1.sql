/* pg_ha--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "ALTER EXTENSION pg_ha UPDATE TO '1.1'" to load this file. \quit

CREATE FUNCTION ha_history(
    OUT timeline integer,
    OUT lsn pg_lsn,
    OUT reason text,
    OUT switched_at timestamptz,
    OUT new_leader text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ha_history'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION ha_history() IS
'pg_ha: the cluster''s timeline switches (the /history key, as patronictl history shows it): the timeline that ended, where, why, when the next began and who led it';

REVOKE ALL ON FUNCTION ha_history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ha_history() TO pg_monitor;

CREATE FUNCTION ha_config()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ha_config'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION ha_config() IS
'pg_ha: the cluster''s dynamic configuration (the /config key, as patronictl show-config shows it); NULL before the cluster has one';

REVOKE ALL ON FUNCTION ha_config() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ha_config() TO pg_monitor;

CREATE FUNCTION ha_set_config(change jsonb, replace boolean DEFAULT false)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ha_set_config'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ha_set_config(jsonb, boolean) IS
'pg_ha: changes the cluster''s dynamic configuration (a JSON merge patch, null removes a key; replace: the whole configuration), checked and written with a compare-and-set; every node applies it; returns the new configuration';

-- A cluster-wide change: superusers only, unless a superuser grants it.
REVOKE ALL ON FUNCTION ha_set_config(jsonb, boolean) FROM PUBLIC;

-- Maintenance mode, as patronictl pause/resume: "pause" in /config.
CREATE FUNCTION ha_pause()
RETURNS jsonb
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$ SELECT ha_set_config('{"pause": true}') $$;

COMMENT ON FUNCTION ha_pause() IS
'pg_ha: maintenance mode for the whole cluster: no automatic failover, no rejoin, no restart of a crashed postgres, until ha_resume()';

CREATE FUNCTION ha_resume()
RETURNS jsonb
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$ SELECT ha_set_config('{"pause": null}') $$;

COMMENT ON FUNCTION ha_resume() IS
'pg_ha: ends maintenance mode: automatic failover again';

REVOKE ALL ON FUNCTION ha_pause() FROM PUBLIC;
REVOKE ALL ON FUNCTION ha_resume() FROM PUBLIC;

-- ha_status() gains a column: whether the member sees the cluster paused.
DROP FUNCTION ha_status();
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
    OUT zookeeper text,
    OUT paused boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ha_status'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION ha_status() IS
'pg_ha: the cluster''s members as this node''s agent sees them (only the local row while ZooKeeper is unreachable); paused: maintenance mode';

REVOKE ALL ON FUNCTION ha_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ha_status() TO pg_monitor;

CREATE FUNCTION ha_failover(candidate text, force boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'ha_failover'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ha_failover(text, boolean) IS
'pg_ha: manual failover to candidate: with a leader, a switchover to it; with none, the candidate is promoted if healthy (in synchronous mode only the confirmed synchronous standby, unless forced: a forced one may lose commits only that standby acknowledged); returns the new leader''s name';

REVOKE ALL ON FUNCTION ha_failover(text, boolean) FROM PUBLIC;

CREATE FUNCTION ha_schedule_switchover(candidate text, at timestamptz)
RETURNS text
AS 'MODULE_PATHNAME', 'ha_schedule_switchover'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ha_schedule_switchover(text, timestamptz) IS
'pg_ha: a switchover to candidate (NULL: the best replica) kept in /failover and carried out by the leader at that time; returns the candidate';

CREATE FUNCTION ha_cancel_switchover()
RETURNS text
AS 'MODULE_PATHNAME', 'ha_cancel_switchover'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ha_cancel_switchover() IS
'pg_ha: cancels the scheduled switchover; returns the candidate it named (an ERROR when none is scheduled)';

REVOKE ALL ON FUNCTION ha_schedule_switchover(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION ha_cancel_switchover() FROM PUBLIC;

-- Restart a member's postgres in place, now or at a time (patronictl restart).
CREATE FUNCTION ha_restart(member text, at timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ha_restart'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ha_restart(text, timestamptz) IS
'pg_ha: restarts a member''s postgres in place (the leader keeps its leadership), now or at a time; on another member it returns once postgres is back';

REVOKE ALL ON FUNCTION ha_restart(text, timestamptz) FROM PUBLIC;

-- Re-clone a replica from the leader (patronictl reinit).
CREATE FUNCTION ha_reinitialize(member text)
RETURNS text
AS 'MODULE_PATHNAME', 'ha_reinitialize'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION ha_reinitialize(text) IS
'pg_ha: re-clones the replica member from the leader (as POST /reinitialize, patronictl reinit): its supervisor stops it, moves its data directory aside, runs pg_basebackup and starts the copy as a standby; returns the member''s answer once asked (an ERROR for an unknown member, the leader, or an unreachable member)';

REVOKE ALL ON FUNCTION ha_reinitialize(text) FROM PUBLIC;
