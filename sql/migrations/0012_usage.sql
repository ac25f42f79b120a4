-- 0012_usage — usage statistics of the open-data API: how often each dataset is queried and downloaded, per UTC day,
-- output format and the client's country (ISO 3166-1 alpha-2, 'ZZ' = unknown).
--
-- Privacy (DESIGN section 4): the server maps the client address to a country and forgets the address; nothing here
-- holds an IP address, a household id or any other request detail. The server counts per worker thread and adds its
-- counts every few seconds through api.usage_add; klima_api can neither read nor write meta.usage_daily directly.

SET LOCAL ROLE klima_owner;

CREATE TABLE meta.usage_daily (
    day date NOT NULL,
    dataset_id text NOT NULL REFERENCES meta.datasets ON UPDATE CASCADE ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('query', 'download')),
    format text NOT NULL CHECK (format ~ '^[a-z0-9]{1,16}$'),
    country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    count bigint NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, dataset_id, kind, format, country)
);

COMMENT ON TABLE meta.usage_daily IS
    'Queries and downloads per UTC day, dataset, kind, format and client country (no addresses); fed by api.usage_add.';

-- Adds a batch of counts: a JSON array of {"day":"YYYY-MM-DD","dataset":id,"kind":"query"|"download",
-- "format":"csv",...,"country":"DK","count":n}. The whole batch is checked first and rejected as a whole (SQLSTATE
-- 22023, or 42704 for an unknown dataset) if any element is malformed; repeated keys within a batch are summed.
-- Returns the number of (day, dataset, kind, format, country) rows inserted or updated.
CREATE FUNCTION api.usage_add(batch jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    e jsonb;
    i integer := 0;
    d date;
    n integer;
BEGIN
    IF batch IS NULL OR jsonb_typeof(batch) <> 'array' THEN
        RAISE EXCEPTION 'usage_add: the batch must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(batch) > 100000 THEN
        RAISE EXCEPTION 'usage_add: at most 100000 elements per batch' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR e IN SELECT value FROM jsonb_array_elements(batch) LOOP
        i := i + 1;
        IF NOT coalesce(jsonb_typeof(e) = 'object'
                        AND jsonb_typeof(e -> 'day') = 'string' AND (e ->> 'day') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                        AND jsonb_typeof(e -> 'dataset') = 'string'
                        AND jsonb_typeof(e -> 'kind') = 'string' AND (e ->> 'kind') IN ('query', 'download')
                        AND jsonb_typeof(e -> 'format') = 'string' AND (e ->> 'format') ~ '^[a-z0-9]{1,16}$'
                        AND jsonb_typeof(e -> 'country') = 'string' AND (e ->> 'country') ~ '^[A-Z]{2}$'
                        AND jsonb_typeof(e -> 'count') = 'number' AND (e ->> 'count') ~ '^[1-9][0-9]{0,14}$', false) THEN
            RAISE EXCEPTION 'usage_add: element % is not {day, dataset, kind, format, country, count}: %', i, left(e::text, 200)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        BEGIN
            d := (e ->> 'day')::date;
        EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
            d := NULL;
        END;
        IF d IS NULL OR d < DATE '2000-01-01' OR d > current_date + 1 THEN
            RAISE EXCEPTION 'usage_add: element % has an impossible day: %', i, e ->> 'day'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM meta.datasets ds WHERE ds.id = e ->> 'dataset') THEN
            RAISE EXCEPTION 'usage_add: unknown dataset: %', left(e ->> 'dataset', 100) USING ERRCODE = 'undefined_object';
        END IF;
    END LOOP;

    INSERT INTO meta.usage_daily AS u (day, dataset_id, kind, format, country, count)
    SELECT (x ->> 'day')::date, x ->> 'dataset', x ->> 'kind', x ->> 'format', x ->> 'country', sum((x ->> 'count')::bigint)
    FROM jsonb_array_elements(batch) AS t(x)
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (day, dataset_id, kind, format, country) DO UPDATE SET count = u.count + EXCLUDED.count;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

-- What GET /v1/usage reads.
CREATE VIEW api.usage AS
    SELECT day, dataset_id AS dataset, kind, format, country::text AS country, count
    FROM meta.usage_daily;

COMMENT ON VIEW api.usage IS 'Published usage statistics: queries and downloads per day, dataset, format and country.';

REVOKE ALL ON meta.usage_daily FROM PUBLIC;
REVOKE ALL ON api.usage FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION api.usage_add(jsonb) FROM PUBLIC;
GRANT SELECT ON api.usage TO klima_api;
GRANT EXECUTE ON FUNCTION api.usage_add(jsonb) TO klima_api;
