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
