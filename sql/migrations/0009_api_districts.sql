-- 0009_api_districts — the 10 districts (bydele) with their centroids, published for GeoJSON output of the records API.
-- Holds no household data.
SET LOCAL ROLE klima_owner;

CREATE VIEW api.districts AS
    SELECT district_id::integer AS district_id, name, name_en, lat, lon FROM core.districts;

REVOKE ALL ON api.districts FROM PUBLIC;
GRANT SELECT ON api.districts TO klima_api;
