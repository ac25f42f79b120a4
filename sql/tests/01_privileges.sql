-- klima_api (the server's role) reads only what is published: the api views, the api functions and the catalog.
-- Nothing in core (raw, personal) or rollup (per-household and unsuppressed figures) is readable.
BEGIN;
SELECT plan(26);
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

SELECT meta.dev_login(false);
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'api' AND NOT has_function_privilege('klima_api', p.oid, 'EXECUTE')),
    ARRAY['api.dev_households(integer)'], 'klima_api can EXECUTE every api function but api.dev_households');
SELECT is(pg_temp.as_api('SELECT * FROM api.dev_households(1)'), 'denied',
          'without the dev login grant klima_api cannot list demo households');
SELECT meta.dev_login(true);
SELECT is(pg_temp.as_api('SELECT * FROM api.dev_households(1)'), 'ok', 'meta.dev_login(true) grants it (and only that)');
SELECT ok(NOT has_function_privilege('klima_api', 'meta.dev_login(boolean)', 'EXECUTE'), 'klima_api cannot grant it itself');

SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('api', 'meta', 'rollup', 'core', 'partman', 'prewarm')
       AND has_function_privilege('public', p.oid, 'EXECUTE')),
    NULL, 'no function in api, meta, rollup, core, partman or prewarm is executable by PUBLIC');

SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'api' AND (NOT p.prosecdef OR p.proowner <> 'klima_owner'::regrole
                                  OR NOT coalesce(array_to_string(p.proconfig, ',') LIKE '%search_path=%', false))),
    NULL, 'every api function is SECURITY DEFINER, owned by klima_owner, with a fixed search_path');

-- Least privilege: the personal functions take a consent id and check it themselves; none takes a household id,
-- except the two steps before and around a consent (creating the code after the citizen's login, and comparing the
-- token's subject with its consent).
SELECT is(
    (SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'api' AND 'household' = ANY (p.proargnames)),
    ARRAY['consent_check', 'login_session_start', 'oauth_code_create'],
    'no api function takes a household id but oauth_code_create, login_session_start and consent_check');

INSERT INTO core.households VALUES ('00000000-0000-4000-8000-00000000e001', 1, 'apartment', '2', 70);
CREATE TEMP TABLE cs ON COMMIT DROP AS
    SELECT pg_temp.consent_for('00000000-0000-4000-8000-00000000e001') AS active,
           pg_temp.consent_for('00000000-0000-4000-8000-00000000e001') AS revoked,
           pg_temp.consent_for('00000000-0000-4000-8000-00000000e001') AS expired,
           pg_temp.consent_for('00000000-0000-4000-8000-00000000e001', ARRAY['energy:read']) AS energy_only,
           gen_random_uuid() AS unknown;
UPDATE core.consents SET revoked_at = now(), revoked_reason = 'citizen' WHERE consent_id = (SELECT revoked FROM cs);
UPDATE core.consents SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day'
WHERE consent_id = (SELECT expired FROM cs);

CREATE TEMP TABLE calls ON COMMIT DROP AS
    SELECT * FROM (VALUES
        ('me_summary', 'SELECT api.me_summary(%L, current_date)'),
        ('me_energy', 'SELECT count(*) FROM api.me_energy(%L, now() - interval ''1 day'', now(), ''hour'', ''UTC'')'),
        ('me_waste', 'SELECT count(*) FROM api.me_waste(%L, now() - interval ''1 day'', now(), ''day'', ''UTC'')'),
        ('me_mobility', 'SELECT count(*) FROM api.me_mobility(%L, now() - interval ''1 day'', now(), ''day'', ''UTC'')'),
        ('me_timeseries', 'SELECT count(*) FROM api.me_timeseries(%L, ''energy'', now() - interval ''1 day'', now(), ''day'')'),
        ('me_export', 'SELECT count(*) FROM api.me_export(%L)'),
        ('me_export_energy', 'SELECT count(*) FROM api.me_export_energy(%L)'),
        ('consents_list', 'SELECT api.consents_list(%L)'),
        ('consent_revoke', 'SELECT api.consent_revoke(%L, gen_random_uuid())'),
        ('feedback_add', 'SELECT * FROM api.feedback_add(''data-error'', NULL, NULL, ''x'', ''DK'', %L)')
    ) AS c(name, q);

SELECT is((SELECT array_agg(name ORDER BY name) FROM calls, cs WHERE pg_temp.as_api_state(format(q, cs.active)) <> 'ok'),
          NULL, 'klima_api can call every personal function with an active consent id');
SELECT is((SELECT array_agg(name ORDER BY name) FROM calls, cs WHERE pg_temp.as_api_state(format(q, cs.unknown)) <> '28000'),
          NULL, 'with an unknown consent id every personal function refuses (28000)');
SELECT is((SELECT array_agg(name ORDER BY name) FROM calls, cs WHERE pg_temp.as_api_state(format(q, cs.revoked)) <> '28000'),
          NULL, 'with a revoked consent every personal function refuses');
SELECT is((SELECT array_agg(name ORDER BY name) FROM calls, cs WHERE pg_temp.as_api_state(format(q, cs.expired)) <> '28000'),
          NULL, 'with an expired consent every personal function refuses');
SELECT is((SELECT array_agg(name ORDER BY name) FROM calls, cs
           WHERE pg_temp.as_api_state(format(q, cs.energy_only)) <> CASE WHEN name = 'me_energy' OR name = 'me_timeseries'
                                                                        THEN 'ok' ELSE '28000' END),
          NULL, 'a consent without the function''s scope is refused (energy:read opens me_energy only)');

-- Login sessions (issue 15): started at the login, read while active, ended by sign-out, never readable as a table.
SELECT ok(NOT has_table_privilege('klima_api', 'core.login_sessions', 'SELECT'), 'klima_api cannot read core.login_sessions');
SET LOCAL ROLE klima_api;
SELECT ok(api.login_session_start(sha256('sid-1'), '00000000-0000-4000-8000-00000000e001'), 'a session starts');
SELECT is((SELECT household_id FROM api.login_session(sha256('sid-1'))), '00000000-0000-4000-8000-00000000e001'::uuid,
          'an active session names its household');
SELECT is((SELECT count(*) FROM api.login_session(sha256('sid-2')))::int, 0, 'an unknown session id is no session');
SELECT ok(api.login_session_end(sha256('sid-1')), 'sign-out ends it');
SELECT is((SELECT count(*) FROM api.login_session(sha256('sid-1')))::int, 0, 'an ended session is no session');
SELECT ok(NOT api.login_session_end(sha256('sid-1')), 'ending it again ends nothing');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
