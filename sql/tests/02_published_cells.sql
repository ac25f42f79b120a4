-- Every published cell of every household dataset, recomputed from core, satisfies the k rule and the dominance
-- rule; exactly the cells of at least k households are listed (smaller ones never, not even as a row of nulls);
-- published values lie within the documented cell-key noise bound of the recomputation
-- (|n - true n| <= D for counts, |x - true x| <= m * D * largest contribution for magnitudes, plus half a unit of the
-- column's last decimal; equal when the noise is off); and secondary suppression holds:
-- no group of sibling cells with a published parent has exactly one suppressed cell (which would be the parent
-- minus its published siblings). Runs on whatever data the database holds (seeded, real, or empty).
BEGIN;
SELECT plan(35);
SET LOCAL work_mem = '256MB';

-- The disclosure parameters of each dataset.
CREATE TEMP TABLE p ON COMMIT DROP AS
    SELECT id AS dataset, k, dominance_n AS dn, dominance_pct / 100.0 AS dp,
           CASE WHEN dc.cell_key_enabled THEN dc.count_d ELSE 0 END AS cd,
           CASE WHEN dc.cell_key_enabled THEN dc.magnitude_m * dc.magnitude_d ELSE 0 END AS md
    FROM meta.datasets CROSS JOIN meta.disclosure_control dc WHERE personal;

-- Half a unit of a column's last published decimal (the rounding).
CREATE FUNCTION pg_temp.half_unit(ds text, col text) RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT 0.5 * power(10, -scale) FROM meta.dataset_columns WHERE dataset_id = ds AND name = col
$$;

-- Factor of an item on a date, looked up independently of the rollups in the published factors (the footprint's
-- documented formula uses them): the un-suffixed id valid on the day, else the most recent row of that id.
CREATE FUNCTION pg_temp.g_per_unit(item text, d date) RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT value::float8 * CASE WHEN unit LIKE 'kg %' THEN 1000.0 ELSE 1.0 END
    FROM api.emission_factors WHERE factor_id = item
    ORDER BY (valid_from <= d AND (valid_to IS NULL OR valid_to >= d)) DESC, valid_from DESC LIMIT 1
$$;

-- Per household and local day, straight from the hourly readings; electricity CO2e with the published hourly grid
-- intensity (the 'electricity' factor of the local month where an hour has none). Amounts are counted in their
-- documented smallest units: water readings in whole mL, waste in whole g, travel in whole m (sql/README.md).
CREATE TEMP TABLE hd ON COMMIT DROP AS
    SELECT e.household_id, h.district_id, h.dwelling_type, h.occupant_band,
           (e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day,
           sum(e.electricity_wh) / 1000.0 AS e, sum(e.heat_wh) / 1000.0 AS q,
           sum(round(e.water_l::float8 * 1000)) / 1000 AS w,
           sum(e.electricity_wh * coalesce(g.g_per_kwh::float8, pg_temp.g_per_unit('electricity',
                   date_trunc('month', e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date))) / 1e6 AS e_co2
    FROM core.energy_hourly e JOIN core.households h USING (household_id)
    LEFT JOIN api.grid_intensity_hourly g ON g.hour_utc = e.hour_utc
    GROUP BY 1, 2, 3, 4, 5;

CREATE TEMP TABLE hm ON COMMIT DROP AS
    WITH en AS (
        SELECT household_id, date_trunc('month', day)::date AS month, sum(e) AS e, sum(q) AS q, sum(w) AS w,
               sum(e_co2) AS e_co2
        FROM hd GROUP BY 1, 2
    ), wa AS (
        SELECT household_id, date_trunc('month', collected_on)::date AS month,
               sum(round(kg::float8 * 1000) / 1000 * pg_temp.g_per_unit('waste-' || fraction, date_trunc('month', collected_on)::date))
                   / 1000.0 AS co2
        FROM core.waste_weighings GROUP BY 1, 2
    ), mo AS (
        SELECT household_id, date_trunc('month', day)::date AS month,
               sum(round(km::float8 * 1000) / 1000 * pg_temp.g_per_unit(mode, date_trunc('month', day)::date)) / 1000.0 AS co2
        FROM core.mobility_daily GROUP BY 1, 2
    ), k AS (
        SELECT household_id, month FROM en UNION SELECT household_id, month FROM wa
        UNION SELECT household_id, month FROM mo
    )
    SELECT k.household_id, k.month, h.district_id, h.dwelling_type, h.occupant_band,
           en.household_id IS NOT NULL AS has_energy, en.e, en.q, en.w, en.e_co2,
           en.q * pg_temp.g_per_unit('district-heating', k.month) / 1000.0 AS q_co2,
           en.w * pg_temp.g_per_unit('water', k.month) / 1000.0 AS w_co2,
           wa.co2 AS waste_co2, mo.co2 AS mob_co2
    FROM k JOIN core.households h USING (household_id)
    LEFT JOIN en USING (household_id, month) LEFT JOIN wa USING (household_id, month)
    LEFT JOIN mo USING (household_id, month);

-- Contributions: (dataset, cell key, household, measure, value).
CREATE TEMP TABLE contrib ON COMMIT DROP AS
    SELECT 'energy-district-daily' AS dataset, district_id || '|' || day AS cell, household_id, m.measure, m.v
    FROM hd CROSS JOIN LATERAL (VALUES ('electricity_kwh', e), ('heat_kwh', q), ('water_l', w)) m(measure, v)
    UNION ALL
    SELECT 'energy-peergroup-monthly', month || '|' || district_id || '|' || dwelling_type || '|' || occupant_band,
           household_id, m.measure, m.v
    FROM hm CROSS JOIN LATERAL (VALUES ('electricity_kwh', e), ('heat_kwh', q), ('water_l', w)) m(measure, v)
    WHERE has_energy
    UNION ALL
    SELECT 'footprint-district-monthly', month || '|' || district_id || '|' || m.category, household_id, 'co2e_kg', m.v
    FROM hm CROSS JOIN LATERAL (VALUES ('electricity', e_co2), ('district_heating', q_co2), ('water', w_co2),
                                       ('waste', waste_co2), ('mobility', mob_co2),
                                       ('total', coalesce(e_co2, 0) + coalesce(q_co2, 0) + coalesce(w_co2, 0)
                                                 + coalesce(waste_co2, 0) + coalesce(mob_co2, 0))) m(category, v)
    WHERE m.v IS NOT NULL
    UNION ALL
    SELECT 'waste-district-monthly', date_trunc('month', w.collected_on)::date || '|' || h.district_id || '|' || w.fraction,
           w.household_id, 'kg', sum(round(w.kg::float8 * 1000)) / 1000
    FROM core.waste_weighings w JOIN core.households h USING (household_id) GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT 'mobility-district-monthly', x.cell, x.household_id, m.measure, m.v
    FROM (SELECT date_trunc('month', d.day)::date || '|' || h.district_id || '|' || d.mode AS cell, d.household_id,
                 sum(d.trips)::float8 AS t, sum(round(d.km::float8 * 1000)) / 1000 AS km
          FROM core.mobility_daily d JOIN core.households h USING (household_id) GROUP BY 1, 2) x
    CROSS JOIN LATERAL (VALUES ('trips', x.t), ('km', x.km)) m(measure, v);

-- Recomputed cells: distinct households, total and the sum of the dominance_n largest contributions per measure.
CREATE TEMP TABLE cells ON COMMIT DROP AS
    SELECT r.dataset, r.cell, r.measure, count(DISTINCT r.household_id) AS n, sum(r.v) AS s, max(r.v) AS mx,
           sum(r.v) FILTER (WHERE r.rn <= p.dn) AS top
    FROM (SELECT c.*, row_number() OVER (PARTITION BY dataset, cell, measure ORDER BY v DESC) AS rn FROM contrib c) r
    JOIN p USING (dataset)
    GROUP BY 1, 2, 3;

-- Published cells in the same long form.
CREATE TEMP TABLE pub ON COMMIT DROP AS
    SELECT 'energy-district-daily' AS dataset, district_id || '|' || day AS cell, m.measure, m.v, suppressed, n_households
    FROM api.energy_district_daily
    CROSS JOIN LATERAL (VALUES ('electricity_kwh', electricity_kwh), ('heat_kwh', heat_kwh), ('water_l', water_l)) m(measure, v)
    UNION ALL
    SELECT 'energy-peergroup-monthly', month || '|' || district_id || '|' || dwelling_type || '|' || occupant_band,
           m.measure, m.v, suppressed, n_households
    FROM api.energy_peergroup_monthly
    CROSS JOIN LATERAL (VALUES ('electricity_kwh', electricity_kwh), ('heat_kwh', heat_kwh), ('water_l', water_l)) m(measure, v)
    UNION ALL
    SELECT 'footprint-district-monthly', month || '|' || district_id || '|' || category, 'co2e_kg', co2e_kg, suppressed,
           n_households
    FROM api.footprint_district_monthly
    UNION ALL
    SELECT 'waste-district-monthly', month || '|' || district_id || '|' || fraction, 'kg', kg, suppressed, n_households
    FROM api.waste_district_monthly
    UNION ALL
    SELECT 'mobility-district-monthly', month || '|' || district_id || '|' || mode, m.measure, m.v, suppressed, n_households
    FROM api.mobility_district_monthly CROSS JOIN LATERAL (VALUES ('trips', trips), ('km', km)) m(measure, v);

-- Five datasets x (k, dominance, no dropped cell, no invented cell, values) = 25 tests.
SELECT x.t FROM unnest(ARRAY['energy-district-daily', 'energy-peergroup-monthly', 'footprint-district-monthly',
                             'waste-district-monthly', 'mobility-district-monthly']) WITH ORDINALITY AS u(d, i)
CROSS JOIN LATERAL (VALUES
    (1, is((SELECT count(*) FROM pub JOIN cells c USING (dataset, cell, measure) JOIN p USING (dataset)
            WHERE pub.dataset = u.d AND c.n < p.k),
           0::bigint, u.d || ': every listed cell has at least k households (smaller ones are not listed)')),
    (2, is((SELECT count(*) FROM pub JOIN cells c USING (dataset, cell, measure) JOIN p USING (dataset)
            WHERE pub.dataset = u.d AND NOT pub.suppressed AND c.top > p.dp * c.s),
           0::bigint, u.d || ': no published cell is dominated by its largest contributors')),
    (3, is((SELECT count(*) FROM cells c JOIN p USING (dataset) WHERE c.dataset = u.d AND c.n >= p.k
            AND NOT EXISTS (SELECT 1 FROM pub WHERE pub.dataset = c.dataset AND pub.cell = c.cell
                                                AND pub.measure = c.measure)),
           0::bigint, u.d || ': every cell of at least k households is listed (suppressed or not)')),
    (4, is((SELECT count(*) FROM pub WHERE pub.dataset = u.d
            AND NOT EXISTS (SELECT 1 FROM cells c WHERE c.dataset = pub.dataset AND c.cell = pub.cell
                                                  AND c.measure = pub.measure)),
           0::bigint, u.d || ': every published cell has data in core')),
    (5, is((SELECT count(*) FROM pub JOIN cells c USING (dataset, cell, measure) JOIN p USING (dataset)
            WHERE pub.dataset = u.d AND NOT pub.suppressed
              AND (abs(pub.v - c.s) > p.md * c.mx + pg_temp.half_unit(pub.dataset, pub.measure) + 1e-9 * abs(c.s)
                   OR abs(pub.n_households - c.n) > p.cd OR pub.n_households < p.k)),
           0::bigint, u.d || ': published values lie within the noise bound of the sums recomputed from core'))
) AS x(j, t)
ORDER BY u.i, x.j;

-- energy-district-hourly (19 million readings at demo scale): one aggregation from core; the exact top-n is only
-- needed where dominance_n * max exceeds the threshold, since the top-n sum is at most dominance_n * max.
CREATE TEMP TABLE hourly ON COMMIT DROP AS
    SELECT h.district_id, e.hour_utc,
           count(*) AS n,   -- (household_id, hour_utc) is the primary key: rows are distinct households
           sum(e.electricity_wh)::float8 AS es, max(e.electricity_wh)::float8 AS em,
           sum(e.heat_wh)::float8 AS qs, max(e.heat_wh)::float8 AS qm,
           sum(round(e.water_l::float8 * 1000)) / 1000 AS ws, max(round(e.water_l::float8 * 1000)) / 1000 AS wm
    FROM core.energy_hourly e JOIN core.households h USING (household_id)
    GROUP BY 1, 2;

CREATE FUNCTION pg_temp.top_hour(d smallint, t timestamptz, col text, n integer) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
    EXECUTE format('SELECT sum(v) FROM (SELECT %s AS v FROM core.energy_hourly e JOIN core.households h '
                   'USING (household_id) WHERE h.district_id = $1 AND e.hour_utc = $2 ORDER BY 1 DESC LIMIT $3) x',
                   CASE col WHEN 'water_l' THEN 'round(e.water_l::float8 * 1000) / 1000' ELSE format('e.%I::float8', col) END)
        INTO r USING d, t, n;
    RETURN r;
END
$$;

SELECT is((SELECT count(*) FROM api.energy_district_hourly v JOIN hourly c USING (district_id, hour_utc)
           CROSS JOIN p WHERE p.dataset = 'energy-district-hourly' AND c.n < p.k),
          0::bigint, 'energy-district-hourly: every listed cell has at least k households');
SELECT is((SELECT count(*) FROM api.energy_district_hourly v JOIN hourly c USING (district_id, hour_utc)
           CROSS JOIN p WHERE p.dataset = 'energy-district-hourly' AND NOT v.suppressed
             AND ((p.dn * c.em > p.dp * c.es AND pg_temp.top_hour(c.district_id, c.hour_utc, 'electricity_wh', p.dn) > p.dp * c.es)
               OR (p.dn * c.qm > p.dp * c.qs AND pg_temp.top_hour(c.district_id, c.hour_utc, 'heat_wh', p.dn) > p.dp * c.qs)
               OR (p.dn * c.wm > p.dp * c.ws AND pg_temp.top_hour(c.district_id, c.hour_utc, 'water_l', p.dn) > p.dp * c.ws))),
          0::bigint, 'energy-district-hourly: no published cell is dominated by its largest contributors');
SELECT is((SELECT count(*) FROM hourly c, p WHERE p.dataset = 'energy-district-hourly' AND c.n >= p.k AND NOT EXISTS
              (SELECT 1 FROM api.energy_district_hourly v WHERE v.district_id = c.district_id AND v.hour_utc = c.hour_utc))
          + (SELECT count(*) FROM api.energy_district_hourly v WHERE NOT EXISTS
              (SELECT 1 FROM hourly c WHERE v.district_id = c.district_id AND v.hour_utc = c.hour_utc)),
          0::bigint, 'energy-district-hourly: exactly the cells of at least k households are listed');
SELECT is((SELECT count(*) FROM api.energy_district_hourly v JOIN hourly c USING (district_id, hour_utc)
           CROSS JOIN p WHERE p.dataset = 'energy-district-hourly' AND NOT v.suppressed
             AND (abs(v.electricity_wh - c.es) > p.md * c.em + 0.5 OR abs(v.heat_wh - c.qs) > p.md * c.qm + 0.5
                  OR abs(v.water_l - c.ws) > p.md * c.wm + 0.05 + 1e-9 * c.ws
                  OR abs(v.n_households - c.n) > p.cd OR v.n_households < p.k)),
          0::bigint, 'energy-district-hourly: published values lie within the noise bound of the sums recomputed from core');
SELECT is((SELECT count(*) FROM pub p2 WHERE p2.suppressed AND p2.v IS NOT NULL)
          + (SELECT count(*) FROM api.energy_district_hourly WHERE suppressed
             AND num_nonnulls(n_households, electricity_wh, heat_wh, water_l, electricity_wh_per_household) > 0),
          0::bigint, 'suppressed cells publish no value (null), only suppressed = true');

-- Secondary suppression: in a group of siblings whose parent is published, never exactly one sibling is unpublished
-- (suppressed, or not listed because it has fewer than k households).
CREATE TEMP TABLE unpub ON COMMIT DROP AS
    SELECT c.dataset, c.cell, split_part(c.cell, '|', 1) AS part1, split_part(c.cell, '|', 2) AS part2,
           split_part(c.cell, '|', 3) AS part3, x.cell IS NULL OR x.suppressed AS unpublished
    FROM (SELECT DISTINCT dataset, cell FROM cells) c
    LEFT JOIN (SELECT DISTINCT dataset, cell, suppressed FROM pub) x USING (dataset, cell);
SELECT is((SELECT count(*) FROM (
              SELECT c.district_id, (c.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day
              FROM hourly c LEFT JOIN api.energy_district_hourly v USING (district_id, hour_utc)
              GROUP BY 1, 2 HAVING count(*) FILTER (WHERE v.district_id IS NULL OR v.suppressed) = 1) g
           JOIN api.energy_district_daily d ON d.district_id = g.district_id AND d.day = g.day
           WHERE NOT d.suppressed),
          0::bigint, 'energy-district-hourly: no single unpublished hour in a district-day whose daily total is published');
SELECT is((SELECT count(*) FROM (SELECT part1, part2 FROM unpub WHERE dataset = 'energy-peergroup-monthly'
                                 GROUP BY 1, 2 HAVING count(*) FILTER (WHERE unpublished) = 1) g),
          0::bigint, 'energy-peergroup-monthly: no single unpublished peer group in a district-month');
SELECT is((SELECT count(*) FROM (SELECT part1, part2 FROM unpub WHERE dataset = 'footprint-district-monthly'
                                 GROUP BY 1, 2 HAVING count(*) FILTER (WHERE unpublished AND part3 <> 'total') = 1
                                    AND bool_or(part3 = 'total' AND NOT unpublished)) g),
          0::bigint, 'footprint-district-monthly: no single unpublished category next to a published total');
SELECT is((SELECT count(*) FROM (SELECT part1, part2 FROM unpub WHERE dataset = 'waste-district-monthly'
                                 GROUP BY 1, 2 HAVING count(*) FILTER (WHERE unpublished) = 1) g
           JOIN unpub f ON f.dataset = 'footprint-district-monthly' AND f.part1 = g.part1 AND f.part2 = g.part2
           WHERE f.part3 = 'waste' AND NOT f.unpublished),
          0::bigint, 'waste-district-monthly: no single unpublished fraction next to a published waste CO2e');
SELECT is((SELECT count(*) FROM (SELECT part1, part2 FROM unpub WHERE dataset = 'mobility-district-monthly'
                                 GROUP BY 1, 2 HAVING count(*) FILTER (WHERE unpublished) = 1) g
           JOIN unpub f ON f.dataset = 'footprint-district-monthly' AND f.part1 = g.part1 AND f.part2 = g.part2
           WHERE f.part3 = 'mobility' AND NOT f.unpublished),
          0::bigint, 'mobility-district-monthly: no single unpublished mode next to a published mobility CO2e');

SELECT * FROM finish();
ROLLBACK;
