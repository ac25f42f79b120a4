-- Fixtures that must be suppressed, then a refresh inside this (rolled back) transaction:
--  * a deliberately tiny district (3 households, fewer than k) -> not one of its cells is listed, in any dataset;
--  * one household in district 1 using 20x the district's electricity in one hour -> that hour fails the
--    dominance rule while the day passes; secondary suppression must hide a second hour of that day, so the hour
--    cannot be recovered as (published daily total - published hours);
--  * the same household delivering 20x the district's glass in the month -> the glass cell is dominated and one
--    more fraction must be suppressed, because the district's waste CO2e is published in the footprint dataset.
BEGIN;
SELECT plan(15);
SET LOCAL work_mem = '256MB';

CREATE TEMP TABLE fx ON COMMIT DROP AS
    SELECT d::date AS day, (d + interval '12 hours') AT TIME ZONE 'Europe/Copenhagen' AS dom_hour,
           d AT TIME ZONE 'Europe/Copenhagen' AS day_start
    FROM (SELECT date_trunc('day', coalesce(max(hour_utc), '2026-01-20') AT TIME ZONE 'Europe/Copenhagen')
                 - interval '3 days' AS d
          FROM core.energy_hourly) x;
SELECT core.ensure_energy_partitions(day_start, day_start + interval '2 days') FROM fx;

INSERT INTO core.districts (district_id, name, name_en, lat, lon) VALUES (99, 'Testby', 'Test town', 55.6, 12.5);
INSERT INTO core.households (household_id, district_id, dwelling_type, occupant_band, floor_area_m2) VALUES
    ('00000000-0000-4000-8000-000000000991', 99, 'apartment', '2', 70),
    ('00000000-0000-4000-8000-000000000992', 99, 'apartment', '2', 80),
    ('00000000-0000-4000-8000-000000000993', 99, 'terraced', '3-4', 120),
    ('00000000-0000-4000-8000-000000000d01', 1, 'detached', '5+', 200);
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT h::uuid, fx.day_start + make_interval(hours => i), 300 + 10 * i, 1500, 6
    FROM fx, generate_series(0, 47) i,
         unnest(ARRAY['00000000-0000-4000-8000-000000000991', '00000000-0000-4000-8000-000000000992',
                      '00000000-0000-4000-8000-000000000993']) h;
INSERT INTO core.waste_weighings (household_id, collected_on, fraction, kg)
    SELECT h::uuid, fx.day, 'residual', 9.5
    FROM fx, unnest(ARRAY['00000000-0000-4000-8000-000000000991', '00000000-0000-4000-8000-000000000992',
                          '00000000-0000-4000-8000-000000000993']) h;
INSERT INTO core.mobility_daily (household_id, day, mode, trips, km)
    SELECT h::uuid, fx.day, 'bike', 2, 7.5
    FROM fx, unnest(ARRAY['00000000-0000-4000-8000-000000000991', '00000000-0000-4000-8000-000000000992',
                          '00000000-0000-4000-8000-000000000993']) h;

-- The dominant household: ordinary hours, one enormous hour, and an enormous glass delivery.
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT '00000000-0000-4000-8000-000000000d01', t,
           CASE WHEN t = fx.dom_hour
                THEN greatest(1000000, 20 * (SELECT coalesce(sum(e.electricity_wh), 0) FROM core.energy_hourly e
                                             JOIN core.households h USING (household_id)
                                             WHERE h.district_id = 1 AND e.hour_utc = fx.dom_hour))::integer
                ELSE 400 END,
           1000, 5
    FROM fx, generate_series(fx.day_start, fx.day_start + interval '23 hours', interval '1 hour') t;
INSERT INTO core.waste_weighings (household_id, collected_on, fraction, kg)
    SELECT '00000000-0000-4000-8000-000000000d01', fx.day, 'glass',
           greatest(100, 20 * (SELECT coalesce(sum(w.kg), 0) FROM core.waste_weighings w
                               JOIN core.households h USING (household_id)
                               WHERE h.district_id = 1 AND w.fraction = 'glass'
                                 AND date_trunc('month', w.collected_on) = date_trunc('month', fx.day)))
    FROM fx;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT name FROM meta.rollups ORDER BY refresh_order LOOP
        PERFORM meta.refresh_rollup(r.name);
    END LOOP;
