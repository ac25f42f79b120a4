-- 0006_district_cells — the cells of the published household datasets: true values, the suppression rules and the
-- published (cell-key perturbed, rounded) values, one table per dataset with its builder rollup.<name>_rows(lo, hi)
-- (as in 0005: a release rebuilds the periods that changed; DESIGN section 3, sql/README.md "Anonymization of
-- published datasets"):
--   primary:   a cell is suppressed when fewer than k distinct households contribute ('k'), or when its dominance_n
--              largest contributors exceed dominance_pct % of the cell total for any of its measures ('dominance');
--   secondary: in every group of sibling cells whose sum is published elsewhere (the parent), if exactly one sibling
--              is suppressed the next-smallest sibling is suppressed too ('secondary');
--   cell key:  every published count and magnitude is perturbed by the Cell Key Method (0004_disclosure_control.sql)
--              and rounded to its column's scale (meta.dataset_columns.scale).
-- Each cell row holds n and per measure the true sum (*_sum), the largest single-household contribution (*_max), the
-- cell keys (n_key, *_key), the reason and suppressed flag, and the published values (n_pub, *_pub, *_ph for the
-- per-household means; NULL when suppressed). k, dominance, the scales and the cell-key parameters are read from the
-- catalog at every release. Each local-time bucket also carries the UTC instant where it starts. Every sum is exact
-- (integers of the smallest unit, or numeric), so a cell comes out the same to the bit whatever order its rows are
-- added up in (0005).

SET LOCAL ROLE klima_owner;

-- The disclosure parameters of one dataset as one row: k, dominance n and share, whether the cell-key noise is on, its
-- magnitude multiplier m, the scale of every number column ({"column": scale}), and whether the existence rule is on
-- (a cell of fewer than k households is not listed: the rollups' `listed` column, which the api views filter on).
CREATE FUNCTION rollup.params(dataset text)
RETURNS TABLE (k integer, dn integer, dp double precision, enabled boolean, m double precision, scales jsonb,
               existence boolean)
LANGUAGE sql STABLE PARALLEL SAFE
-- one row: without this the planner assumes 1,000 and multiplies every estimate of the cell queries by it
ROWS 1
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT d.k, d.dominance_n, d.dominance_pct::double precision / 100.0, dc.cell_key_enabled, dc.magnitude_m,
           coalesce((SELECT jsonb_object_agg(c.name, c.scale) FROM meta.dataset_columns c
                     WHERE c.dataset_id = d.id AND c.scale IS NOT NULL), '{}'),
           dc.existence_enabled
    FROM meta.datasets d CROSS JOIN meta.disclosure_control dc
    WHERE d.id = dataset
$fn$;

-- Households with their keys, materialized by every release before the cells (a release draws missing keys first): the
-- 19 M-row scans of district_hourly then join one small table instead of two.
CREATE MATERIALIZED VIEW rollup.keyed_households AS
    SELECT h.household_id, h.district_id, h.dwelling_type, h.occupant_band, k.count_key, k.k0, k.k1, k.k2, k.k3
    FROM core.households h JOIN core.record_keys k USING (household_id)
WITH DATA;
CREATE UNIQUE INDEX keyed_households_key ON rollup.keyed_households (household_id);

-- energy-district-daily: cell = district x local day. No total of these cells is published, so only primary rules.
-- The dominance test uses the bound explained at district_hourly.
CREATE FUNCTION rollup.district_daily_rows(lo date, hi date)
RETURNS TABLE (district_id smallint, day date, hours integer, n integer, e_sum double precision,
               e_max double precision, q_sum double precision, q_max double precision, w_sum double precision,
               w_max double precision, n_key bigint, e_key bigint, q_key bigint, w_key bigint, reason text,
               suppressed boolean, n_pub integer, e_pub numeric, q_pub numeric, w_pub numeric, e_ph numeric,
               q_ph numeric, w_ph numeric, listed boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT * FROM rollup.params('energy-district-daily')
    ), a AS (
        SELECT h.district_id, d.day, max(d.hours)::integer AS hours, count(*)::integer AS n,
               sum(d.electricity_wh)::float8 / 1000.0 AS e_sum, max(d.electricity_wh)::float8 / 1000.0 AS e_max,
               sum(d.heat_wh)::float8 / 1000.0 AS q_sum, max(d.heat_wh)::float8 / 1000.0 AS q_max,
               (sum(d.water_ml) / 1000.0)::float8 AS w_sum, (max(d.water_ml) / 1000.0)::float8 AS w_max,
               sum(h.count_key) AS n_key,
               (sum(rollup.mkey(h.k1, h.k0, d.electricity_wh)) % 2147483648)::bigint AS e_key,
               (sum(rollup.mkey(h.k2, h.k0, d.heat_wh)) % 2147483648)::bigint AS q_key,
               (sum(rollup.mkey(h.k3, h.k0, d.water_ml)) % 2147483648)::bigint AS w_key
        FROM rollup.household_daily d JOIN rollup.keyed_households h USING (household_id)
        WHERE d.day >= lo AND d.day < hi
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
                  (SELECT sum(v) FROM (SELECT x.water_ml / 1000.0 AS v FROM rollup.household_daily x
                                       JOIN core.households y USING (household_id)
                                       WHERE y.district_id = a.district_id AND x.day = a.day
                                       ORDER BY 1 DESC LIMIT p.dn) t) > p.dp * a.w_sum)
              THEN 'dominance' END AS reason
        FROM a CROSS JOIN p
    ), v AS (
        SELECT s.*, s.reason IS NOT NULL AS suppressed,
               CASE WHEN s.reason IS NULL THEN rollup.ckm_count(s.n, tn.noise, p.k, p.enabled) END AS n_pub,
               CASE WHEN s.reason IS NULL THEN rollup.ckm_value(s.e_sum, s.e_max, te.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'electricity_kwh')::integer) END AS e_pub,
               CASE WHEN s.reason IS NULL THEN rollup.ckm_value(s.q_sum, s.q_max, tq.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'heat_kwh')::integer) END AS q_pub,
               CASE WHEN s.reason IS NULL THEN rollup.ckm_value(s.w_sum, s.w_max, tw.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'water_l')::integer) END AS w_pub,
               p.scales, p.existence
        FROM s CROSS JOIN p
        LEFT JOIN rollup.ptable tn ON tn.kind = 'count' AND tn.slot = rollup.count_slot(s.n_key)
        LEFT JOIN rollup.ptable te ON te.kind = 'magnitude' AND te.slot = rollup.magnitude_slot(s.e_key, 1)
        LEFT JOIN rollup.ptable tq ON tq.kind = 'magnitude' AND tq.slot = rollup.magnitude_slot(s.q_key, 2)
        LEFT JOIN rollup.ptable tw ON tw.kind = 'magnitude' AND tw.slot = rollup.magnitude_slot(s.w_key, 3)
    )
    SELECT district_id, day, hours, n, e_sum, e_max, q_sum, q_max, w_sum, w_max, n_key, e_key, q_key, w_key, reason,
           suppressed, n_pub, e_pub, q_pub, w_pub,
           rollup.per_household(e_pub, n_pub, (scales ->> 'electricity_kwh_per_household')::integer) AS e_ph,
           rollup.per_household(q_pub, n_pub, (scales ->> 'heat_kwh_per_household')::integer) AS q_ph,
           rollup.per_household(w_pub, n_pub, (scales ->> 'water_l_per_household')::integer) AS w_ph,
           (reason IS DISTINCT FROM 'k' OR NOT existence) AS listed
    FROM v;
