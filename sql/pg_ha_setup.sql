--
-- pg_ha: CREATE EXTENSION and privileges
--
CREATE EXTENSION pg_ha;
SELECT extname, extversion FROM pg_extension WHERE extname = 'pg_ha';

-- an installation of 1.0 updates to what a new one has
DROP EXTENSION pg_ha;
CREATE EXTENSION pg_ha VERSION '1.0';
SELECT count(*) AS history_in_1_0 FROM pg_proc WHERE proname = 'ha_history';
ALTER EXTENSION pg_ha UPDATE TO '1.1';
SELECT extversion, (SELECT count(*) FROM pg_proc WHERE proname = 'ha_history') AS history_in_1_1
FROM pg_extension WHERE extname = 'pg_ha';

-- ha_status() is for superusers and pg_monitor only
CREATE ROLE ha_nobody LOGIN;
CREATE ROLE ha_monitor LOGIN IN ROLE pg_monitor;
SET ROLE ha_nobody;
SELECT count(*) FROM ha_status();
SELECT count(*) FROM ha_history();
RESET ROLE;
SET ROLE ha_monitor;
SELECT count(*) > 0 AS monitor_can_read FROM ha_status();
-- a new cluster on its first timeline: no switch yet
SELECT count(*) AS switches FROM ha_history();
RESET ROLE;
DROP ROLE ha_nobody;
DROP ROLE ha_monitor;

-- Test helper: wait (bounded) until a query returns true.
CREATE FUNCTION pg_ha_wait_for(cond text, seconds int) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
BEGIN
    FOR i IN 1 .. seconds * 10 LOOP
        EXECUTE cond INTO ok;
        IF ok THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RAISE EXCEPTION 'condition not met within % s: %', seconds, cond;
END $$;
