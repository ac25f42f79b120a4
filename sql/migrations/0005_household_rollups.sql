-- 0005_household_rollups — per-household rollups (personal): the base of the district datasets and of the citizen
-- summary. All local-time buckets are Europe/Copenhagen wall time.

SET LOCAL ROLE klima_owner;


-- Grid hours of the release (the published, rounded intensity: the footprint's documented formula uses it) with the
-- threshold of the dirtiest quarter of the local month (for the "dirty hours" tip). Materialized (a release builds it
-- right after the grid intensity), with a unique key: as a view, joined on the month's threshold, the planner expected
-- 48 times its rows and sized the hash table of the 19 M-row join in household_daily accordingly, which made that join
-- a third slower.
CREATE MATERIALIZED VIEW rollup.grid_hours AS
    SELECT g.hour_utc, g.g_per_kwh::double precision AS g_per_kwh, g.g_per_kwh >= p.p75 AS dirty
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
CREATE MATERIALIZED VIEW rollup.household_daily AS
    SELECT e.household_id,
           -- the local day of the reading itself: a time-zone conversion costs about as little as reading the day from
           -- the grid row, and grouping on an expression of one table lets the planner pick a hash aggregate (grouped
           -- on coalesce(grid day, own day) it estimated hundreds of times more groups and sorted 19 M rows on disk)
           (e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day,
           count(*)::integer AS hours,
           sum(e.electricity_wh)::bigint AS electricity_wh,
           sum(e.heat_wh)::bigint AS heat_wh,
           sum(e.water_l::double precision) AS water_l,
           sum(e.electricity_wh * coalesce(g.g_per_kwh, rollup.factor_g('electricity', date_trunc('month',
                   (e.hour_utc AT TIME ZONE 'Europe/Copenhagen'))::date))) / 1000.0 AS electricity_co2e_g,
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
    ), mm AS (
        SELECT household_id, date_trunc('month', day)::date AS month, mode,
               sum(trips)::integer AS trips, sum(km::double precision) AS km
        FROM core.mobility_daily
        GROUP BY 1, 2, 3
    ), fx AS (
        -- The factor of every item for every month with data, looked up once.
        SELECT i.factor_item, mo.month, rollup.factor_g(i.factor_item, mo.month) AS g
        FROM (SELECT factor_item FROM rollup.factor_items
              UNION ALL SELECT 'district-heating' UNION ALL SELECT 'water') i
        CROSS JOIN (SELECT month FROM en UNION SELECT month FROM wf UNION SELECT month FROM mm) mo
    ), wa AS (
        SELECT wf.household_id, wf.month, sum(wf.kg) AS waste_kg,
               sum(wf.kg * fx.g) / 1000.0 AS waste_co2e_kg,
               jsonb_object_agg(wf.fraction, jsonb_build_object(
                   'kg', round(wf.kg::numeric, 3), 'co2e_kg', round((wf.kg * fx.g / 1000.0)::numeric, 3))
                   ORDER BY wf.fraction) AS waste
        FROM wf LEFT JOIN fx ON fx.factor_item = 'waste-' || wf.fraction AND fx.month = wf.month
        GROUP BY 1, 2
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

RESET ROLE;