END
$fn$;
CREATE TABLE rollup.district_daily AS SELECT * FROM rollup.district_daily_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.district_daily ADD PRIMARY KEY (district_id, day);
CREATE INDEX district_daily_day ON rollup.district_daily (day);

-- energy-district-hourly: cell = district x hour. 19 million readings at demo scale, so the dominance test avoids a
-- sort: with m = the largest contribution, the dominance_n largest sum to at most dominance_n * m, so only cells with
-- dominance_n * m > pct * total need the exact top-n, fetched per cell. Secondary suppression: the hours of a
-- district's local day sum to the published energy-district-daily cell; if exactly one hour is suppressed and that
-- day is published, the next-smallest hour (by electricity) is suppressed too.
CREATE FUNCTION rollup.district_hourly_rows(lo date, hi date)
RETURNS TABLE (district_id smallint, hour_utc timestamptz, n integer, e_sum double precision, e_max double precision,
               q_sum double precision, q_max double precision, w_sum double precision, w_max double precision,
               n_key bigint, e_key bigint, q_key bigint, w_key bigint, reason text, suppressed boolean, n_pub integer,
               e_pub numeric, q_pub numeric, w_pub numeric, e_ph numeric, q_ph numeric, w_ph numeric, listed boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    t0 timestamptz := rollup.local_start(lo);
    t1 timestamptz := rollup.local_start(hi);
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT * FROM rollup.params('energy-district-hourly')
    ), a AS (
        SELECT h.district_id, e.hour_utc, count(*)::integer AS n,
               sum(e.electricity_wh)::float8 AS e_sum, max(e.electricity_wh)::float8 AS e_max,
               sum(e.heat_wh)::float8 AS q_sum, max(e.heat_wh)::float8 AS q_max,
               -- water in whole mL, as its key counts it: an integer sum comes out the same in any order
               (sum(round(e.water_l::float8 * 1000)::bigint) / 1000.0)::float8 AS w_sum,
               max(round(e.water_l::float8 * 1000)) / 1000 AS w_max,
               sum(h.count_key) AS n_key,
               (sum(rollup.mkey(h.k1, h.k0, e.electricity_wh)) % 2147483648)::bigint AS e_key,
               (sum(rollup.mkey(h.k2, h.k0, e.heat_wh)) % 2147483648)::bigint AS q_key,
               (sum(rollup.mkey(h.k3, h.k0, round(e.water_l::float8 * 1000)::bigint)) % 2147483648)::bigint AS w_key
        FROM core.energy_hourly e JOIN rollup.keyed_households h USING (household_id)
        WHERE e.hour_utc >= t0 AND e.hour_utc < t1
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
                  (SELECT sum(v) FROM (SELECT round(x.water_l::float8 * 1000) / 1000 AS v FROM core.energy_hourly x
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
    ), f AS (
        SELECT g.district_id, g.hour_utc, g.n, g.e_sum, g.e_max, g.q_sum, g.q_max, g.w_sum, g.w_max, g.n_key, g.e_key,
               g.q_key, g.w_key,
               coalesce(g.reason, CASE WHEN g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(dd.suppressed, true)
                                       THEN 'secondary' END) AS reason
        FROM g LEFT JOIN rollup.district_daily dd ON dd.district_id = g.district_id AND dd.day = g.day
    ), v AS (
        SELECT f.*, f.reason IS NOT NULL AS suppressed,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_count(f.n, tn.noise, p.k, p.enabled) END AS n_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.e_sum, f.e_max, te.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'electricity_wh')::integer) END AS e_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.q_sum, f.q_max, tq.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'heat_wh')::integer) END AS q_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.w_sum, f.w_max, tw.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'water_l')::integer) END AS w_pub,
               p.scales, p.existence
        FROM f CROSS JOIN p
        LEFT JOIN rollup.ptable tn ON tn.kind = 'count' AND tn.slot = rollup.count_slot(f.n_key)
        LEFT JOIN rollup.ptable te ON te.kind = 'magnitude' AND te.slot = rollup.magnitude_slot(f.e_key, 1)
        LEFT JOIN rollup.ptable tq ON tq.kind = 'magnitude' AND tq.slot = rollup.magnitude_slot(f.q_key, 2)
        LEFT JOIN rollup.ptable tw ON tw.kind = 'magnitude' AND tw.slot = rollup.magnitude_slot(f.w_key, 3)
    )
    SELECT district_id, hour_utc, n, e_sum, e_max, q_sum, q_max, w_sum, w_max, n_key, e_key, q_key, w_key, reason,
           suppressed, n_pub, e_pub, q_pub, w_pub,
           rollup.per_household(e_pub, n_pub, (scales ->> 'electricity_wh_per_household')::integer) AS e_ph,
           rollup.per_household(q_pub, n_pub, (scales ->> 'heat_wh_per_household')::integer) AS q_ph,
           rollup.per_household(w_pub, n_pub, (scales ->> 'water_l_per_household')::integer) AS w_ph,
           (reason IS DISTINCT FROM 'k' OR NOT existence) AS listed
    FROM v;
