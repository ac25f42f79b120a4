-- 0006_district_cells — the cells of the published household datasets before publication, with the primary and
-- secondary suppression rules (DESIGN section 3, sql/README.md "Anonymization of published datasets"):
--   primary:   a cell is suppressed when fewer than k distinct households contribute, or when its dominance_n largest
--              contributors exceed dominance_pct % of the cell total for any of its measures;
--   secondary: in every group of sibling cells whose sum is published elsewhere (the parent), if exactly one sibling
--              is suppressed the next-smallest sibling is suppressed too.
-- Each local-time bucket also carries the UTC instant where it starts.

SET LOCAL ROLE klima_owner;

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

RESET ROLE;
