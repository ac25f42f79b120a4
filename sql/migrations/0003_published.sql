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
LANGUAGE sql STABLE PARALLEL SAFE   -- STABLE, not IMMUTABLE, so that it is inlined: the cell key is then built only
                                    -- when noise is on (text concatenation is only STABLE)
AS $fn$
    SELECT CASE WHEN suppressed THEN NULL
                WHEN epsilon IS NULL THEN raw
                ELSE clipped + meta.laplace_noise(dataset || '|' || version || '|' || cell_key || '|' || col,
                                                  clip / epsilon) END
$fn$;


-- ---------------------------------------------------------------------------------------------------------------
-- Per-household rollups (personal; the base of the district datasets and of the citizen summary)

-- Grid hours with the threshold of the dirtiest quarter of the local month (for the "dirty hours" tip) and the
-- local day of each hour.
CREATE VIEW rollup.grid_hours AS
    SELECT g.hour_utc, g.g_per_kwh::double precision AS g_per_kwh, g.g_per_kwh >= p.p75 AS dirty,
           (g.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day_local
    FROM core.grid_intensity_hourly g
    JOIN (SELECT date_trunc('month', hour_utc AT TIME ZONE 'Europe/Copenhagen') AS month_local,
                 percentile_cont(0.75) WITHIN GROUP (ORDER BY g_per_kwh) AS p75
          FROM core.grid_intensity_hourly GROUP BY 1) p
        ON p.month_local = date_trunc('month', g.hour_utc AT TIME ZONE 'Europe/Copenhagen');

-- One row per household and local day with energy data. Electricity CO2e weights each hour by its grid intensity
-- (the current 'electricity' emission factor where an hour has none). "Dirty" hours are the top quarter of grid
-- intensity of the month.
CREATE MATERIALIZED VIEW rollup.household_daily AS
    SELECT e.household_id,
           -- the local day from the grid row (one time-zone conversion per hour instead of one per reading)
           coalesce(g.day_local, (e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date) AS day,
           count(*)::integer AS hours,
           sum(e.electricity_wh)::bigint AS electricity_wh,
           sum(e.heat_wh)::bigint AS heat_wh,
           sum(e.water_l::double precision) AS water_l,
           sum(e.electricity_wh * coalesce(g.g_per_kwh, (SELECT rollup.factor_g('electricity', current_date))))
               / 1000.0 AS electricity_co2e_g,
           coalesce(sum(e.electricity_wh) FILTER (WHERE g.dirty), 0)::bigint AS electricity_dirty_wh,
           coalesce(sum(e.electricity_wh * g.g_per_kwh) FILTER (WHERE g.dirty), 0) / 1000.0
               AS electricity_dirty_co2e_g,
           count(*) FILTER (WHERE g.hour_utc IS NULL)::integer AS hours_without_intensity
    FROM core.energy_hourly e
    LEFT JOIN rollup.grid_hours g ON g.hour_utc = e.hour_utc
    GROUP BY 1, 2
WITH DATA;
CREATE UNIQUE INDEX household_daily_key ON rollup.household_daily (household_id, day);

-- One row per household and local month with any data: energy, waste per fraction, mobility per mode, CO2e per
-- category with the factors valid at the start of the month (electricity hour by hour).
CREATE MATERIALIZED VIEW rollup.household_monthly AS
    WITH en AS (
        SELECT household_id, date_trunc('month', day)::date AS month,
               sum(hours)::integer AS hours, count(*)::integer AS days,
               sum(electricity_wh) / 1000.0 AS electricity_kwh,
               sum(electricity_co2e_g) / 1000.0 AS electricity_co2e_kg,
               sum(electricity_dirty_wh) / 1000.0 AS electricity_dirty_kwh,
               sum(electricity_dirty_co2e_g) / 1000.0 AS electricity_dirty_co2e_kg,
               sum(heat_wh) / 1000.0 AS heat_kwh,
               sum(water_l) AS water_l
        FROM rollup.household_daily
        GROUP BY 1, 2
    ), wf AS (
        SELECT household_id, date_trunc('month', collected_on)::date AS month, fraction,
               sum(kg::double precision) AS kg
        FROM core.waste_weighings
        GROUP BY 1, 2, 3
    ), fx AS (
        -- The factor of every item for every month with data, looked up once.
        SELECT i.factor_item, mo.month, rollup.factor_g(i.factor_item, mo.month) AS g
        FROM (SELECT factor_item FROM rollup.factor_items
              UNION ALL SELECT 'district-heating' UNION ALL SELECT 'water') i
        CROSS JOIN (SELECT month FROM en UNION SELECT month FROM wf
                    UNION SELECT date_trunc('month', day)::date FROM core.mobility_daily) mo
    ), wa AS (
        SELECT wf.household_id, wf.month, sum(wf.kg) AS waste_kg,
               sum(wf.kg * fx.g) / 1000.0 AS waste_co2e_kg,
               jsonb_object_agg(wf.fraction, jsonb_build_object(
                   'kg', round(wf.kg::numeric, 3), 'co2e_kg', round((wf.kg * fx.g / 1000.0)::numeric, 3))
                   ORDER BY wf.fraction) AS waste
        FROM wf LEFT JOIN fx ON fx.factor_item = 'waste-' || wf.fraction AND fx.month = wf.month
        GROUP BY 1, 2
    ), mm AS (
        SELECT household_id, date_trunc('month', day)::date AS month, mode,
               sum(trips)::integer AS trips, sum(km::double precision) AS km
        FROM core.mobility_daily
        GROUP BY 1, 2, 3
    ), mo AS (
        SELECT mm.household_id, mm.month, sum(mm.trips)::integer AS mobility_trips, sum(mm.km) AS mobility_km,
               sum(mm.km * fx.g) / 1000.0 AS mobility_co2e_kg,
               jsonb_object_agg(mm.mode, jsonb_build_object(
                   'trips', mm.trips, 'km', round(mm.km::numeric, 3),
                   'co2e_kg', round((mm.km * fx.g / 1000.0)::numeric, 3))
                   ORDER BY mm.mode) AS mobility
        FROM mm LEFT JOIN fx ON fx.factor_item = mm.mode AND fx.month = mm.month
        GROUP BY 1, 2
    ), keys AS (
        SELECT household_id, month FROM en
        UNION SELECT household_id, month FROM wa
        UNION SELECT household_id, month FROM mo
    )
    SELECT k.household_id, k.month, h.district_id, h.dwelling_type, h.occupant_band,
           en.household_id IS NOT NULL AS has_energy,
           wa.household_id IS NOT NULL AS has_waste,
           mo.household_id IS NOT NULL AS has_mobility,
           coalesce(en.hours, 0) AS hours, coalesce(en.days, 0) AS days,
           coalesce(en.electricity_kwh, 0) AS electricity_kwh,
           coalesce(en.electricity_co2e_kg, 0) AS electricity_co2e_kg,
           coalesce(en.electricity_dirty_kwh, 0) AS electricity_dirty_kwh,
           coalesce(en.electricity_dirty_co2e_kg, 0) AS electricity_dirty_co2e_kg,
           coalesce(en.heat_kwh, 0) AS heat_kwh,
           coalesce(en.heat_kwh * fh.g / 1000.0, 0) AS heat_co2e_kg,
           coalesce(en.water_l, 0) AS water_l,
           coalesce(en.water_l * fw.g / 1000.0, 0) AS water_co2e_kg,
           coalesce(wa.waste_kg, 0) AS waste_kg,
           coalesce(wa.waste_co2e_kg, 0) AS waste_co2e_kg,
           coalesce(wa.waste, '{}') AS waste,
           coalesce(mo.mobility_trips, 0) AS mobility_trips,
           coalesce(mo.mobility_km, 0) AS mobility_km,
           coalesce(mo.mobility_co2e_kg, 0) AS mobility_co2e_kg,
           coalesce(mo.mobility, '{}') AS mobility,
           coalesce(en.electricity_co2e_kg, 0)
             + coalesce(en.heat_kwh * fh.g / 1000.0, 0) + coalesce(en.water_l * fw.g / 1000.0, 0)
             + coalesce(wa.waste_co2e_kg, 0) + coalesce(mo.mobility_co2e_kg, 0) AS total_co2e_kg
    FROM keys k
    JOIN core.households h ON h.household_id = k.household_id
    LEFT JOIN en ON en.household_id = k.household_id AND en.month = k.month
    LEFT JOIN wa ON wa.household_id = k.household_id AND wa.month = k.month
    LEFT JOIN mo ON mo.household_id = k.household_id AND mo.month = k.month
    LEFT JOIN fx fh ON fh.factor_item = 'district-heating' AND fh.month = k.month
    LEFT JOIN fx fw ON fw.factor_item = 'water' AND fw.month = k.month
WITH DATA;
CREATE UNIQUE INDEX household_monthly_key ON rollup.household_monthly (household_id, month);

-- Peer-group statistics of total and per-category CO2e per month, at each widening level:
-- 0 = district x dwelling type x occupant band, 1 = district x dwelling type, 2 = district, 3 = whole city.
-- Only household-months with energy data take part. Dropped attributes are '*' (district 0) so the unique key
-- has no NULLs.
CREATE MATERIALIZED VIEW rollup.peer_stats_monthly AS
    SELECT month,
           (3 - (CASE WHEN GROUPING(district_id) = 0 THEN 1 ELSE 0 END)
              - (CASE WHEN GROUPING(dwelling_type) = 0 THEN 1 ELSE 0 END)
              - (CASE WHEN GROUPING(occupant_band) = 0 THEN 1 ELSE 0 END))::smallint AS level,
           CASE WHEN GROUPING(district_id) = 0 THEN district_id ELSE 0 END::smallint AS district_id,
           CASE WHEN GROUPING(dwelling_type) = 0 THEN dwelling_type ELSE '*' END AS dwelling_type,
           CASE WHEN GROUPING(occupant_band) = 0 THEN occupant_band ELSE '*' END AS occupant_band,
           count(*)::integer AS n_households,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY total_co2e_kg) AS total_median,
           percentile_cont(0.2) WITHIN GROUP (ORDER BY total_co2e_kg) AS total_p20,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY electricity_co2e_kg) AS electricity_median,
           percentile_cont(0.2) WITHIN GROUP (ORDER BY electricity_co2e_kg) AS electricity_p20,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY heat_co2e_kg) AS heat_median,
           percentile_cont(0.2) WITHIN GROUP (ORDER BY heat_co2e_kg) AS heat_p20,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY water_co2e_kg) AS water_median,
           percentile_cont(0.2) WITHIN GROUP (ORDER BY water_co2e_kg) AS water_p20,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY waste_co2e_kg) AS waste_median,
           percentile_cont(0.2) WITHIN GROUP (ORDER BY waste_co2e_kg) AS waste_p20,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY mobility_co2e_kg) AS mobility_median,
           percentile_cont(0.2) WITHIN GROUP (ORDER BY mobility_co2e_kg) AS mobility_p20,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY electricity_kwh) AS electricity_kwh_median,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY heat_kwh) AS heat_kwh_median,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY water_l) AS water_l_median
    FROM rollup.household_monthly
    WHERE has_energy
    GROUP BY GROUPING SETS ((month, district_id, dwelling_type, occupant_band), (month, district_id, dwelling_type),
                            (month, district_id), (month))