END
$fn$;
CREATE TABLE rollup.district_hourly AS SELECT * FROM rollup.district_hourly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.district_hourly ADD PRIMARY KEY (district_id, hour_utc);
CREATE INDEX district_hourly_hour ON rollup.district_hourly (hour_utc);

-- energy-peergroup-monthly: cell = local month x district x dwelling type x occupant band. The cells of one
-- district-month sum to the district's month, which can be summed from energy-district-daily, so secondary
-- suppression runs within (month, district).
CREATE FUNCTION rollup.peergroup_monthly_rows(lo date, hi date)
RETURNS TABLE (month date, district_id smallint, dwelling_type text, occupant_band text, n integer, e_sum numeric,
               e_max numeric, q_sum numeric, q_max numeric, w_sum double precision, w_max double precision,
               n_key bigint, e_key bigint, q_key bigint, w_key bigint, reason text, suppressed boolean, n_pub integer,
               e_pub numeric, q_pub numeric, w_pub numeric, e_ph numeric, q_ph numeric, w_ph numeric, listed boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT * FROM rollup.params('energy-peergroup-monthly')
    ), r AS (
        SELECT m.month, m.district_id, m.dwelling_type, m.occupant_band,
               m.electricity_kwh AS e, m.heat_kwh AS q, m.water_l AS w, k.count_key,
               rollup.mkey(k.k1, k.k0, round(m.electricity_kwh * 1000)::bigint) AS ek,
               rollup.mkey(k.k2, k.k0, round(m.heat_kwh * 1000)::bigint) AS qk,
               rollup.mkey(k.k3, k.k0, round(m.water_l * 1000)::bigint) AS wk,
               row_number() OVER (PARTITION BY m.month, m.district_id, m.dwelling_type, m.occupant_band
                                  ORDER BY m.electricity_kwh DESC) AS re,
               row_number() OVER (PARTITION BY m.month, m.district_id, m.dwelling_type, m.occupant_band
                                  ORDER BY m.heat_kwh DESC) AS rq,
               row_number() OVER (PARTITION BY m.month, m.district_id, m.dwelling_type, m.occupant_band
                                  ORDER BY m.water_l DESC) AS rw
        FROM rollup.household_monthly m JOIN core.record_keys k USING (household_id)
        WHERE m.has_energy AND m.month >= lo AND m.month < hi
    ), a AS (
        SELECT r.month, r.district_id, r.dwelling_type, r.occupant_band, count(*)::integer AS n, p.k, p.dp,
               sum(e) AS e_sum, max(e) AS e_max, sum(e) FILTER (WHERE re <= p.dn) AS e_top,
               sum(q) AS q_sum, max(q) AS q_max, sum(q) FILTER (WHERE rq <= p.dn) AS q_top,
               -- sums of floats in numeric: exact, so the same in any order
               sum(w::numeric)::float8 AS w_sum, max(w) AS w_max, (sum(w::numeric) FILTER (WHERE rw <= p.dn))::float8 AS w_top,
               sum(count_key) AS n_key, (sum(ek) % 2147483648)::bigint AS e_key,
               (sum(qk) % 2147483648)::bigint AS q_key, (sum(wk) % 2147483648)::bigint AS w_key
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
    ), f AS (
        SELECT month, district_id, dwelling_type, occupant_band, n, e_sum, e_max, q_sum, q_max, w_sum, w_max, n_key,
               e_key, q_key, w_key, coalesce(reason, CASE WHEN n_prim = 1 AND rn = 1 THEN 'secondary' END) AS reason
        FROM g
    ), v AS (
        SELECT f.*, f.reason IS NOT NULL AS suppressed,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_count(f.n, tn.noise, p.k, p.enabled) END AS n_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.e_sum, f.e_max, te.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'electricity_kwh')::integer) END AS e_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.q_sum, f.q_max, tq.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'heat_kwh')::integer) END AS q_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.w_sum, f.w_max, tw.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'water_l')::integer) END AS w_pub,
               p.scales, p.existence
        FROM f CROSS JOIN p
        LEFT JOIN rollup.ptable tn ON tn.kind = 'count' AND tn.slot = rollup.count_slot(f.n_key)
        LEFT JOIN rollup.ptable te ON te.kind = 'magnitude' AND te.slot = rollup.magnitude_slot(f.e_key, 1)
        LEFT JOIN rollup.ptable tq ON tq.kind = 'magnitude' AND tq.slot = rollup.magnitude_slot(f.q_key, 2)
        LEFT JOIN rollup.ptable tw ON tw.kind = 'magnitude' AND tw.slot = rollup.magnitude_slot(f.w_key, 3)
    )
    SELECT month, district_id, dwelling_type, occupant_band, n, e_sum, e_max, q_sum, q_max, w_sum, w_max, n_key, e_key,
           q_key, w_key, reason, suppressed, n_pub, e_pub, q_pub, w_pub,
           rollup.per_household(e_pub, n_pub, (scales ->> 'electricity_kwh_per_household')::integer) AS e_ph,
           rollup.per_household(q_pub, n_pub, (scales ->> 'heat_kwh_per_household')::integer) AS q_ph,
           rollup.per_household(w_pub, n_pub, (scales ->> 'water_l_per_household')::integer) AS w_ph,
           (reason IS DISTINCT FROM 'k' OR NOT existence) AS listed
    FROM v;
