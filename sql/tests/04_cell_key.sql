-- The Cell Key Method (sql/migrations/0004_disclosure_control.sql): secret record keys, the perturbation tables, and
-- the properties a release must keep — the same households give the same noise in every table and release, an added
-- household changes the cell key, a corrected value gets fresh noise while an unchanged one keeps its noise, the noise
-- stays within the documented bound, the utility target holds on cells of at least 100 households, and switching the
-- noise off publishes the exact (rounded) values and says so in the catalog.
BEGIN;
-- releases below must see one snapshot of core
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT plan(27);
SET LOCAL work_mem = '256MB';
SET LOCAL TimeZone = 'UTC';

\ir helpers.psql

-- keys
SELECT is(pg_temp.as_api('SELECT * FROM core.record_keys LIMIT 1'), 'denied', 'klima_api cannot read the record keys');
SELECT ok(NOT has_table_privilege('klima_ingest', 'core.record_keys', 'SELECT, INSERT, UPDATE'),
          'klima_ingest cannot read or write the record keys');
SELECT is(pg_temp.as_api('SELECT * FROM rollup.ptable LIMIT 1'), 'denied', 'klima_api cannot read the perturbation table');
SELECT is((SELECT count(*) FROM core.households h
           WHERE NOT EXISTS (SELECT 1 FROM core.record_keys k WHERE k.household_id = h.household_id)),
          0::bigint, 'every household has record keys');

-- a household inserted, deleted and inserted again with the same id gets new keys: they come from a random source,
-- not from the id or any other public data
INSERT INTO core.households VALUES ('00000000-0000-4000-8000-00000000c001', 1, 'apartment', '1', 50);
CREATE TEMP TABLE k1 ON COMMIT DROP AS SELECT * FROM core.record_keys WHERE household_id = '00000000-0000-4000-8000-00000000c001';
DELETE FROM core.households WHERE household_id = '00000000-0000-4000-8000-00000000c001';
INSERT INTO core.households VALUES ('00000000-0000-4000-8000-00000000c001', 1, 'apartment', '1', 50);
SELECT ok((SELECT (k.count_key, k.k0, k.k1) IS DISTINCT FROM (k1.count_key, k1.k0, k1.k1)
           FROM core.record_keys k, k1 WHERE k.household_id = k1.household_id),
          'keys are drawn at random when a household is inserted (the same id gets new keys)');
DELETE FROM core.households WHERE household_id = '00000000-0000-4000-8000-00000000c001';

-- the perturbation tables: mean 0, the variance V, never beyond D
SELECT ok((SELECT abs(avg(noise)) < 1e-9 AND abs(avg(noise * noise) - dc.count_v) < 0.01 AND max(abs(noise)) = dc.count_d
                  AND bool_and(noise = round(noise))
           FROM rollup.ptable, meta.disclosure_control dc WHERE kind = 'count' GROUP BY dc.count_v, dc.count_d),
          'count table: integers, mean 0, variance V, maximum deviation D');
SELECT ok((SELECT abs(avg(noise)) < 1e-9 AND abs(avg(noise * noise) - dc.magnitude_v) < 0.01
                  AND max(abs(noise)) <= dc.magnitude_d
           FROM rollup.ptable, meta.disclosure_control dc WHERE kind = 'magnitude' GROUP BY dc.magnitude_v, dc.magnitude_d),
          'magnitude table: mean 0, variance V, |u| <= D');

-- the noise is on by default and applied
SELECT ok((SELECT cell_key_enabled FROM meta.disclosure_control), 'the cell-key noise is on by default');
SELECT ok((SELECT count(*) FILTER (WHERE published::float8 <> round(true_value::numeric, 3)::float8) > 0.9 * count(*)
           FROM rollup.cell_measures WHERE NOT suppressed AND measure IN ('electricity_kwh', 'co2e_kg', 'kg')),
          'published magnitudes carry noise');

-- the same households give the same count noise in every table: a district-month's electricity, district heating
-- and water footprint cells have the same households (those with energy data)
SELECT is((SELECT count(*) FROM (SELECT month, district_id FROM api.footprint_district_monthly
                                 WHERE category IN ('electricity', 'district_heating', 'water') AND NOT suppressed
                                 GROUP BY 1, 2 HAVING count(DISTINCT n_households) > 1) x),
          0::bigint, 'cells with the same households have the same perturbed count in every table');

-- the published values of release 0
CREATE TEMP TABLE r0 ON COMMIT DROP AS SELECT * FROM rollup.cell_measures;
CREATE TEMP TABLE keys0 ON COMMIT DROP AS
    SELECT district_id, hour_utc, n_key, e_key, q_key FROM rollup.district_hourly;

