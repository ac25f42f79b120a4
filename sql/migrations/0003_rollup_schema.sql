-- 0003_rollup_schema — the rollup schema and the emission-factor lookup every rollup uses.
--
-- rollup.* holds materialized views before anonymization (per household and per cell). Owned by klima_owner, never
-- readable by klima_api: they hold per-household figures and unsuppressed cell values. A fourth schema because these
-- belong neither in core (raw data, loaded by klima_ingest) nor in api (published).

SET LOCAL ROLE klima_owner;

CREATE SCHEMA rollup;
COMMENT ON SCHEMA rollup IS 'Materialized rollups before anonymization; personal; never granted to klima_api.';

-- ---------------------------------------------------------------------------------------------------------------
-- Emission factors

-- Grams CO2e per base unit (kWh, passenger-km, kg, litre) of an item on a date. The item's factor is the row whose
-- factor_id is the item itself or the item with a year suffix ('district-heating-2020'), valid on the date (valid_to
-- inclusive), latest valid_from first; before the first validity the earliest factor is used. NULL if the item has
-- no factor at all.
CREATE FUNCTION rollup.factor_g(item text, on_day date)
RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT f.value
           * CASE split_part(f.unit, ' ', 1) WHEN 'g' THEN 1.0 WHEN 'kg' THEN 1000.0 WHEN 't' THEN 1000000.0 END
           / CASE split_part(f.unit, '/', 2) WHEN 'MWh' THEN 1000.0 WHEN 'm3' THEN 1000.0 WHEN 't' THEN 1000.0
                                             ELSE 1.0 END
    FROM core.emission_factors f
    WHERE f.factor_id = item OR f.factor_id ~ ('^' || item || '-[0-9]{4}$')
    ORDER BY (f.valid_from <= on_day AND (f.valid_to IS NULL OR f.valid_to >= on_day)) DESC,
             CASE WHEN f.valid_from <= on_day THEN f.valid_from END DESC NULLS LAST, f.valid_from
    LIMIT 1
$fn$;

-- The factor items of each category; the item names are the waste fractions and mobility modes of core.
CREATE VIEW rollup.factor_items AS
    SELECT 'waste' AS category, f AS item, 'waste-' || f AS factor_item
    FROM unnest(ARRAY['residual', 'food', 'paper', 'cardboard', 'plastic', 'glass', 'metal', 'hazardous', 'garden']) f
    UNION ALL
    SELECT 'mobility', m, m
    FROM unnest(ARRAY['walk', 'bike', 'e-bike', 'bus', 'metro', 's-train', 'car-petrol', 'car-electric']) m;

RESET ROLE;
