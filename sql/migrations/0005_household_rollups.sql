-- 0005_household_rollups — per-household rollups (personal): the base of the district datasets and of the citizen
-- summary. All local-time buckets are Europe/Copenhagen wall time.
--
-- Each rollup here and in 0006 is a table with a builder: rollup.<name>_rows(lo, hi) returns the rollup's rows for the
-- local days [lo, hi) (whole months for the monthly ones; '-infinity' to 'infinity' for all of them), reading only
-- what those periods need. A release (0008_releases.sql) deletes the rows of the periods whose data changed and
-- inserts the builder's rows for them, or rebuilds everything; the builder is the one definition of the rollup for
-- both. Builders are plpgsql so that RETURN QUERY may run the big aggregations with parallel workers (an INSERT ...
-- SELECT does not in PostgreSQL 15), with the period's bounds computed once.
--
-- Exact sums. Whatever the order rows are added up in (a full or an incremental build, one process or several), a
-- rollup must come out the same to the bit: a cell key depends on every contributor's value rounded to its smallest
-- unit, and a float sum added up in another order can land on the other side of a rounding boundary (a CO2e that is a
-- whole multiple of 1e-5 g sits on one for 1 value in 100,000). So amounts are summed as integers of their smallest
-- unit — Wh, mL of water (readings rounded to mL), g of waste, m of travel — and CO2e as integers of 100 ng (1e-7 g):
-- an amount in those units times its factor in 1e-4 g per kWh, L, kg or km (every published factor, in g per unit,
-- has at most 4 decimals). Floats are made from the exact sums at the end.

SET LOCAL ROLE klima_owner;

-- An emission factor in 1e-4 g per unit (kWh, L, kg, km): an integer for every published factor.
CREATE FUNCTION rollup.factor_e4(g double precision)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT round(g * 10000)::bigint
$fn$;

-- The UTC instant a local day starts at.
CREATE FUNCTION rollup.local_start(day date)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT day::timestamp AT TIME ZONE 'Europe/Copenhagen'
$fn$;

-- The whole local months a range of local days touches: [first day of its first month, first day after its last).
CREATE FUNCTION rollup.month_range(days daterange)
RETURNS daterange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT daterange(date_trunc('month', lower(days))::date, (date_trunc('month', upper(days) - 1) + interval '1 month')::date)
$fn$;

