-- The shared rate-limit buckets (0026): what two workers report adds up, tokens given back come off, a bucket nobody
-- holds gets no row from a give-back, the other workers' buckets come back since a time, every sync ends with its time,
-- malformed batches are refused whole; klima_api may sync but cannot read the table.
BEGIN;
SELECT plan(12);
\ir helpers.psql

-- policy 250 and keys far from the server's own, so that a running server's rows never meet these
SELECT cmp_ok((SELECT level FROM api.rate_sync('{250}', '{-7001}', '{3}', '{0.001}', NULL) WHERE key = -7001), '>=', 2.99::float8,
              'a first report: the level is what was taken');
SELECT cmp_ok((SELECT level FROM api.rate_sync('{250}', '{-7001}', '{2}', '{0.001}', NULL) WHERE key = -7001), '>=', 4.99::float8,
              'a second worker''s report adds to it');
SELECT ok((SELECT level FROM api.rate_sync('{250}', '{-7001}', '{-1}', '{0.001}', NULL) WHERE key = -7001) BETWEEN 3.99 AND 4.0,
          'a token given back comes off');
SELECT ok((SELECT level FROM api.rate_sync('{250}', '{-7001}', '{-9}', '{0.001}', NULL) WHERE key = -7001) = 0,
          'never below zero');
SELECT is((SELECT level FROM api.rate_sync('{250}', '{-7002}', '{-1}', '{0.001}', NULL) WHERE key = -7002), 0::float8,
          'a give-back to a bucket nobody holds: level 0');
SELECT is((SELECT count(*) FROM meta.rate_levels WHERE policy = 250 AND key = -7002), 0::bigint, '... and no row for it');
SELECT lives_ok($$SELECT * FROM api.rate_sync('{250}', '{-7001}', '{2}', '{0.001}', NULL)$$, 'taken again');
SELECT is((SELECT count(*) FROM api.rate_sync('{}', '{}', '{}', '{}', now() - interval '1 minute') WHERE key = -7001), 1::bigint,
          'a sync that reports nothing gets back the buckets others changed since');
SELECT is((SELECT count(*) FROM api.rate_sync('{}', '{}', '{}', '{}', NULL) WHERE policy IS NULL AND synced_at IS NOT NULL), 1::bigint,
          'every sync ends with one row of its time');
SELECT throws_ok($$SELECT * FROM api.rate_sync('{250,250}', '{1}', '{1}', '{1}', NULL)$$, '22023', NULL, 'arrays of different lengths');
SELECT throws_ok($$SELECT * FROM api.rate_sync('{250}', '{1}', '{NaN}', '{1}', NULL)$$, '22023', NULL, 'a taken that is not a number');
SELECT is(pg_temp.as_api('SELECT * FROM meta.rate_levels') || '/' ||
          pg_temp.as_api($$SELECT * FROM api.rate_sync('{250}', '{-7003}', '{1}', '{1}', NULL)$$),
          'denied/ok', 'klima_api syncs through the function only');

SELECT * FROM finish();
ROLLBACK;
