-- Releases: one snapshot, one transaction, versions that follow content. Core is changed (a late waste weighing of a
-- household already in its cells), then a release is asked for ONE unrelated dataset (energy-district-hourly): the
-- datasets whose rows changed (waste, footprint) get a new version, the others keep theirs.
BEGIN;
-- a release must see one snapshot of core: REPEATABLE READ, before the first query of the transaction
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT plan(14);
SET LOCAL work_mem = '256MB';

SELECT is((SELECT count(*) FROM meta.dataset_linked_sets l
           WHERE l.linked <> (SELECT array_agg(id ORDER BY id) FROM meta.datasets)),
          0::bigint, 'every dataset is linked to every other one (so a release rebuilds all of them)');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'rollup' AND (c.relkind = 'm' OR (c.relkind = 'r' AND c.relname <> 'ptable'))
             AND NOT EXISTS (SELECT 1 FROM meta.rollups r WHERE r.name = c.oid::regclass::text)),
          NULL, 'every materialized view and table in rollup is rebuilt by a release (meta.rollups)');
SELECT is((SELECT count(*) FROM meta.datasets WHERE version = 0 OR content_hash IS NULL),
          0::bigint, 'every dataset has been published with a content hash');
SELECT is((SELECT count(*) FROM meta.datasets d WHERE d.content_hash IS DISTINCT FROM meta.dataset_content_hash(d.id)),
          0::bigint, 'the recorded content hash is the hash of the rows published now');

CREATE TEMP TABLE v0 ON COMMIT DROP AS SELECT id, version, content_hash FROM meta.datasets;

-- A weighing delivered late: a household with waste in the last month with data gets 3 kg more residual waste on a
-- day it had none (its set of cells does not change, only their values).
CREATE TEMP TABLE late ON COMMIT DROP AS
    SELECT w.household_id, d::date AS day
    FROM (SELECT household_id, date_trunc('month', max(collected_on)) AS m FROM core.waste_weighings
          GROUP BY household_id ORDER BY household_id LIMIT 1) w
    CROSS JOIN LATERAL generate_series(w.m, w.m + interval '27 days', interval '1 day') d
    WHERE NOT EXISTS (SELECT 1 FROM core.waste_weighings x WHERE x.household_id = w.household_id AND x.collected_on = d::date)
    LIMIT 1;
INSERT INTO core.waste_weighings (household_id, collected_on, fraction, kg) SELECT household_id, day, 'residual', 3 FROM late;

CREATE TEMP TABLE r1 ON COMMIT DROP AS SELECT * FROM meta.release(ARRAY['energy-district-hourly']);

SELECT set_eq('SELECT dataset_id FROM r1 WHERE changed',
              'SELECT d.id FROM meta.datasets d JOIN v0 USING (id) WHERE d.content_hash <> v0.content_hash',
              'exactly the datasets whose published rows changed are reported as changed');
SELECT ok((SELECT bool_and(changed) FROM r1 WHERE dataset_id IN ('waste-district-monthly', 'footprint-district-monthly')),
          'the late weighing changed the waste and footprint datasets, though only energy-district-hourly was asked for');
SELECT is((SELECT count(*) FROM meta.datasets d JOIN v0 USING (id)
           WHERE d.version <> v0.version + CASE WHEN d.content_hash <> v0.content_hash THEN 1 ELSE 0 END),
          0::bigint, 'a changed dataset has version + 1, an unchanged one keeps its version');
SELECT ok((SELECT NOT bool_or(changed) FROM r1
           WHERE dataset_id IN ('energy-district-hourly', 'energy-district-daily', 'grid-intensity-hourly', 'emission-factors')),
          'datasets the weighing does not touch keep their version (the one asked for included)');
SELECT is((SELECT count(*) FROM meta.dataset_versions dv JOIN r1 ON r1.dataset_id = dv.dataset_id AND r1.version = dv.version
           WHERE r1.changed AND dv.release_id = (SELECT max(release_id) FROM meta.releases)
             AND dv.content_hash = (SELECT content_hash FROM meta.datasets WHERE id = r1.dataset_id)),
          (SELECT count(*) FROM r1 WHERE changed), 'each new version is recorded with its release and content hash');
SELECT is((SELECT changed FROM meta.releases ORDER BY release_id DESC LIMIT 1),
          (SELECT array_agg(dataset_id ORDER BY dataset_id) FROM r1 WHERE changed),
          'the release records what it changed');
SELECT ok((SELECT bool_and(refreshed_at = now()) FROM meta.datasets d JOIN r1 ON r1.dataset_id = d.id WHERE r1.changed),
          'refreshed_at of a new version is the time of the release''s snapshot');

-- the published waste cell of that household's district-month now holds 3 kg more (its rollup was rebuilt)
SELECT is((SELECT round(sum(w.kg::numeric), 3) FROM core.waste_weighings w JOIN core.households h USING (household_id)
           WHERE h.district_id = (SELECT district_id FROM core.households WHERE household_id = (SELECT household_id FROM late))
             AND w.fraction = 'residual' AND date_trunc('month', w.collected_on) = date_trunc('month', (SELECT day FROM late))),
          (SELECT round(r.v_sum::numeric, 3) FROM rollup.waste_monthly r, late
           WHERE r.fraction = 'residual' AND r.month = date_trunc('month', late.day)::date
             AND r.district_id = (SELECT district_id FROM core.households WHERE household_id = late.household_id)),
          'the rebuilt cell holds the late weighing');

SELECT throws_ok('SELECT meta.release_begin(ARRAY[''no-such-dataset''])', '42704', 'unknown dataset: no-such-dataset',
                 'an unknown dataset is refused');
SELECT ok(has_function_privilege('klima_api', 'meta.release(text[], boolean)', 'EXECUTE') = false
          AND NOT has_table_privilege('klima_api', 'meta.rollups', 'SELECT'), 'klima_api can neither release nor read the bookkeeping');

SELECT * FROM finish();
ROLLBACK;