END
$fn$;
CREATE TABLE rollup.peergroup_monthly AS
    SELECT * FROM rollup.peergroup_monthly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.peergroup_monthly ADD PRIMARY KEY (month, district_id, dwelling_type, occupant_band);

-- footprint-district-monthly: cell = local month x district x category; 'total' is the published parent of the
-- other categories of its district-month (secondary suppression within (month, district)).
CREATE FUNCTION rollup.footprint_monthly_rows(lo date, hi date)
RETURNS TABLE (month date, district_id smallint, category text, n integer, v_sum double precision,
               v_max double precision, n_key bigint, v_key bigint, reason text, suppressed boolean, n_pub integer,
               v_pub numeric, v_ph numeric, listed boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT * FROM rollup.params('footprint-district-monthly')
    ), c AS (
        SELECT m.month, m.district_id, x.category, x.v, k.count_key, rollup.mkey(k.k1, k.k0, round(x.v * 1000)::bigint) AS vk
        FROM rollup.household_monthly m
        JOIN core.record_keys k USING (household_id)
        CROSS JOIN LATERAL (VALUES ('electricity', m.electricity_co2e_kg, m.has_energy),
                                   ('district_heating', m.heat_co2e_kg, m.has_energy),
                                   ('water', m.water_co2e_kg, m.has_energy),
                                   ('waste', m.waste_co2e_kg, m.has_waste),
                                   ('mobility', m.mobility_co2e_kg, m.has_mobility),
                                   ('total', m.total_co2e_kg, true)) AS x(category, v, present)
        WHERE x.present AND m.month >= lo AND m.month < hi
    ), r AS (
        SELECT c.*, row_number() OVER (PARTITION BY month, district_id, category ORDER BY v DESC) AS rv FROM c
    ), a AS (
        SELECT r.month, r.district_id, r.category, count(*)::integer AS n, p.k, p.dp,
               sum(v::numeric)::float8 AS v_sum, max(v) AS v_max, (sum(v::numeric) FILTER (WHERE rv <= p.dn))::float8 AS v_top,
               sum(count_key) AS n_key, (sum(vk) % 2147483648)::bigint AS v_key
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
    ), f AS (
        SELECT month, district_id, category, n, v_sum, v_max, n_key, v_key,
               coalesce(reason, CASE WHEN n_prim = 1 AND rn = 1 AND parent_pub THEN 'secondary' END) AS reason
        FROM g
    ), v AS (
        SELECT f.*, f.reason IS NOT NULL AS suppressed,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_count(f.n, tn.noise, p.k, p.enabled) END AS n_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.v_sum, f.v_max, tv.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'co2e_kg')::integer) END AS v_pub,
               p.scales, p.existence
        FROM f CROSS JOIN p
        LEFT JOIN rollup.ptable tn ON tn.kind = 'count' AND tn.slot = rollup.count_slot(f.n_key)
        LEFT JOIN rollup.ptable tv ON tv.kind = 'magnitude' AND tv.slot = rollup.magnitude_slot(f.v_key, 4)
    )
    SELECT month, district_id, category, n, v_sum, v_max, n_key, v_key, reason, suppressed, n_pub, v_pub,
           rollup.per_household(v_pub, n_pub, (scales ->> 'co2e_kg_per_household')::integer) AS v_ph,
           (reason IS DISTINCT FROM 'k' OR NOT existence) AS listed
    FROM v;