WITH DATA;
CREATE UNIQUE INDEX peer_stats_monthly_key
    ON rollup.peer_stats_monthly (month, level, district_id, dwelling_type, occupant_band);

-- Each household-month's peer group: the narrowest level with at least 100 homes (the whole city otherwise), the
-- household's percentile rank in it (share of the other homes of the group with a lower total CO2e, 0-100).
CREATE MATERIALIZED VIEW rollup.household_peer_monthly AS
    WITH b AS (
        SELECT household_id, month, district_id, dwelling_type, occupant_band, total_co2e_kg,
               count(*) OVER (PARTITION BY month, district_id, dwelling_type, occupant_band) AS n0,
               count(*) OVER (PARTITION BY month, district_id, dwelling_type) AS n1,
               count(*) OVER (PARTITION BY month, district_id) AS n2,
               percent_rank() OVER (PARTITION BY month, district_id, dwelling_type, occupant_band
                                    ORDER BY total_co2e_kg) AS r0,
               percent_rank() OVER (PARTITION BY month, district_id, dwelling_type ORDER BY total_co2e_kg) AS r1,
               percent_rank() OVER (PARTITION BY month, district_id ORDER BY total_co2e_kg) AS r2,
               percent_rank() OVER (PARTITION BY month ORDER BY total_co2e_kg) AS r3
        FROM rollup.household_monthly
        WHERE has_energy
    ), l AS (
        SELECT b.*, CASE WHEN n0 >= 100 THEN 0 WHEN n1 >= 100 THEN 1 WHEN n2 >= 100 THEN 2 ELSE 3 END AS level
        FROM b
    )
    SELECT household_id, month, level::smallint AS level,
           CASE WHEN level <= 2 THEN district_id ELSE 0 END::smallint AS peer_district_id,
           CASE WHEN level <= 1 THEN dwelling_type ELSE '*' END AS peer_dwelling_type,
           CASE WHEN level = 0 THEN occupant_band ELSE '*' END AS peer_occupant_band,
           100.0 * CASE level WHEN 0 THEN r0 WHEN 1 THEN r1 WHEN 2 THEN r2 ELSE r3 END AS percentile_rank
    FROM l
