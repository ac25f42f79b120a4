-- 0032_household_daily_hour_map — household_daily without a sort of every reading and without a time-zone
-- conversion per reading.
--
-- 0031 joined the month factors on date_trunc('month', local time of the reading): the planner, guessing 1,000 months,
-- sorted every reading of the month on that expression (567 MB on disk for 10,000 households, 7.4 M readings) and
-- merged, and converted every reading's time to local time twice. The full build took 13.5-18 s a month there.
-- Now the builder takes the period a local month at a time, looks up the month's factor once, and joins each reading
-- by hash on hour_utc to a materialized map of the step's hours (the hour, its local day, its published grid intensity
-- and dirtiness). The step is
-- - a local day when the month's readings are stored in time order (as a daily feed stores them; the seed too): the
--   BRIN index on hour_utc finds the day, and the hash table holds a day's households (4.2 s for that month: a day's
--   10,000 groups stay in the CPU's caches);
-- - the whole month otherwise (household by household, as a backfill or an older seed stores them — the BRIN index
--   cannot find a day there, and 31 scans of the month took 21-31 s): one pass, 4.9-5.3 s (7.4-7.6 s over time-ordered
--   readings, whose month of groups the hash table meets out of order).
-- Which layout a month has is read from the planner's statistics: the correlation of hour_utc in each monthly partition
-- the local month touches (>= 0.9 for all of them; without statistics, the month in one step). The same rows either
-- way: sql/tests/14_household_daily.sql recomputes them from core as 0005 defined them, over both layouts and a DST
-- change, and shows the comparison failing on a wrong day.
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
    s date;          -- the step being built: [s, s_end), a day or the month
    s_end date;
    f_e4 bigint;
    by_day boolean;
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
        -- a day at a time when every monthly partition the month touches is stored in time order
        SELECT bool_and(coalesce(st.correlation, 0) >= 0.9) INTO by_day
        FROM generate_series(date_trunc('month', rollup.local_start(m) AT TIME ZONE 'UTC'),
                             rollup.local_start(m_end) AT TIME ZONE 'UTC' - interval '1 hour', interval '1 month') p(pm)
        LEFT JOIN pg_stats st ON st.schemaname = 'core' AND st.attname = 'hour_utc'
                             AND st.tablename = 'energy_hourly_p' || to_char(p.pm, 'YYYY_MM');
        s := m;
        WHILE s < m_end LOOP
            s_end := CASE WHEN by_day THEN s + 1 ELSE m_end END;
            t0 := rollup.local_start(s);
            t1 := rollup.local_start(s_end);
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
            s := s_end;
        END LOOP;
        m := m_end;
    END LOOP;
END
$fn$;

RESET ROLE;