-- Grid hours of the release (the published, rounded intensity: the footprint's documented formula uses it) with the
-- threshold of the dirtiest quarter of the local month (for the "dirty hours" tip). Materialized (a release builds it
-- right after the grid intensity), with a unique key: as a view, joined on the month's threshold, the planner expected
-- 48 times its rows and sized the hash table of the 19 M-row join in household_daily accordingly, which made that join
-- a third slower.
CREATE MATERIALIZED VIEW rollup.grid_hours AS
    SELECT g.hour_utc, g.g_per_kwh::double precision AS g_per_kwh, g.g_per_kwh >= p.p75 AS dirty,
           (g.g_per_kwh * 10000)::bigint AS g_e4         -- 1e-4 g per kWh (the published intensity has 2 decimals)
    FROM rollup.grid_intensity_release g
    JOIN (SELECT date_trunc('month', hour_utc AT TIME ZONE 'Europe/Copenhagen') AS month_local,
                 percentile_cont(0.75) WITHIN GROUP (ORDER BY g_per_kwh) AS p75
          FROM rollup.grid_intensity_release GROUP BY 1) p
        ON p.month_local = date_trunc('month', g.hour_utc AT TIME ZONE 'Europe/Copenhagen')
WITH DATA;
CREATE UNIQUE INDEX grid_hours_key ON rollup.grid_hours (hour_utc);

-- One row per household and local day with energy data. Electricity CO2e weights each hour by its published grid
-- intensity (where an hour has none, the 'electricity' emission factor valid at the start of its local month, like
-- every other factor). "Dirty" hours are the top quarter of grid intensity of the month.
CREATE FUNCTION rollup.household_daily_rows(lo date, hi date)
RETURNS TABLE (household_id uuid, day date, hours integer, electricity_wh bigint, heat_wh bigint, water_ml bigint,
               electricity_co2e_100ng bigint, electricity_dirty_wh bigint, electricity_dirty_co2e_100ng bigint,
               hours_without_intensity integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    t0 timestamptz := rollup.local_start(lo);
    t1 timestamptz := rollup.local_start(hi);
BEGIN
    RETURN QUERY
    SELECT e.household_id,
           -- the local day of the reading itself: a time-zone conversion costs about as little as reading the day from
           -- the grid row, and grouping on an expression of one table lets the planner pick a hash aggregate (grouped
           -- on coalesce(grid day, own day) it estimated hundreds of times more groups and sorted 19 M rows on disk)
           (e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day,
           count(*)::integer AS hours,
           sum(e.electricity_wh)::bigint AS electricity_wh,
           sum(e.heat_wh)::bigint AS heat_wh,
           sum(round(e.water_l::double precision * 1000)::bigint)::bigint AS water_ml,
           sum(e.electricity_wh::bigint * coalesce(g.g_e4, rollup.factor_e4(rollup.factor_g('electricity',
                   date_trunc('month', (e.hour_utc AT TIME ZONE 'Europe/Copenhagen'))::date))))::bigint
               AS electricity_co2e_100ng,
           coalesce(sum(e.electricity_wh) FILTER (WHERE g.dirty), 0)::bigint AS electricity_dirty_wh,
           coalesce(sum(e.electricity_wh::bigint * g.g_e4) FILTER (WHERE g.dirty), 0)::bigint
               AS electricity_dirty_co2e_100ng,
           count(*) FILTER (WHERE g.hour_utc IS NULL)::integer AS hours_without_intensity
    FROM core.energy_hourly e
    LEFT JOIN rollup.grid_hours g ON g.hour_utc = e.hour_utc
    WHERE e.hour_utc >= t0 AND e.hour_utc < t1
    GROUP BY 1, 2;
END
$fn$;
CREATE TABLE rollup.household_daily AS SELECT * FROM rollup.household_daily_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.household_daily ADD PRIMARY KEY (day, household_id);

-- One row per household and local month with any data: energy, waste per fraction, mobility per mode, CO2e per
-- category with the factors valid at the start of the month (electricity hour by hour).
CREATE FUNCTION rollup.household_monthly_rows(lo date, hi date)
RETURNS TABLE (household_id uuid, month date, district_id smallint, dwelling_type text, occupant_band text,
               has_energy boolean, has_waste boolean, has_mobility boolean, hours integer, days integer,
               electricity_kwh numeric, electricity_co2e_kg double precision, electricity_dirty_kwh numeric,
               electricity_dirty_co2e_kg double precision, heat_kwh numeric, heat_co2e_kg double precision,
               water_l double precision, water_co2e_kg double precision, waste_kg double precision,
               waste_co2e_kg double precision, waste jsonb, mobility_trips integer, mobility_km double precision,
               mobility_co2e_kg double precision, mobility jsonb, total_co2e_kg double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH en AS (
        SELECT household_id, date_trunc('month', day)::date AS month,
               sum(hours)::integer AS hours, count(*)::integer AS days,
               sum(electricity_wh) / 1000.0 AS electricity_kwh,
               sum(electricity_co2e_100ng) AS electricity_co2e,
               sum(electricity_dirty_wh) / 1000.0 AS electricity_dirty_kwh,
               sum(electricity_dirty_co2e_100ng) AS electricity_dirty_co2e,
               sum(heat_wh) AS heat_wh,
               sum(water_ml) AS water_ml
        FROM rollup.household_daily
        WHERE day >= lo AND day < hi
        GROUP BY 1, 2
    ), wf AS (
        SELECT household_id, date_trunc('month', collected_on)::date AS month, fraction,
               sum(round(kg::double precision * 1000)::bigint) AS g
        FROM core.waste_weighings
        WHERE collected_on >= lo AND collected_on < hi
        GROUP BY 1, 2, 3
    ), mm AS (
        SELECT household_id, date_trunc('month', day)::date AS month, mode,
               sum(trips)::integer AS trips, sum(round(km::double precision * 1000)::bigint) AS m
        FROM core.mobility_daily
        WHERE day >= lo AND day < hi
        GROUP BY 1, 2, 3
    ), fx AS (
        -- The factor of every item for every month with data, looked up once.
        SELECT i.factor_item, mo.month, rollup.factor_e4(rollup.factor_g(i.factor_item, mo.month)) AS f
        FROM (SELECT factor_item FROM rollup.factor_items
              UNION ALL SELECT 'district-heating' UNION ALL SELECT 'water') i
        CROSS JOIN (SELECT month FROM en UNION SELECT month FROM wf UNION SELECT month FROM mm) mo
    ), wa AS (
        SELECT wf.household_id, wf.month, sum(wf.g) AS waste_g,
               sum(wf.g * fx.f) AS waste_co2e,
               jsonb_object_agg(wf.fraction, jsonb_build_object(
                   'kg', round(wf.g / 1000.0, 3), 'co2e_kg', round(wf.g * fx.f / 1e10, 3))
                   ORDER BY wf.fraction) AS waste
        FROM wf LEFT JOIN fx ON fx.factor_item = 'waste-' || wf.fraction AND fx.month = wf.month
        GROUP BY 1, 2
    ), mo AS (
        SELECT mm.household_id, mm.month, sum(mm.trips)::integer AS mobility_trips, sum(mm.m) AS mobility_m,
               sum(mm.m * fx.f) AS mobility_co2e,
               jsonb_object_agg(mm.mode, jsonb_build_object(
                   'trips', mm.trips, 'km', round(mm.m / 1000.0, 3),
                   'co2e_kg', round(mm.m * fx.f / 1e10, 3))
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
           (coalesce(en.electricity_co2e, 0) / 1e10)::double precision AS electricity_co2e_kg,
           coalesce(en.electricity_dirty_kwh, 0) AS electricity_dirty_kwh,
           (coalesce(en.electricity_dirty_co2e, 0) / 1e10)::double precision AS electricity_dirty_co2e_kg,
           coalesce(en.heat_wh / 1000.0, 0) AS heat_kwh,
           (coalesce(en.heat_wh * fh.f, 0) / 1e10)::double precision AS heat_co2e_kg,
           (coalesce(en.water_ml, 0) / 1000.0)::double precision AS water_l,
           (coalesce(en.water_ml * fw.f, 0) / 1e10)::double precision AS water_co2e_kg,
           (coalesce(wa.waste_g, 0) / 1000.0)::double precision AS waste_kg,
           (coalesce(wa.waste_co2e, 0) / 1e10)::double precision AS waste_co2e_kg,
           coalesce(wa.waste, '{}') AS waste,
           coalesce(mo.mobility_trips, 0) AS mobility_trips,
           (coalesce(mo.mobility_m, 0) / 1000.0)::double precision AS mobility_km,
           (coalesce(mo.mobility_co2e, 0) / 1e10)::double precision AS mobility_co2e_kg,
           coalesce(mo.mobility, '{}') AS mobility,
           ((coalesce(en.electricity_co2e, 0) + coalesce(en.heat_wh * fh.f, 0) + coalesce(en.water_ml * fw.f, 0)
             + coalesce(wa.waste_co2e, 0) + coalesce(mo.mobility_co2e, 0)) / 1e10)::double precision AS total_co2e_kg
    FROM keys k
    JOIN core.households h ON h.household_id = k.household_id
    LEFT JOIN en ON en.household_id = k.household_id AND en.month = k.month
    LEFT JOIN wa ON wa.household_id = k.household_id AND wa.month = k.month
    LEFT JOIN mo ON mo.household_id = k.household_id AND mo.month = k.month
    LEFT JOIN fx fh ON fh.factor_item = 'district-heating' AND fh.month = k.month
    LEFT JOIN fx fw ON fw.factor_item = 'water' AND fw.month = k.month;
END
$fn$;
CREATE TABLE rollup.household_monthly AS
    SELECT * FROM rollup.household_monthly_rows('infinity', 'infinity') WITH NO DATA;
-- month first: a release deletes and rebuilds whole months; the citizen functions look up (household, month)
ALTER TABLE rollup.household_monthly ADD PRIMARY KEY (month, household_id);

-- Peer-group statistics of total and per-category CO2e per month, at each widening level:
-- 0 = district x dwelling type x occupant band, 1 = district x dwelling type, 2 = district, 3 = whole city.
-- Only household-months with energy data take part. Dropped attributes are '*' (district 0) so the unique key
-- has no NULLs.
CREATE FUNCTION rollup.peer_stats_monthly_rows(lo date, hi date)
RETURNS TABLE (month date, level smallint, district_id smallint, dwelling_type text, occupant_band text,
               n_households integer, total_median double precision, total_p20 double precision,
               electricity_median double precision, electricity_p20 double precision, heat_median double precision,
               heat_p20 double precision, water_median double precision, water_p20 double precision,
               waste_median double precision, waste_p20 double precision, mobility_median double precision,
               mobility_p20 double precision, electricity_kwh_median double precision,
               heat_kwh_median double precision, water_l_median double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
    WHERE has_energy AND month >= lo AND month < hi
    GROUP BY GROUPING SETS ((month, district_id, dwelling_type, occupant_band), (month, district_id, dwelling_type),
                            (month, district_id), (month));
END
$fn$;
CREATE TABLE rollup.peer_stats_monthly AS
    SELECT * FROM rollup.peer_stats_monthly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.peer_stats_monthly ADD PRIMARY KEY (month, level, district_id, dwelling_type, occupant_band);

-- Each household-month's peer group: the narrowest level with at least 100 homes (the whole city otherwise), the
-- household's percentile rank in it (share of the other homes of the group with a lower total CO2e, 0-100).
CREATE FUNCTION rollup.household_peer_monthly_rows(lo date, hi date)
RETURNS TABLE (household_id uuid, month date, level smallint, peer_district_id smallint, peer_dwelling_type text,
               peer_occupant_band text, percentile_rank double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
        WHERE has_energy AND month >= lo AND month < hi
    ), l AS (
        SELECT b.*, CASE WHEN n0 >= 100 THEN 0 WHEN n1 >= 100 THEN 1 WHEN n2 >= 100 THEN 2 ELSE 3 END AS level
        FROM b
    )
    SELECT household_id, month, level::smallint AS level,
           CASE WHEN level <= 2 THEN district_id ELSE 0 END::smallint AS peer_district_id,
           CASE WHEN level <= 1 THEN dwelling_type ELSE '*' END AS peer_dwelling_type,
           CASE WHEN level = 0 THEN occupant_band ELSE '*' END AS peer_occupant_band,
           100.0 * CASE level WHEN 0 THEN r0 WHEN 1 THEN r1 WHEN 2 THEN r2 ELSE r3 END AS percentile_rank
    FROM l;
END
$fn$;
CREATE TABLE rollup.household_peer_monthly AS
    SELECT * FROM rollup.household_peer_monthly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.household_peer_monthly ADD PRIMARY KEY (month, household_id);

RESET ROLE;