WITH DATA;
CREATE UNIQUE INDEX household_peer_monthly_key ON rollup.household_peer_monthly (household_id, month);

-- ---------------------------------------------------------------------------------------------------------------
-- District cells before publication. Each has the exact sums (*_sum), the sums of contributions clipped at the
-- column's noise_clip (*_clip, used only when the dataset adds noise), the primary suppression reason ('k' or
-- 'dominance', NULL if none) and the final suppressed flag. k, dominance_n and dominance_pct are read from
-- meta.datasets at refresh time.

-- Disclosure parameters and clip bounds of one dataset as one row.
CREATE FUNCTION rollup.params(dataset text)
RETURNS TABLE (k integer, dn integer, dp double precision, clips jsonb)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT d.k, d.dominance_n, d.dominance_pct::double precision / 100.0,
           coalesce((SELECT jsonb_object_agg(c.name, c.noise_clip) FROM meta.dataset_columns c
                     WHERE c.dataset_id = d.id AND c.noise_clip IS NOT NULL), '{}')
    FROM meta.datasets d WHERE d.id = dataset
$fn$;

-- energy-district-daily: cell = district x local day. No total of these cells is published, so only primary rules.
-- The dominance test uses the bound explained at district_hourly.
CREATE MATERIALIZED VIEW rollup.district_daily AS
    WITH p AS (
        SELECT k, dn, dp FROM rollup.params('energy-district-daily')
    ), a AS (
        SELECT h.district_id, d.day, max(d.hours)::integer AS hours, count(*)::integer AS n,
               sum(d.electricity_wh / 1000.0)::float8 AS e_sum, max(d.electricity_wh / 1000.0)::float8 AS e_max,
               sum(least(d.electricity_wh / 1000.0, c.ce))::float8 AS e_clip,
               sum(d.heat_wh / 1000.0)::float8 AS q_sum, max(d.heat_wh / 1000.0)::float8 AS q_max,
               sum(least(d.heat_wh / 1000.0, c.cq))::float8 AS q_clip,
               sum(d.water_l) AS w_sum, max(d.water_l) AS w_max, sum(least(d.water_l, c.cw)) AS w_clip
        FROM rollup.household_daily d JOIN core.households h USING (household_id)
        CROSS JOIN (SELECT (clips->>'electricity_kwh')::float8 AS ce, (clips->>'heat_kwh')::float8 AS cq,
                           (clips->>'water_l')::float8 AS cw
                    FROM rollup.params('energy-district-daily')) c
        GROUP BY h.district_id, d.day
    ), s AS (
        -- As in district_hourly: the exact top-n only where dominance_n * max could exceed the threshold.
        SELECT a.*, CASE
            WHEN a.n < p.k THEN 'k'
            WHEN (p.dn * a.e_max > p.dp * a.e_sum AND
                  (SELECT sum(v) FROM (SELECT x.electricity_wh / 1000.0 AS v FROM rollup.household_daily x
                                       JOIN core.households y USING (household_id)
                                       WHERE y.district_id = a.district_id AND x.day = a.day
                                       ORDER BY 1 DESC LIMIT p.dn) t) > p.dp * a.e_sum)
              OR (p.dn * a.q_max > p.dp * a.q_sum AND
                  (SELECT sum(v) FROM (SELECT x.heat_wh / 1000.0 AS v FROM rollup.household_daily x
                                       JOIN core.households y USING (household_id)
                                       WHERE y.district_id = a.district_id AND x.day = a.day
                                       ORDER BY 1 DESC LIMIT p.dn) t) > p.dp * a.q_sum)
              OR (p.dn * a.w_max > p.dp * a.w_sum AND
                  (SELECT sum(v) FROM (SELECT x.water_l AS v FROM rollup.household_daily x
                                       JOIN core.households y USING (household_id)
                                       WHERE y.district_id = a.district_id AND x.day = a.day
                                       ORDER BY 1 DESC LIMIT p.dn) t) > p.dp * a.w_sum)
              THEN 'dominance' END AS reason
        FROM a CROSS JOIN p
    )
    SELECT district_id, day, hours, n, e_sum, e_clip, q_sum, q_clip, w_sum, w_clip, reason,
           reason IS NOT NULL AS suppressed
    FROM s
WITH DATA;
CREATE UNIQUE INDEX district_daily_key ON rollup.district_daily (district_id, day);
CREATE INDEX district_daily_day ON rollup.district_daily (day);

