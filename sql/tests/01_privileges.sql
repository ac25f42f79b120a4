-- klima_api (the server's role) reads only what is published: the api views, the api functions and the catalog.
-- Nothing in core (raw, personal) or rollup (per-household and unsuppressed figures) is readable.
BEGIN;
SELECT plan(11);

\ir helpers.psql

SELECT ok(NOT has_schema_privilege('klima_api', 'core', 'USAGE'), 'klima_api has no USAGE on schema core');
SELECT ok(NOT has_schema_privilege('klima_api', 'rollup', 'USAGE'), 'klima_api has no USAGE on schema rollup');

SELECT is(
    (SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('core', 'rollup') AND c.relkind IN ('r', 'p', 'v', 'm')
       AND pg_temp.as_api(format('SELECT 1 FROM %s LIMIT 1', c.oid::regclass)) <> 'denied'),
    NULL, 'klima_api cannot SELECT any table, partition, view or rollup in core or rollup');

SELECT is(
    (SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('core', 'rollup') AND c.relkind IN ('r', 'p', 'v', 'm')
       AND has_table_privilege('klima_api', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')),
    NULL, 'klima_api holds no table privilege in core or rollup');

SELECT is(
    (SELECT array_agg(d.source_view ORDER BY 1) FROM meta.datasets d
     WHERE pg_temp.as_api(format('SELECT * FROM %s LIMIT 1', d.source_view)) <> 'ok'),
    NULL, 'klima_api can SELECT every published api view');

SELECT is(pg_temp.as_api('SELECT count(*) FROM meta.datasets, meta.dataset_columns'), 'ok',
          'klima_api can read the dataset catalog');
SELECT is(pg_temp.as_api('SELECT count(*) FROM meta.rollups'), 'denied', 'klima_api cannot read refresh bookkeeping');

SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'api' AND NOT has_function_privilege('klima_api', p.oid, 'EXECUTE')),
    NULL, 'klima_api can EXECUTE every api function');

SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('api', 'meta', 'rollup', 'core') AND has_function_privilege('public', p.oid, 'EXECUTE')),
    NULL, 'no function in api, meta, rollup or core is executable by PUBLIC');

SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'api' AND (NOT p.prosecdef OR p.proowner <> 'klima_owner'::regrole
                                  OR NOT coalesce(array_to_string(p.proconfig, ',') LIKE '%search_path=%', false))),
    NULL, 'every api function is SECURITY DEFINER, owned by klima_owner, with a fixed search_path');

SELECT is(
    pg_temp.as_api(format('SELECT api.me_summary(%L, current_date), '
                          '(SELECT count(*) FROM api.me_energy(%L, now() - interval ''1 day'', now(), ''hour'', ''UTC'')), '
                          '(SELECT count(*) FROM api.me_export(%L))',
                          h, h, h)),
    'ok', 'klima_api can call the citizen functions')
FROM (SELECT coalesce((SELECT household_id FROM core.households LIMIT 1), gen_random_uuid()) AS h) x;

SELECT * FROM finish();
ROLLBACK;