END
$fn$;
CREATE TABLE rollup.footprint_monthly AS
    SELECT * FROM rollup.footprint_monthly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.footprint_monthly ADD PRIMARY KEY (month, district_id, category);

-- waste-district-monthly: cell = local month x district x fraction; a household counts in a cell if it delivered
-- the fraction that month. Parent: the district-month's published waste CO2e in footprint-district-monthly.
CREATE FUNCTION rollup.waste_monthly_rows(lo date, hi date)
RETURNS TABLE (month date, district_id smallint, fraction text, n integer, v_sum double precision,
               v_max double precision, n_key bigint, v_key bigint, reason text, suppressed boolean, n_pub integer,
               v_pub numeric, v_ph numeric, listed boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT * FROM rollup.params('waste-district-monthly')
    ), c AS (
        SELECT date_trunc('month', w.collected_on)::date AS month, h.district_id, w.fraction, w.household_id,
               min(h.count_key) AS count_key, min(h.k0) AS k0, min(h.k2) AS k2,
               (sum(round(w.kg::float8 * 1000)::bigint) / 1000.0)::float8 AS v   -- whole grams, as the key counts them
        FROM core.waste_weighings w JOIN rollup.keyed_households h USING (household_id)
        WHERE w.collected_on >= lo AND w.collected_on < hi
        GROUP BY 1, 2, 3, 4
    ), r AS (
        SELECT c.*, rollup.mkey(c.k2, c.k0, round(c.v * 1000)::bigint) AS vk,
               row_number() OVER (PARTITION BY month, district_id, fraction ORDER BY v DESC) AS rv
        FROM c
    ), a AS (
        SELECT r.month, r.district_id, r.fraction, count(*)::integer AS n, p.k, p.dp,
               sum(v::numeric)::float8 AS v_sum, max(v) AS v_max, (sum(v::numeric) FILTER (WHERE rv <= p.dn))::float8 AS v_top,
               sum(count_key) AS n_key, (sum(vk) % 2147483648)::bigint AS v_key
        FROM r CROSS JOIN p
        GROUP BY r.month, r.district_id, r.fraction, p.k, p.dp
    ), s AS (
        SELECT a.*, CASE WHEN n < k THEN 'k' WHEN v_top > dp * v_sum THEN 'dominance' END AS reason FROM a
    ), g AS (
        SELECT s.*, count(*) FILTER (WHERE reason IS NOT NULL) OVER (PARTITION BY month, district_id) AS n_prim,
               row_number() OVER (PARTITION BY month, district_id ORDER BY reason IS NOT NULL, v_sum, fraction) AS rn
        FROM s
    ), f AS (
        SELECT g.month, g.district_id, g.fraction, g.n, g.v_sum, g.v_max, g.n_key, g.v_key,
               coalesce(g.reason, CASE WHEN g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(fp.suppressed, true)
                                       THEN 'secondary' END) AS reason
        FROM g LEFT JOIN rollup.footprint_monthly fp
            ON fp.month = g.month AND fp.district_id = g.district_id AND fp.category = 'waste'
    ), v AS (
        SELECT f.*, f.reason IS NOT NULL AS suppressed,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_count(f.n, tn.noise, p.k, p.enabled) END AS n_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.v_sum, f.v_max, tv.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'kg')::integer) END AS v_pub,
               p.scales, p.existence
        FROM f CROSS JOIN p
        LEFT JOIN rollup.ptable tn ON tn.kind = 'count' AND tn.slot = rollup.count_slot(f.n_key)
        LEFT JOIN rollup.ptable tv ON tv.kind = 'magnitude' AND tv.slot = rollup.magnitude_slot(f.v_key, 5)
    )
    SELECT month, district_id, fraction, n, v_sum, v_max, n_key, v_key, reason, suppressed, n_pub, v_pub,
           rollup.per_household(v_pub, n_pub, (scales ->> 'kg_per_household')::integer) AS v_ph,
           (reason IS DISTINCT FROM 'k' OR NOT existence) AS listed
    FROM v;
