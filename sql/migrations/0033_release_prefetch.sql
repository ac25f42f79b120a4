-- 0033_release_prefetch — a full rebuild asks the kernel for the next month's readings while it builds this one.
--
-- At city scale the readings are larger than the memory (35,000 households x 365 days: 31 GB of readings, 25 GB of
-- RAM), so a full rebuild reads every month from disk, twice (household_daily, then district_hourly), and the one
-- backend that runs the release waits for each read before it aggregates: measured on that city, one local month of
-- household_daily took 29.3 s with its partition out of the page cache and 16.4 s with it in. Now, before a
-- full_by_month rebuild builds a month of a rollup that reads core.energy_hourly (meta.rollups.prefetch_energy), it
-- asks the kernel for the month after it (pg_prewarm's 'prefetch' mode: posix_fadvise WILLNEED, asynchronous; nothing
-- enters shared buffers), so that month is read from disk while this one is aggregated; the first month is asked for
-- before it is built. Only a whole rebuild prefetches: an incremental release reads a day or two through the BRIN index.
--
-- pg_prewarm ships with PostgreSQL (Debian's postgresql-15) but is not a trusted extension: a superuser runs this file
-- (as locally), or creates it beforehand with CREATE SCHEMA prewarm; CREATE EXTENSION pg_prewarm SCHEMA prewarm;

CREATE SCHEMA IF NOT EXISTS prewarm;
CREATE EXTENSION IF NOT EXISTS pg_prewarm SCHEMA prewarm;

-- Only klima_owner (who owns the partitions) asks for them, through meta.prefetch_energy.
REVOKE ALL ON SCHEMA prewarm FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA prewarm FROM PUBLIC;
GRANT USAGE ON SCHEMA prewarm TO klima_owner;
GRANT EXECUTE ON FUNCTION prewarm.pg_prewarm(regclass, text, text, bigint, bigint) TO klima_owner;

SET LOCAL ROLE klima_owner;

ALTER TABLE meta.rollups ADD COLUMN prefetch_energy boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN meta.rollups.prefetch_energy IS
    'a whole rebuild by month asks the kernel for the next month''s partition of core.energy_hourly while building one';
UPDATE meta.rollups SET prefetch_energy = true WHERE name IN ('rollup.household_daily', 'rollup.district_hourly');

-- Asks the kernel to read, in the background, the monthly partitions of core.energy_hourly that hold the local days
-- [lo, hi): each partition at least half of whose range lies in that period (a local month starts an hour or two
-- before its UTC month: the previous partition is not asked for for those hours). Returns the number of blocks asked
-- for. A hint only: nothing is locked, read into shared buffers or waited for.
CREATE FUNCTION meta.prefetch_energy(lo date, hi date)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t0 timestamptz := rollup.local_start(lo);
    t1 timestamptz := rollup.local_start(hi);
    p record;
    b text[];
    n bigint := 0;
BEGIN
    FOR p IN SELECT c.oid::regclass AS part, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'core.energy_hourly'::regclass LOOP
        b := regexp_match(p.bound, '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$');
        CONTINUE WHEN b IS NULL; -- the DEFAULT partition, empty in normal operation
        IF least(t1, b[2]::timestamptz) - greatest(t0, b[1]::timestamptz) >= (b[2]::timestamptz - b[1]::timestamptz) / 2 THEN
            n := n + prewarm.pg_prewarm(p.part, 'prefetch');
        END IF;
    END LOOP;
    RETURN n;
END
$fn$;
REVOKE EXECUTE ON FUNCTION meta.prefetch_energy(date, date) FROM PUBLIC;

-- 0030's rebuild_rollup, with the prefetch in the month-by-month loop of a whole rebuild; otherwise unchanged.
CREATE OR REPLACE FUNCTION meta.rebuild_rollup(rollup_name text, lo date, hi date)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET hash_mem_multiplier = 4
AS $fn$
DECLARE
    r meta.rollups%ROWTYPE;
    populated boolean;
    has_rows boolean;
    whole boolean := lo = '-infinity' AND hi = 'infinity';
    months daterange;
    m date;
    m_next date;
    k bigint;
    n bigint := 0;
BEGIN
    SELECT * INTO r FROM meta.rollups x WHERE x.name = rollup_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not a rollup: %', rollup_name;
    END IF;
    IF r.period IS NULL THEN
        SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = rollup_name::regclass AND c.relkind = 'm';
        IF populated IS NULL THEN
            RAISE EXCEPTION 'not a materialized view: %', rollup_name;
        END IF;
        IF populated THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', rollup_name::regclass) INTO has_rows;
        END IF;
        IF populated AND has_rows AND r.concurrent THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', rollup_name::regclass);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW %s', rollup_name::regclass);
        END IF;
        RETURN NULL;
    END IF;
    IF whole AND NOT r.concurrent THEN
        EXECUTE format('TRUNCATE %s', rollup_name::regclass);
    ELSE
        EXECUTE format('DELETE FROM %s WHERE %s', rollup_name::regclass, r.delete_where) USING lo, hi;
    END IF;
    IF whole AND r.full_by_month THEN
        months := meta.data_months();
    END IF;
    IF months IS NULL THEN
        EXECUTE format('INSERT INTO %s SELECT * FROM %s_rows($1, $2)', rollup_name::regclass, rollup_name) USING lo, hi;
        GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
        m := lower(months);
        IF r.prefetch_energy THEN
            PERFORM meta.prefetch_energy(m, (m + interval '1 month')::date);
        END IF;
        WHILE m < upper(months) LOOP
            m_next := (m + interval '1 month')::date;
            IF r.prefetch_energy AND m_next < upper(months) THEN
                PERFORM meta.prefetch_energy(m_next, (m_next + interval '1 month')::date);
            END IF;
            EXECUTE format('INSERT INTO %s SELECT * FROM %s_rows($1, $2)', rollup_name::regclass, rollup_name)
                USING m, m_next;
            GET DIAGNOSTICS k = ROW_COUNT;
            n := n + k;
            m := m_next;
        END LOOP;
    END IF;
    IF whole THEN
        EXECUTE format('ANALYZE %s', rollup_name::regclass);
    END IF;
    RETURN n;
END
$fn$;
REVOKE EXECUTE ON FUNCTION meta.rebuild_rollup(text, date, date) FROM PUBLIC;

RESET ROLE;
