-- 0013_consent_client_auth — fixes core.client_auth from 0011: in a LANGUAGE sql function an unqualified name that is
-- both a column and a parameter means the column, so `c.secret_hash = secret_hash` compared the stored hash with
-- itself and a confidential client passed without its secret. Parameters are now qualified by the function's name.

SET LOCAL ROLE klima_owner;

CREATE OR REPLACE FUNCTION core.client_auth(client text, secret_hash bytea)
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

RESET ROLE;

REVOKE EXECUTE ON FUNCTION core.client_auth(text, bytea) FROM PUBLIC;