-- energy-district-hourly: cell = district x hour. 19 million readings at demo scale, so the dominance test avoids a
-- sort: with m = the largest contribution, the dominance_n largest sum to at most dominance_n * m, so only cells with
-- dominance_n * m > pct * total need the exact top-n, fetched per cell. Secondary suppression: the hours of a
-- district's local day sum to the published energy-district-daily cell; if exactly one hour is suppressed and that
-- day is published, the next-smallest hour (by electricity) is suppressed too.
CREATE MATERIALIZED VIEW rollup.district_hourly AS
    WITH p AS (
        SELECT k, dn, dp, (clips->>'electricity_wh')::float8 AS ce, (clips->>'heat_wh')::float8 AS cq,
               (clips->>'water_l')::float8 AS cw
        FROM rollup.params('energy-district-hourly')
    ), a AS (
        SELECT h.district_id, e.hour_utc, count(*)::integer AS n,
               sum(e.electricity_wh)::float8 AS e_sum, max(e.electricity_wh)::float8 AS e_max,
               sum(least(e.electricity_wh, c.ce))::float8 AS e_clip,
               sum(e.heat_wh)::float8 AS q_sum, max(e.heat_wh)::float8 AS q_max,
               sum(least(e.heat_wh, c.cq))::float8 AS q_clip,
               sum(e.water_l::float8) AS w_sum, max(e.water_l)::float8 AS w_max,
               sum(least(e.water_l::float8, c.cw)) AS w_clip
        FROM core.energy_hourly e JOIN core.households h USING (household_id)
        -- the clip bounds as constants (not a CTE) so the scan can run in parallel workers
        CROSS JOIN (SELECT (clips->>'electricity_wh')::float8 AS ce, (clips->>'heat_wh')::float8 AS cq,
                           (clips->>'water_l')::float8 AS cw
                    FROM rollup.params('energy-district-hourly')) c
        GROUP BY h.district_id, e.hour_utc
    ), s AS (
        SELECT a.*, CASE
            WHEN a.n < p.k THEN 'k'
            WHEN (p.dn * a.e_max > p.dp * a.e_sum AND
                  (SELECT sum(v) FROM (SELECT x.electricity_wh::float8 AS v FROM core.energy_hourly x
                                       JOIN core.households y USING (household_id)
                                       WHERE y.district_id = a.district_id AND x.hour_utc = a.hour_utc
                                       ORDER BY 1 DESC LIMIT p.dn) t) > p.dp * a.e_sum)
              OR (p.dn * a.q_max > p.dp * a.q_sum AND
                  (SELECT sum(v) FROM (SELECT x.heat_wh::float8 AS v FROM core.energy_hourly x
                                       JOIN core.households y USING (household_id)
                                       WHERE y.district_id = a.district_id AND x.hour_utc = a.hour_utc
                                       ORDER BY 1 DESC LIMIT p.dn) t) > p.dp * a.q_sum)
              OR (p.dn * a.w_max > p.dp * a.w_sum AND
                  (SELECT sum(v) FROM (SELECT x.water_l::float8 AS v FROM core.energy_hourly x
                                       JOIN core.households y USING (household_id)
                                       WHERE y.district_id = a.district_id AND x.hour_utc = a.hour_utc
                                       ORDER BY 1 DESC LIMIT p.dn) t) > p.dp * a.w_sum)
              THEN 'dominance' END AS reason
        FROM a CROSS JOIN p
    ), g AS (
        SELECT s.*, (s.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day,
               count(*) FILTER (WHERE s.reason IS NOT NULL)
                   OVER (PARTITION BY s.district_id, (s.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date) AS n_prim,
               row_number() OVER (PARTITION BY s.district_id, (s.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date
                                  ORDER BY s.reason IS NOT NULL, s.e_sum, s.hour_utc) AS rn
        FROM s
    )
    SELECT g.district_id, g.hour_utc, g.n, g.e_sum, g.e_clip, g.q_sum, g.q_clip, g.w_sum, g.w_clip,
           coalesce(g.reason, CASE WHEN g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(dd.suppressed, true)
                                   THEN 'secondary' END) AS reason,
           g.reason IS NOT NULL OR (g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(dd.suppressed, true)) AS suppressed
    FROM g LEFT JOIN rollup.district_daily dd ON dd.district_id = g.district_id AND dd.day = g.day
WITH DATA;
CREATE UNIQUE INDEX district_hourly_key ON rollup.district_hourly (district_id, hour_utc);
CREATE INDEX district_hourly_hour ON rollup.district_hourly (hour_utc);

-- energy-peergroup-monthly: cell = local month x district x dwelling type x occupant band. The cells of one
-- district-month sum to the district's month, which can be summed from energy-district-daily, so secondary
-- suppression runs within (month, district).
CREATE MATERIALIZED VIEW rollup.peergroup_monthly AS
    WITH p AS (
        SELECT k, dn, dp, (clips->>'electricity_kwh')::float8 AS ce, (clips->>'heat_kwh')::float8 AS cq,
               (clips->>'water_l')::float8 AS cw
        FROM rollup.params('energy-peergroup-monthly')
    ), r AS (
        SELECT m.month, m.district_id, m.dwelling_type, m.occupant_band,
               m.electricity_kwh AS e, m.heat_kwh AS q, m.water_l AS w,
               row_number() OVER (PARTITION BY m.month, m.district_id, m.dwelling_type, m.occupant_band
                                  ORDER BY m.electricity_kwh DESC) AS re,
               row_number() OVER (PARTITION BY m.month, m.district_id, m.dwelling_type, m.occupant_band
                                  ORDER BY m.heat_kwh DESC) AS rq,
               row_number() OVER (PARTITION BY m.month, m.district_id, m.dwelling_type, m.occupant_band
                                  ORDER BY m.water_l DESC) AS rw
        FROM rollup.household_monthly m WHERE m.has_energy
    ), a AS (
        SELECT r.month, r.district_id, r.dwelling_type, r.occupant_band, count(*)::integer AS n, p.k, p.dp,
               sum(e) AS e_sum, sum(least(e, p.ce)) AS e_clip, sum(e) FILTER (WHERE re <= p.dn) AS e_top,
               sum(q) AS q_sum, sum(least(q, p.cq)) AS q_clip, sum(q) FILTER (WHERE rq <= p.dn) AS q_top,
               sum(w) AS w_sum, sum(least(w, p.cw)) AS w_clip, sum(w) FILTER (WHERE rw <= p.dn) AS w_top
        FROM r CROSS JOIN p
        GROUP BY r.month, r.district_id, r.dwelling_type, r.occupant_band, p.k, p.dp
    ), s AS (
        SELECT a.*, CASE WHEN n < k THEN 'k'
                         WHEN e_top > dp * e_sum OR q_top > dp * q_sum OR w_top > dp * w_sum THEN 'dominance'
                    END AS reason
        FROM a
    ), g AS (
        SELECT s.*, count(*) FILTER (WHERE reason IS NOT NULL) OVER (PARTITION BY month, district_id) AS n_prim,
               row_number() OVER (PARTITION BY month, district_id
                                  ORDER BY reason IS NOT NULL, e_sum, dwelling_type, occupant_band) AS rn
        FROM s
    )
    SELECT month, district_id, dwelling_type, occupant_band, n, e_sum, e_clip, q_sum, q_clip, w_sum, w_clip,
           coalesce(reason, CASE WHEN n_prim = 1 AND rn = 1 THEN 'secondary' END) AS reason,
           reason IS NOT NULL OR (n_prim = 1 AND rn = 1) AS suppressed
    FROM g
WITH DATA;
CREATE UNIQUE INDEX peergroup_monthly_key
    ON rollup.peergroup_monthly (month, district_id, dwelling_type, occupant_band);

-- footprint-district-monthly: cell = local month x district x category; 'total' is the published parent of the
-- other categories of its district-month (secondary suppression within (month, district)).
CREATE MATERIALIZED VIEW rollup.footprint_monthly AS
    WITH p AS (
        SELECT k, dn, dp, (clips->>'co2e_kg')::float8 AS cc FROM rollup.params('footprint-district-monthly')
    ), c AS (
        SELECT m.month, m.district_id, x.category, x.v
        FROM rollup.household_monthly m
        CROSS JOIN LATERAL (VALUES ('electricity', m.electricity_co2e_kg, m.has_energy),
                                   ('district_heating', m.heat_co2e_kg, m.has_energy),
                                   ('water', m.water_co2e_kg, m.has_energy),
                                   ('waste', m.waste_co2e_kg, m.has_waste),
                                   ('mobility', m.mobility_co2e_kg, m.has_mobility),
                                   ('total', m.total_co2e_kg, true)) AS x(category, v, present)
        WHERE x.present
    ), r AS (
        SELECT c.*, row_number() OVER (PARTITION BY month, district_id, category ORDER BY v DESC) AS rv FROM c
    ), a AS (
        SELECT r.month, r.district_id, r.category, count(*)::integer AS n, p.k, p.dp,
               sum(v) AS v_sum, sum(least(v, p.cc)) AS v_clip, sum(v) FILTER (WHERE rv <= p.dn) AS v_top
        FROM r CROSS JOIN p
        GROUP BY r.month, r.district_id, r.category, p.k, p.dp
    ), s AS (
        SELECT a.*, CASE WHEN n < k THEN 'k' WHEN v_top > dp * v_sum THEN 'dominance' END AS reason FROM a
    ), g AS (
        SELECT s.*,
               count(*) FILTER (WHERE reason IS NOT NULL AND category <> 'total')
                   OVER (PARTITION BY month, district_id) AS n_prim,
               bool_or(category = 'total' AND reason IS NULL) OVER (PARTITION BY month, district_id) AS parent_pub,
               row_number() OVER (PARTITION BY month, district_id
                                  ORDER BY category = 'total', reason IS NOT NULL, v_sum, category) AS rn
        FROM s
    )
    SELECT month, district_id, category, n, v_sum, v_clip,
           coalesce(reason, CASE WHEN n_prim = 1 AND rn = 1 AND parent_pub THEN 'secondary' END) AS reason,
           reason IS NOT NULL OR (n_prim = 1 AND rn = 1 AND parent_pub) AS suppressed
    FROM g
WITH DATA;
CREATE UNIQUE INDEX footprint_monthly_key ON rollup.footprint_monthly (month, district_id, category);

-- waste-district-monthly: cell = local month x district x fraction; a household counts in a cell if it delivered
-- the fraction that month. Parent: the district-month's published waste CO2e in footprint-district-monthly.
CREATE MATERIALIZED VIEW rollup.waste_monthly AS
    WITH p AS (
        SELECT k, dn, dp, (clips->>'kg')::float8 AS ck FROM rollup.params('waste-district-monthly')
    ), c AS (
        SELECT date_trunc('month', w.collected_on)::date AS month, h.district_id, w.fraction, w.household_id,
               sum(w.kg::float8) AS v
        FROM core.waste_weighings w JOIN core.households h USING (household_id)
        GROUP BY 1, 2, 3, 4
    ), r AS (
        SELECT c.*, row_number() OVER (PARTITION BY month, district_id, fraction ORDER BY v DESC) AS rv FROM c
    ), a AS (
        SELECT r.month, r.district_id, r.fraction, count(*)::integer AS n, p.k, p.dp,
               sum(v) AS v_sum, sum(least(v, p.ck)) AS v_clip, sum(v) FILTER (WHERE rv <= p.dn) AS v_top
        FROM r CROSS JOIN p
        GROUP BY r.month, r.district_id, r.fraction, p.k, p.dp
    ), s AS (
        SELECT a.*, CASE WHEN n < k THEN 'k' WHEN v_top > dp * v_sum THEN 'dominance' END AS reason FROM a
    ), g AS (
        SELECT s.*, count(*) FILTER (WHERE reason IS NOT NULL) OVER (PARTITION BY month, district_id) AS n_prim,
               row_number() OVER (PARTITION BY month, district_id ORDER BY reason IS NOT NULL, v_sum, fraction) AS rn
        FROM s
    )
    SELECT g.month, g.district_id, g.fraction, g.n, g.v_sum, g.v_clip,
           coalesce(g.reason, CASE WHEN g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(f.suppressed, true)
                                   THEN 'secondary' END) AS reason,
           g.reason IS NOT NULL OR (g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(f.suppressed, true)) AS suppressed
    FROM g LEFT JOIN rollup.footprint_monthly f
        ON f.month = g.month AND f.district_id = g.district_id AND f.category = 'waste'
WITH DATA;
CREATE UNIQUE INDEX waste_monthly_key ON rollup.waste_monthly (month, district_id, fraction);

-- mobility-district-monthly: cell = local month x district x mode; parent: the footprint's mobility CO2e.
CREATE MATERIALIZED VIEW rollup.mobility_monthly AS
    WITH p AS (
        SELECT k, dn, dp, (clips->>'trips')::float8 AS ct, (clips->>'km')::float8 AS ck
        FROM rollup.params('mobility-district-monthly')
    ), c AS (
        SELECT date_trunc('month', m.day)::date AS month, h.district_id, m.mode, m.household_id,
               sum(m.trips)::float8 AS t, sum(m.km::float8) AS v
        FROM core.mobility_daily m JOIN core.households h USING (household_id)
        GROUP BY 1, 2, 3, 4
    ), r AS (
        SELECT c.*, row_number() OVER (PARTITION BY month, district_id, mode ORDER BY t DESC) AS rt,
               row_number() OVER (PARTITION BY month, district_id, mode ORDER BY v DESC) AS rv
        FROM c
    ), a AS (
        SELECT r.month, r.district_id, r.mode, count(*)::integer AS n, p.k, p.dp,
               sum(t) AS t_sum, sum(least(t, p.ct)) AS t_clip, sum(t) FILTER (WHERE rt <= p.dn) AS t_top,
               sum(v) AS v_sum, sum(least(v, p.ck)) AS v_clip, sum(v) FILTER (WHERE rv <= p.dn) AS v_top
        FROM r CROSS JOIN p
        GROUP BY r.month, r.district_id, r.mode, p.k, p.dp
    ), s AS (
        SELECT a.*, CASE WHEN n < k THEN 'k' WHEN t_top > dp * t_sum OR v_top > dp * v_sum THEN 'dominance' END
                   AS reason
        FROM a
    ), g AS (
        SELECT s.*, count(*) FILTER (WHERE reason IS NOT NULL) OVER (PARTITION BY month, district_id) AS n_prim,
               row_number() OVER (PARTITION BY month, district_id ORDER BY reason IS NOT NULL, v_sum, mode) AS rn
        FROM s
    )
    SELECT g.month, g.district_id, g.mode, g.n, g.t_sum, g.t_clip, g.v_sum, g.v_clip,
           coalesce(g.reason, CASE WHEN g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(f.suppressed, true)
                                   THEN 'secondary' END) AS reason,
           g.reason IS NOT NULL OR (g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(f.suppressed, true)) AS suppressed
    FROM g LEFT JOIN rollup.footprint_monthly f
        ON f.month = g.month AND f.district_id = g.district_id AND f.category = 'mobility'
WITH DATA;
CREATE UNIQUE INDEX mobility_monthly_key ON rollup.mobility_monthly (month, district_id, mode);

-- ---------------------------------------------------------------------------------------------------------------
-- Published views. Measures are NULL in suppressed cells; with noise they are clipped sums plus Laplace noise seeded
-- by (dataset id, version, cell key, column), and per-household means are derived from the (noisy) sums.

CREATE VIEW api.energy_district_hourly AS
    SELECT r.district_id::integer AS district_id, d.name AS district, r.hour_utc,
           (r.hour_utc AT TIME ZONE 'Europe/Copenhagen') AS hour_dk,
           CASE WHEN r.suppressed THEN NULL ELSE r.n END AS n_households,
           meta.publish(r.e_sum, r.e_clip, r.suppressed, ds.eps, ds.ce, ds.id, ds.version,
                        r.district_id || '|' || extract(epoch FROM r.hour_utc), 'electricity_wh') AS electricity_wh,
           meta.publish(r.q_sum, r.q_clip, r.suppressed, ds.eps, ds.cq, ds.id, ds.version,
                        r.district_id || '|' || extract(epoch FROM r.hour_utc), 'heat_wh') AS heat_wh,
           meta.publish(r.w_sum, r.w_clip, r.suppressed, ds.eps, ds.cw, ds.id, ds.version,
                        r.district_id || '|' || extract(epoch FROM r.hour_utc), 'water_l') AS water_l,
           round((meta.publish(r.e_sum, r.e_clip, r.suppressed, ds.eps, ds.ce, ds.id, ds.version,
                               r.district_id || '|' || extract(epoch FROM r.hour_utc), 'electricity_wh')
                  / r.n)::numeric, 3)::float8 AS electricity_wh_per_household,
           round((meta.publish(r.q_sum, r.q_clip, r.suppressed, ds.eps, ds.cq, ds.id, ds.version,
                               r.district_id || '|' || extract(epoch FROM r.hour_utc), 'heat_wh')
                  / r.n)::numeric, 3)::float8 AS heat_wh_per_household,
           round((meta.publish(r.w_sum, r.w_clip, r.suppressed, ds.eps, ds.cw, ds.id, ds.version,
                               r.district_id || '|' || extract(epoch FROM r.hour_utc), 'water_l')
                  / r.n)::numeric, 3)::float8 AS water_l_per_household,
           r.suppressed
    FROM rollup.district_hourly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN (SELECT x.id, x.version, x.noise_epsilon AS eps,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-district-hourly' AND c.name = 'electricity_wh') AS ce,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-district-hourly' AND c.name = 'heat_wh') AS cq,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-district-hourly' AND c.name = 'water_l') AS cw
                FROM meta.datasets x WHERE x.id = 'energy-district-hourly') ds;

CREATE VIEW api.energy_district_daily AS
    SELECT r.district_id::integer AS district_id, d.name AS district, r.day,
           (r.day::timestamp AT TIME ZONE 'Europe/Copenhagen') AS day_start_utc, r.hours,
           CASE WHEN r.suppressed THEN NULL ELSE r.n END AS n_households,
           meta.publish(r.e_sum, r.e_clip, r.suppressed, ds.eps, ds.ce, ds.id, ds.version,
                        r.district_id || '|' || r.day, 'electricity_kwh') AS electricity_kwh,
           meta.publish(r.q_sum, r.q_clip, r.suppressed, ds.eps, ds.cq, ds.id, ds.version,
                        r.district_id || '|' || r.day, 'heat_kwh') AS heat_kwh,
           meta.publish(r.w_sum, r.w_clip, r.suppressed, ds.eps, ds.cw, ds.id, ds.version,
                        r.district_id || '|' || r.day, 'water_l') AS water_l,
           round((meta.publish(r.e_sum, r.e_clip, r.suppressed, ds.eps, ds.ce, ds.id, ds.version,
                               r.district_id || '|' || r.day, 'electricity_kwh') / r.n)::numeric, 4)::float8
               AS electricity_kwh_per_household,
           round((meta.publish(r.q_sum, r.q_clip, r.suppressed, ds.eps, ds.cq, ds.id, ds.version,
                               r.district_id || '|' || r.day, 'heat_kwh') / r.n)::numeric, 4)::float8
               AS heat_kwh_per_household,
           round((meta.publish(r.w_sum, r.w_clip, r.suppressed, ds.eps, ds.cw, ds.id, ds.version,
                               r.district_id || '|' || r.day, 'water_l') / r.n)::numeric, 3)::float8
               AS water_l_per_household,
           r.suppressed
    FROM rollup.district_daily r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN (SELECT x.id, x.version, x.noise_epsilon AS eps,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-district-daily' AND c.name = 'electricity_kwh') AS ce,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-district-daily' AND c.name = 'heat_kwh') AS cq,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-district-daily' AND c.name = 'water_l') AS cw
                FROM meta.datasets x WHERE x.id = 'energy-district-daily') ds;

CREATE VIEW api.energy_peergroup_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.dwelling_type, r.occupant_band,
           CASE WHEN r.suppressed THEN NULL ELSE r.n END AS n_households,
           meta.publish(r.e_sum, r.e_clip, r.suppressed, ds.eps, ds.ce, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.dwelling_type || '|' || r.occupant_band,
                        'electricity_kwh') AS electricity_kwh,
           meta.publish(r.q_sum, r.q_clip, r.suppressed, ds.eps, ds.cq, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.dwelling_type || '|' || r.occupant_band,
                        'heat_kwh') AS heat_kwh,
           meta.publish(r.w_sum, r.w_clip, r.suppressed, ds.eps, ds.cw, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.dwelling_type || '|' || r.occupant_band,
                        'water_l') AS water_l,
           round((meta.publish(r.e_sum, r.e_clip, r.suppressed, ds.eps, ds.ce, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.dwelling_type || '|' || r.occupant_band,
                        'electricity_kwh') / r.n)::numeric, 3)::float8 AS electricity_kwh_per_household,
           round((meta.publish(r.q_sum, r.q_clip, r.suppressed, ds.eps, ds.cq, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.dwelling_type || '|' || r.occupant_band,
                        'heat_kwh') / r.n)::numeric, 3)::float8 AS heat_kwh_per_household,
           round((meta.publish(r.w_sum, r.w_clip, r.suppressed, ds.eps, ds.cw, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.dwelling_type || '|' || r.occupant_band,
                        'water_l') / r.n)::numeric, 3)::float8 AS water_l_per_household,
           r.suppressed
    FROM rollup.peergroup_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN (SELECT x.id, x.version, x.noise_epsilon AS eps,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-peergroup-monthly' AND c.name = 'electricity_kwh') AS ce,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-peergroup-monthly' AND c.name = 'heat_kwh') AS cq,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'energy-peergroup-monthly' AND c.name = 'water_l') AS cw
                FROM meta.datasets x WHERE x.id = 'energy-peergroup-monthly') ds;

