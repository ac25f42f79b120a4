-- household_daily's builder (0032) returns the rows 0005 defined — each reading grouped on its own local day, CO2e
-- weighted by the hour's published grid intensity or, without one, by the factor of the reading's local month — over
-- both ways it works: a local day at a time when the readings are stored in time order (as seeded), the month in one
-- pass over an hour map when they are not (rewritten here household by household). Checked for the month of the
-- autumn DST change (a 25-hour day) and the last month with a new day without grid intensity; every reading is
-- counted once; an unbounded period is bounded by the months with data. The comparison is shown to fail on a wrong day.
BEGIN;
SELECT plan(16);
SET LOCAL work_mem = '256MB';
SET LOCAL hash_mem_multiplier = 4;

-- 0005's definition, reading by reading (zone: the local time the day is taken in; only 'Europe/Copenhagen' is right)
CREATE FUNCTION pg_temp.ref(lo date, hi date, zone text DEFAULT 'Europe/Copenhagen')
RETURNS TABLE (household_id uuid, day date, hours integer, electricity_wh bigint, heat_wh bigint, water_ml bigint,
               electricity_co2e_100ng bigint, electricity_dirty_wh bigint, electricity_dirty_co2e_100ng bigint,
               hours_without_intensity integer)
LANGUAGE sql STABLE AS $$
    SELECT e.household_id, (e.hour_utc AT TIME ZONE zone)::date, count(*)::integer, sum(e.electricity_wh)::bigint,
           sum(e.heat_wh)::bigint, sum(round(e.water_l::double precision * 1000)::bigint)::bigint,
           sum(e.electricity_wh::bigint * coalesce(g.g_e4, rollup.factor_e4(rollup.factor_g('electricity',
               date_trunc('month', e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date))))::bigint,
           coalesce(sum(e.electricity_wh) FILTER (WHERE g.dirty), 0)::bigint,
           coalesce(sum(e.electricity_wh::bigint * g.g_e4) FILTER (WHERE g.dirty), 0)::bigint,
           count(*) FILTER (WHERE g.hour_utc IS NULL)::integer
    FROM core.energy_hourly e LEFT JOIN rollup.grid_hours g ON g.hour_utc = e.hour_utc
    WHERE e.hour_utc >= rollup.local_start(lo) AND e.hour_utc < rollup.local_start(hi)
    GROUP BY 1, 2
$$;
-- rows of the builder and of the reference that the other lacks, for the local month starting at mon
CREATE FUNCTION pg_temp.diff(mon date, zone text DEFAULT 'Europe/Copenhagen') RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM (
        (SELECT * FROM rollup.household_daily_rows(mon, (mon + interval '1 month')::date)
         EXCEPT ALL SELECT * FROM pg_temp.ref(mon, (mon + interval '1 month')::date, zone))
        UNION ALL
        (SELECT * FROM pg_temp.ref(mon, (mon + interval '1 month')::date, zone)
         EXCEPT ALL SELECT * FROM rollup.household_daily_rows(mon, (mon + interval '1 month')::date))) x
$$;
-- whether every monthly partition the local month starting at mon touches is stored in time order (0032's test)
CREATE FUNCTION pg_temp.time_ordered(mon date) RETURNS boolean LANGUAGE sql AS $$
    SELECT bool_and(coalesce(s.correlation, 0) >= 0.9)
    FROM generate_series(date_trunc('month', rollup.local_start(mon) AT TIME ZONE 'UTC'),
                         rollup.local_start((mon + interval '1 month')::date) AT TIME ZONE 'UTC' - interval '1 hour',
                         interval '1 month') p(m)
    LEFT JOIN pg_stats s ON s.schemaname = 'core' AND s.attname = 'hour_utc'
                        AND s.tablename = 'energy_hourly_p' || to_char(p.m, 'YYYY_MM')
$$;
-- stores the readings of the local month starting at mon again, household by household, and analyzes their partitions
CREATE FUNCTION pg_temp.household_order(mon date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p text;
BEGIN
    CREATE TEMP TABLE moved ON COMMIT DROP AS
        WITH d AS (DELETE FROM core.energy_hourly
                   WHERE hour_utc >= rollup.local_start(mon) AND hour_utc < rollup.local_start((mon + interval '1 month')::date)
                   RETURNING *)
        SELECT * FROM d;
    INSERT INTO core.energy_hourly SELECT * FROM moved ORDER BY household_id, hour_utc;
    DROP TABLE moved;
    FOR p IN SELECT DISTINCT 'core.energy_hourly_p' || to_char(date_trunc('month', m AT TIME ZONE 'UTC'), 'YYYY_MM')
             FROM generate_series(rollup.local_start(mon), rollup.local_start((mon + interval '1 month')::date)
                                  - interval '1 hour', interval '1 day') m LOOP
        EXECUTE format('ANALYZE %s', p);
    END LOOP;
END
$$;

-- the months: the last local October with data (the 25-hour day) and the last month, given a new day without grid
-- intensity (the factor's path)
CREATE TEMP TABLE fx ON COMMIT DROP AS
    SELECT max(hour_utc) AS last_hour,
           -- the October of the year ten months before the last reading: whole, and the latest that is
           make_date(extract(year FROM (max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '10 months')::int, 10, 1) AS october,
           NULL::date AS last_month
    FROM core.energy_hourly;
SELECT is((SELECT extract(month FROM october)::int FROM fx), 10, 'the test takes an October');
SELECT ok((SELECT min(hour_utc) FROM core.energy_hourly) < (SELECT rollup.local_start(october) FROM fx),
          'the test database holds that whole October');

-- first the unbounded period, against what the test database's release built
SELECT is((SELECT count(*) FROM (
              (SELECT * FROM rollup.household_daily_rows((SELECT october FROM fx), 'infinity')
               EXCEPT ALL SELECT * FROM rollup.household_daily WHERE day >= (SELECT october FROM fx))
              UNION ALL
              (SELECT * FROM rollup.household_daily WHERE day >= (SELECT october FROM fx)
               EXCEPT ALL SELECT * FROM rollup.household_daily_rows((SELECT october FROM fx), 'infinity'))) x),
          0::bigint, 'from October to infinity: the rows the release built (the end bounded by the months with data)');

SELECT core.ensure_energy_partitions((SELECT last_hour FROM fx) + interval '1 hour', (SELECT last_hour FROM fx) + interval '24 hours');
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT h.household_id, fx.last_hour + make_interval(hours => i), 150 + (i * 37) % 400, 1800 + (i * 53) % 900, (i % 7)::real
    FROM core.households h, fx, generate_series(1, 24) i;
UPDATE fx SET last_month = date_trunc('month', (last_hour + interval '24 hours') AT TIME ZONE 'Europe/Copenhagen')::date;
ANALYZE core.energy_hourly;

-- readings from October to the end of the last month that the builder's hours do not count (or count twice)
CREATE FUNCTION pg_temp.uncounted() RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM core.energy_hourly, fx
            WHERE hour_utc >= rollup.local_start(october) AND hour_utc < rollup.local_start(last_month + 31))
           - (SELECT sum(hours) FROM fx, rollup.household_daily_rows(october, last_month + 31))
$$;

-- time order, a day at a time
SELECT ok((SELECT pg_temp.time_ordered(october) AND pg_temp.time_ordered(last_month) FROM fx),
          'the seeded readings are stored in time order: the builder takes a day at a time');
SELECT is((SELECT pg_temp.diff(october) FROM fx), 0::bigint, 'October, a day at a time: the rows 0005 defines');
SELECT is((SELECT pg_temp.diff(last_month) FROM fx), 0::bigint, 'the last month, a day at a time: the rows 0005 defines');
SELECT is((SELECT array_agg(DISTINCT hours) FROM rollup.household_daily_rows((SELECT october FROM fx), (SELECT october + 31 FROM fx))
           WHERE day = (SELECT (date_trunc('week', (october + 31)::timestamp) - interval '1 day')::date FROM fx)),
          ARRAY[25], 'the last Sunday of October has 25 hours');
SELECT is((SELECT sum(hours_without_intensity) FROM rollup.household_daily_rows((SELECT last_month FROM fx), 'infinity')),
          (SELECT 24 * count(*) FROM core.households),
          'the new day has no grid intensity: the month''s factor weighs its 24 hours of every household');
SELECT is(pg_temp.uncounted(), 0::bigint, 'every reading from October to the new day counted once');
SELECT isnt((SELECT pg_temp.diff(october, 'UTC') FROM fx), 0::bigint,
            'the comparison fails when the day is taken in UTC instead of local time');

-- household order, the month in one pass
SELECT pg_temp.household_order(october) FROM fx;
SELECT pg_temp.household_order(last_month) FROM fx;
SELECT ok((SELECT NOT pg_temp.time_ordered(october) AND NOT pg_temp.time_ordered(last_month) FROM fx),
          'readings stored household by household: the builder takes the month in one pass');
SELECT is((SELECT pg_temp.diff(october) FROM fx), 0::bigint, 'October, in one pass: the rows 0005 defines');
SELECT is((SELECT pg_temp.diff(last_month) FROM fx), 0::bigint, 'the last month, in one pass: the rows 0005 defines');
SELECT is(pg_temp.uncounted(), 0::bigint, 'every reading from October to the new day counted once');
SELECT isnt((SELECT pg_temp.diff(october, 'UTC') FROM fx), 0::bigint,
            'the comparison fails when the day is taken in UTC instead of local time');
-- a reading off the hour (ingest refuses them) is not dropped unseen: it finds no hour in the map and has no day
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT (SELECT household_id FROM core.households ORDER BY household_id LIMIT 1), rollup.local_start(october + 3) + interval '30 minutes', 100, 100, 1
    FROM fx;
SELECT is((SELECT count(*) FROM rollup.household_daily_rows((SELECT october FROM fx), (SELECT october + 31 FROM fx)) WHERE day IS NULL),
          1::bigint, 'a reading off the hour comes out without a day (household_daily''s key refuses it)');

SELECT * FROM finish();
ROLLBACK;
