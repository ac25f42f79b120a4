-- 0032_household_daily_hour_map — household_daily without a sort of every reading and without a time-zone
-- conversion per reading.
--
-- 0031 joined the month factors on date_trunc('month', local time of the reading): the planner, guessing 1,000 months,
-- sorted every reading of the month on that expression (567 MB on disk for 10,000 households, 7.4 M readings) and
-- merged, and converted every reading's time to local time twice. The full build took 13.5-18 s a month there.
-- Now the builder takes the period a local month at a time and looks up the month's factor once, then:
-- - readings stored in time order (as a daily feed stores them; the seed too): a local day at a time, found through the
--   BRIN index on hour_utc, grouped by household alone with the day a constant (4.2 s for that month: a day's 10,000
--   groups stay in the CPU's caches);
-- - readings stored otherwise (household by household, as a backfill or an older seed stores them — the BRIN index
--   cannot find a day, and 31 scans of the month took 21-31 s): the month in one pass, each reading joined by hash on
--   hour_utc to a materialized map of the month's hours (the hour, its local day, its published grid intensity and
--   dirtiness): 4.9-5.3 s (7.4-7.6 s on time-ordered readings, whose month of groups the hash table meets out of
--   order).
-- Which layout a month has is read from the planner's statistics: the correlation of hour_utc in each monthly partition
-- the local month touches (>= 0.9 for all of them; without statistics, the month in one pass). The same rows either
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
    d date;
    nxt date;
    f_e4 bigint;
    t0 timestamptz;
    t1 timestamptz;
    time_ordered boolean;
BEGIN
    IF NOT isfinite(lo) OR NOT isfinite(hi) THEN
        months := meta.data_months();
        IF months IS NULL THEN
            RETURN;
        END IF;
        d0 := greatest(lo, lower(months));
        d1 := least(hi, upper(months));
    END IF;
    d := d0;
    WHILE d < d1 LOOP
        nxt := least(d1, (date_trunc('month', d) + interval '1 month')::date);
        -- an hour without a published intensity takes the factor valid at the start of its local month (0005)
        f_e4 := rollup.factor_e4(rollup.factor_g('electricity', date_trunc('month', d)::date));
        t0 := rollup.local_start(d);
        t1 := rollup.local_start(nxt);
        -- readings stored in time order (as a daily feed stores them; the planner's correlation of hour_utc in every
        -- monthly partition the local month touches, at least 0.9): a local day at a time, found through the BRIN index
        -- on hour_utc and grouped by household alone; otherwise (or without statistics) the month in one pass over the
        -- hour map
        SELECT bool_and(coalesce(s.correlation, 0) >= 0.9) INTO time_ordered
        FROM generate_series(date_trunc('month', t0 AT TIME ZONE 'UTC'), t1 AT TIME ZONE 'UTC' - interval '1 hour',
                             interval '1 month') p(m)
        LEFT JOIN pg_stats s ON s.schemaname = 'core' AND s.attname = 'hour_utc'
                            AND s.tablename = 'energy_hourly_p' || to_char(p.m, 'YYYY_MM');
        IF time_ordered THEN
            WHILE d < nxt LOOP
                RETURN QUERY
                SELECT e.household_id, d AS day,
                       count(*)::integer AS hours,
                       sum(e.electricity_wh)::bigint AS electricity_wh,
                       sum(e.heat_wh)::bigint AS heat_wh,
                       sum(round(e.water_l::double precision * 1000)::bigint)::bigint AS water_ml,
                       sum(e.electricity_wh::bigint * coalesce(g.g_e4, f_e4))::bigint AS electricity_co2e_100ng,
                       coalesce(sum(e.electricity_wh) FILTER (WHERE g.dirty), 0)::bigint AS electricity_dirty_wh,
                       coalesce(sum(e.electricity_wh::bigint * g.g_e4) FILTER (WHERE g.dirty), 0)::bigint
                           AS electricity_dirty_co2e_100ng,
                       count(*) FILTER (WHERE g.hour_utc IS NULL)::integer AS hours_without_intensity
                FROM core.energy_hourly e
                LEFT JOIN rollup.grid_hours g ON g.hour_utc = e.hour_utc
                WHERE e.hour_utc >= rollup.local_start(d) AND e.hour_utc < rollup.local_start(d + 1)
                GROUP BY 1;
                d := d + 1;
            END LOOP;
            CONTINUE;
        END IF;
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
        d := nxt;
    END LOOP;
END
$fn$;

RESET ROLE;