CREATE VIEW api.waste_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.fraction,
           CASE WHEN r.suppressed THEN NULL ELSE r.n END AS n_households,
           meta.publish(r.v_sum, r.v_clip, r.suppressed, ds.eps, ds.ck, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.fraction, 'kg') AS kg,
           round((meta.publish(r.v_sum, r.v_clip, r.suppressed, ds.eps, ds.ck, ds.id, ds.version,
                               r.month || '|' || r.district_id || '|' || r.fraction, 'kg') / r.n)::numeric, 3)::float8
               AS kg_per_household,
           r.suppressed
    FROM rollup.waste_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN (SELECT x.id, x.version, x.noise_epsilon AS eps,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'waste-district-monthly' AND c.name = 'kg') AS ck
                FROM meta.datasets x WHERE x.id = 'waste-district-monthly') ds;

CREATE VIEW api.mobility_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.mode,
           CASE WHEN r.suppressed THEN NULL ELSE r.n END AS n_households,
           meta.publish(r.t_sum, r.t_clip, r.suppressed, ds.eps, ds.ct, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.mode, 'trips') AS trips,
           meta.publish(r.v_sum, r.v_clip, r.suppressed, ds.eps, ds.ck, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.mode, 'km') AS km,
           round((meta.publish(r.t_sum, r.t_clip, r.suppressed, ds.eps, ds.ct, ds.id, ds.version,
                               r.month || '|' || r.district_id || '|' || r.mode, 'trips') / r.n)::numeric, 3)::float8
               AS trips_per_household,
           round((meta.publish(r.v_sum, r.v_clip, r.suppressed, ds.eps, ds.ck, ds.id, ds.version,
                               r.month || '|' || r.district_id || '|' || r.mode, 'km') / r.n)::numeric, 3)::float8
               AS km_per_household,
           r.suppressed
    FROM rollup.mobility_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN (SELECT x.id, x.version, x.noise_epsilon AS eps,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'mobility-district-monthly' AND c.name = 'trips') AS ct,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'mobility-district-monthly' AND c.name = 'km') AS ck
                FROM meta.datasets x WHERE x.id = 'mobility-district-monthly') ds;

