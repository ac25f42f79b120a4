-- 0015_cors_origins — the browser origins of registered clients, for CORS on personal routes and /oauth/token,
-- /oauth/revoke (issue 5; server/src/api/gate.c loads them on every worker at start and every 10 s).
--
-- An origin is scheme://host[:port] (RFC 6454), lower-case, without the default port, as browsers send it in Origin:
-- the origin of each http(s) redirect URI of a client, and each origin given with `klimaspejl client add --origin`.
-- Redirect URIs of other schemes (apps: com.example.app:/cb) have no web origin and add none. klima_api gets EXECUTE on
-- api.cors_origins and still no privilege on meta.clients.

SET LOCAL ROLE klima_owner;

CREATE FUNCTION api.cors_origins()
RETURNS TABLE (origin text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT DISTINCT regexp_replace(regexp_replace(o, '^(https://.+):443$', '\1'), '^(http://.+):80$', '\1')
    FROM (
        SELECT lower(substring(u FROM '^(https?://[^/?#@]+)')) AS o
        FROM meta.clients c, unnest(c.redirect_uris) AS u
        UNION ALL
        SELECT lower(substring(x FROM '^(https?://[^/?#@]+)/?$'))
        FROM meta.clients c, unnest(c.origins) AS x
    ) s
    WHERE o IS NOT NULL
    ORDER BY 1
$fn$;

RESET ROLE;

REVOKE EXECUTE ON FUNCTION api.cors_origins() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.cors_origins() TO klima_api;
