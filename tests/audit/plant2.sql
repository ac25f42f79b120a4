-- tests/audit/plant2.sql — what arrives between release 1 and release 2: the late day and the correction.
-- `-v undo=1` takes both back (to build a second pair of releases with the protection on).
\set ON_ERROR_STOP on
\if :{?undo}
BEGIN;
DELETE FROM core.energy_hourly e USING audit_fixture.late_day l
WHERE e.household_id = l.household_id AND e.hour_utc = l.hour_utc;
UPDATE core.energy_hourly SET electricity_wh = electricity_wh - 3000
WHERE household_id = (SELECT household_id FROM audit_fixture.plants WHERE name = 'correction')
  AND hour_utc = '2025-10-22T16:00:00Z';
COMMIT;
\else
BEGIN;
INSERT INTO core.energy_hourly SELECT * FROM audit_fixture.late_day;
UPDATE core.energy_hourly SET electricity_wh = electricity_wh + 3000
WHERE household_id = (SELECT household_id FROM audit_fixture.plants WHERE name = 'correction')
  AND hour_utc = '2025-10-22T16:00:00Z';
COMMIT;
\endif