END
$$;

-- (d) the tiny district: fewer than k households, so not one of its cells is listed in any dataset
SELECT ok((SELECT count(*) = 48 AND bool_and(reason = 'k') FROM rollup.district_hourly WHERE district_id = 99),
          'tiny district: its 48 hours are cells with data, every one under k');
SELECT is((SELECT count(*) FROM api.energy_district_hourly WHERE district_id = 99), 0::bigint,
          'tiny district: not listed in energy-district-hourly');
SELECT is((SELECT count(*) FROM api.energy_district_daily WHERE district_id = 99), 0::bigint,
          'tiny district: not listed in energy-district-daily');
SELECT is((SELECT count(*) FROM api.energy_peergroup_monthly WHERE district_id = 99), 0::bigint,
          'tiny district: not listed in energy-peergroup-monthly');
SELECT is((SELECT count(*) FROM api.footprint_district_monthly WHERE district_id = 99), 0::bigint,
          'tiny district: not listed in footprint-district-monthly');
SELECT is((SELECT count(*) FROM api.waste_district_monthly WHERE district_id = 99), 0::bigint,
          'tiny district: not listed in waste-district-monthly');
SELECT is((SELECT count(*) FROM api.mobility_district_monthly WHERE district_id = 99), 0::bigint,
          'tiny district: not listed in mobility-district-monthly');

-- (b, c) dominance and secondary suppression in energy-district-hourly
SELECT is((SELECT reason FROM rollup.district_hourly r, fx WHERE r.district_id = 1 AND r.hour_utc = fx.dom_hour),
          'dominance', 'the hour of the dominant household fails the dominance rule');
SELECT is((SELECT suppressed FROM api.energy_district_daily d, fx WHERE d.district_id = 1 AND d.day = fx.day),
          false, 'its day passes and is published');
SELECT is((SELECT count(*) FROM api.energy_district_hourly v, fx
           WHERE v.district_id = 1 AND v.suppressed
             AND (v.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date = fx.day),
          2::bigint, 'exactly two hours of that district-day are suppressed');
SELECT is((SELECT r.e_sum FROM rollup.district_hourly r, fx
           WHERE r.district_id = 1 AND r.reason = 'secondary'
             AND (r.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date = fx.day),
          (SELECT min(r.e_sum) FROM rollup.district_hourly r, fx
           WHERE r.district_id = 1 AND r.reason IS DISTINCT FROM 'dominance'
             AND (r.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date = fx.day),
          'the second suppressed hour is the next-smallest sibling');
SELECT isnt((SELECT round((d.electricity_kwh * 1000.0 - sum(v.electricity_wh))::numeric, 3)
             FROM api.energy_district_daily d, api.energy_district_hourly v, fx
             WHERE d.district_id = 1 AND d.day = fx.day AND v.district_id = 1 AND NOT v.suppressed
               AND (v.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date = fx.day
             GROUP BY d.electricity_kwh),
            (SELECT round(r.e_sum::numeric, 3) FROM rollup.district_hourly r, fx
             WHERE r.district_id = 1 AND r.hour_utc = fx.dom_hour),
            'daily total minus the published hours does not reveal the suppressed hour');

-- (b, c) dominance and secondary suppression in waste-district-monthly
SELECT ok((SELECT reason IN ('dominance', 'k') FROM rollup.waste_monthly w, fx
           WHERE w.district_id = 1 AND w.fraction = 'glass' AND w.month = date_trunc('month', fx.day)::date),
          'the glass cell of the dominant household is suppressed (dominance, or k when nobody else sorts glass)');
SELECT is((SELECT suppressed FROM api.footprint_district_monthly f, fx
           WHERE f.district_id = 1 AND f.category = 'waste' AND f.month = date_trunc('month', fx.day)::date),
          false, 'the district-month waste CO2e (the parent) is published');
SELECT ok((SELECT count(*) FILTER (WHERE reason IS NOT NULL) >= 2 FROM rollup.waste_monthly w, fx
           WHERE w.district_id = 1 AND w.month = date_trunc('month', fx.day)::date),
          'at least two fractions of that district-month are unpublished (suppressed, or not listed under k)');

SELECT * FROM finish();
ROLLBACK;