CREATE VIEW api.footprint_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.category,
           CASE WHEN r.suppressed THEN NULL ELSE r.n END AS n_households,
           meta.publish(r.v_sum, r.v_clip, r.suppressed, ds.eps, ds.cc, ds.id, ds.version,
                        r.month || '|' || r.district_id || '|' || r.category, 'co2e_kg') AS co2e_kg,
           round((meta.publish(r.v_sum, r.v_clip, r.suppressed, ds.eps, ds.cc, ds.id, ds.version,
                               r.month || '|' || r.district_id || '|' || r.category, 'co2e_kg') / r.n)::numeric,
                 3)::float8 AS co2e_kg_per_household,
           r.suppressed
    FROM rollup.footprint_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN (SELECT x.id, x.version, x.noise_epsilon AS eps,
                       (SELECT c.noise_clip FROM meta.dataset_columns c
                        WHERE c.dataset_id = 'footprint-district-monthly' AND c.name = 'co2e_kg') AS cc
                FROM meta.datasets x WHERE x.id = 'footprint-district-monthly') ds;

-- Not personal: published as they are.
CREATE VIEW api.grid_intensity_hourly AS
    SELECT hour_utc, (hour_utc AT TIME ZONE 'Europe/Copenhagen') AS hour_dk, area,
           g_per_kwh::double precision AS g_per_kwh
    FROM core.grid_intensity_hourly;

