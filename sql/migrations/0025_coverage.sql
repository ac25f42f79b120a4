-- 0025_coverage — every daily and monthly row says how much of its period has data, and every dataset's temporal
-- coverage ends at its last data. A month whose data starts on the 28th (or ends today) is published like any other
-- month; without a coverage column a chart shows it as a dip. Daily rows gain hours_in_day (23, 24 or 25) and complete
-- (hours = hours_in_day); monthly rows gain days_in_month, days_with_data and complete. The release's temporal coverage
-- (meta.datasets.temporal_start/_end, DCAT dct:temporal) of daily and monthly datasets becomes the first and last
-- instant with data instead of the whole first and last period, and is also kept in Copenhagen local time
-- (temporal_start_local/_end_local) for what people read.

SET LOCAL ROLE klima_owner;

-- Days with data per source, district and local month. energy: the local days whose every hour has readings in the
-- district (an hourly cell, suppressed or not, for each of the day's 23, 24 or 25 hours: a day that starts at 01:00
-- is not a whole day); mobility: the days with any trip record in the district; waste:
-- collections are weekly, so a day without a weighing is not missing data: the days of the month between the first
-- and the last collection day of the release (city-wide). first_day/last_day bound the days counted.
CREATE FUNCTION rollup.coverage_monthly_rows(lo date, hi date)
RETURNS TABLE (source text, district_id smallint, month date, days_with_data integer, first_day date, last_day date)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    t0 timestamptz := rollup.local_start(lo);
    t1 timestamptz := rollup.local_start(hi);
