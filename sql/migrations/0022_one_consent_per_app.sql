-- 0022_one_consent_per_app — one consent per household and app (issue 17): signing in again through the dashboard (or
-- authorizing an app again) no longer piles up consents. api.oauth_code_redeem now reuses the household's active
-- consent of the same client when the scopes are the same (its expiry moves to the later of the two, never beyond 3
-- years from the first grant) and replaces it otherwise (the old one is revoked with reason 'replaced' and its
-- tokens refused on every server through NOTIFY klima_consent_revoked). Existing duplicates are collapsed the same way
-- (the newest active consent of each household and app stays).
-- last_used_at: when the app last got an access token for the consent (the code redeemed or a refresh token used);
-- an access token lives at most an hour, so this is the app's last use to within that hour, without writing on every
-- request. GET /v1/me/consents lists it with the grant date and whether the app is the city's own.
-- The functions below are 0009_consent.sql's with these changes (CREATE OR REPLACE, same signatures and grants).

SET LOCAL ROLE klima_owner;

ALTER TABLE core.consents ADD COLUMN last_used_at timestamptz;
ALTER TABLE core.consents DROP CONSTRAINT consents_revoked_reason_check;
ALTER TABLE core.consents ADD CONSTRAINT consents_revoked_reason_check
    CHECK (revoked_reason IN ('citizen', 'client', 'refresh-reuse', 'code-reuse', 'client-removed', 'admin', 'replaced'));

-- existing duplicates: every active consent but the newest of its household and app is replaced
SELECT core.consent_revoke(d.consent_id, 'replaced')
FROM (SELECT k.consent_id, row_number() OVER (PARTITION BY k.household_id, k.client_id ORDER BY k.created_at DESC, k.consent_id) AS n
      FROM core.consents k WHERE k.revoked_at IS NULL AND k.expires_at > now()) d
WHERE d.n > 1;

CREATE OR REPLACE FUNCTION api.oauth_code_redeem(code bytea, client text, secret_hash bytea, redirect text, challenge text,
                                      refresh_hash bytea)