END
$fn$;
CREATE TABLE rollup.waste_monthly AS SELECT * FROM rollup.waste_monthly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.waste_monthly ADD PRIMARY KEY (month, district_id, fraction);

-- mobility-district-monthly: cell = local month x district x mode; parent: the footprint's mobility CO2e.
CREATE FUNCTION rollup.mobility_monthly_rows(lo date, hi date)
RETURNS TABLE (month date, district_id smallint, mode text, n integer, t_sum double precision, t_max double precision,
               v_sum double precision, v_max double precision, n_key bigint, t_key bigint, v_key bigint, reason text,
               suppressed boolean, n_pub integer, t_pub numeric, v_pub numeric, t_ph numeric, v_ph numeric,
               listed boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT * FROM rollup.params('mobility-district-monthly')
    ), c AS (
        SELECT date_trunc('month', m.day)::date AS month, h.district_id, m.mode, m.household_id,
               min(h.count_key) AS count_key, min(h.k0) AS k0, min(h.k1) AS k1, min(h.k3) AS k3,
               sum(m.trips)::float8 AS t,
               (sum(round(m.km::float8 * 1000)::bigint) / 1000.0)::float8 AS v  -- whole metres, as the key counts them
        FROM core.mobility_daily m JOIN rollup.keyed_households h USING (household_id)
        WHERE m.day >= lo AND m.day < hi
        GROUP BY 1, 2, 3, 4
    ), r AS (
        SELECT c.*, rollup.mkey(c.k3, c.k0, c.t::bigint) AS tk, rollup.mkey(c.k1, c.k0, round(c.v * 1000)::bigint) AS vk,
               row_number() OVER (PARTITION BY month, district_id, mode ORDER BY t DESC) AS rt,
               row_number() OVER (PARTITION BY month, district_id, mode ORDER BY v DESC) AS rv
        FROM c
    ), a AS (
        SELECT r.month, r.district_id, r.mode, count(*)::integer AS n, p.k, p.dp,
               sum(t) AS t_sum, max(t) AS t_max, sum(t) FILTER (WHERE rt <= p.dn) AS t_top,
               sum(v::numeric)::float8 AS v_sum, max(v) AS v_max, (sum(v::numeric) FILTER (WHERE rv <= p.dn))::float8 AS v_top,
               sum(count_key) AS n_key, (sum(tk) % 2147483648)::bigint AS t_key, (sum(vk) % 2147483648)::bigint AS v_key
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
    ), f AS (
        SELECT g.month, g.district_id, g.mode, g.n, g.t_sum, g.t_max, g.v_sum, g.v_max, g.n_key, g.t_key, g.v_key,
               coalesce(g.reason, CASE WHEN g.n_prim = 1 AND g.rn = 1 AND NOT coalesce(fp.suppressed, true)
                                       THEN 'secondary' END) AS reason
        FROM g LEFT JOIN rollup.footprint_monthly fp
            ON fp.month = g.month AND fp.district_id = g.district_id AND fp.category = 'mobility'
    ), v AS (
        SELECT f.*, f.reason IS NOT NULL AS suppressed,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_count(f.n, tn.noise, p.k, p.enabled) END AS n_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.t_sum, f.t_max, tt.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'trips')::integer) END AS t_pub,
               CASE WHEN f.reason IS NULL THEN rollup.ckm_value(f.v_sum, f.v_max, tv.noise, p.enabled, p.m,
                                                                   (p.scales ->> 'km')::integer) END AS v_pub,
               p.scales, p.existence
        FROM f CROSS JOIN p
        LEFT JOIN rollup.ptable tn ON tn.kind = 'count' AND tn.slot = rollup.count_slot(f.n_key)
        LEFT JOIN rollup.ptable tt ON tt.kind = 'magnitude' AND tt.slot = rollup.magnitude_slot(f.t_key, 6)
        LEFT JOIN rollup.ptable tv ON tv.kind = 'magnitude' AND tv.slot = rollup.magnitude_slot(f.v_key, 7)
    )
    SELECT month, district_id, mode, n, t_sum, t_max, v_sum, v_max, n_key, t_key, v_key, reason, suppressed, n_pub,
           t_pub, v_pub,
           rollup.per_household(t_pub, n_pub, (scales ->> 'trips_per_household')::integer) AS t_ph,
           rollup.per_household(v_pub, n_pub, (scales ->> 'km_per_household')::integer) AS v_ph,
           (reason IS DISTINCT FROM 'k' OR NOT existence) AS listed
    FROM v;