CREATE VIEW api.emission_factors AS
    SELECT factor_id, category, unit, value, valid_from, valid_to, method, source, is_assumption
    FROM core.emission_factors;

-- ---------------------------------------------------------------------------------------------------------------
-- Refresh bookkeeping

-- Every materialized view in refresh order (a view comes after the views it reads). concurrent = false marks an
-- intermediate that no reader ever queries (only other rollups read it, during their own refresh): it is refreshed
-- plainly, which skips the row-by-row diff of REFRESH ... CONCURRENTLY and blocks nobody.
CREATE TABLE meta.rollups (
    name text PRIMARY KEY,                 -- schema-qualified materialized view
    refresh_order integer NOT NULL UNIQUE,
    concurrent boolean NOT NULL DEFAULT true
);
INSERT INTO meta.rollups (name, refresh_order, concurrent) VALUES
    ('rollup.household_daily', 10, false);
INSERT INTO meta.rollups (name, refresh_order) VALUES
    ('rollup.household_monthly', 20),
    ('rollup.peer_stats_monthly', 30),
    ('rollup.household_peer_monthly', 40),
    ('rollup.district_daily', 50),
    ('rollup.district_hourly', 60),
    ('rollup.peergroup_monthly', 70),
    ('rollup.footprint_monthly', 80),
    ('rollup.waste_monthly', 90),
    ('rollup.mobility_monthly', 100);

