-- What `klimaspejl audit` (README "klimaspejl audit") and any outside attacker may assume, checked on the release in
-- the database: (1) the catalog documents the parameters this version was published with; (2) every published value
-- lies within the bound the catalog documents for it; (3) the documented relations between the published datasets
-- hold exactly for the true values of every cell, listed or not (hours add up to their local day, days to the month
-- that the peer groups split, the footprint is amounts times the PUBLISHED factors and hourly grid intensity, the
-- total is the sum of the categories, and the household counts of parts and wholes); (4) per-household means are the
-- published sum over the published count. (2) and (3) together make the audit's linear programs sound: a finding is
-- something the public data really implies, and 0 findings is not an artefact of a wrong equation. Runs on whatever
-- release the database holds.
BEGIN;
SELECT plan(26);
SET LOCAL work_mem = '256MB';

-- (1) the catalog's disclosure_control of each household dataset: the version it describes and its parameters
CREATE TEMP TABLE doc ON COMMIT DROP AS
    SELECT d.id AS dataset, d.version, d.k, c.entry -> 'disclosure_control' AS dc, v.cell_key_enabled,
           v.existence_enabled, v.count_d, v.magnitude_m, v.magnitude_d, v.magnitude_v, v.p_pct
    FROM meta.catalog c JOIN meta.datasets d USING (id)
    LEFT JOIN meta.dataset_versions v ON v.dataset_id = d.id AND v.version = d.version
    WHERE d.personal;

SELECT is((SELECT count(*) FROM doc WHERE (dc ->> 'version')::bigint IS DISTINCT FROM version),
          0::bigint, 'disclosure_control names the version it describes');
SELECT is((SELECT count(*) FROM doc
           WHERE version > 0
             AND ((dc ->> 'enabled')::boolean IS DISTINCT FROM cell_key_enabled
                  OR (dc ->> 'existence')::boolean IS DISTINCT FROM existence_enabled
                  OR (dc -> 'counts' ->> 'D')::integer IS DISTINCT FROM count_d
                  OR (dc -> 'magnitudes' ->> 'm')::float8 IS DISTINCT FROM magnitude_m
                  OR (dc -> 'magnitudes' ->> 'D')::float8 IS DISTINCT FROM magnitude_d
                  OR (dc -> 'magnitudes' ->> 'V')::float8 IS DISTINCT FROM magnitude_v
                  OR (dc ->> 'p_pct')::numeric IS DISTINCT FROM p_pct)),
          0::bigint, 'the catalog states the parameters its version was published with');
-- a change of the settings alone does not change what the catalog says about the published rows
UPDATE meta.disclosure_control SET magnitude_m = magnitude_m / 10, cell_key_enabled = NOT cell_key_enabled;
SELECT is((SELECT count(*) FROM meta.catalog c JOIN doc ON doc.dataset = c.id
           WHERE c.entry -> 'disclosure_control' IS DISTINCT FROM doc.dc),
          0::bigint, 'new settings reach the catalog only with the release that applies them');
UPDATE meta.disclosure_control SET magnitude_m = magnitude_m * 10, cell_key_enabled = NOT cell_key_enabled;

-- (2) the documented bound, read from the catalog as an outside reader reads it: |published - true| <= counts.D for
-- a count (and never below k), <= magnitudes.m * magnitudes.D * the cell's largest contribution for a magnitude, each
-- plus half a unit of the column's last decimal; exact when the noise is off
CREATE TEMP TABLE pubm ON COMMIT DROP AS
    SELECT c.*, doc.k, (doc.dc ->> 'enabled')::boolean AS enabled, (doc.dc -> 'counts' ->> 'D')::float8 AS cd,
           (doc.dc -> 'magnitudes' ->> 'm')::float8 * (doc.dc -> 'magnitudes' ->> 'D')::float8 AS md,
           0.5 * power(10, -coalesce(col.scale, 0)) AS half_unit
    FROM rollup.cell_measures c JOIN doc USING (dataset)
    LEFT JOIN meta.dataset_columns col ON col.dataset_id = c.dataset AND col.name = c.measure
    WHERE c.published IS NOT NULL;
SELECT ok((SELECT count(*) FROM pubm) > 0, '(published values to check)');
SELECT is((SELECT count(*) FROM pubm
           WHERE abs(published::float8 - true_value)
                 > CASE WHEN NOT enabled THEN 0 WHEN measure = 'n_households' THEN cd ELSE md * x_max END
                   + half_unit + 1e-9 * abs(true_value)),
          0::bigint, 'every published value lies within the bound its catalog entry documents');