END
$fn$;
CREATE TABLE rollup.mobility_monthly AS SELECT * FROM rollup.mobility_monthly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.mobility_monthly ADD PRIMARY KEY (month, district_id, mode);

-- Every cell and measure of every household dataset in one long form: true and published value, the largest
-- contribution and the bound of its noise. For the utility figures of a release and for the tests.
CREATE VIEW rollup.cell_measures AS
    WITH dc AS (SELECT cell_key_enabled AS enabled, count_d, magnitude_d * magnitude_m AS md FROM meta.disclosure_control)
    SELECT x.dataset, x.cell, x.n, x.reason, x.suppressed, x.measure, x.true_value, x.published, x.x_max,
           CASE WHEN NOT dc.enabled THEN 0
                WHEN x.measure = 'n_households' THEN dc.count_d
                ELSE dc.md * x.x_max END AS bound
    FROM dc CROSS JOIN (
        SELECT 'energy-district-hourly' AS dataset, r.district_id || '|' || r.hour_utc AS cell, r.n, r.reason, r.suppressed,
               m.measure, m.true_value, m.published, m.x_max
        FROM rollup.district_hourly r
        CROSS JOIN LATERAL (VALUES ('n_households', r.n::float8, r.n_pub::numeric, NULL::float8),
                                   ('electricity_wh', r.e_sum, r.e_pub, r.e_max), ('heat_wh', r.q_sum, r.q_pub, r.q_max),
                                   ('water_l', r.w_sum, r.w_pub, r.w_max)) m(measure, true_value, published, x_max)
        UNION ALL
        SELECT 'energy-district-daily', r.district_id || '|' || r.day, r.n, r.reason, r.suppressed,
               m.measure, m.true_value, m.published, m.x_max
        FROM rollup.district_daily r
        CROSS JOIN LATERAL (VALUES ('n_households', r.n::float8, r.n_pub::numeric, NULL::float8),
                                   ('electricity_kwh', r.e_sum, r.e_pub, r.e_max), ('heat_kwh', r.q_sum, r.q_pub, r.q_max),
                                   ('water_l', r.w_sum, r.w_pub, r.w_max)) m(measure, true_value, published, x_max)
        UNION ALL
        SELECT 'energy-peergroup-monthly',
               r.month || '|' || r.district_id || '|' || r.dwelling_type || '|' || r.occupant_band, r.n, r.reason,
               r.suppressed, m.measure, m.true_value, m.published, m.x_max
        FROM rollup.peergroup_monthly r
        CROSS JOIN LATERAL (VALUES ('n_households', r.n::float8, r.n_pub::numeric, NULL::float8),
                                   ('electricity_kwh', r.e_sum, r.e_pub, r.e_max), ('heat_kwh', r.q_sum, r.q_pub, r.q_max),
                                   ('water_l', r.w_sum, r.w_pub, r.w_max)) m(measure, true_value, published, x_max)
        UNION ALL
        SELECT 'footprint-district-monthly', r.month || '|' || r.district_id || '|' || r.category, r.n, r.reason,
               r.suppressed, m.measure, m.true_value, m.published, m.x_max
        FROM rollup.footprint_monthly r
        CROSS JOIN LATERAL (VALUES ('n_households', r.n::float8, r.n_pub::numeric, NULL::float8),
                                   ('co2e_kg', r.v_sum, r.v_pub, r.v_max)) m(measure, true_value, published, x_max)
        UNION ALL
        SELECT 'waste-district-monthly', r.month || '|' || r.district_id || '|' || r.fraction, r.n, r.reason,
               r.suppressed, m.measure, m.true_value, m.published, m.x_max
        FROM rollup.waste_monthly r
        CROSS JOIN LATERAL (VALUES ('n_households', r.n::float8, r.n_pub::numeric, NULL::float8),
                                   ('kg', r.v_sum, r.v_pub, r.v_max)) m(measure, true_value, published, x_max)
        UNION ALL
        SELECT 'mobility-district-monthly', r.month || '|' || r.district_id || '|' || r.mode, r.n, r.reason,
               r.suppressed, m.measure, m.true_value, m.published, m.x_max
        FROM rollup.mobility_monthly r
        CROSS JOIN LATERAL (VALUES ('n_households', r.n::float8, r.n_pub::numeric, NULL::float8),
                                   ('trips', r.t_sum, r.t_pub, r.t_max), ('km', r.v_sum, r.v_pub, r.v_max))
            m(measure, true_value, published, x_max)
    ) x;

RESET ROLE;
