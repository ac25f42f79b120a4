-- 0009_consent — OAuth 2.0 consent: registered client apps, a citizen's consents, single-use authorization codes and
-- rotating refresh tokens (DESIGN section 4 "Consent", issue 5).
--
-- Secrets never reach the database: the server stores SHA-256 hashes of authorization codes, refresh tokens and client
-- secrets (all 256-bit random values, so a plain hash is enough) and compares hashes. klima_api gets EXECUTE on the
-- api.oauth_* / api.consent* functions below and no table privilege at all. Every revocation sends
-- NOTIFY klima_consent_revoked '<consent id>', which drops cached token verifications on every server thread.
--
-- Personal tables keep household_id first in their key (sharding by household, DESIGN section 2). Codes and refresh
-- tokens are found by their hash, which a sharded deployment would keep as a reference lookup.

SET LOCAL ROLE klima_owner;

CREATE TABLE meta.clients (
    client_id text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9_-]{8,64}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    redirect_uris text[] NOT NULL CHECK (cardinality(redirect_uris) BETWEEN 1 AND 20),
    public boolean NOT NULL,
    secret_hash bytea CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    origins text[] NOT NULL DEFAULT '{}',
    first_party boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (public = (secret_hash IS NULL))
);

COMMENT ON TABLE meta.clients IS
    'Registered apps (klimaspejl client add). Public clients (browser, mobile) have no secret; confidential ones store '
    'the SHA-256 of theirs. first_party clients (the city''s own dashboard) may be granted consents:manage.';

