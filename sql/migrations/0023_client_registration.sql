-- 0023_client_registration — dynamic client registration (RFC 7591, POST /oauth/register; issue 17).
--
-- A registered client is `active` at once when it asks for no personal scope (an open-data app: its client id names
-- it; it has no use for /oauth/authorize) and `pending` when it asks for any (summary:read, energy:read, ...) until an
-- operator approves it (`klimaspejl client approve CLIENT_ID`; `klimaspejl client list --pending`). allowed_scopes
-- holds what a registered client asked for and may be granted (NULL: any scope, for clients an operator added with
-- `klimaspejl client add`). A pending client is unknown to the authorization endpoint (api.oauth_client), adds no CORS
-- origin (api.cors_origins) and gets no authorization code (api.oauth_code_create); a code for scopes beyond
-- allowed_scopes is refused. At most 1,000 registrations wait for approval at once (more are refused until an
-- operator has looked at them): the endpoint is open, so the table must not grow without bound.

SET LOCAL ROLE klima_owner;

ALTER TABLE meta.clients
    ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending')),
    ADD COLUMN allowed_scopes text[],
    ADD COLUMN registered boolean NOT NULL DEFAULT false,
    ADD COLUMN contacts text[] NOT NULL DEFAULT '{}' CHECK (cardinality(contacts) <= 5),
    ADD COLUMN approved_at timestamptz;

-- Registers a client (the server has checked every field and made the id and the secret's hash). Returns its status,
-- 'active' or 'pending', or 'full' when 1,000 registrations already wait for approval (nothing stored).
CREATE FUNCTION api.client_register(client text, client_name text, uris text[], is_public boolean, secret bytea,
                                    scopes text[], contact text[])
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    personal boolean := cardinality(coalesce(scopes, '{}')) > 0;
BEGIN
    IF 'consents:manage' = ANY (coalesce(scopes, '{}')) THEN
        RAISE EXCEPTION 'consents:manage is only for the city''s own apps' USING ERRCODE = 'invalid_parameter_value',
            COLUMN = 'scope';
    END IF;
    IF personal THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('klima client registration', 19));
        IF (SELECT count(*) FROM meta.clients c WHERE c.status = 'pending') >= 1000 THEN
            RETURN 'full';
        END IF;
    END IF;
    INSERT INTO meta.clients (client_id, name, redirect_uris, public, secret_hash, status, allowed_scopes, registered, contacts)
    VALUES (client, client_name, uris, is_public, secret, CASE WHEN personal THEN 'pending' ELSE 'active' END,
            coalesce(scopes, '{}'), true, coalesce(contact, '{}'));
    RETURN CASE WHEN personal THEN 'pending' ELSE 'active' END;
END
$fn$;

-- 0009's: a pending client is not (yet) known to the authorization endpoint.
CREATE OR REPLACE FUNCTION api.oauth_client(client text)
RETURNS TABLE (name text, redirect_uris text[], public boolean, first_party boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT c.name, c.redirect_uris, c.public, c.first_party FROM meta.clients c
    WHERE c.client_id = client AND c.status = 'active'
$fn$;

-- 0009's, with the client's status and allowed scopes checked.
CREATE OR REPLACE FUNCTION api.oauth_code_create(code_hash bytea, household uuid, client text, redirect_uri text, scopes text[],
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
    IF c.status <> 'active' OR (c.allowed_scopes IS NOT NULL AND NOT c.allowed_scopes @> scopes) THEN
        RAISE EXCEPTION 'the client is not approved for these scopes' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF 'consents:manage' = ANY (scopes) AND NOT c.first_party THEN
        RAISE EXCEPTION 'consents:manage is only for first-party clients' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM core.auth_codes WHERE created_at < clock_timestamp() - interval '1 day';
    INSERT INTO core.auth_codes (code_hash, household_id, client_id, redirect_uri, scopes, consent_days, code_challenge)
    VALUES (code_hash, household, client, redirect_uri, scopes, consent_days, code_challenge);
END
$fn$;

-- 0015's: only active clients' origins.
CREATE OR REPLACE FUNCTION api.cors_origins()
RETURNS TABLE (origin text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT DISTINCT regexp_replace(regexp_replace(o, '^(https://.+):443$', '\1'), '^(http://.+):80$', '\1')
    FROM (
        SELECT lower(substring(u FROM '^(https?://[^/?#@]+)')) AS o
        FROM meta.clients c, unnest(c.redirect_uris) AS u WHERE c.status = 'active'
        UNION ALL
        SELECT lower(substring(x FROM '^(https?://[^/?#@]+)/?$'))
        FROM meta.clients c, unnest(c.origins) AS x WHERE c.status = 'active'
    ) s
    WHERE o IS NOT NULL
    ORDER BY 1
$fn$;

RESET ROLE;

REVOKE EXECUTE ON FUNCTION api.client_register(text, text, text[], boolean, bytea, text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.client_register(text, text, text[], boolean, bytea, text[], text[]) TO klima_api;
