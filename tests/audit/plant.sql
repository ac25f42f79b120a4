-- tests/audit/plant.sql — plants the outliers of the audit's test city (run as superuser on a freshly seeded city:
-- klimaspejl seed --households 300 --days 65 --end 2025-11-15 --seed 1). Households are chosen deterministically
-- (lowest household_id of a district). Each outlier sits in its own district-month so their relations do not mix.
-- audit_fixture.plants names them, with the key under which `klimaspejl audit` must report each one when the
-- protection is off (tests/audit/run.sh). Stage 2 (plant2.sql) adds what arrives between release 1 and release 2.
\set ON_ERROR_STOP on
BEGIN;
CREATE SCHEMA audit_fixture;
CREATE TABLE audit_fixture.plants (name text PRIMARY KEY, kind text, dataset text, key text, measure text,
                                   household_id uuid);
CREATE FUNCTION audit_fixture.first_household(d int) RETURNS uuid LANGUAGE sql AS
    $$ SELECT household_id FROM core.households WHERE district_id = d ORDER BY household_id LIMIT 1 $$;

-- spike: one household uses 100 kWh more in one hour (district 4, 03:00 local on 8 October)
UPDATE core.energy_hourly SET electricity_wh = electricity_wh + 100000
WHERE household_id = audit_fixture.first_household(4) AND hour_utc = '2025-10-08T01:00:00Z';
INSERT INTO audit_fixture.plants VALUES ('spike', 'cell', 'energy-district-hourly',
    'district=4 hour_utc=2025-10-08T01:00:00Z', 'electricity_wh', audit_fixture.first_household(4));

-- heat leak: one household's district heating 4,000 kWh above normal for a day (district 2, 15 October local)
UPDATE core.energy_hourly SET heat_wh = heat_wh + 166667
WHERE household_id = audit_fixture.first_household(2)
  AND hour_utc >= '2025-10-14T22:00:00Z' AND hour_utc < '2025-10-15T22:00:00Z';
INSERT INTO audit_fixture.plants VALUES ('heat leak', 'cell', 'energy-district-daily',
    'district=2 day=2025-10-15', 'heat_kwh', audit_fixture.first_household(2));

-- small district: all but three households of district 7 move to district 6
UPDATE core.households SET district_id = 6
WHERE district_id = 7 AND household_id NOT IN
    (SELECT household_id FROM core.households WHERE district_id = 7 ORDER BY household_id LIMIT 3);
INSERT INTO audit_fixture.plants VALUES ('small district', 'existence', 'footprint-district-monthly',
    'district=7 month=2025-10', '', NULL);

-- Leaves `keep` households (lowest ids) as the only users of a mode in a district-month: the others' trips of that
-- mode become trips of `replacement` (added to theirs on the same day).
CREATE FUNCTION audit_fixture.keep_mode_users(d int, m text, replacement text, keep int, month date)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE moved AS
        SELECT x.* FROM core.mobility_daily x JOIN core.households h USING (household_id)
        WHERE h.district_id = d AND x.mode = m AND x.day >= month AND x.day < month + interval '1 month'
          AND x.household_id NOT IN (SELECT DISTINCT y.household_id FROM core.mobility_daily y
                                     JOIN core.households g USING (household_id)
                                     WHERE g.district_id = d AND y.mode = m
                                       AND y.day >= month AND y.day < month + interval '1 month'
                                     ORDER BY y.household_id LIMIT keep);
    INSERT INTO core.mobility_daily (household_id, day, mode, trips, km)
        SELECT household_id, day, replacement, trips, km FROM moved
    ON CONFLICT (household_id, day, mode) DO UPDATE
        SET trips = core.mobility_daily.trips + EXCLUDED.trips, km = core.mobility_daily.km + EXCLUDED.km;
    DELETE FROM core.mobility_daily x USING moved v
    WHERE x.household_id = v.household_id AND x.day = v.day AND x.mode = m;
    DROP TABLE moved;
END
$$;

-- two electric-car households: the only car-electric users of district 8 in October (the others drove petrol cars)
SELECT audit_fixture.keep_mode_users(8, 'car-electric', 'car-petrol', 2, '2025-10-01');
INSERT INTO audit_fixture.plants VALUES ('e-cars', 'cell', 'mobility-district-monthly',
    'district=8 month=2025-10 mode=car-electric', 'km', NULL);

-- rare mode: in district 9 only two households ride e-bikes in October (the others' e-bike trips become bike trips)
SELECT audit_fixture.keep_mode_users(9, 'e-bike', 'bike', 2, '2025-10-01');
INSERT INTO audit_fixture.plants VALUES ('rare mode', 'cell', 'mobility-district-monthly',
    'district=9 month=2025-10 mode=e-bike', 'km', NULL);

-- late day: one household's 20 October (local) arrives only between release 1 and release 2 (district 5)
CREATE TABLE audit_fixture.late_day AS
    SELECT * FROM core.energy_hourly
    WHERE household_id = audit_fixture.first_household(5)
      AND hour_utc >= '2025-10-19T22:00:00Z' AND hour_utc < '2025-10-20T22:00:00Z';
DELETE FROM core.energy_hourly e USING audit_fixture.late_day l
WHERE e.household_id = l.household_id AND e.hour_utc = l.hour_utc;
INSERT INTO audit_fixture.plants VALUES ('late day', 'household', 'energy-district-hourly',
    'district=5 hour_utc=2025-10-20T', 'electricity_wh', audit_fixture.first_household(5));

-- correction: a reading of a household already in its cells is corrected by +3 kWh in release 2 (district 10)
INSERT INTO audit_fixture.plants VALUES ('correction', 'revision', 'energy-district-hourly',
    'district=10 hour_utc=2025-10-22T16:00:00Z', 'electricity_wh', audit_fixture.first_household(10));
COMMIT;
VACUUM ANALYZE core.energy_hourly;
VACUUM ANALYZE core.mobility_daily;