CREATE TABLE core.consents (
    household_id uuid NOT NULL REFERENCES core.households ON DELETE CASCADE,
    consent_id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id text NOT NULL REFERENCES meta.clients ON DELETE CASCADE,
    scopes text[] NOT NULL CHECK (cardinality(scopes) >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('citizen', 'client', 'refresh-reuse', 'code-reuse', 'client-removed', 'admin')),
    PRIMARY KEY (household_id, consent_id),
    CHECK (expires_at > created_at AND expires_at <= created_at + interval '3 years'),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE UNIQUE INDEX consents_consent_id ON core.consents (consent_id);
CREATE INDEX consents_client ON core.consents (client_id);

CREATE TABLE core.auth_codes (
    code_hash bytea PRIMARY KEY CHECK (length(code_hash) = 32),
    household_id uuid NOT NULL REFERENCES core.households ON DELETE CASCADE,
    client_id text NOT NULL REFERENCES meta.clients ON DELETE CASCADE,
    redirect_uri text NOT NULL,
    scopes text[] NOT NULL,
    consent_days integer NOT NULL CHECK (consent_days BETWEEN 1 AND 1096),
    code_challenge text NOT NULL CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    used_at timestamptz,
    consent_id uuid -- the consent created when the code was redeemed (revoked if the code is presented again)
);
CREATE INDEX auth_codes_created ON core.auth_codes (created_at);

CREATE TABLE core.refresh_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    household_id uuid NOT NULL,
    consent_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    used_at timestamptz,
    FOREIGN KEY (household_id, consent_id) REFERENCES core.consents ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_consent ON core.refresh_tokens (household_id, consent_id);

-- Revokes one consent (if still active) and notifies the servers. Internal: not granted to anyone.
CREATE FUNCTION core.consent_revoke(consent uuid, reason text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    UPDATE core.consents SET revoked_at = clock_timestamp(), revoked_reason = reason
    WHERE consent_id = consent AND revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('klima_consent_revoked', consent::text);
    RETURN true;
END
$fn$;

-- The household a consent speaks for, after checking that the consent is usable: known, not revoked, not expired and,
-- when scope is given, granting that scope. Raises SQLSTATE 28000 (invalid_authorization_specification) otherwise,
-- which the server answers with 401. On a streaming replica that has not replayed the consent yet it raises 40001
-- instead, on which the server asks the primary (a consent is created there moments before its first use). Every SECURITY DEFINER function that reaches a household's data starts here:
-- none of them takes a household id from the server. Internal: not granted to anyone.
CREATE FUNCTION core.consent_household(consent uuid, scope text)
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c core.consents%ROWTYPE;
BEGIN
    SELECT * INTO c FROM core.consents k WHERE k.consent_id = consent;
    IF NOT FOUND AND pg_is_in_recovery() THEN
        RAISE EXCEPTION 'the consent is not known on this standby (yet)' USING ERRCODE = 'serialization_failure';
    END IF;
    IF NOT FOUND OR c.revoked_at IS NOT NULL OR c.expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'the consent is not active (unknown, revoked or expired)'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF scope IS NOT NULL AND NOT scope = ANY (c.scopes) THEN
        RAISE EXCEPTION 'the consent does not grant %', scope USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    RETURN c.household_id;
END
$fn$;

-- Name, redirect URIs and kind of a registered client, for the authorization request and the consent screen.
-- No row when the client is unknown.
CREATE FUNCTION api.oauth_client(client text)
RETURNS TABLE (name text, redirect_uris text[], public boolean, first_party boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT c.name, c.redirect_uris, c.public, c.first_party FROM meta.clients c WHERE c.client_id = client
$fn$;

-- Stores a single-use authorization code (valid 60 s) for an approved consent screen. The redirect URI must be one
-- of the client's (exact match); consents:manage only for first-party clients. Raises 22023 otherwise.
CREATE FUNCTION api.oauth_code_create(code_hash bytea, household uuid, client text, redirect_uri text, scopes text[],
                                      consent_days integer, code_challenge text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c meta.clients%ROWTYPE;
BEGIN
    SELECT * INTO c FROM meta.clients WHERE client_id = client;
    IF NOT FOUND OR NOT (redirect_uri = ANY (c.redirect_uris)) THEN
        RAISE EXCEPTION 'unknown client or redirect_uri' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF 'consents:manage' = ANY (scopes) AND NOT c.first_party THEN
        RAISE EXCEPTION 'consents:manage is only for first-party clients' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM core.auth_codes WHERE created_at < clock_timestamp() - interval '1 day';
    INSERT INTO core.auth_codes (code_hash, household_id, client_id, redirect_uri, scopes, consent_days, code_challenge)
    VALUES (code_hash, household, client, redirect_uri, scopes, consent_days, code_challenge);
END
$fn$;

-- Client authentication shared by the token endpoints: 'ok' or 'invalid_client'. In a LANGUAGE sql function an
-- unqualified name that is both a column and a parameter means the column, so the parameters are qualified by the
-- function's name (`c.secret_hash = secret_hash` would compare the stored hash with itself).
CREATE FUNCTION core.client_auth(client text, secret_hash bytea)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN c.client_id IS NULL THEN 'invalid_client'
                WHEN c.public AND client_auth.secret_hash IS NULL THEN 'ok'
                WHEN NOT c.public AND client_auth.secret_hash IS NOT NULL AND c.secret_hash = client_auth.secret_hash THEN 'ok'
                ELSE 'invalid_client' END
    FROM (SELECT 1) one LEFT JOIN meta.clients c ON c.client_id = client_auth.client
$fn$;

-- Redeems an authorization code (grant_type=authorization_code). challenge is BASE64URL(SHA-256(code_verifier)),
-- computed by the server. On success creates the consent and its first refresh token (refresh_hash) and returns
-- status 'ok'; otherwise status is the RFC 6749 5.2 error ('invalid_client', 'invalid_grant') and detail says why.
-- A code presented a second time revokes the consent it created (RFC 6749 4.1.2).
CREATE FUNCTION api.oauth_code_redeem(code bytea, client text, secret_hash bytea, redirect text, challenge text,
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
    INSERT INTO core.consents (household_id, client_id, scopes, created_at, expires_at)
    VALUES (ac.household_id, ac.client_id, ac.scopes, clock_timestamp(), exp)
    RETURNING core.consents.consent_id INTO cid;
    UPDATE core.auth_codes a SET consent_id = cid WHERE a.code_hash = code;
    INSERT INTO core.refresh_tokens (token_hash, household_id, consent_id) VALUES (refresh_hash, ac.household_id, cid);
    RETURN QUERY SELECT 'ok'::text, NULL::text, cid, ac.household_id, ac.scopes, exp;
END
$fn$;

-- Rotates a refresh token (grant_type=refresh_token): the old one is marked used, new_hash becomes the consent's
-- current one. Presenting a token that was already used revokes the whole consent (reuse detection) and answers
-- invalid_grant. Columns as in api.oauth_code_redeem.
CREATE FUNCTION api.oauth_refresh(old_hash bytea, client text, secret_hash bytea, new_hash bytea)
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
    INSERT INTO core.refresh_tokens (token_hash, household_id, consent_id) VALUES (new_hash, c.household_id, c.consent_id);
    RETURN QUERY SELECT 'ok'::text, NULL::text, c.consent_id, c.household_id, c.scopes, c.expires_at;
END
$fn$;

-- RFC 7009 revocation by a client: token_hash (a refresh token) or consent (the cid of a verified access token).
-- Revokes the consent behind it when it belongs to the client. Returns 'ok' (also for unknown tokens, as RFC 7009
-- asks) or 'invalid_client'.
CREATE FUNCTION api.oauth_revoke(token_hash bytea, consent uuid, client text, secret_hash bytea)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    auth text := core.client_auth(client, secret_hash);
    cid uuid := consent;
BEGIN
    IF auth <> 'ok' THEN
        RETURN auth;
    END IF;
    IF cid IS NULL THEN
        SELECT r.consent_id INTO cid FROM core.refresh_tokens r WHERE r.token_hash = oauth_revoke.token_hash;
    END IF;
    IF cid IS NOT NULL AND EXISTS (SELECT 1 FROM core.consents k WHERE k.consent_id = cid AND k.client_id = client) THEN
        PERFORM core.consent_revoke(cid, 'client');
    END IF;
    RETURN 'ok';
END
$fn$;

-- Is this consent usable for a token of (household, client)? status: 'active', 'revoked', 'expired', 'unknown'
-- (no such consent for that household and client). expires_at bounds how long the answer may be cached.
CREATE FUNCTION api.consent_check(consent uuid, household uuid, client text)
RETURNS TABLE (status text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN c.consent_id IS NULL THEN 'unknown'
                WHEN c.revoked_at IS NOT NULL THEN 'revoked'
                WHEN c.expires_at <= clock_timestamp() THEN 'expired'
                ELSE 'active' END,
           c.expires_at
    FROM (SELECT 1) one
    LEFT JOIN core.consents c ON c.household_id = household AND c.consent_id = consent AND c.client_id = client
$fn$;

-- The consents of the household behind a consent granting consents:manage (the token of GET /v1/me/consents), newest
-- first, as a JSON array.
CREATE FUNCTION api.consents_list(consent uuid)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', c.consent_id, 'client_id', c.client_id, 'client_name', m.name, 'scopes', to_jsonb(c.scopes),
               'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'expires_at', to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'revoked_at', to_char(c.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'status', CASE WHEN c.revoked_at IS NOT NULL THEN 'revoked'
                              WHEN c.expires_at <= clock_timestamp() THEN 'expired' ELSE 'active' END)
               ORDER BY c.created_at DESC, c.consent_id), '[]'::jsonb)
    FROM core.consents c JOIN meta.clients m USING (client_id)
    WHERE c.household_id = (SELECT core.consent_household(consents_list.consent, 'consents:manage'))
$fn$;

-- The citizen revokes one of their own consents (DELETE /v1/me/consents/{id}): consent is the token's (granting
-- consents:manage), target the one to revoke. 'revoked', 'already-revoked' or 'not-found' (also for another
-- household's consent).
CREATE FUNCTION api.consent_revoke(consent uuid, target uuid)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    household uuid := core.consent_household(consent, 'consents:manage');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM core.consents c WHERE c.household_id = household AND c.consent_id = target) THEN
        RETURN 'not-found';
    END IF;
    RETURN CASE WHEN core.consent_revoke(target, 'citizen') THEN 'revoked' ELSE 'already-revoked' END;
END
$fn$;

-- Demo households for the built-in dev login: the first n (at most 20) households by id. The server calls it only
-- when KLIMA_DEV_LOGIN=1, and klima_api may call it only while meta.dev_login(true) has granted it in this database
-- (server/run does that when it turns the dev login on, and revokes it when it is off): a separate grant, so that a
-- server bug with the dev login off cannot list households.
CREATE FUNCTION api.dev_households(n integer)
RETURNS TABLE (household_id uuid, district text, dwelling_type text, occupant_band text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT h.household_id, d.name, h.dwelling_type, h.occupant_band
    FROM core.households h JOIN core.districts d USING (district_id)
    ORDER BY h.household_id
    LIMIT least(greatest(n, 0), 20)
$fn$;

-- Admin side: grants (enabled) or revokes klima_api's EXECUTE on api.dev_households in this database. Returns enabled.
CREATE FUNCTION meta.dev_login(enabled boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF enabled THEN
        GRANT EXECUTE ON FUNCTION api.dev_households(integer) TO klima_api;
    ELSE
        REVOKE EXECUTE ON FUNCTION api.dev_households(integer) FROM klima_api;
    END IF;
    RETURN enabled;
END
$fn$;

-- Admin side (klimaspejl client remove): revokes the client's consents (notifying servers), then deletes it.
CREATE FUNCTION meta.client_remove(client text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    cid uuid;
BEGIN
    FOR cid IN SELECT c.consent_id FROM core.consents c WHERE c.client_id = client AND c.revoked_at IS NULL LOOP
        PERFORM core.consent_revoke(cid, 'client-removed');
    END LOOP;
    DELETE FROM meta.clients WHERE client_id = client;
    RETURN FOUND;
END
$fn$;

RESET ROLE;

REVOKE ALL ON meta.clients, core.consents, core.auth_codes, core.refresh_tokens FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION core.consent_revoke(uuid, text), core.client_auth(text, bytea), meta.client_remove(text),
    core.consent_household(uuid, text), meta.dev_login(boolean),
    api.oauth_client(text), api.oauth_code_create(bytea, uuid, text, text, text[], integer, text),
    api.oauth_code_redeem(bytea, text, bytea, text, text, bytea), api.oauth_refresh(bytea, text, bytea, bytea),
    api.oauth_revoke(bytea, uuid, text, bytea), api.consent_check(uuid, uuid, text), api.consents_list(uuid),
    api.consent_revoke(uuid, uuid), api.dev_households(integer) FROM PUBLIC;
-- not api.dev_households: that grant is meta.dev_login's
GRANT EXECUTE ON FUNCTION api.oauth_client(text), api.oauth_code_create(bytea, uuid, text, text, text[], integer, text),
    api.oauth_code_redeem(bytea, text, bytea, text, text, bytea), api.oauth_refresh(bytea, text, bytea, bytea),
    api.oauth_revoke(bytea, uuid, text, bytea), api.consent_check(uuid, uuid, text), api.consents_list(uuid),
    api.consent_revoke(uuid, uuid) TO klima_api;
