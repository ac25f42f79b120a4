-- The prefetch of a full rebuild (0033_release_prefetch.sql): meta.prefetch_energy asks for the partitions that hold a
-- period (a local month: its UTC month's partition, not the previous one for the first hour or two), nothing for a day
-- or a period without partitions; a whole rebuild by month asks for every data month once, in order, for the rollups
-- whose builders read the readings, and for nothing else; an incremental rebuild asks for nothing; the privileges.
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT plan(9);
SET LOCAL work_mem = '256MB';
SET LOCAL client_min_messages = warning;

-- a whole local month of the data, the last but one (complete whatever the seed's end)
CREATE TEMP TABLE mo ON COMMIT DROP AS
SELECT (upper(meta.data_months()) - interval '2 months')::date AS m;

SELECT is(meta.prefetch_energy(m, (m + interval '1 month')::date),
          pg_relation_size(format('core.energy_hourly_p%s', to_char(m, 'YYYY_MM'))::regclass) / 8192,
          'a local month: every block of its UTC month''s partition, none of the previous one''s')
FROM mo;
SELECT is(meta.prefetch_energy(m + 3, m + 4), 0::bigint, 'a local day: nothing (an incremental release reads it by BRIN)')
FROM mo;
SELECT is(meta.prefetch_energy('1990-01-01', '1990-02-01'), 0::bigint, 'a month without a partition: nothing');

-- Every full_by_month rollup whose builder reads core.energy_hourly prefetches, and no other.
SELECT is((SELECT array_agg(name ORDER BY name) FROM meta.rollups WHERE prefetch_energy),
          (SELECT array_agg(r.name ORDER BY r.name) FROM meta.rollups r
           JOIN pg_proc p ON p.oid = to_regproc(r.name || '_rows')
           WHERE r.full_by_month AND p.prosrc ~ 'core\.energy_hourly'),
          'the rollups that prefetch are the month-by-month ones whose builders read the readings');

-- The calls a whole rebuild makes, recorded by a stand-in for meta.prefetch_energy (rolled back with the test).
CREATE TEMP TABLE calls (n serial, lo date, hi date) ON COMMIT DROP;
CREATE OR REPLACE FUNCTION meta.prefetch_energy(lo date, hi date) RETURNS bigint
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO pg_temp.calls (lo, hi) VALUES (lo, hi) RETURNING 0::bigint
$$;

SELECT lives_ok($$SELECT meta.rebuild_rollup('rollup.household_daily', '-infinity', 'infinity')$$,
                'household_daily rebuilt whole, month by month');
SELECT is((SELECT array_agg(lo || '..' || hi ORDER BY n) FROM calls),
          (SELECT array_agg(g::date || '..' || (g + interval '1 month')::date ORDER BY g)
           FROM generate_series(lower(meta.data_months()), upper(meta.data_months()) - interval '1 month',
                                interval '1 month') g),
          'it asked for every data month once, in order (each before it is built)');
TRUNCATE calls;
SELECT meta.rebuild_rollup('rollup.household_monthly', '-infinity', 'infinity');
SELECT meta.rebuild_rollup('rollup.household_daily', m, (m + interval '1 month')::date) FROM mo;
SELECT is((SELECT count(*) FROM calls), 0::bigint,
          'a rollup that does not read the readings, and a month rebuilt alone, ask for nothing');

SELECT ok(NOT has_function_privilege('klima_api', 'meta.prefetch_energy(date, date)', 'EXECUTE'),
          'klima_api cannot ask for partitions');
SELECT ok(NOT has_schema_privilege('klima_api', 'prewarm', 'USAGE'), 'nor reach pg_prewarm');

SELECT * FROM finish();
ROLLBACK;
