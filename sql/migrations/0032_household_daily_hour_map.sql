-- 0032_household_daily_hour_map — household_daily without a sort of every reading and without a time-zone
-- conversion per reading.
--
-- 0031 joined the month factors on date_trunc('month', local time of the reading): the planner, guessing 1,000 months,
-- sorted every reading of the month on that expression (567 MB on disk for 10,000 households, 7.4 M readings) and
-- merged, and converted every reading's time to local time twice. The full build took 13.5-18 s a month there.
-- Now the builder takes the period a local month at a time, looks up the month's factor once, and joins each reading
-- by hash on hour_utc to a materialized map of the month's hours (the hour, its local day, its published grid
-- intensity and dirtiness), in one pass over the month's readings, however they are stored. At 35,000 households
-- (1,085,000 rows a month, 2.6 GB of readings; the database larger than the RAM): 11.4-12.8 s a month whether the
-- month was in memory or not. A step of a local day at a time (found through the BRIN index, grouped by household) was
-- tried and dropped: 4.2 s against 7.4-7.6 s for a month of 10,000 households held in memory, but 19-23 s a month at
-- 35,000 when the month had to be read from disk (six months measured, against 12.7-12.8 s for the one pass on months
-- not in memory either), and 21-31 s on readings stored household by household, where the BRIN index cannot find a
-- day. The same rows as 0005 defined: sql/tests/14_household_daily.sql recomputes them from core over
-- readings stored in time order and household by household and a DST change, and shows the comparison failing on a
-- wrong day.
--
-- Every reading is on the hour (ingest refuses others; the seed writes hours), so in a pass over the hour map every one
-- finds its hour. One that did not would have no day, and its release would fail on household_daily's primary key
-- instead of dropping the reading unseen.
--
-- An unbounded end (a full rebuild from the release floor: [floor, infinity)) is bounded by meta.data_months(), the
-- local months that hold any data.

SET LOCAL ROLE klima_owner;

CREATE OR REPLACE FUNCTION rollup.household_daily_rows(lo date, hi date)
RETURNS TABLE (household_id uuid, day date, hours integer, electricity_wh bigint, heat_wh bigint, water_ml bigint,
               electricity_co2e_100ng bigint, electricity_dirty_wh bigint, electricity_dirty_co2e_100ng bigint,
               hours_without_intensity integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    months daterange;
    d0 date := lo;
    d1 date := hi;
    m date;          -- the local month being built: [m, m_end)
    m_end date;
    f_e4 bigint;
    t0 timestamptz;
    t1 timestamptz;
BEGIN
    IF NOT isfinite(lo) OR NOT isfinite(hi) THEN
        months := meta.data_months();
        IF months IS NULL THEN
            RETURN;
        END IF;
        d0 := greatest(lo, lower(months));
        d1 := least(hi, upper(months));
    END IF;
    m := d0;
    WHILE m < d1 LOOP
        m_end := least(d1, (date_trunc('month', m) + interval '1 month')::date);
        -- an hour without a published intensity takes the factor valid at the start of its local month (0005)
        f_e4 := rollup.factor_e4(rollup.factor_g('electricity', date_trunc('month', m)::date));
        t0 := rollup.local_start(m);
        t1 := rollup.local_start(m_end);
        RETURN QUERY
        WITH h AS MATERIALIZED (
            SELECT x.h AS hour_utc, (x.h AT TIME ZONE 'Europe/Copenhagen')::date AS day,
                   g.hour_utc AS grid_hour, g.g_e4, g.dirty
            FROM generate_series(t0, t1 - interval '1 hour', interval '1 hour') x(h)
            LEFT JOIN rollup.grid_hours g ON g.hour_utc = x.h
        )
        SELECT e.household_id, h.day,
               count(*)::integer AS hours,
               sum(e.electricity_wh)::bigint AS electricity_wh,
               sum(e.heat_wh)::bigint AS heat_wh,
               sum(round(e.water_l::double precision * 1000)::bigint)::bigint AS water_ml,
               sum(e.electricity_wh::bigint * coalesce(h.g_e4, f_e4))::bigint AS electricity_co2e_100ng,
               coalesce(sum(e.electricity_wh) FILTER (WHERE h.dirty), 0)::bigint AS electricity_dirty_wh,
               coalesce(sum(e.electricity_wh::bigint * h.g_e4) FILTER (WHERE h.dirty), 0)::bigint
                   AS electricity_dirty_co2e_100ng,
               count(*) FILTER (WHERE h.grid_hour IS NULL)::integer AS hours_without_intensity
        FROM core.energy_hourly e
        LEFT JOIN h ON h.hour_utc = e.hour_utc
        WHERE e.hour_utc >= t0 AND e.hour_utc < t1
        GROUP BY 1, 2;
        m := m_end;
    END LOOP;
END
$fn$;

RESET ROLE;
