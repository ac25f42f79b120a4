-- Optional Laplace noise: deterministic for one release (repeating a query cannot average it away), new noise for
-- a new release, calibrated to clip / epsilon, never applied to suppressed cells.
BEGIN;
SELECT plan(6);

UPDATE meta.datasets SET noise_epsilon = 1.0 WHERE id = 'energy-district-daily';

CREATE TEMP TABLE q1 ON COMMIT DROP AS
    SELECT district_id, day, electricity_kwh, heat_kwh, water_l, suppressed FROM api.energy_district_daily;
CREATE TEMP TABLE q2 ON COMMIT DROP AS
    SELECT district_id, day, electricity_kwh, heat_kwh, water_l, suppressed FROM api.energy_district_daily;

SELECT is((SELECT count(*) FROM q1 JOIN q2 USING (district_id, day)
           WHERE (q1.electricity_kwh, q1.heat_kwh, q1.water_l) IS DISTINCT FROM (q2.electricity_kwh, q2.heat_kwh, q2.water_l)),
          0::bigint, 'repeated queries of one release return identical noisy values');

SELECT ok((SELECT count(*) FILTER (WHERE q1.electricity_kwh <> r.e_clip) > 0.9 * count(*)
           FROM q1 JOIN rollup.district_daily r USING (district_id, day) WHERE NOT q1.suppressed),
          'noise is added to the published cells');

-- Laplace(b): mean |noise| = b = clip / epsilon (60 kWh for electricity_kwh at epsilon 1).
SELECT ok((SELECT avg(abs(q1.electricity_kwh - r.e_clip)) BETWEEN 0.75 * 60 AND 1.25 * 60
           FROM q1 JOIN rollup.district_daily r USING (district_id, day) WHERE NOT q1.suppressed),
          'the noise scale is clip / epsilon');

SELECT is((SELECT count(*) FROM q1 WHERE suppressed AND num_nonnulls(electricity_kwh, heat_kwh, water_l) > 0),
          0::bigint, 'suppressed cells stay null with noise');

UPDATE meta.datasets SET version = version + 1 WHERE id = 'energy-district-daily';
SELECT ok((SELECT count(*) FILTER (WHERE q3.electricity_kwh <> q1.electricity_kwh) > 0.9 * count(*)
           FROM q1 JOIN api.energy_district_daily q3 USING (district_id, day) WHERE NOT q1.suppressed),
          'a new release draws new noise');

UPDATE meta.datasets SET noise_epsilon = NULL WHERE id = 'energy-district-daily';
SELECT is((SELECT count(*) FROM api.energy_district_daily v JOIN rollup.district_daily r USING (district_id, day)
           WHERE NOT v.suppressed AND v.electricity_kwh <> r.e_sum),
          0::bigint, 'without noise the exact sums are published');

SELECT * FROM finish();
ROLLBACK;