-- The rollups each dataset needs, including the ones they read (so refreshing one dataset is consistent).
CREATE TABLE meta.dataset_rollups (
    dataset_id text NOT NULL REFERENCES meta.datasets ON DELETE CASCADE,
    rollup text NOT NULL REFERENCES meta.rollups,
    PRIMARY KEY (dataset_id, rollup)
);
INSERT INTO meta.dataset_rollups (dataset_id, rollup) VALUES
    ('energy-district-daily', 'rollup.household_daily'),
    ('energy-district-daily', 'rollup.district_daily'),
    ('energy-district-hourly', 'rollup.household_daily'),
    ('energy-district-hourly', 'rollup.district_daily'),
    ('energy-district-hourly', 'rollup.district_hourly'),
    ('energy-peergroup-monthly', 'rollup.household_daily'),
    ('energy-peergroup-monthly', 'rollup.household_monthly'),
    ('energy-peergroup-monthly', 'rollup.peergroup_monthly'),
    ('footprint-district-monthly', 'rollup.household_daily'),
    ('footprint-district-monthly', 'rollup.household_monthly'),
    ('footprint-district-monthly', 'rollup.footprint_monthly'),
    ('waste-district-monthly', 'rollup.household_daily'),
    ('waste-district-monthly', 'rollup.household_monthly'),
    ('waste-district-monthly', 'rollup.footprint_monthly'),
    ('waste-district-monthly', 'rollup.waste_monthly'),
    ('mobility-district-monthly', 'rollup.household_daily'),
    ('mobility-district-monthly', 'rollup.household_monthly'),
    ('mobility-district-monthly', 'rollup.footprint_monthly'),
    ('mobility-district-monthly', 'rollup.mobility_monthly');

-- Refreshes one materialized view: CONCURRENTLY (readers are not blocked) when it holds data, plainly when it has
-- never been populated or is empty (nothing to read yet, and much faster) or is not read by anyone (meta.rollups).
CREATE FUNCTION meta.refresh_rollup(rollup_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    populated boolean;
    has_rows boolean;
    concurrent boolean;
BEGIN
    SELECT r.concurrent INTO concurrent FROM meta.rollups r WHERE r.name = rollup_name;
    SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = rollup_name::regclass AND c.relkind = 'm';
    IF populated IS NULL THEN
        RAISE EXCEPTION 'not a materialized view: %', rollup_name;
    END IF;
    IF populated THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', rollup_name::regclass) INTO has_rows;
    END IF;
    IF populated AND has_rows AND coalesce(concurrent, true) THEN
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', rollup_name::regclass);
    ELSE
        EXECUTE format('REFRESH MATERIALIZED VIEW %s', rollup_name::regclass);
    END IF;
END
$fn$;

-- Starts a new release of a dataset after its rollups were refreshed: version + 1, refreshed_at, temporal coverage,
-- a meta.dataset_versions row, and NOTIFY klima_dataset_refreshed '<id> <version>' (delivered at commit).
-- Returns the new version.
CREATE FUNCTION meta.dataset_bump(dataset text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ds meta.datasets%ROWTYPE;
    time_col text;
    step interval;
    t0 timestamptz;
    t1 timestamptz;
    n_rows bigint;
    n_supp bigint;
    v bigint;
BEGIN
    SELECT * INTO ds FROM meta.datasets WHERE id = dataset FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown dataset: %', dataset USING ERRCODE = 'undefined_object';
    END IF;
    time_col := CASE ds.temporal_resolution WHEN 'PT1H' THEN 'hour_utc' WHEN 'P1D' THEN 'day_start_utc'
                                            WHEN 'P1M' THEN 'month_start_utc' END;
    IF time_col IS NOT NULL THEN
        step := ds.temporal_resolution::interval;
        EXECUTE format('SELECT min(%I), max(%I) + %L::interval, count(*), %s FROM %s', time_col, time_col, step,
                       CASE WHEN ds.personal THEN 'count(*) FILTER (WHERE suppressed)' ELSE 'NULL::bigint' END,
                       ds.source_view)
            INTO t0, t1, n_rows, n_supp;
    ELSE
        EXECUTE format('SELECT count(*) FROM %s', ds.source_view) INTO n_rows;
    END IF;
    UPDATE meta.datasets
    SET version = version + 1, refreshed_at = now(), temporal_start = t0, temporal_end = t1
    WHERE id = dataset
    RETURNING version INTO v;
    INSERT INTO meta.dataset_versions (dataset_id, version, refreshed_at, row_count, suppressed_count)
    VALUES (dataset, v, now(), n_rows, n_supp);
    PERFORM pg_notify('klima_dataset_refreshed', dataset || ' ' || v);
    RETURN v;
END
$fn$;

-- Refreshes the rollups of the given datasets (all datasets and all rollups, including the per-household ones of
-- the citizen summary, when NULL) and bumps each dataset's version. The CLI `klimaspejl refresh` does the same step
-- by step so it can time each dataset. REFRESH ... CONCURRENTLY is allowed inside this function's transaction.
CREATE FUNCTION meta.refresh_datasets(datasets text[] DEFAULT NULL)
RETURNS TABLE (dataset_id text, version bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    unknown text;
BEGIN
    SELECT string_agg(x, ', ') INTO unknown
    FROM unnest(datasets) x WHERE NOT EXISTS (SELECT 1 FROM meta.datasets d WHERE d.id = x);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown dataset: %', unknown USING ERRCODE = 'undefined_object';
    END IF;
    FOR r IN
        SELECT ro.name FROM meta.rollups ro
        WHERE datasets IS NULL
           OR EXISTS (SELECT 1 FROM meta.dataset_rollups dr WHERE dr.rollup = ro.name AND dr.dataset_id = ANY (datasets))
        ORDER BY ro.refresh_order
    LOOP
        PERFORM meta.refresh_rollup(r.name);
    END LOOP;
    FOR r IN SELECT d.id FROM meta.datasets d WHERE datasets IS NULL OR d.id = ANY (datasets) ORDER BY d.id LOOP
        dataset_id := r.id;
        version := meta.dataset_bump(r.id);
        RETURN NEXT;
    END LOOP;
END
$fn$;
