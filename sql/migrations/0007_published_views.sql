-- 0007_published_views — the api views of the published datasets: plain views owned by klima_owner over the rollups,
-- so klima_api reads them with the owner's rights on the rollups (the view is the barrier); klima_api has SELECT on
-- these views only.

SET LOCAL ROLE klima_owner;

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

-- Not personal: published as they are, but from the release's snapshot like everything else (a plain view over core
-- would change the moment data is loaded, under an unchanged version).
CREATE MATERIALIZED VIEW rollup.grid_intensity_release AS
    SELECT hour_utc, area, g_per_kwh FROM core.grid_intensity_hourly
WITH DATA;
CREATE UNIQUE INDEX grid_intensity_release_key ON rollup.grid_intensity_release (hour_utc);

CREATE MATERIALIZED VIEW rollup.emission_factors_release AS
    SELECT factor_id, category, unit, value, valid_from, valid_to, method, source, is_assumption
    FROM core.emission_factors
WITH DATA;
CREATE UNIQUE INDEX emission_factors_release_key ON rollup.emission_factors_release (factor_id);

CREATE VIEW api.grid_intensity_hourly AS
    SELECT hour_utc, (hour_utc AT TIME ZONE 'Europe/Copenhagen') AS hour_dk, area,
           g_per_kwh::double precision AS g_per_kwh
    FROM rollup.grid_intensity_release;

CREATE VIEW api.emission_factors AS
    SELECT factor_id, category, unit, value, valid_from, valid_to, method, source, is_assumption
    FROM rollup.emission_factors_release;

RESET ROLE;
