-- 0003_published — rollups, anonymized api views and the refresh bookkeeping.
--
-- Layout:
--   rollup.*  materialized views (per household and per cell, before anonymization). Owned by klima_owner, never
--             readable by klima_api: they hold per-household figures and unsuppressed cell values.
--   api.*     plain views over the rollups that apply suppression (NULL + suppressed = true) and, when the dataset's
--             noise_epsilon is set, deterministic Laplace noise. Owned by klima_owner, so klima_api reads them with the
--             owner's rights on the rollups (the view is the barrier); klima_api has SELECT on these views only.
--   meta.rollups / meta.dataset_rollups  which materialized views a dataset needs, in refresh order; used by
--             `klimaspejl refresh` and meta.refresh_datasets().
-- Anonymization rules (DESIGN section 3, sql/README.md "Anonymization of published datasets"):
--   primary:   a cell is suppressed when fewer than k distinct households contribute, or when its dominance_n largest
--              contributors exceed dominance_pct % of the cell total for any of its measures;
--   secondary: in every group of sibling cells whose sum is published elsewhere (the parent), if exactly one sibling
--              is suppressed the next-smallest sibling is suppressed too;
--   noise:     optional, applied at read time in the api view from (dataset id, version, cell key, column).
-- All local-time buckets are Europe/Copenhagen wall time; each row also carries the UTC instant where it starts.

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
LANGUAGE sql STABLE
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

-- ---------------------------------------------------------------------------------------------------------------
-- Noise: deterministic Laplace noise from a seed. u is uniform in (0, 1) from a 52-bit hash of the seed; the inverse
-- CDF gives Laplace(0, scale). Same seed -> same noise, so repeating a query cannot average it away.
CREATE FUNCTION meta.laplace_noise(seed text, scale double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
    SELECT -scale * sign(u - 0.5) * ln(1.0 - 2.0 * abs(u - 0.5))
    FROM (SELECT ((hashtextextended(seed, 0) & 4503599627370495)::double precision + 0.5) / 4503599627370496.0 AS u) s
$fn$;

-- The published value of one measure of one cell: NULL when suppressed; the exact sum without noise; with noise the
-- sum of clipped contributions plus Laplace(clip / epsilon) seeded by (dataset, version, cell key, column).
CREATE FUNCTION meta.publish(raw double precision, clipped double precision, suppressed boolean,
                             epsilon double precision, clip double precision, dataset text, version bigint,
                             cell_key text, col text)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT CASE WHEN suppressed THEN NULL
                WHEN epsilon IS NULL THEN raw
                ELSE clipped + meta.laplace_noise(dataset || '|' || version || '|' || cell_key || '|' || col,
                                                  clip / epsilon) END
$fn$;

