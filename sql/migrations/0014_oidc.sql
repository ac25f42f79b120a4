-- 0014_oidc — citizen login through the city's OpenID Connect identity provider (issue 5, DESIGN section 4 "Consent").
--
-- The server has no back-channel HTTP client, so the login uses the implicit id_token flow with response_mode=form_post:
-- GET /oauth/authorize stores the pending authorization request here (core.oidc_requests) under the SHA-256 of a
-- random state, with the SHA-256 of a random nonce, and sends the browser to the identity provider. The provider posts
-- a signed id_token and the state back to POST /oauth/oidc/callback; the server verifies the token's signature and
-- claims itself and then calls api.oidc_login, which takes the pending request (single use: the row is deleted),
-- compares the nonce and maps the token's (iss, sub) to a household through core.citizen_identities. States and
-- nonces are 256-bit random values, so a plain hash is enough; neither reaches the database in the clear.
--
-- Staff link a subject to a household with `klimaspejl citizen link` (admin connection). klima_api gets EXECUTE on
-- the three api.oidc_* functions and no table privilege.

SET LOCAL ROLE klima_owner;

CREATE TABLE core.citizen_identities (
    issuer text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 1000),
    subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    household_id uuid NOT NULL REFERENCES core.households ON DELETE CASCADE,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX citizen_identities_household ON core.citizen_identities (household_id);

COMMENT ON TABLE core.citizen_identities IS
    'Which household a citizen''s login (issuer, subject of the identity provider''s id_token) speaks for. Several '
    'subjects may share a household (its members); one subject has one household. Found by (issuer, subject), which a '
    'sharded deployment keeps as a reference lookup.';

CREATE TABLE core.oidc_requests (
    state_hash bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    nonce_hash bytea NOT NULL CHECK (length(nonce_hash) = 32),
    query text NOT NULL CHECK (length(query) <= 16384),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX oidc_requests_created ON core.oidc_requests (created_at);

COMMENT ON TABLE core.oidc_requests IS
    'Authorization requests waiting for the identity provider''s answer (at most 10 minutes): the SHA-256 of the state '
    'and of the nonce sent to the provider, and the authorization request''s query string to continue with.';

-- Stores a pending authorization request before the browser goes to the identity provider; drops expired ones.
CREATE FUNCTION api.oidc_request_create(state_hash bytea, nonce_hash bytea, query text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    DELETE FROM core.oidc_requests r WHERE r.created_at < clock_timestamp() - interval '10 minutes';
    INSERT INTO core.oidc_requests (state_hash, nonce_hash, query)
    VALUES (oidc_request_create.state_hash, oidc_request_create.nonce_hash, oidc_request_create.query);
END
$fn$;

-- Takes (deletes) the pending request of a state for the identity provider's error answer; returns its query string,
-- or NULL when the state is unknown, used or older than 10 minutes.
CREATE FUNCTION api.oidc_request_cancel(state_hash bytea)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    q text;
BEGIN
    DELETE FROM core.oidc_requests r WHERE r.state_hash = oidc_request_cancel.state_hash
        AND r.created_at >= clock_timestamp() - interval '10 minutes'
    RETURNING r.query INTO q;
    RETURN q;
END
$fn$;

-- Completes a login with a verified id_token: takes (deletes) the pending request of the state — whatever the outcome,
-- so a state is used once — and checks the token's nonce against it, then finds the household of (issuer, subject).
-- status: 'ok' (query and household_id set), 'unknown_state' (unknown, used or older than 10 minutes),
-- 'nonce_mismatch', or 'unknown_subject' (query set, for the page's language).
CREATE FUNCTION api.oidc_login(state_hash bytea, nonce_hash bytea, issuer text, subject text)
RETURNS TABLE (status text, query text, household_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r core.oidc_requests%ROWTYPE;
    h uuid;
BEGIN
    DELETE FROM core.oidc_requests o WHERE o.state_hash = oidc_login.state_hash RETURNING o.* INTO r;
    IF NOT FOUND OR r.created_at < clock_timestamp() - interval '10 minutes' THEN
        RETURN QUERY SELECT 'unknown_state'::text, NULL::text, NULL::uuid;
        RETURN;
    END IF;
    IF r.nonce_hash <> oidc_login.nonce_hash THEN
        RETURN QUERY SELECT 'nonce_mismatch'::text, NULL::text, NULL::uuid;
        RETURN;
    END IF;
    SELECT c.household_id INTO h FROM core.citizen_identities c
    WHERE c.issuer = oidc_login.issuer AND c.subject = oidc_login.subject;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown_subject'::text, r.query, NULL::uuid;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'ok'::text, r.query, h;
END
$fn$;

RESET ROLE;

REVOKE EXECUTE ON FUNCTION api.oidc_request_create(bytea, bytea, text), api.oidc_request_cancel(bytea),
    api.oidc_login(bytea, bytea, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.oidc_request_create(bytea, bytea, text), api.oidc_request_cancel(bytea),
    api.oidc_login(bytea, bytea, text, text) TO klima_api;
