-- 0011_api_districts — the 10 districts (bydele) with their centroids, published for GeoJSON output of the records API.
-- Holds no household data.
-- The server's queries are short and many: JIT compilation (hundreds of ms per query on the published views) costs far
-- more than it saves. Roles are cluster-wide, so this needs the migrating role to be allowed to alter klima_api.
ALTER ROLE klima_api SET jit = off;

SET LOCAL ROLE klima_owner;

CREATE VIEW api.districts AS
    SELECT district_id::integer AS district_id, name, name_en, lat, lon FROM core.districts;

REVOKE ALL ON api.districts FROM PUBLIC;
GRANT SELECT ON api.districts TO klima_api;
