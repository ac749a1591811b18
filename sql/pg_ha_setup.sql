--
-- pg_ha: CREATE EXTENSION and privileges
--
CREATE EXTENSION pg_ha;
SELECT extname, extversion FROM pg_extension WHERE extname = 'pg_ha';

-- ha_status() is for superusers and pg_monitor only
CREATE ROLE ha_nobody LOGIN;
CREATE ROLE ha_monitor LOGIN IN ROLE pg_monitor;
SET ROLE ha_nobody;
SELECT count(*) FROM ha_status();
RESET ROLE;
SET ROLE ha_monitor;
SELECT count(*) > 0 AS monitor_can_read FROM ha_status();
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
