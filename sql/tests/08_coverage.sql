-- Coverage (0025_coverage.sql): daily and monthly rows say how much of their period has data, recomputed here from
-- core; every dataset's temporal coverage ends at its last data, never in the future, and starts at its first.
BEGIN;
SELECT plan(8);

-- daily: hours = the hours with data, hours_in_day the local day's length, complete when they agree
SELECT is((SELECT count(*) FROM api.energy_district_daily
           WHERE hours_in_day <> extract(epoch FROM ((day + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                                   - (day::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600
              OR complete <> (hours = hours_in_day)), 0::bigint, 'energy-district-daily: hours_in_day and complete');
SELECT ok((SELECT bool_and(NOT complete) FROM api.energy_district_daily
           WHERE day = (SELECT max(day) FROM api.energy_district_daily)
             AND (SELECT max(hour_utc) FROM core.energy_hourly) + interval '1 hour'
                 < ((day + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen')),
          'the latest day, cut short by the end of the data, is not complete');

-- monthly: days_with_data recomputed from core for energy (local days with readings in the district) and mobility
CREATE TEMP TABLE energy_days ON COMMIT DROP AS
    SELECT district_id, date_trunc('month', day)::date AS month,
           count(*) FILTER (WHERE hours = extract(epoch FROM ((day + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                                     - (day::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600)::integer AS days
    FROM (SELECT h.district_id, (e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day, count(DISTINCT e.hour_utc) AS hours
          FROM core.energy_hourly e JOIN core.households h USING (household_id) GROUP BY 1, 2) x
    GROUP BY 1, 2;
SELECT is((SELECT count(*) FROM api.energy_peergroup_monthly p
           LEFT JOIN energy_days x ON x.district_id = p.district_id AND x.month = p.month
           WHERE p.days_with_data IS DISTINCT FROM x.days
              OR p.days_in_month <> ((p.month + interval '1 month')::date - p.month)
              OR p.complete <> (p.days_with_data = p.days_in_month)), 0::bigint,
          'energy-peergroup-monthly: days_with_data are the local days with readings in the district for every hour');
SELECT is((SELECT count(*) FROM api.mobility_district_monthly p
           LEFT JOIN (SELECT h.district_id, date_trunc('month', m.day)::date AS month, count(DISTINCT m.day)::integer AS days
                      FROM core.mobility_daily m JOIN core.households h USING (household_id) GROUP BY 1, 2) x
                  ON x.district_id = p.district_id AND x.month = p.month
           WHERE p.days_with_data IS DISTINCT FROM x.days OR p.complete <> (p.days_with_data = p.days_in_month)), 0::bigint,
          'mobility-district-monthly: days_with_data are the days with trip records in the district');
SELECT ok((SELECT bool_and(NOT complete) FROM api.footprint_district_monthly
           WHERE month = (SELECT max(month) FROM api.footprint_district_monthly)),
          'the last month of the footprint is partial (the test city ends today)');
SELECT ok((SELECT bool_and(complete) FROM api.waste_district_monthly
           WHERE month > (SELECT min(month) FROM api.waste_district_monthly)
             AND month < (SELECT max(month) FROM api.waste_district_monthly)),
          'every waste month between the first and the last is complete');

-- temporal coverage: the data's own first and last instant
SELECT is((SELECT array_agg(id ORDER BY id) FROM meta.datasets WHERE temporal_end > now() + interval '1 hour'), NULL,
          'no dataset''s temporal coverage ends in the future');
SELECT is((SELECT array_agg(id ORDER BY id) FROM meta.datasets
           WHERE id IN ('energy-district-daily', 'energy-peergroup-monthly', 'footprint-district-monthly')
             AND (temporal_start IS DISTINCT FROM (SELECT min(hour_utc) FROM core.energy_hourly)
                  OR temporal_end IS DISTINCT FROM (SELECT max(hour_utc) + interval '1 hour' FROM core.energy_hourly))), NULL,
          'the energy datasets cover exactly the first to the last hour of readings');

SELECT * FROM finish();
ROLLBACK;
