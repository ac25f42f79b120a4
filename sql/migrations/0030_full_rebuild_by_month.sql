-- 0030_full_rebuild_by_month — a full rebuild of the rollups that read every reading builds them a local month at a
-- time.
--
-- Every rollup row depends only on data of its own local day or month (0008), so a builder called for each month in
-- turn returns exactly the rows one call over all time returns. Built in one call, household_daily grouped all
-- readings at once (35,000 households x 365 days: 12.8 M groups, whose hash table spilled to disk) and its rows came
-- out in hash order, so a month of them lay on nearly every page of the table and a release rebuilding one month read
-- most of it again. Month by month each call reads its own readings (a month's blocks, through the BRIN index on
-- hour_utc when readings are stored in time order), groups a month's households in memory, and writes the month's
-- rows together.

SET LOCAL ROLE klima_owner;

ALTER TABLE meta.rollups ADD COLUMN full_by_month boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN meta.rollups.full_by_month IS
    'a full rebuild calls the builder once per local month of meta.data_months() instead of once over all time';
UPDATE meta.rollups SET full_by_month = true
WHERE name IN ('rollup.household_daily', 'rollup.household_monthly', 'rollup.district_daily', 'rollup.district_hourly');

-- The local months (Europe/Copenhagen) that hold any energy reading, weighing or trip: [first month, month after the
-- last). Energy from the bounds of the monthly partitions that hold rows (a partition's rows cannot lie outside its
-- bounds; the DEFAULT partition, empty in normal operation, by its rows), waste and trips from their date indexes.
-- NULL when there is no data.
CREATE FUNCTION meta.data_months()
RETURNS daterange
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p record;
    b text[];
    lo timestamptz;
    hi timestamptz;
    has_rows boolean;
    d0 date;
    d1 date;
BEGIN
    FOR p IN SELECT c.oid::regclass AS part, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'core.energy_hourly'::regclass LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', p.part) INTO has_rows;
        CONTINUE WHEN NOT has_rows;
        b := regexp_match(p.bound, '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$');
        IF b IS NULL THEN
            EXECUTE format('SELECT min(hour_utc), max(hour_utc) FROM %s', p.part) INTO lo, hi;
        ELSE
            lo := b[1]::timestamptz;
            hi := b[2]::timestamptz - interval '1 microsecond';
        END IF;
        d0 := least(d0, (lo AT TIME ZONE 'Europe/Copenhagen')::date);
        d1 := greatest(d1, (hi AT TIME ZONE 'Europe/Copenhagen')::date);
    END LOOP;
    d0 := least(d0, (SELECT min(collected_on) FROM core.waste_weighings), (SELECT min(day) FROM core.mobility_daily));
    d1 := greatest(d1, (SELECT max(collected_on) FROM core.waste_weighings), (SELECT max(day) FROM core.mobility_daily));
    IF d0 IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN daterange(date_trunc('month', d0)::date, (date_trunc('month', d1) + interval '1 month')::date);
END
$fn$;

-- 0008's rebuild_rollup, with a whole rebuild of a full_by_month table done month by month.
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
        WHILE m < upper(months) LOOP
            EXECUTE format('INSERT INTO %s SELECT * FROM %s_rows($1, $2)', rollup_name::regclass, rollup_name)
                USING m, (m + interval '1 month')::date;
            GET DIAGNOSTICS k = ROW_COUNT;
            n := n + k;
            m := (m + interval '1 month')::date;
        END LOOP;
    END IF;
    IF whole THEN
        EXECUTE format('ANALYZE %s', rollup_name::regclass);
    END IF;
    RETURN n;
END
$fn$;
REVOKE EXECUTE ON FUNCTION meta.rebuild_rollup(text, date, date), meta.data_months() FROM PUBLIC;