RETURNS TABLE (status text, detail text, consent_id uuid, household_id uuid, scopes text[], expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ac core.auth_codes%ROWTYPE;
    auth text := core.client_auth(client, secret_hash);
    cid uuid;
    exp timestamptz;
BEGIN
    IF auth <> 'ok' THEN
        RETURN QUERY SELECT auth, 'client authentication failed'::text, NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO ac FROM core.auth_codes a WHERE a.code_hash = code FOR UPDATE;
    IF NOT FOUND OR ac.client_id <> client THEN
        RETURN QUERY SELECT 'invalid_grant'::text, 'the code is unknown or was issued to another client'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    IF ac.used_at IS NOT NULL THEN
        IF ac.consent_id IS NOT NULL THEN
            PERFORM core.consent_revoke(ac.consent_id, 'code-reuse');
        END IF;
        RETURN QUERY SELECT 'invalid_grant'::text, 'the code was already used; the consent it created is revoked'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    UPDATE core.auth_codes a SET used_at = clock_timestamp() WHERE a.code_hash = code;
    IF ac.created_at < clock_timestamp() - interval '60 seconds' THEN
        RETURN QUERY SELECT 'invalid_grant'::text, 'the code has expired (codes are valid for 60 seconds)'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    IF ac.redirect_uri <> redirect THEN
        RETURN QUERY SELECT 'invalid_grant'::text, 'redirect_uri does not match the authorization request'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    IF ac.code_challenge <> challenge THEN
        RETURN QUERY SELECT 'invalid_grant'::text, 'code_verifier does not match the code_challenge'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    exp := clock_timestamp() + make_interval(days => ac.consent_days);
    -- one consent per household and app: the same scopes again reuse the active consent (its expiry moves to the later
    -- of the two, within 3 years of the first grant); other scopes replace it (revoked as 'replaced', notified)
    PERFORM pg_advisory_xact_lock(hashtextextended(ac.household_id::text || ' ' || ac.client_id, 17));
    SELECT k.consent_id INTO cid FROM core.consents k
    WHERE k.household_id = ac.household_id AND k.client_id = ac.client_id AND k.revoked_at IS NULL
      AND k.expires_at > clock_timestamp()
      AND k.scopes @> ac.scopes AND ac.scopes @> k.scopes
    ORDER BY k.created_at DESC LIMIT 1;
    IF FOUND THEN
        UPDATE core.consents k SET expires_at = least(greatest(k.expires_at, exp), k.created_at + interval '3 years'),
                                   last_used_at = clock_timestamp()
        WHERE k.household_id = ac.household_id AND k.consent_id = cid
        RETURNING k.expires_at INTO exp;
    ELSE
        PERFORM core.consent_revoke(k.consent_id, 'replaced') FROM core.consents k
        WHERE k.household_id = ac.household_id AND k.client_id = ac.client_id AND k.revoked_at IS NULL;
        INSERT INTO core.consents (household_id, client_id, scopes, created_at, expires_at, last_used_at)
        VALUES (ac.household_id, ac.client_id, ac.scopes, clock_timestamp(), exp, clock_timestamp())
        RETURNING core.consents.consent_id INTO cid;
    END IF;
    UPDATE core.auth_codes a SET consent_id = cid WHERE a.code_hash = code;
    INSERT INTO core.refresh_tokens (token_hash, household_id, consent_id) VALUES (refresh_hash, ac.household_id, cid);
    RETURN QUERY SELECT 'ok'::text, NULL::text, cid, ac.household_id, ac.scopes, exp;
END
$fn$;

CREATE OR REPLACE FUNCTION api.oauth_refresh(old_hash bytea, client text, secret_hash bytea, new_hash bytea)
RETURNS TABLE (status text, detail text, consent_id uuid, household_id uuid, scopes text[], expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rt core.refresh_tokens%ROWTYPE;
    c core.consents%ROWTYPE;
    auth text := core.client_auth(client, secret_hash);
BEGIN
    IF auth <> 'ok' THEN
        RETURN QUERY SELECT auth, 'client authentication failed'::text, NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO rt FROM core.refresh_tokens r WHERE r.token_hash = old_hash FOR UPDATE;
    IF FOUND THEN
        SELECT * INTO c FROM core.consents k WHERE k.household_id = rt.household_id AND k.consent_id = rt.consent_id FOR UPDATE;
    END IF;
    IF NOT FOUND OR c.client_id <> client THEN
        RETURN QUERY SELECT 'invalid_grant'::text, 'the refresh token is unknown or was issued to another client'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    IF rt.used_at IS NOT NULL THEN
        PERFORM core.consent_revoke(c.consent_id, 'refresh-reuse');
        RETURN QUERY SELECT 'invalid_grant'::text, 'the refresh token was already used; the consent is revoked'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    IF c.revoked_at IS NOT NULL OR c.expires_at <= clock_timestamp() THEN
        RETURN QUERY SELECT 'invalid_grant'::text, 'the consent was revoked or has expired'::text,
                            NULL::uuid, NULL::uuid, NULL::text[], NULL::timestamptz;
        RETURN;
    END IF;
    UPDATE core.refresh_tokens r SET used_at = clock_timestamp() WHERE r.token_hash = old_hash;
    UPDATE core.consents k SET last_used_at = clock_timestamp()
    WHERE k.household_id = c.household_id AND k.consent_id = c.consent_id;
    INSERT INTO core.refresh_tokens (token_hash, household_id, consent_id) VALUES (new_hash, c.household_id, c.consent_id);
    RETURN QUERY SELECT 'ok'::text, NULL::text, c.consent_id, c.household_id, c.scopes, c.expires_at;
END
$fn$;

CREATE OR REPLACE FUNCTION api.consents_list(consent uuid)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', c.consent_id, 'client_id', c.client_id, 'client_name', m.name, 'scopes', to_jsonb(c.scopes),
               'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'last_used_at', to_char(c.last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'first_party', m.first_party,
               'expires_at', to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'revoked_at', to_char(c.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'status', CASE WHEN c.revoked_at IS NOT NULL THEN 'revoked'
                              WHEN c.expires_at <= clock_timestamp() THEN 'expired' ELSE 'active' END)
               ORDER BY c.created_at DESC, c.consent_id), '[]'::jsonb)
    FROM core.consents c JOIN meta.clients m USING (client_id)
    WHERE c.household_id = (SELECT core.consent_household(consents_list.consent, 'consents:manage'))
$fn$;

RESET ROLE;
