-- Refresh bookkeeping: every refresh starts a new release (version + 1, refreshed_at, a dataset_versions row).
BEGIN;
SELECT plan(7);

CREATE TEMP TABLE v0 ON COMMIT DROP AS SELECT id, version FROM meta.datasets;

SELECT set_eq('SELECT dataset_id, version FROM meta.refresh_datasets(ARRAY[''emission-factors'', ''grid-intensity-hourly''])',
              'SELECT id, version + 1 FROM v0 WHERE id IN (''emission-factors'', ''grid-intensity-hourly'')',
              'refresh_datasets returns each dataset with its version bumped by one');
SELECT is((SELECT count(*) FROM meta.datasets d JOIN v0 USING (id)
           WHERE d.version <> v0.version + CASE WHEN id IN ('emission-factors', 'grid-intensity-hourly') THEN 1 ELSE 0 END),
          0::bigint, 'only the refreshed datasets changed version');
SELECT is((SELECT count(*) FROM meta.dataset_versions dv JOIN meta.datasets d ON d.id = dv.dataset_id
           AND d.version = dv.version WHERE d.id IN ('emission-factors', 'grid-intensity-hourly')),
          2::bigint, 'each new release is recorded in meta.dataset_versions');
SELECT ok((SELECT bool_and(refreshed_at = now()) FROM meta.datasets
           WHERE id IN ('emission-factors', 'grid-intensity-hourly')), 'refreshed_at is set');

-- A concurrent refresh of one rollup followed by the bump, as `klimaspejl refresh` does it.
SELECT lives_ok('SELECT meta.refresh_rollup(''rollup.waste_monthly'')', 'a populated rollup refreshes concurrently');
SELECT is(meta.dataset_bump('waste-district-monthly'),
          (SELECT version + 1 FROM v0 WHERE id = 'waste-district-monthly'), 'dataset_bump returns the new version');

SELECT throws_ok('SELECT * FROM meta.refresh_datasets(ARRAY[''no-such-dataset''])', '42704',
                 'unknown dataset: no-such-dataset', 'an unknown dataset is refused');

SELECT * FROM finish();
ROLLBACK;