SELECT is((SELECT count(*) FROM pubm WHERE measure = 'n_households' AND published < k),
          0::bigint, 'no published count is below k');

-- (3) the relations, on the true values of every cell (listed or not)
-- The factor of an item on a date as documented (sql/README.md), from the published factors: the item's id or the id
-- with a year suffix, valid on the date, latest validity first; before the first validity the earliest. Grams per
-- base unit (kWh, litre, kg, passenger-km).
CREATE FUNCTION pg_temp.factor(item text, d date) RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT value::float8 * CASE split_part(unit, ' ', 1) WHEN 'kg' THEN 1000.0 WHEN 't' THEN 1e6 ELSE 1.0 END
           / CASE split_part(unit, '/', 2) WHEN 'MWh' THEN 1000.0 WHEN 'm3' THEN 1000.0 WHEN 't' THEN 1000.0 ELSE 1.0 END
    FROM api.emission_factors
    WHERE factor_id = item OR factor_id ~ ('^' || item || '-[0-9]{4}$')
    ORDER BY (valid_from <= d AND (valid_to IS NULL OR valid_to >= d)) DESC,
             CASE WHEN valid_from <= d THEN valid_from END DESC NULLS LAST, valid_from
    LIMIT 1
$$;
-- x and y differ beyond floating-point noise
CREATE FUNCTION pg_temp.differs(x float8, y float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT x IS NULL OR y IS NULL OR abs(x - y) > 1e-9 * (1 + abs(x) + abs(y))
$$;

-- hours of each local day, per district
CREATE TEMP TABLE hday ON COMMIT DROP AS
    SELECT district_id, (hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day, sum(e_sum) AS e, sum(q_sum) AS q,
           sum(w_sum) AS w, max(n) AS n_max
    FROM rollup.district_hourly GROUP BY 1, 2;
SELECT is((SELECT count(*) FROM rollup.district_daily d FULL JOIN hday h USING (district_id, day)
           WHERE pg_temp.differs(d.e_sum, h.e / 1000) OR pg_temp.differs(d.q_sum, h.q / 1000)
              OR pg_temp.differs(d.w_sum, h.w)),
          0::bigint, 'the hours of a local day add up to the day (electricity, heat, water)');

-- days of each local month, per district
CREATE TEMP TABLE dmonth ON COMMIT DROP AS
    SELECT district_id, date_trunc('month', day)::date AS month, sum(e_sum) AS e, sum(q_sum) AS q, sum(w_sum) AS w,
           max(n) AS n_max
    FROM rollup.district_daily GROUP BY 1, 2;
SELECT is((SELECT count(*) FROM dmonth d
           FULL JOIN (SELECT district_id, month, sum(e_sum) AS e, sum(q_sum) AS q, sum(w_sum) AS w
                      FROM rollup.peergroup_monthly GROUP BY 1, 2) p USING (district_id, month)
           WHERE pg_temp.differs(d.e, p.e) OR pg_temp.differs(d.q, p.q) OR pg_temp.differs(d.w, p.w)),
          0::bigint, 'the days of a local month add up to the sum of its peer groups');

-- the footprint's categories
CREATE TEMP TABLE fp ON COMMIT DROP AS
    SELECT month, district_id, category, n, v_sum FROM rollup.footprint_monthly;
CREATE TEMP TABLE grid ON COMMIT DROP AS
    SELECT h.district_id, date_trunc('month', h.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS month,
           sum(h.e_sum * coalesce(g.g_per_kwh::float8, pg_temp.factor('electricity',
               date_trunc('month', h.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date))) / 1e6 AS co2_published,
           sum(h.e_sum * coalesce(c.g_per_kwh::float8, pg_temp.factor('electricity',
               date_trunc('month', h.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date))) / 1e6 AS co2_core
    FROM rollup.district_hourly h
    LEFT JOIN api.grid_intensity_hourly g ON g.hour_utc = h.hour_utc
    LEFT JOIN core.grid_intensity_hourly c ON c.hour_utc = h.hour_utc
    GROUP BY 1, 2;
SELECT is((SELECT count(*) FROM grid g FULL JOIN (SELECT * FROM fp WHERE category = 'electricity') f
               USING (district_id, month)
           WHERE pg_temp.differs(g.co2_published, f.v_sum)),
          0::bigint, 'footprint electricity = hourly Wh x the published grid intensity of the hour');
SELECT ok((SELECT count(*) FROM grid g JOIN fp f USING (district_id, month)
           WHERE f.category = 'electricity' AND pg_temp.differs(g.co2_core, f.v_sum)) > 0
          OR NOT EXISTS (SELECT 1 FROM core.grid_intensity_hourly WHERE g_per_kwh::numeric <> round(g_per_kwh::numeric, 2)),
          '(the check can fail: with the unrounded intensity of core the relation does not hold)');
SELECT is((SELECT count(*) FROM dmonth d FULL JOIN (SELECT * FROM fp WHERE category = 'district_heating') f
               USING (district_id, month)
           WHERE pg_temp.differs(d.q * pg_temp.factor('district-heating', d.month) / 1000, f.v_sum)),
          0::bigint, 'footprint district heating = the month''s heat kWh x the published factor');
SELECT is((SELECT count(*) FROM dmonth d FULL JOIN (SELECT * FROM fp WHERE category = 'water') f
               USING (district_id, month)
           WHERE pg_temp.differs(d.w * pg_temp.factor('water', d.month) / 1000, f.v_sum)),
          0::bigint, 'footprint water = the month''s litres x the published factor');
SELECT is((SELECT count(*) FROM (SELECT district_id, month, sum(v_sum * pg_temp.factor('waste-' || fraction, month)) / 1000 AS co2
                                 FROM rollup.waste_monthly GROUP BY 1, 2) w
           FULL JOIN (SELECT * FROM fp WHERE category = 'waste') f USING (district_id, month)
           WHERE pg_temp.differs(w.co2, f.v_sum)),
          0::bigint, 'footprint waste = kg of each fraction x its published factor');
SELECT is((SELECT count(*) FROM (SELECT district_id, month, sum(v_sum * pg_temp.factor(mode, month)) / 1000 AS co2
                                 FROM rollup.mobility_monthly GROUP BY 1, 2) m
           FULL JOIN (SELECT * FROM fp WHERE category = 'mobility') f USING (district_id, month)
           WHERE pg_temp.differs(m.co2, f.v_sum)),
          0::bigint, 'footprint mobility = km of each mode x its published factor');
SELECT is((SELECT count(*) FROM (SELECT district_id, month, sum(v_sum) FILTER (WHERE category <> 'total') AS parts,
                                        sum(v_sum) FILTER (WHERE category = 'total') AS total
                                 FROM fp GROUP BY 1, 2) t
           WHERE pg_temp.differs(t.parts, t.total)),
          0::bigint, 'footprint total = the sum of its categories');

-- household counts
SELECT is((SELECT count(*) FROM (SELECT district_id, month, sum(n) AS n FROM rollup.peergroup_monthly GROUP BY 1, 2) p
           FULL JOIN (SELECT district_id, month,
                             min(n) FILTER (WHERE category = 'electricity') AS e,
                             min(n) FILTER (WHERE category = 'district_heating') AS q,
                             min(n) FILTER (WHERE category = 'water') AS w
                      FROM fp GROUP BY 1, 2 HAVING count(*) FILTER (WHERE category = 'electricity') > 0) f
               USING (district_id, month)
           WHERE p.n IS DISTINCT FROM f.e OR f.e IS DISTINCT FROM f.q OR f.e IS DISTINCT FROM f.w),
          0::bigint, 'households: the peer groups add up to the footprint''s energy households (= heating = water)');
SELECT is((SELECT count(*) FROM hday h JOIN rollup.district_daily d USING (district_id, day) WHERE h.n_max > d.n),
          0::bigint, 'households: an hour has at most the households of its day');
SELECT is((SELECT count(*) FROM dmonth d JOIN fp f USING (district_id, month)
           WHERE f.category = 'electricity' AND d.n_max > f.n),
          0::bigint, 'households: a day has at most the energy households of its month');
SELECT is((SELECT count(*) FROM rollup.waste_monthly w JOIN fp f USING (district_id, month)
           WHERE f.category = 'waste' AND w.n > f.n)
          + (SELECT count(*) FROM rollup.mobility_monthly m JOIN fp f USING (district_id, month)
             WHERE f.category = 'mobility' AND m.n > f.n)
          + (SELECT count(*) FROM fp a JOIN fp t USING (district_id, month)
             WHERE t.category = 'total' AND a.category <> 'total' AND a.n > t.n),
          0::bigint, 'households: a fraction, a mode or a category has at most the households of its whole');
SELECT is((SELECT count(*) FROM (SELECT district_id, month,
                                        sum(n) FILTER (WHERE category IN ('electricity', 'waste', 'mobility')) AS parts,
                                        min(n) FILTER (WHERE category = 'total') AS total
                                 FROM fp GROUP BY 1, 2) t
           WHERE t.total > t.parts),
          0::bigint, 'households: the total has at most the households with energy, waste or mobility data');

-- the key vocabularies the audit completes unlisted rows from (Table Schema constraints.enum) cover every key
CREATE FUNCTION pg_temp.vocab(ds text, col text) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT enum_values FROM meta.dataset_columns WHERE dataset_id = ds AND name = col
$$;
SELECT is((SELECT count(*) FROM rollup.peergroup_monthly p
           WHERE NOT p.dwelling_type = ANY (pg_temp.vocab('energy-peergroup-monthly', 'dwelling_type'))
              OR NOT p.occupant_band = ANY (pg_temp.vocab('energy-peergroup-monthly', 'occupant_band')))
          + (SELECT count(*) FROM rollup.waste_monthly w
             WHERE NOT w.fraction = ANY (pg_temp.vocab('waste-district-monthly', 'fraction')))
          + (SELECT count(*) FROM rollup.mobility_monthly m
             WHERE NOT m.mode = ANY (pg_temp.vocab('mobility-district-monthly', 'mode')))
          + (SELECT count(*) FROM fp WHERE NOT fp.category = ANY (pg_temp.vocab('footprint-district-monthly', 'category'))),
          0::bigint, 'every key of a cell is in its column''s published vocabulary');
SELECT is((SELECT count(*) FROM rollup.district_hourly h
           WHERE NOT EXISTS (SELECT 1 FROM api.grid_intensity_hourly g WHERE g.hour_utc = h.hour_utc)),
          0::bigint, 'every hour with energy data is an hour of the published grid intensity (the audit''s calendar)');

-- existence: exactly the cells of at least k households are listed (while the rule is on)
SELECT is((SELECT count(*) FROM rollup.cell_measures c JOIN doc USING (dataset)
           WHERE c.measure = 'n_households' AND (doc.dc ->> 'existence')::boolean
             AND ((c.n < doc.k) <> (c.reason IS NOT DISTINCT FROM 'k'))),
          0::bigint, 'a cell is left out (reason k) exactly when it has fewer than k households');

-- (4) per-household means: the published sum over the published count, rounded to the column's scale
CREATE FUNCTION pg_temp.per_household_wrong(view text, sum_col text, mean_col text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r bigint;
    sc integer := (SELECT scale FROM meta.dataset_columns c JOIN meta.datasets d ON d.id = c.dataset_id
                   WHERE d.source_view = view AND c.name = mean_col);
BEGIN
    EXECUTE format('SELECT count(*) FROM %s WHERE NOT suppressed AND %I IS DISTINCT FROM round(%I / n_households, %s)',
                   view, mean_col, sum_col, sc) INTO r;
    RETURN r;
END
$$;
SELECT is(pg_temp.per_household_wrong('api.energy_district_hourly', 'electricity_wh', 'electricity_wh_per_household')
          + pg_temp.per_household_wrong('api.energy_district_hourly', 'heat_wh', 'heat_wh_per_household')
          + pg_temp.per_household_wrong('api.energy_district_hourly', 'water_l', 'water_l_per_household'),
          0::bigint, 'energy-district-hourly: per-household means are the published sums over the published counts');
SELECT is(pg_temp.per_household_wrong('api.energy_district_daily', 'electricity_kwh', 'electricity_kwh_per_household')
          + pg_temp.per_household_wrong('api.energy_district_daily', 'heat_kwh', 'heat_kwh_per_household')
          + pg_temp.per_household_wrong('api.energy_district_daily', 'water_l', 'water_l_per_household')
          + pg_temp.per_household_wrong('api.energy_peergroup_monthly', 'electricity_kwh', 'electricity_kwh_per_household')
          + pg_temp.per_household_wrong('api.energy_peergroup_monthly', 'heat_kwh', 'heat_kwh_per_household')
          + pg_temp.per_household_wrong('api.energy_peergroup_monthly', 'water_l', 'water_l_per_household'),
          0::bigint, 'energy-district-daily, energy-peergroup-monthly: the same');
SELECT is(pg_temp.per_household_wrong('api.footprint_district_monthly', 'co2e_kg', 'co2e_kg_per_household')
          + pg_temp.per_household_wrong('api.waste_district_monthly', 'kg', 'kg_per_household')
          + pg_temp.per_household_wrong('api.mobility_district_monthly', 'trips', 'trips_per_household')
          + pg_temp.per_household_wrong('api.mobility_district_monthly', 'km', 'km_per_household'),
          0::bigint, 'footprint, waste and mobility: the same');

SELECT * FROM finish();
ROLLBACK;
