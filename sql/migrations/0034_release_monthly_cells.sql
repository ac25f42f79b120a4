-- 0034_release_monthly_cells — three monthly builders of a full rebuild made cheaper, with the same rows.
--
-- Measured on the 35,000-household city (benchmarks/scale run I, 2026-12-06: first release 618.4 s), each change
-- checked there to return exactly the rows of the builder it replaces (EXCEPT ALL both ways):
-- - coverage_monthly (26.1 s in that release): the mobility days of a district and month were counted with
--   count(DISTINCT day) over every trip row of the district, which sorts them all; now the trip rows are grouped on
--   (district, day) first, by hash, and the days counted per month: 26.9 s -> 4.8 s for a whole rebuild.
-- - mobility_monthly (50.9 s): each trip row was joined to its household's keys and carried four min() of them into a
--   group of (month, district, mode, household); now the trip rows are grouped on (month, mode, household) and the
--   groups joined to the keys: 44.5-54.5 s -> 42.6 s.
-- - waste_monthly (33.3 s) is built a local month at a time in a full rebuild (meta.rollups.full_by_month, 0030): its
--   per-household groups of a month stay in memory: 25.8 s -> 17.2 s. (mobility_monthly and footprint_monthly were
--   measured slower that way, 44.5 -> 48.8 s and 10.0 -> 11.8 s, and keep one call.)

SET LOCAL ROLE klima_owner;

UPDATE meta.rollups SET full_by_month = true WHERE name = 'rollup.waste_monthly';

CREATE OR REPLACE FUNCTION rollup.coverage_monthly_rows(lo date, hi date)
RETURNS TABLE (source text, district_id smallint, month date, days_with_data integer, first_day date, last_day date)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    t0 timestamptz := rollup.local_start(lo);
    t1 timestamptz := rollup.local_start(hi);
BEGIN
    RETURN QUERY
    SELECT 'energy'::text AS source, x.district_id, date_trunc('month', x.day)::date AS month,
           (count(*) FILTER (WHERE x.hours = extract(epoch FROM ((x.day + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                                         - (x.day::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600))::integer
               AS days_with_data,
           min(x.day) AS first_day, max(x.day) AS last_day
    FROM (SELECT h.district_id, (h.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day, count(*) AS hours
          FROM rollup.district_hourly h WHERE h.hour_utc >= t0 AND h.hour_utc < t1 GROUP BY 1, 2) x
    GROUP BY 2, 3
    UNION ALL
    -- the district's days with any trip, then counted per month (count(DISTINCT day) sorted every trip row)
    SELECT 'mobility', y.district_id, date_trunc('month', y.day)::date, count(*)::integer, min(y.day), max(y.day)
    FROM (SELECT h.district_id, m.day
          FROM core.mobility_daily m JOIN core.households h USING (household_id)
          WHERE m.day >= lo AND m.day < hi
          GROUP BY 1, 2) y
    GROUP BY 2, 3
    UNION ALL
    -- waste: every month, whatever the period (the first and last collection day of the whole release bound them)
    SELECT 'waste', d.district_id, mo.month,
           (least(w.last_day, (mo.month + interval '1 month - 1 day')::date)
            - greatest(w.first_day, mo.month) + 1)::integer,
           greatest(w.first_day, mo.month), least(w.last_day, (mo.month + interval '1 month - 1 day')::date)
    FROM (SELECT min(collected_on) AS first_day, max(collected_on) AS last_day FROM core.waste_weighings) w
    CROSS JOIN LATERAL generate_series(date_trunc('month', w.first_day), w.last_day, interval '1 month') g(m)
    CROSS JOIN LATERAL (SELECT g.m::date AS month) mo
    CROSS JOIN core.districts d;
END
$fn$;

CREATE OR REPLACE FUNCTION rollup.mobility_monthly_rows(lo date, hi date)
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
        -- each household's month and mode first, then its keys (not a join and four min() per trip row)
        SELECT x.month, h.district_id, x.mode, x.household_id, h.count_key, h.k0, h.k1, h.k3, x.t, x.v
        FROM (SELECT date_trunc('month', m.day)::date AS month, m.mode, m.household_id,
                     sum(m.trips)::float8 AS t,
                     (sum(round(m.km::float8 * 1000)::bigint) / 1000.0)::float8 AS v  -- whole metres, as the key counts them
              FROM core.mobility_daily m
              WHERE m.day >= lo AND m.day < hi
              GROUP BY 1, 2, 3) x
        JOIN rollup.keyed_households h USING (household_id)
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
RESET ROLE;
