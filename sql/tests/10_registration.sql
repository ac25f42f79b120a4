-- Dynamic client registration (0019, issue 17): open-data apps active, personal ones pending; a pending app is unknown
-- to the authorization endpoint, adds no CORS origin and gets no code; an approved one gets codes for its registered
-- scopes only; consents:manage is never registered; klima_api may register but still not read meta.clients.
BEGIN;
SELECT plan(9);
\ir helpers.psql

SELECT is(api.client_register('pgtapRegOpen01', 'Open', ARRAY['https://open.example/cb'], true, NULL, NULL, '{}'), 'active',
          'no personal scope: active');
SELECT is(api.client_register('pgtapRegPers01', 'Personal', ARRAY['https://pers.example/cb'], true, NULL,
                              ARRAY['summary:read'], ARRAY['dev@pers.example']), 'pending', 'personal scopes: pending');
SELECT is((SELECT count(*) FROM api.oauth_client('pgtapRegPers01')), 0::bigint, 'pending: unknown to the authorization endpoint');
SELECT ok(NOT EXISTS (SELECT 1 FROM api.cors_origins() WHERE origin = 'https://pers.example'), 'pending: no CORS origin');
SELECT throws_ok($$SELECT api.oauth_code_create(sha256('c1'), (SELECT household_id FROM core.households LIMIT 1), 'pgtapRegPers01',
                   'https://pers.example/cb', ARRAY['summary:read'], 30, repeat('A', 43))$$, '22023', NULL, 'pending: no code');
UPDATE meta.clients SET status = 'active' WHERE client_id = 'pgtapRegPers01';
SELECT lives_ok($$SELECT api.oauth_code_create(sha256('c2'), (SELECT household_id FROM core.households LIMIT 1), 'pgtapRegPers01',
                  'https://pers.example/cb', ARRAY['summary:read'], 30, repeat('A', 43))$$, 'approved: a code for its scope');
SELECT throws_ok($$SELECT api.oauth_code_create(sha256('c3'), (SELECT household_id FROM core.households LIMIT 1), 'pgtapRegPers01',
                   'https://pers.example/cb', ARRAY['summary:read', 'export:read'], 30, repeat('A', 43))$$, '22023', NULL,
                 'approved: no code for a scope it did not register');
SELECT throws_ok($$SELECT api.client_register('pgtapRegMgr001', 'Mgr', ARRAY['https://m.example/cb'], true, NULL,
                   ARRAY['consents:manage'], '{}')$$, '22023', NULL, 'consents:manage is never registered');
SELECT is(pg_temp.as_api('SELECT * FROM meta.clients'), 'denied', 'klima_api still cannot read meta.clients');

SELECT * FROM finish();
ROLLBACK;