-- the day and districts the changes touch
CREATE TEMP TABLE fx ON COMMIT DROP AS
    SELECT d::date AS day, d AT TIME ZONE 'Europe/Copenhagen' AS day_start,
           (d + interval '12 hours') AT TIME ZONE 'Europe/Copenhagen' AS noon,
           (SELECT household_id FROM core.households WHERE district_id = 2 ORDER BY household_id LIMIT 1) AS corrected
    FROM (SELECT date_trunc('day', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '2 days' AS d
          FROM core.energy_hourly) x;
-- (a) a household added in district 1 with one day of readings
INSERT INTO core.households VALUES ('00000000-0000-4000-8000-00000000a001', 1, 'apartment', '2', 70);
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT '00000000-0000-4000-8000-00000000a001', fx.day_start + make_interval(hours => i), 200, 900, 3
    FROM fx, generate_series(0, 23) i;
-- (b) a corrected reading of a household already in its cells (district 2): electricity of one hour + 1 kWh
UPDATE core.energy_hourly e SET electricity_wh = e.electricity_wh + 1000
FROM fx WHERE e.household_id = fx.corrected AND e.hour_utc = fx.noon;
-- (c) a district of 150 households, so that cells of at least 100 households exist for the utility target
INSERT INTO core.districts VALUES (99, 'Testby', 'Test town', 55.6, 12.5);
SELECT setseed(0.42);
INSERT INTO core.households
    SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 99, 'apartment', '2', 70
    FROM generate_series(1, 150) i;
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, fx.day_start + make_interval(hours => h),
           (150 + 500 * random())::integer, (600 + 2000 * random())::integer, (20 * random())::real
    FROM fx, generate_series(1, 150) i, generate_series(0, 47) h;

CREATE TEMP TABLE rel1 ON COMMIT DROP AS SELECT * FROM meta.release();

-- (a) the added household changed the keys of its cells, and so their noise
SELECT is((SELECT count(*) FROM rollup.district_hourly r JOIN keys0 k USING (district_id, hour_utc), fx
           WHERE r.district_id = 1 AND (r.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date = fx.day
             AND r.n_key <> k.n_key AND r.e_key <> k.e_key),
          (SELECT count(*) FROM keys0, fx WHERE district_id = 1 AND (hour_utc AT TIME ZONE 'Europe/Copenhagen')::date = fx.day),
          'an added household changes the count and magnitude keys of every cell it joins');
SELECT ok((SELECT count(*) FILTER (WHERE (a.published::float8 - a.true_value) <> (b.published::float8 - b.true_value))
                  >= 0.9 * count(*)
           FROM rollup.cell_measures a JOIN r0 b USING (dataset, cell, measure), fx
           WHERE a.dataset = 'energy-district-hourly' AND a.measure = 'electricity_wh' AND a.cell LIKE '1|' || fx.day || ' %'
             AND NOT a.suppressed AND NOT b.suppressed),
          'and new noise');
-- (b) the corrected reading: same households, so the same count noise; a new value, so fresh magnitude noise for
-- electricity (and the unchanged heat keeps its noise)
SELECT ok((SELECT r.n_key = k.n_key AND r.e_key <> k.e_key AND r.q_key = k.q_key
           FROM rollup.district_hourly r JOIN keys0 k USING (district_id, hour_utc), fx
           WHERE r.district_id = 2 AND r.hour_utc = fx.noon),
          'a corrected value changes only the magnitude key of its measure');
SELECT is((SELECT count(*) FROM rollup.cell_measures a JOIN r0 b USING (dataset, cell, measure), fx
           WHERE NOT a.suppressed AND NOT b.suppressed AND a.measure = 'n_households'
             AND ((a.dataset = 'energy-district-hourly' AND a.cell = '2|' || fx.noon)
                  OR (a.dataset = 'energy-district-daily' AND a.cell = '2|' || fx.day))
             AND a.published::float8 - a.true_value <> b.published::float8 - b.true_value),
          0::bigint, 'the corrected cells keep their count noise');
SELECT ok((SELECT count(*) FROM rollup.cell_measures a JOIN r0 b USING (dataset, cell, measure), fx
           WHERE NOT a.suppressed AND NOT b.suppressed
             AND ((a.dataset = 'energy-district-hourly' AND a.cell = '2|' || fx.noon AND a.measure = 'electricity_wh')
                  OR (a.dataset = 'energy-district-daily' AND a.cell = '2|' || fx.day AND a.measure = 'electricity_kwh')
                  OR (a.dataset = 'footprint-district-monthly' AND a.cell = date_trunc('month', fx.day)::date || '|2|electricity'))
             AND (a.published::float8 - a.true_value) <> (b.published::float8 - b.true_value)) >= 2,
          'the corrected cells get fresh magnitude noise (the correction is not the difference of the releases)');
SELECT is((SELECT count(*) FROM rollup.cell_measures a JOIN r0 b USING (dataset, cell, measure), fx
           WHERE a.dataset = 'energy-district-hourly' AND a.cell = '2|' || fx.noon AND a.measure IN ('heat_wh', 'water_l')
             AND a.published IS DISTINCT FROM b.published),
          0::bigint, 'its unchanged measures keep their published values');
-- cells no change touched keep exactly their published values: the same households, the same noise
SELECT is((SELECT count(*) FROM rollup.cell_measures a JOIN r0 b USING (dataset, cell, measure)
           WHERE a.dataset IN ('energy-district-hourly', 'energy-district-daily', 'waste-district-monthly',
                               'mobility-district-monthly')
             AND split_part(a.cell, '|', CASE WHEN a.dataset LIKE 'energy%' THEN 1 ELSE 2 END) NOT IN ('1', '2', '99')
             AND a.published IS DISTINCT FROM b.published),
          0::bigint, 'unchanged cells keep their noise from release to release');
SELECT ok((SELECT count(*) FROM rollup.cell_measures a JOIN r0 b USING (dataset, cell, measure)
           WHERE a.dataset = 'energy-district-hourly' AND split_part(a.cell, '|', 1) NOT IN ('1', '2', '99')) > 1000,
          '(many cells compared)');

-- the bound: |published - true| <= D for counts, <= m * D * largest contribution for magnitudes (+ rounding)
SELECT is((SELECT count(*) FROM rollup.cell_measures c JOIN meta.dataset_columns col
           ON col.dataset_id = c.dataset AND col.name = c.measure
           WHERE NOT c.suppressed
             AND abs(c.published::float8 - c.true_value) > c.bound + 0.5 * power(10, -coalesce(col.scale, 0)) + 1e-9 * c.true_value),
          0::bigint, 'every published value lies within the documented noise bound');
SELECT ok((SELECT max(abs(published::float8 - true_value) / bound) > 0.5 FROM rollup.cell_measures
           WHERE NOT suppressed AND measure = 'electricity_wh' AND bound > 0),
          'the noise uses its range (some cell is perturbed by more than half its bound)');

-- utility on cells of at least 100 households (the 150-household district)
SELECT ok((SELECT count(*) FROM rollup.cell_measures WHERE n >= 100 AND NOT suppressed) >= 50,
          'cells of at least 100 households exist');
SELECT cmp_ok((SELECT 100 * avg(abs(published::float8 - true_value) / true_value) FROM rollup.cell_measures
               WHERE n >= 100 AND NOT suppressed AND true_value > 0),
              '<=', 1.0::float8, 'mean absolute relative deviation of cells with >= 100 households is at most 1 %');
SELECT ok((SELECT mard_pct_cells_ge_100 <= 1 AND cells_ge_100 > 0 AND cell_key_enabled
           FROM meta.dataset_versions v JOIN meta.datasets d ON d.id = v.dataset_id AND d.version = v.version
           WHERE d.id = 'energy-district-hourly'),
          'the release records the utility it measured');

-- switched off: the exact values (rounded), and the catalog says so
UPDATE meta.disclosure_control SET cell_key_enabled = false;
CREATE TEMP TABLE rel2 ON COMMIT DROP AS SELECT * FROM meta.release();
SELECT is((SELECT count(*) FROM rollup.cell_measures c JOIN meta.dataset_columns col
           ON col.dataset_id = c.dataset AND col.name = c.measure
           WHERE NOT c.suppressed AND c.published <> round(c.true_value::numeric, coalesce(col.scale, 0))),
          0::bigint, 'with the noise off every published value is the true value, rounded');
SELECT ok((SELECT bool_and(changed) FROM rel2 WHERE dataset_id IN (SELECT id FROM meta.datasets WHERE personal)),
          'switching the noise off is a new version of every household dataset');
SELECT is((SELECT count(*) FROM meta.catalog c JOIN meta.datasets d USING (id)
           WHERE d.personal AND (c.entry -> 'disclosure_control' ->> 'enabled')::boolean),
          0::bigint, 'the catalog says the noise is off');
SELECT is((SELECT count(*) FROM meta.catalog c JOIN meta.datasets d USING (id)
           WHERE NOT d.personal AND c.entry -> 'disclosure_control' <> 'null'::jsonb),
          0::bigint, 'datasets without household data have no disclosure control entry');

SELECT * FROM finish();
ROLLBACK;
