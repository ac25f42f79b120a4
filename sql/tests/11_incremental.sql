-- Incremental releases: a release rebuilds only the local days and months whose data changed since the last release,
-- and what it builds is exactly what a full rebuild builds. Core is changed in several ways (a day of readings
-- erased, a reading corrected, a new day for every household, a late waste weighing, a corrected trip, a grid hour),
-- a release rebuilds what changed, then a full release (full_rebuild => true) rebuilds everything: every rollup row
-- must be the same and no dataset may get a new version. Then: nothing pending rebuilds nothing; a household moved to
-- another district, new disclosure parameters and `full_rebuild` each rebuild everything, with the reason recorded.
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT plan(21);
SET LOCAL work_mem = '256MB';

\ir helpers.psql

SELECT is((SELECT count(*) FROM meta.pending_changes), 0::bigint, 'the test database''s release took every noted change');
SELECT is((SELECT array_agg(name::text ORDER BY name) FROM meta.rollups r
           WHERE r.period IS NOT NULL AND to_regprocedure(r.name || '_rows(date, date)') IS NULL),
          NULL, 'every table rollup has its builder rollup.<name>_rows(lo, hi)');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'rollup' AND c.relkind = 'r' AND c.relname <> 'ptable'
             AND NOT EXISTS (SELECT 1 FROM meta.rollups r WHERE r.name = c.oid::regclass::text AND r.period IS NOT NULL)),
          NULL, 'every table in rollup (but the perturbation table) is rebuilt by periods');

-- the changes
CREATE TEMP TABLE fx ON COMMIT DROP AS
    SELECT (SELECT max(hour_utc) FROM core.energy_hourly) AS last_hour,
           (SELECT household_id FROM core.households ORDER BY household_id LIMIT 1) AS h1,
           (SELECT household_id FROM core.households ORDER BY household_id OFFSET 1 LIMIT 1) AS h2,
           '2026-03-10'::date AS erased_day, '2026-05-20 12:00+00'::timestamptz AS corrected_hour,
           '2026-07-15 18:00+00'::timestamptz AS grid_hour;
UPDATE fx SET erased_day = (SELECT (min(hour_utc) AT TIME ZONE 'Europe/Copenhagen')::date + 40 FROM core.energy_hourly),
              corrected_hour = (SELECT min(hour_utc) + interval '100 days 12 hours' FROM core.energy_hourly),
              grid_hour = (SELECT min(hour_utc) + interval '200 days 18 hours' FROM core.energy_hourly);
-- (a) a day of one household erased, (b) one reading of another corrected, (c) a new day for every household
DELETE FROM core.energy_hourly e USING fx
WHERE e.household_id = fx.h1 AND e.hour_utc >= rollup.local_start(fx.erased_day) AND e.hour_utc < rollup.local_start(fx.erased_day + 1);
UPDATE core.energy_hourly e SET electricity_wh = e.electricity_wh + 5000 FROM fx
WHERE e.household_id = fx.h2 AND e.hour_utc = fx.corrected_hour;
SELECT core.ensure_energy_partitions((SELECT last_hour FROM fx) + interval '1 hour', (SELECT last_hour FROM fx) + interval '24 hours');
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT h.household_id, fx.last_hour + make_interval(hours => i), 150 + (i * 37) % 400, 1800 + (i * 53) % 900, (i % 7)::real
    FROM core.households h, fx, generate_series(1, 24) i;
-- (d) a late waste weighing, (e) a corrected trip, (f) a grid hour
INSERT INTO core.waste_weighings (household_id, collected_on, fraction, kg)
    SELECT fx.h1, fx.erased_day - 5, 'hazardous', 2.5 FROM fx
    ON CONFLICT (household_id, collected_on, fraction) DO UPDATE SET kg = core.waste_weighings.kg + 2.5;
UPDATE core.mobility_daily m SET km = m.km + 10
WHERE (m.household_id, m.day, m.mode) = (SELECT household_id, day, mode FROM core.mobility_daily ORDER BY day DESC, household_id, mode LIMIT 1);
UPDATE core.grid_intensity_hourly g SET g_per_kwh = g.g_per_kwh + 50 FROM fx WHERE g.hour_utc = fx.grid_hour;

SELECT is((SELECT array_agg(DISTINCT source ORDER BY source) FROM meta.pending_changes),
          ARRAY['energy', 'grid', 'mobility', 'waste'], 'each change was noted under its source');
SELECT ok((SELECT days @> (SELECT erased_day FROM fx) FROM meta.pending_changes WHERE what = 'DELETE core.energy_hourly'),
          'a deleted day is noted by its local day');

-- rows the release writes have this transaction's id: untouched periods keep their rows
CREATE TEMP TABLE hd0 ON COMMIT DROP AS SELECT day, count(*) AS n FROM rollup.household_daily GROUP BY day;
CREATE TEMP TABLE r1 ON COMMIT DROP AS SELECT * FROM meta.release();
CREATE TEMP TABLE rel1 ON COMMIT DROP AS SELECT * FROM meta.releases ORDER BY release_id DESC LIMIT 1;