BEGIN
    RETURN QUERY
    SELECT 'energy'::text AS source, x.district_id, date_trunc('month', x.day)::date AS month,
           (count(*) FILTER (WHERE x.hours = extract(epoch FROM ((x.day + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                                         - (x.day::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600))::integer
               AS days_with_data,
           min(x.day) AS first_day, max(x.day) AS last_day
    FROM (SELECT h.district_id, (h.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day, count(*) AS hours
          FROM rollup.district_hourly h WHERE h.hour_utc >= t0 AND h.hour_utc < t1 GROUP BY 1, 2) x
    GROUP BY 2, 3
    UNION ALL
    SELECT 'mobility', h.district_id, date_trunc('month', m.day)::date, count(DISTINCT m.day)::integer, min(m.day), max(m.day)
    FROM core.mobility_daily m JOIN core.households h USING (household_id)
    WHERE m.day >= lo AND m.day < hi
    GROUP BY 2, 3
    UNION ALL
    -- waste: every month, whatever the period (the first and last collection day of the whole release bound them)
    SELECT 'waste', d.district_id, mo.month,
           (least(w.last_day, (mo.month + interval '1 month - 1 day')::date)
            - greatest(w.first_day, mo.month) + 1)::integer,
           greatest(w.first_day, mo.month), least(w.last_day, (mo.month + interval '1 month - 1 day')::date)
    FROM (SELECT min(collected_on) AS first_day, max(collected_on) AS last_day FROM core.waste_weighings) w
    CROSS JOIN LATERAL generate_series(date_trunc('month', w.first_day), w.last_day, interval '1 month') g(m)
    CROSS JOIN LATERAL (SELECT g.m::date AS month) mo
    CROSS JOIN core.districts d;
END
$fn$;
CREATE TABLE rollup.coverage_monthly AS SELECT * FROM rollup.coverage_monthly_rows('infinity', 'infinity') WITH NO DATA;
ALTER TABLE rollup.coverage_monthly ADD PRIMARY KEY (source, district_id, month);

-- Rebuilt by the months of a release's periods; its waste rows always (they depend on the whole release's bounds).
INSERT INTO meta.rollups (name, refresh_order, period, delete_where) VALUES
    ('rollup.coverage_monthly', 105, 'month', '(month >= $1 AND month < $2) OR source = ''waste''');

-- The views of 0007 with the coverage columns appended (CREATE OR REPLACE keeps every earlier column as it was).
CREATE OR REPLACE VIEW api.energy_district_daily AS
    SELECT r.district_id::integer AS district_id, d.name AS district, r.day,
           (r.day::timestamp AT TIME ZONE 'Europe/Copenhagen') AS day_start_utc, r.hours, r.n_pub AS n_households,
           r.e_pub AS electricity_kwh, r.q_pub AS heat_kwh, r.w_pub AS water_l,
           r.e_ph AS electricity_kwh_per_household, r.q_ph AS heat_kwh_per_household, r.w_ph AS water_l_per_household,
           r.suppressed, x.hours_in_day, r.hours = x.hours_in_day AS complete
    FROM rollup.district_daily r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN LATERAL (SELECT (extract(epoch FROM ((r.day + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                               - (r.day::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600)::integer
                               AS hours_in_day) x
    WHERE r.listed;

CREATE OR REPLACE VIEW api.energy_peergroup_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.dwelling_type, r.occupant_band,
           r.n_pub AS n_households, r.e_pub AS electricity_kwh, r.q_pub AS heat_kwh, r.w_pub AS water_l,
           r.e_ph AS electricity_kwh_per_household, r.q_ph AS heat_kwh_per_household, r.w_ph AS water_l_per_household,
           r.suppressed, x.days_in_month, coalesce(c.days_with_data, 0) AS days_with_data,
           coalesce(c.days_with_data, 0) = x.days_in_month AS complete
    FROM rollup.peergroup_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN LATERAL (SELECT ((r.month + interval '1 month')::date - r.month) AS days_in_month) x
    LEFT JOIN rollup.coverage_monthly c ON c.source = 'energy' AND c.district_id = r.district_id AND c.month = r.month
    WHERE r.listed;

CREATE OR REPLACE VIEW api.waste_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.fraction, r.n_pub AS n_households,
           r.v_pub AS kg, r.v_ph AS kg_per_household, r.suppressed, x.days_in_month,
           coalesce(c.days_with_data, 0) AS days_with_data, coalesce(c.days_with_data, 0) = x.days_in_month AS complete
    FROM rollup.waste_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN LATERAL (SELECT ((r.month + interval '1 month')::date - r.month) AS days_in_month) x
    LEFT JOIN rollup.coverage_monthly c ON c.source = 'waste' AND c.district_id = r.district_id AND c.month = r.month
    WHERE r.listed;

CREATE OR REPLACE VIEW api.mobility_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.mode, r.n_pub AS n_households,
           r.t_pub AS trips, r.v_pub AS km, r.t_ph AS trips_per_household, r.v_ph AS km_per_household, r.suppressed,
           x.days_in_month, coalesce(c.days_with_data, 0) AS days_with_data,
           coalesce(c.days_with_data, 0) = x.days_in_month AS complete
    FROM rollup.mobility_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN LATERAL (SELECT ((r.month + interval '1 month')::date - r.month) AS days_in_month) x
    LEFT JOIN rollup.coverage_monthly c ON c.source = 'mobility' AND c.district_id = r.district_id AND c.month = r.month
    WHERE r.listed;

-- The footprint's categories come from different sources: waste and mobility have their own coverage, the energy
-- categories the energy one, and the total the smallest of the three (it is complete only when all of them are).
CREATE OR REPLACE VIEW api.footprint_district_monthly AS
    SELECT r.month, (r.month::timestamp AT TIME ZONE 'Europe/Copenhagen') AS month_start_utc,
           r.district_id::integer AS district_id, d.name AS district, r.category, r.n_pub AS n_households,
           r.v_pub AS co2e_kg, r.v_ph AS co2e_kg_per_household, r.suppressed, x.days_in_month,
           c.days_with_data, c.days_with_data = x.days_in_month AS complete
    FROM rollup.footprint_monthly r
    JOIN core.districts d ON d.district_id = r.district_id
    CROSS JOIN LATERAL (SELECT ((r.month + interval '1 month')::date - r.month) AS days_in_month) x
    CROSS JOIN LATERAL (
        SELECT CASE r.category WHEN 'waste' THEN s.w WHEN 'mobility' THEN s.m WHEN 'total' THEN least(s.e, s.w, s.m)
                               ELSE s.e END AS days_with_data
        FROM (SELECT coalesce(max(cm.days_with_data) FILTER (WHERE cm.source = 'energy'), 0) AS e,
                     coalesce(max(cm.days_with_data) FILTER (WHERE cm.source = 'waste'), 0) AS w,
                     coalesce(max(cm.days_with_data) FILTER (WHERE cm.source = 'mobility'), 0) AS m
              FROM rollup.coverage_monthly cm
              WHERE cm.district_id = r.district_id AND cm.month = r.month) s) c
    WHERE r.listed;

-- The catalog's columns for them (the operators follow 0002's grammar and 0016's between).
INSERT INTO meta.dataset_columns (dataset_id, position, name, type, format, unit, description_da, description_en, role,
                                  filterable, groupable, operators, nullable)
SELECT c.dataset_id, p.last + c.offs, c.name, c.type, 'default', c.unit, c.description_da, c.description_en, c.role,
       true, true,
       CASE WHEN c.role = 'flag' THEN ARRAY['eq', 'ne']
            ELSE ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'between'] END,
       false
FROM (VALUES
    ('energy-district-daily', 1, 'hours_in_day', 'integer', 'h', 'Timer i døgnet i dansk tid (23, 24 eller 25 ved skift til/fra sommertid)', 'Hours in the local day (23, 24 or 25 at daylight-saving changes)', 'dimension'),
    ('energy-district-daily', 2, 'complete', 'boolean', NULL, 'true: hvert af døgnets timer har data (hours = hours_in_day); false: døgnet er kun delvist dækket (fx første eller seneste dag)', 'true: every hour of the day has data (hours = hours_in_day); false: the day is only partly covered (e.g. the first or the latest day)', 'flag'),
    ('energy-peergroup-monthly', 1, 'days_in_month', 'integer', 'days', 'Dage i måneden', 'Days in the month', 'dimension'),
    ('energy-peergroup-monthly', 2, 'days_with_data', 'integer', 'days', 'Dage i måneden, hvor bydelen har energidata for hver time', 'Days of the month with energy readings in the district for every hour', 'dimension'),
    ('energy-peergroup-monthly', 3, 'complete', 'boolean', NULL, 'true: hver dag i måneden har data; false: måneden er kun delvist dækket og kan ikke sammenlignes med hele måneder', 'true: every day of the month has data; false: the month is only partly covered and does not compare with whole months', 'flag'),
    ('waste-district-monthly', 1, 'days_in_month', 'integer', 'days', 'Dage i måneden', 'Days in the month', 'dimension'),
    ('waste-district-monthly', 2, 'days_with_data', 'integer', 'days', 'Dage i måneden mellem udgivelsens første og sidste indsamlingsdag (der indsamles ugentligt)', 'Days of the month between the release''s first and last collection day (collections are weekly)', 'dimension'),
    ('waste-district-monthly', 3, 'complete', 'boolean', NULL, 'true: hele måneden er dækket; false: kun delvist', 'true: the whole month is covered; false: only part of it', 'flag'),
    ('mobility-district-monthly', 1, 'days_in_month', 'integer', 'days', 'Dage i måneden', 'Days in the month', 'dimension'),
    ('mobility-district-monthly', 2, 'days_with_data', 'integer', 'days', 'Dage i måneden med rejsedata i bydelen', 'Days of the month with trip records in the district', 'dimension'),
    ('mobility-district-monthly', 3, 'complete', 'boolean', NULL, 'true: hver dag i måneden har data; false: kun delvist', 'true: every day of the month has data; false: only part of it', 'flag'),
    ('footprint-district-monthly', 1, 'days_in_month', 'integer', 'days', 'Dage i måneden', 'Days in the month', 'dimension'),
    ('footprint-district-monthly', 2, 'days_with_data', 'integer', 'days', 'Dage med data for kategoriens kilde (energi, affald eller transport; total: den mindste af de tre)', 'Days with data of the category''s source (energy, waste or mobility; total: the least of the three)', 'dimension'),
    ('footprint-district-monthly', 3, 'complete', 'boolean', NULL, 'true: hele måneden er dækket; false: kun delvist', 'true: the whole month is covered; false: only part of it', 'flag')
) AS c(dataset_id, offs, name, type, unit, description_da, description_en, role)
JOIN (SELECT dataset_id, max(position) AS last FROM meta.dataset_columns GROUP BY 1) p USING (dataset_id);

-- Temporal coverage from the data: the first and the last instant with data. The hourly datasets' coverage (first
-- hour, last hour + 1 h) already is; daily and monthly ones took whole periods, so that a month with one day of data
-- made the coverage end at the end of the month, in the future.
ALTER TABLE meta.datasets ADD COLUMN temporal_start_local timestamp, ADD COLUMN temporal_end_local timestamp;
COMMENT ON COLUMN meta.datasets.temporal_start_local IS 'temporal_start in Copenhagen local time (no offset)';
COMMENT ON COLUMN meta.datasets.temporal_end_local IS 'temporal_end in Copenhagen local time (no offset); exclusive';

CREATE FUNCTION meta.data_coverage(dataset text, OUT first_instant timestamptz, OUT end_instant timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF dataset IN ('energy-district-daily', 'energy-peergroup-monthly', 'footprint-district-monthly') THEN
        SELECT min(hour_utc), max(hour_utc) + interval '1 hour' INTO first_instant, end_instant FROM rollup.district_hourly;
    ELSIF dataset IN ('waste-district-monthly', 'mobility-district-monthly') THEN
        SELECT min(first_day)::timestamp AT TIME ZONE 'Europe/Copenhagen',
               (max(last_day) + 1)::timestamp AT TIME ZONE 'Europe/Copenhagen'
        INTO first_instant, end_instant
        FROM rollup.coverage_monthly
        WHERE source = split_part(dataset, '-', 1);
    END IF;
END
$fn$;

-- Applied to every new version (meta.release_publish sets temporal_start/_end with the version): the data's own bounds
-- where the dataset has them, and the local-time copies.
CREATE FUNCTION meta.datasets_coverage_trigger()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    cov record;
BEGIN
    IF NEW.version IS DISTINCT FROM OLD.version AND NEW.temporal_start IS NOT NULL THEN
        SELECT * INTO cov FROM meta.data_coverage(NEW.id);
        IF cov.first_instant IS NOT NULL THEN
            NEW.temporal_start := greatest(NEW.temporal_start, cov.first_instant);
            NEW.temporal_end := least(NEW.temporal_end, cov.end_instant);
        END IF;
    END IF;
    NEW.temporal_start_local := NEW.temporal_start AT TIME ZONE 'Europe/Copenhagen';
    NEW.temporal_end_local := NEW.temporal_end AT TIME ZONE 'Europe/Copenhagen';
    RETURN NEW;
END
$fn$;
CREATE TRIGGER datasets_coverage BEFORE UPDATE ON meta.datasets FOR EACH ROW EXECUTE FUNCTION meta.datasets_coverage_trigger();

-- Datasets published before this migration: their coverage now (a release recomputes it with its next version).
UPDATE meta.datasets d SET temporal_start = greatest(d.temporal_start, c.first_instant),
                           temporal_end = least(d.temporal_end, c.end_instant)
FROM meta.datasets x CROSS JOIN LATERAL meta.data_coverage(x.id) c
WHERE x.id = d.id AND d.temporal_start IS NOT NULL AND c.first_instant IS NOT NULL;
UPDATE meta.datasets SET temporal_start_local = temporal_start AT TIME ZONE 'Europe/Copenhagen',
                         temporal_end_local = temporal_end AT TIME ZONE 'Europe/Copenhagen';

RESET ROLE;

REVOKE ALL ON rollup.coverage_monthly FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION meta.data_coverage(text), meta.datasets_coverage_trigger() FROM PUBLIC;
