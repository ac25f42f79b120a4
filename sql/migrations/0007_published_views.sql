-- 0007_published_views — the api views of the published datasets: plain views owned by klima_owner over the rollups,
-- so klima_api reads them with the owner's rights on the rollups (the view is the barrier); klima_api has SELECT on
-- these views only. Every number column is a numeric rounded in SQL to its column's scale.

SET LOCAL ROLE klima_owner;

-- Published views: projections of the published columns of the cell rollups (0006_district_cells.sql), which hold
-- the cell-key perturbed values rounded to each column's scale. Existence: a cell of fewer than k households is not
-- listed at all (reason 'k'), in every dataset alike, so no rare combination of keys (a dwelling type and size band, a
-- mode, a fraction, a tiny district) shows up as a row with nulls. A cell suppressed for dominance or to protect a
-- sibling ('secondary') concerns at least k households: it stays listed, with NULL measures and suppressed = true.

CREATE VIEW api.energy_district_hourly AS
    SELECT r.district_id::integer AS district_id, d.name AS district, r.hour_utc,
           (r.hour_utc AT TIME ZONE 'Europe/Copenhagen') AS hour_dk, r.n_pub AS n_households,
           r.e_pub AS electricity_wh, r.q_pub AS heat_wh, r.w_pub AS water_l,
           r.e_ph AS electricity_wh_per_household, r.q_ph AS heat_wh_per_household, r.w_ph AS water_l_per_household,
           r.suppressed
    FROM rollup.district_hourly r
    JOIN core.districts d ON d.district_id = r.district_id
    WHERE r.reason IS DISTINCT FROM 'k';

CREATE VIEW api.energy_district_daily AS
    SELECT r.district_id::integer AS district_id, d.name AS district, r.day,
           (r.day::timestamp AT TIME ZONE 'Europe/Copenhagen') AS day_start_utc, r.hours, r.n_pub AS n_households,
           r.e_pub AS electricity_kwh, r.q_pub AS heat_kwh, r.w_pub AS water_l,
           r.e_ph AS electricity_kwh_per_household, r.q_ph AS heat_kwh_per_household, r.w_ph AS water_l_per_household,
           r.suppressed
    FROM rollup.district_daily r
    JOIN core.districts d ON d.district_id = r.district_id
    WHERE r.reason IS DISTINCT FROM 'k';

CREATE VIEW api.energy_peergroup_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.dwelling_type, r.occupant_band,
           r.n_pub AS n_households, r.e_pub AS electricity_kwh, r.q_pub AS heat_kwh, r.w_pub AS water_l,
           r.e_ph AS electricity_kwh_per_household, r.q_ph AS heat_kwh_per_household, r.w_ph AS water_l_per_household,
           r.suppressed
    FROM rollup.peergroup_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    WHERE r.reason IS DISTINCT FROM 'k';

CREATE VIEW api.waste_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.fraction, r.n_pub AS n_households,
           r.v_pub AS kg, r.v_ph AS kg_per_household, r.suppressed
    FROM rollup.waste_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    WHERE r.reason IS DISTINCT FROM 'k';

CREATE VIEW api.mobility_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.mode, r.n_pub AS n_households,
           r.t_pub AS trips, r.v_pub AS km, r.t_ph AS trips_per_household, r.v_ph AS km_per_household, r.suppressed
    FROM rollup.mobility_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    WHERE r.reason IS DISTINCT FROM 'k';

CREATE VIEW api.footprint_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.category, r.n_pub AS n_households,
           r.v_pub AS co2e_kg, r.v_ph AS co2e_kg_per_household, r.suppressed
    FROM rollup.footprint_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    WHERE r.reason IS DISTINCT FROM 'k';

-- Not personal: published as they are, but from the release's snapshot like everything else (a plain view over core
-- would change the moment data is loaded, under an unchanged version).
CREATE MATERIALIZED VIEW rollup.grid_intensity_release AS
    SELECT hour_utc, area,
           round(g_per_kwh::numeric, (SELECT scale FROM meta.dataset_columns
                                      WHERE dataset_id = 'grid-intensity-hourly' AND name = 'g_per_kwh')) AS g_per_kwh
    FROM core.grid_intensity_hourly
WITH DATA;
CREATE UNIQUE INDEX grid_intensity_release_key ON rollup.grid_intensity_release (hour_utc);

CREATE MATERIALIZED VIEW rollup.emission_factors_release AS
    SELECT factor_id, category, unit,
           round(value::numeric, (SELECT scale FROM meta.dataset_columns
                                  WHERE dataset_id = 'emission-factors' AND name = 'value')) AS value,
           valid_from, valid_to, method, source, is_assumption
    FROM core.emission_factors
WITH DATA;
CREATE UNIQUE INDEX emission_factors_release_key ON rollup.emission_factors_release (factor_id);

CREATE VIEW api.grid_intensity_hourly AS
    SELECT hour_utc, (hour_utc AT TIME ZONE 'Europe/Copenhagen') AS hour_dk, area, g_per_kwh
    FROM rollup.grid_intensity_release;

CREATE VIEW api.emission_factors AS
    SELECT factor_id, category, unit, value, valid_from, valid_to, method, source, is_assumption
    FROM rollup.emission_factors_release;

RESET ROLE;
