-- One consent per household and app (0018, issue 17): a second sign-in with the same scopes reuses the active consent
-- (same id, later expiry, last_used_at set), other scopes replace it (the old one revoked as 'replaced'), a refresh
-- sets last_used_at, and the list shows the grant and last-use dates.
BEGIN;
SELECT plan(10);
\ir helpers.psql

INSERT INTO meta.clients (client_id, name, redirect_uris, public, first_party)
VALUES ('pgtap-once-client', 'pgTAP once', ARRAY['http://127.0.0.1/cb'], true, true);
CREATE TEMP TABLE hh ON COMMIT DROP AS SELECT household_id FROM core.households ORDER BY household_id OFFSET 7 LIMIT 1;

-- a whole authorization-code round: code created, redeemed; returns the consent id
CREATE FUNCTION pg_temp.sign_in(scopes text[], days integer, refresh bytea) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    code bytea := sha256(gen_random_uuid()::text::bytea);
    ch text := repeat('A', 43);
    r record;
BEGIN
    PERFORM api.oauth_code_create(code, (SELECT household_id FROM hh), 'pgtap-once-client', 'http://127.0.0.1/cb', scopes, days, ch);
    SELECT * INTO r FROM api.oauth_code_redeem(code, 'pgtap-once-client', NULL, 'http://127.0.0.1/cb', ch, refresh);
    IF r.status <> 'ok' THEN
        RAISE EXCEPTION 'redeem: % %', r.status, r.detail;
    END IF;
    RETURN r.consent_id;
END
$$;

CREATE TEMP TABLE s ON COMMIT DROP AS
    SELECT pg_temp.sign_in(ARRAY['summary:read', 'consents:manage'], 30, sha256('r1')) AS first;
ALTER TABLE s ADD COLUMN second uuid, ADD COLUMN third uuid;
UPDATE s SET second = pg_temp.sign_in(ARRAY['consents:manage', 'summary:read'], 365, sha256('r2'));

SELECT is((SELECT second FROM s), (SELECT first FROM s), 'the same scopes again: the same consent');
SELECT is((SELECT count(*) FROM core.consents WHERE client_id = 'pgtap-once-client' AND revoked_at IS NULL), 1::bigint,
          'one active consent for the household and app');
SELECT ok((SELECT expires_at > now() + interval '360 days' FROM core.consents WHERE consent_id = (SELECT first FROM s)),
          'its expiry moved to the later of the two');
SELECT ok((SELECT last_used_at IS NOT NULL FROM core.consents WHERE consent_id = (SELECT first FROM s)), 'last_used_at is set');
SELECT is((SELECT count(*) FROM core.refresh_tokens WHERE consent_id = (SELECT first FROM s)), 2::bigint,
          'each sign-in has its own refresh token on the one consent');

UPDATE s SET third = pg_temp.sign_in(ARRAY['summary:read', 'energy:read', 'consents:manage'], 30, sha256('r3'));
SELECT isnt((SELECT third FROM s), (SELECT first FROM s), 'other scopes: a new consent');
SELECT is((SELECT revoked_reason FROM core.consents WHERE consent_id = (SELECT first FROM s)), 'replaced',
          'the old consent is revoked as replaced');
SELECT is((SELECT count(*) FROM core.consents WHERE client_id = 'pgtap-once-client' AND revoked_at IS NULL), 1::bigint,
          'still one active consent for the household and app');

UPDATE core.consents SET last_used_at = now() - interval '1 day' WHERE consent_id = (SELECT third FROM s);
SELECT is((SELECT status FROM api.oauth_refresh(sha256('r3'), 'pgtap-once-client', NULL, sha256('r4'))), 'ok', 'a refresh');
SELECT ok((SELECT (e ->> 'last_used_at')::timestamptz > now() - interval '1 hour' AND e ? 'created_at'
           FROM jsonb_array_elements(api.consents_list((SELECT third FROM s))) e
           WHERE e ->> 'id' = (SELECT third FROM s)::text),
          'a refresh moves last_used_at; the list shows it with the grant date');

SELECT * FROM finish();
ROLLBACK;