SELECT is((SELECT full_rebuild FROM rel1), false, 'the release rebuilt what changed, not everything');
SELECT is((SELECT days FROM rel1),
          (SELECT datemultirange(daterange(erased_day, erased_day + 1),
                                 daterange((corrected_hour AT TIME ZONE 'Europe/Copenhagen')::date,
                                           (corrected_hour AT TIME ZONE 'Europe/Copenhagen')::date + 1),
                                 rollup.month_range(daterange((grid_hour AT TIME ZONE 'Europe/Copenhagen')::date,
                                                              (grid_hour AT TIME ZONE 'Europe/Copenhagen')::date + 1)),
                                 daterange(((last_hour + interval '1 hour') AT TIME ZONE 'Europe/Copenhagen')::date,
                                           ((last_hour + interval '24 hours') AT TIME ZONE 'Europe/Copenhagen')::date + 1))
           FROM fx),
          'its local days: the erased day, the corrected day, the new day(s) and the whole month of the grid hour');
SELECT ok((SELECT bool_and(rollup.month_range(u) <@ r.months) FROM rel1 r, unnest(r.days) u)
          AND (SELECT r.months @> (erased_day - 5) FROM rel1 r, fx)
          AND (SELECT r.months @> (SELECT max(day) FROM core.mobility_daily) FROM rel1 r),
          'its months: those of its days, the late weighing and the corrected trip');
SELECT is((SELECT count(*) FROM rollup.household_daily d, rel1 WHERE d.xmin = xid(pg_current_xact_id()) AND NOT rel1.days @> d.day),
          0::bigint, 'household_daily: no row outside the release''s days was rewritten');
SELECT is((SELECT count(*) FROM rollup.household_daily d, rel1 WHERE d.xmin <> xid(pg_current_xact_id()) AND rel1.days @> d.day),
          0::bigint, 'household_daily: every row of its days was');
SELECT is((SELECT count(*) FROM rollup.district_hourly d, rel1
           WHERE d.xmin = xid(pg_current_xact_id()) AND NOT rel1.days @> (d.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date)
          + (SELECT count(*) FROM rollup.footprint_monthly d, rel1 WHERE d.xmin = xid(pg_current_xact_id()) AND NOT rel1.months @> d.month),
          0::bigint, 'district_hourly and footprint_monthly: only rows of the release''s days and months were rewritten');
SELECT ok((SELECT count(*) FROM hd0) > 300 AND (SELECT count(*) FROM rollup.household_daily d WHERE d.xmin <> xid(pg_current_xact_id())) > 100000,
          '(most of the rollup stayed as it was)');
SELECT ok((SELECT bool_and(changed) FROM r1 WHERE dataset_id IN ('energy-district-hourly', 'energy-district-daily',
                                                                  'footprint-district-monthly', 'grid-intensity-hourly')),
          'the datasets whose rows changed have new versions');

-- the same rows as a full rebuild, and no version changes
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT name FROM meta.rollups WHERE period IS NOT NULL LOOP
        EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM %s', 'inc_' || split_part(t, '.', 2), t);
    END LOOP;
END
$$;
CREATE TEMP TABLE r2 ON COMMIT DROP AS SELECT * FROM meta.release(NULL, true);
SELECT is((SELECT full_rebuild AND full_reason = 'asked for' FROM meta.releases ORDER BY release_id DESC LIMIT 1), true,
          'full_rebuild => true rebuilds everything');
SELECT is((SELECT string_agg(name || ': ' || pg_temp.rollup_diff(name::regclass, ('inc_' || split_part(name, '.', 2))::regclass), ', ')
           FROM meta.rollups WHERE period IS NOT NULL
             AND pg_temp.rollup_diff(name::regclass, ('inc_' || split_part(name, '.', 2))::regclass) > 0),
          NULL, 'every rollup row the incremental release built is the row the full rebuild builds');
SELECT is((SELECT count(*) FROM r2 WHERE changed), 0::bigint, 'and the full rebuild changes no dataset''s version');

-- nothing pending: nothing rebuilt, nothing changed
CREATE TEMP TABLE r3 ON COMMIT DROP AS SELECT * FROM meta.release();
SELECT is((SELECT (NOT full_rebuild AND isempty(days) AND isempty(months))::text FROM meta.releases ORDER BY release_id DESC LIMIT 1),
          'true', 'with nothing noted a release rebuilds nothing');
SELECT is((SELECT count(*) FROM r3 WHERE changed), 0::bigint, '... and changes no version');

-- a household moved to another district: everything
UPDATE core.households SET district_id = CASE district_id WHEN 1 THEN 2 ELSE 1 END
WHERE household_id = (SELECT h2 FROM fx);
CREATE TEMP TABLE r4 ON COMMIT DROP AS SELECT * FROM meta.release();
SELECT is((SELECT full_rebuild::text || ' ' || full_reason FROM meta.releases ORDER BY release_id DESC LIMIT 1),
          'true UPDATE core.households', 'a household moved to another district rebuilds everything');
-- new disclosure parameters: everything
UPDATE meta.disclosure_control SET magnitude_m = 0.45;
CREATE TEMP TABLE r5 ON COMMIT DROP AS SELECT * FROM meta.release();
SELECT is((SELECT full_rebuild FROM meta.releases ORDER BY release_id DESC LIMIT 1), true,
          'new disclosure parameters rebuild everything');
SELECT ok((SELECT bool_and(changed) FROM r5 WHERE dataset_id IN (SELECT id FROM meta.datasets WHERE personal)),
          '... and every household dataset gets a new version');

SELECT * FROM finish();
ROLLBACK;
