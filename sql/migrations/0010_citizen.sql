-- 0010_citizen — the functions behind /v1/me: the monthly climate summary, time series and the data export.
--
-- SECURITY DEFINER, owned by klima_owner, with a fixed search_path: klima_api may call them but still cannot read
-- core or rollup. Least privilege: each takes the consent id of the verified token (its `cid`), never a household id,
-- and resolves the household itself with core.consent_household (0009_consent.sql), which refuses (SQLSTATE 28000) a
-- consent that is unknown, revoked or expired, or that does not grant the scope the function needs. So a bug in the
-- server cannot reach a household without a citizen's active consent.
-- Bad parameters raise SQLSTATE 22023 (invalid_parameter_value) with the parameter's name in the error's COLUMN
-- field (libpq PG_DIAG_COLUMN_NAME) and a message fit for the problem+json `detail`.

SET LOCAL ROLE klima_owner;

-- Persons assumed per occupant band (for per-person figures): the band's midpoint, 5 for '5+'.
CREATE FUNCTION rollup.persons(band text)
RETURNS double precision
LANGUAGE sql IMMUTABLE
AS $fn$
    SELECT CASE band WHEN '1' THEN 1.0 WHEN '2' THEN 2.0 WHEN '3-4' THEN 3.5 WHEN '5+' THEN 5.0 END
$fn$;

CREATE FUNCTION rollup.r3(x double precision)
RETURNS numeric
LANGUAGE sql IMMUTABLE
AS $fn$
    SELECT round(x::numeric, 3)
$fn$;

-- The climate summary of one household and local month (any date in the month) as JSON, or NULL when the
-- household has no energy data in that month (the server answers 404). Reads four rows by primary key from the
-- materialized rollups (fresh as of the last `klimaspejl refresh`). Shape: see sql/README.md "Citizen feedback".
CREATE FUNCTION api.me_summary(consent uuid, month date)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    m date := date_trunc('month', month)::date;
    cur rollup.household_monthly%ROWTYPE;
    prev rollup.household_monthly%ROWTYPE;
    peer rollup.household_peer_monthly%ROWTYPE;
    st rollup.peer_stats_monthly%ROWTYPE;
    persons double precision;
    last_year jsonb := NULL;
    rating text;
    min_group integer := (SELECT comparison_min FROM meta.disclosure_control);
    compare boolean;
    household uuid := core.consent_household(consent, 'summary:read');
BEGIN
    IF month IS NULL THEN
        RAISE EXCEPTION 'month is required' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'month';
    END IF;
    SELECT * INTO cur FROM rollup.household_monthly h WHERE h.household_id = household AND h.month = m;
    IF NOT FOUND OR NOT cur.has_energy THEN
        RETURN NULL;
    END IF;
    SELECT * INTO peer FROM rollup.household_peer_monthly p WHERE p.household_id = household AND p.month = m;
    SELECT * INTO st FROM rollup.peer_stats_monthly s
    WHERE s.month = m AND s.level = peer.level AND s.district_id = peer.peer_district_id
      AND s.dwelling_type = peer.peer_dwelling_type AND s.occupant_band = peer.peer_occupant_band;
    -- last year's month counts only when it is (almost) complete: a month in which the data starts late would show
    -- a spurious rise
    SELECT * INTO prev FROM rollup.household_monthly h
    WHERE h.household_id = household AND h.month = (m - interval '1 year')::date AND h.has_energy
      AND h.hours >= 0.9 * extract(epoch FROM (((m - interval '1 year') + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                              - ((m - interval '1 year')::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600;
    IF FOUND THEN
        last_year := jsonb_build_object(
            'month', to_char(prev.month, 'YYYY-MM'),
            'total_co2e_kg', rollup.r3(prev.total_co2e_kg),
            'change_pct', CASE WHEN prev.total_co2e_kg > 0
                               THEN round((100.0 * (cur.total_co2e_kg - prev.total_co2e_kg) / prev.total_co2e_kg)::numeric, 1) END,
            'categories', jsonb_build_object(
                'electricity', jsonb_build_object('kwh', rollup.r3(prev.electricity_kwh),
                                                  'co2e_kg', rollup.r3(prev.electricity_co2e_kg),
                                                  'change_pct', CASE WHEN prev.electricity_kwh > 0 THEN round((100.0 * (cur.electricity_kwh - prev.electricity_kwh) / prev.electricity_kwh)::numeric, 1) END),
                'district_heating', jsonb_build_object('kwh', rollup.r3(prev.heat_kwh),
                                                       'co2e_kg', rollup.r3(prev.heat_co2e_kg),
                                                       'change_pct', CASE WHEN prev.heat_kwh > 0 THEN round((100.0 * (cur.heat_kwh - prev.heat_kwh) / prev.heat_kwh)::numeric, 1) END),
                'water', jsonb_build_object('litres', rollup.r3(prev.water_l), 'co2e_kg', rollup.r3(prev.water_co2e_kg),
                                            'change_pct', CASE WHEN prev.water_l > 0 THEN round((100.0 * (cur.water_l - prev.water_l) / prev.water_l)::numeric, 1) END),
                'waste', jsonb_build_object('kg', rollup.r3(prev.waste_kg), 'co2e_kg', rollup.r3(prev.waste_co2e_kg),
                                            'change_pct', CASE WHEN prev.waste_kg > 0 THEN round((100.0 * (cur.waste_kg - prev.waste_kg) / prev.waste_kg)::numeric, 1) END),
                'mobility', jsonb_build_object('km', rollup.r3(prev.mobility_km), 'co2e_kg', rollup.r3(prev.mobility_co2e_kg),
                                               'change_pct', CASE WHEN prev.mobility_co2e_kg > 0 THEN round((100.0 * (cur.mobility_co2e_kg - prev.mobility_co2e_kg) / prev.mobility_co2e_kg)::numeric, 1) END)));
    END IF;
    persons := rollup.persons(cur.occupant_band);
    -- a comparison with a group of fewer than comparison_min homes would tell the others' figures (with 2 or 3 homes
    -- the median and 20th percentile are their totals): then none is shown, and the summary says why
    compare := coalesce(st.n_households >= min_group, false);
    IF NOT compare THEN
        st := NULL;
        peer.percentile_rank := NULL;
    END IF;
    rating := CASE WHEN NOT compare THEN NULL
                   WHEN cur.total_co2e_kg <= st.total_p20 THEN 'great'
                   WHEN cur.total_co2e_kg <= st.total_median THEN 'good'
                   ELSE 'more' END;
    RETURN jsonb_build_object(
        'month', to_char(m, 'YYYY-MM'),
        'timezone', 'Europe/Copenhagen',
        'period', jsonb_build_object(
            'from_utc', m::timestamp AT TIME ZONE 'Europe/Copenhagen',
            'to_utc', (m + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen',
            'hours_expected', extract(epoch FROM ((m + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                              - (m::timestamp AT TIME ZONE 'Europe/Copenhagen'))::integer / 3600,
            'hours_with_data', cur.hours),
        'household', jsonb_build_object(
            'district_id', cur.district_id,
            'district', (SELECT d.name FROM core.districts d WHERE d.district_id = cur.district_id),
            'dwelling_type', cur.dwelling_type, 'occupant_band', cur.occupant_band, 'persons_assumed', persons),
        'categories', jsonb_build_object(
            'electricity', jsonb_build_object(
                'kwh', rollup.r3(cur.electricity_kwh), 'co2e_kg', rollup.r3(cur.electricity_co2e_kg),
                'avg_g_per_kwh', CASE WHEN cur.electricity_kwh > 0
                                      THEN round((cur.electricity_co2e_kg * 1000.0 / cur.electricity_kwh)::numeric, 1) END,
                'dirty_hours_kwh', rollup.r3(cur.electricity_dirty_kwh),
                'dirty_hours_co2e_kg', rollup.r3(cur.electricity_dirty_co2e_kg)),
            'district_heating', jsonb_build_object(
                'kwh', rollup.r3(cur.heat_kwh), 'co2e_kg', rollup.r3(cur.heat_co2e_kg)),
            'water', jsonb_build_object('litres', rollup.r3(cur.water_l), 'co2e_kg', rollup.r3(cur.water_co2e_kg)),
            'waste', jsonb_build_object('kg', rollup.r3(cur.waste_kg), 'co2e_kg', rollup.r3(cur.waste_co2e_kg),
                                        'fractions', cur.waste),
            'mobility', jsonb_build_object('trips', cur.mobility_trips, 'km', rollup.r3(cur.mobility_km),
                                           'co2e_kg', rollup.r3(cur.mobility_co2e_kg), 'modes', cur.mobility)),
        'total_co2e_kg', rollup.r3(cur.total_co2e_kg),
        'co2e_kg_per_person', rollup.r3(cur.total_co2e_kg / persons),
        'peers', jsonb_build_object(
            'available', compare,
            'reason', CASE WHEN NOT compare THEN jsonb_build_object(
                'da', format('Der er færre end %s lignende hjem at sammenligne med, så der vises ingen sammenligning: '
                             'med så få hjem ville tallene afsløre de andre husstandes forbrug.', min_group),
                'en', format('There are fewer than %s similar homes to compare with, so no comparison is shown: with '
                             'so few homes the figures would reveal the other households'' use.', min_group)) END,
            'level', peer.level,
            'widened', peer.level > 0,
            'criteria', jsonb_strip_nulls(jsonb_build_object(
                'district', CASE WHEN peer.level <= 2 THEN (SELECT d.name FROM core.districts d
                                                            WHERE d.district_id = cur.district_id) END,
                'dwelling_type', CASE WHEN peer.level <= 1 THEN cur.dwelling_type END,
                'occupant_band', CASE WHEN peer.level = 0 THEN cur.occupant_band END)),
            'n_households', st.n_households,
            'total_co2e_kg', jsonb_build_object('median', rollup.r3(st.total_median),
                                                'efficient_p20', rollup.r3(st.total_p20)),
            'percentile_rank', round(peer.percentile_rank::numeric, 1),
            'rating', rating,
            'categories', jsonb_build_object(
                'electricity', jsonb_build_object('co2e_kg_median', rollup.r3(st.electricity_median),
                                                  'co2e_kg_p20', rollup.r3(st.electricity_p20),
                                                  'kwh_median', rollup.r3(st.electricity_kwh_median)),
                'district_heating', jsonb_build_object('co2e_kg_median', rollup.r3(st.heat_median),
                                                       'co2e_kg_p20', rollup.r3(st.heat_p20),
                                                       'kwh_median', rollup.r3(st.heat_kwh_median)),
                'water', jsonb_build_object('co2e_kg_median', rollup.r3(st.water_median),
                                            'co2e_kg_p20', rollup.r3(st.water_p20),
                                            'litres_median', rollup.r3(st.water_l_median)),
                'waste', jsonb_build_object('co2e_kg_median', rollup.r3(st.waste_median),
                                            'co2e_kg_p20', rollup.r3(st.waste_p20)),
                'mobility', jsonb_build_object('co2e_kg_median', rollup.r3(st.mobility_median),
                                               'co2e_kg_p20', rollup.r3(st.mobility_p20)))),
        'last_year', last_year,
        'synthetic', (SELECT bool_or(d.synthetic) FROM meta.datasets d WHERE d.personal));
END
$fn$;

-- Checks the common time-series parameters; raises 22023 naming the parameter.
CREATE FUNCTION rollup.check_span(from_ts timestamptz, to_ts timestamptz, resolution text, tz text, allowed text[])
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF from_ts IS NULL THEN
        RAISE EXCEPTION 'from is required' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'from';
    END IF;
    IF to_ts IS NULL THEN
        RAISE EXCEPTION 'to is required' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'to';
    END IF;
    IF to_ts <= from_ts THEN
        RAISE EXCEPTION 'to must be after from' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'to';
    END IF;
    IF to_ts > from_ts + interval '2 years' THEN
        RAISE EXCEPTION 'from and to may be at most 2 years apart' USING ERRCODE = 'invalid_parameter_value',
            COLUMN = 'to';
    END IF;
    IF resolution IS NULL OR NOT resolution = ANY (allowed) THEN
        RAISE EXCEPTION 'resolution must be one of: %', array_to_string(allowed, ', ')
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'resolution';
    END IF;
    BEGIN
        PERFORM now() AT TIME ZONE tz;
    EXCEPTION WHEN invalid_parameter_value OR null_value_not_allowed THEN
        RAISE EXCEPTION 'tz is not a known IANA time zone: %', coalesce(tz, 'null')
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'tz';
    END;
    IF tz IS NULL THEN
        RAISE EXCEPTION 'tz is required' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'tz';
    END IF;
END
$fn$;

-- Hourly energy of a household in [from_ts, to_ts), summed per hour, local day or local month of tz. Buckets are
-- ordered by period_start_utc; an hour bucket is one UTC hour (so the repeated local hour when DST ends stays two
-- rows). electricity_co2e_g weights each hour with its grid intensity.
CREATE FUNCTION api.me_energy(consent uuid, from_ts timestamptz, to_ts timestamptz,
                              resolution text DEFAULT 'hour', tz text DEFAULT 'Europe/Copenhagen')
RETURNS TABLE (period_start_utc timestamptz, period_local timestamp, hours integer, electricity_wh bigint,
               heat_wh bigint, water_l double precision, electricity_co2e_g double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    household uuid := core.consent_household(consent, 'energy:read');
    fallback double precision := rollup.factor_g('electricity', (from_ts AT TIME ZONE 'Europe/Copenhagen')::date);
BEGIN
    PERFORM rollup.check_span(from_ts, to_ts, resolution, tz, ARRAY['hour', 'day', 'month']);
    IF resolution = 'hour' THEN
        RETURN QUERY
            SELECT e.hour_utc, e.hour_utc AT TIME ZONE tz, 1, e.electricity_wh::bigint, e.heat_wh::bigint,
                   e.water_l::double precision,
                   e.electricity_wh * coalesce(g.g_per_kwh, fallback) / 1000.0
            FROM core.energy_hourly e
            LEFT JOIN core.grid_intensity_hourly g ON g.hour_utc = e.hour_utc
            WHERE e.household_id = household AND e.hour_utc >= from_ts AND e.hour_utc < to_ts
            ORDER BY e.hour_utc;
    ELSE
        RETURN QUERY
            SELECT date_trunc(resolution, e.hour_utc AT TIME ZONE tz) AT TIME ZONE tz,
                   date_trunc(resolution, e.hour_utc AT TIME ZONE tz),
                   count(*)::integer, sum(e.electricity_wh)::bigint, sum(e.heat_wh)::bigint,
                   sum(e.water_l::double precision),
                   sum(e.electricity_wh * coalesce(g.g_per_kwh, fallback)) / 1000.0
            FROM core.energy_hourly e
            LEFT JOIN core.grid_intensity_hourly g ON g.hour_utc = e.hour_utc
            WHERE e.household_id = household AND e.hour_utc >= from_ts AND e.hour_utc < to_ts
            GROUP BY 2
            ORDER BY 2;
    END IF;
END
$fn$;

-- Waste of a household collected on local days [from_ts, to_ts) of tz (a collection date counts as the local
-- midnight of that day), per day or month and fraction, with CO2e from the fraction's factor.
CREATE FUNCTION api.me_waste(consent uuid, from_ts timestamptz, to_ts timestamptz,
                             resolution text DEFAULT 'day', tz text DEFAULT 'Europe/Copenhagen')
RETURNS TABLE (period_start_utc timestamptz, period_local timestamp, fraction text, kg double precision,
               co2e_kg double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    household uuid := core.consent_household(consent, 'waste:read');
BEGIN
    PERFORM rollup.check_span(from_ts, to_ts, resolution, tz, ARRAY['day', 'month']);
    RETURN QUERY
        SELECT date_trunc(resolution, w.collected_on::timestamp) AT TIME ZONE tz,
               date_trunc(resolution, w.collected_on::timestamp), w.fraction, sum(w.kg::double precision),
               sum(w.kg * rollup.factor_g('waste-' || w.fraction, w.collected_on)) / 1000.0
        FROM core.waste_weighings w
        WHERE w.household_id = household
          AND w.collected_on::timestamp AT TIME ZONE tz >= from_ts AND w.collected_on::timestamp AT TIME ZONE tz < to_ts
        GROUP BY 2, 3
        ORDER BY 2, 3;
END
$fn$;

-- Mobility of a household on local days [from_ts, to_ts) of tz, per day or month and mode, with CO2e.
CREATE FUNCTION api.me_mobility(consent uuid, from_ts timestamptz, to_ts timestamptz,
                                resolution text DEFAULT 'day', tz text DEFAULT 'Europe/Copenhagen')
RETURNS TABLE (period_start_utc timestamptz, period_local timestamp, mode text, trips integer,
               km double precision, co2e_kg double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    household uuid := core.consent_household(consent, 'mobility:read');
BEGIN
    PERFORM rollup.check_span(from_ts, to_ts, resolution, tz, ARRAY['day', 'month']);
    RETURN QUERY
        SELECT date_trunc(resolution, m.day::timestamp) AT TIME ZONE tz,
               date_trunc(resolution, m.day::timestamp), m.mode, sum(m.trips)::integer, sum(m.km::double precision),
               sum(m.km * rollup.factor_g(m.mode, m.day)) / 1000.0
        FROM core.mobility_daily m
        WHERE m.household_id = household
          AND m.day::timestamp AT TIME ZONE tz >= from_ts AND m.day::timestamp AT TIME ZONE tz < to_ts
        GROUP BY 2, 3
        ORDER BY 2, 3;
END
$fn$;

-- One function for the three kinds: each row as a JSON object with the columns of api.me_energy / me_waste /
-- me_mobility (timestamps in ISO 8601).
CREATE FUNCTION api.me_timeseries(consent uuid, kind text, from_ts timestamptz, to_ts timestamptz,
                                  resolution text, tz text DEFAULT 'Europe/Copenhagen')
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF kind = 'energy' THEN
        RETURN QUERY SELECT to_jsonb(t) FROM api.me_energy(consent, from_ts, to_ts, resolution, tz) t;
    ELSIF kind = 'waste' THEN
        RETURN QUERY SELECT to_jsonb(t) FROM api.me_waste(consent, from_ts, to_ts, resolution, tz) t;
    ELSIF kind = 'mobility' THEN
        RETURN QUERY SELECT to_jsonb(t) FROM api.me_mobility(consent, from_ts, to_ts, resolution, tz) t;
    ELSE
        RAISE EXCEPTION 'kind must be one of: energy, waste, mobility' USING ERRCODE = 'invalid_parameter_value',
            COLUMN = 'kind';
    END IF;
END
$fn$;

-- GDPR export, one function per table so the server can stream each with COPY (SELECT * FROM api.me_export_...)
-- or in single-row mode. Every row of the household, in key order, exactly as stored in core.
CREATE FUNCTION api.me_export_household(consent uuid)
RETURNS TABLE (household_id uuid, district_id integer, district text, dwelling_type text, occupant_band text,
               floor_area_m2 integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT h.household_id, h.district_id::integer, d.name, h.dwelling_type, h.occupant_band, h.floor_area_m2::integer
    FROM core.households h JOIN core.districts d USING (district_id)
    WHERE h.household_id = (SELECT core.consent_household(consent, 'export:read'))
$fn$;

CREATE FUNCTION api.me_export_energy(consent uuid)
RETURNS TABLE (hour_utc timestamptz, hour_dk timestamp, electricity_wh integer, heat_wh integer, water_l real)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT e.hour_utc, e.hour_utc AT TIME ZONE 'Europe/Copenhagen', e.electricity_wh, e.heat_wh, e.water_l
    FROM core.energy_hourly e WHERE e.household_id = (SELECT core.consent_household(consent, 'export:read'))
    ORDER BY e.hour_utc
$fn$;

CREATE FUNCTION api.me_export_waste(consent uuid)
RETURNS TABLE (collected_on date, fraction text, kg real)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT w.collected_on, w.fraction, w.kg FROM core.waste_weighings w
    WHERE w.household_id = (SELECT core.consent_household(consent, 'export:read')) ORDER BY w.collected_on, w.fraction
$fn$;

CREATE FUNCTION api.me_export_mobility(consent uuid)
RETURNS TABLE (day date, mode text, trips smallint, km real)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT m.day, m.mode, m.trips, m.km FROM core.mobility_daily m
    WHERE m.household_id = (SELECT core.consent_household(consent, 'export:read')) ORDER BY m.day, m.mode
$fn$;

-- The whole export as one ordered stream of (kind, record): 'household' first, then 'energy', 'waste', 'mobility'
-- rows in key order — suited to NDJSON ({"kind":..., ...record}) with constant memory on the server side.
CREATE FUNCTION api.me_export(consent uuid)
RETURNS TABLE (kind text, record jsonb)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT 'household', to_jsonb(x) FROM api.me_export_household(consent) x
    UNION ALL
    SELECT 'energy', to_jsonb(x) FROM api.me_export_energy(consent) x
    UNION ALL
    SELECT 'waste', to_jsonb(x) FROM api.me_export_waste(consent) x
    UNION ALL
    SELECT 'mobility', to_jsonb(x) FROM api.me_export_mobility(consent) x
$fn$;

RESET ROLE;

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges of the published side (0002..0008 and this file). klima_api: the api views, the api functions and the catalog;
-- nothing in core or rollup. No function is executable by PUBLIC.
REVOKE ALL ON SCHEMA rollup FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA rollup FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api, meta, rollup FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE klima_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA api FROM PUBLIC;
REVOKE ALL ON meta.rollups FROM PUBLIC;

GRANT USAGE ON SCHEMA api, meta TO klima_api;
GRANT SELECT ON api.energy_district_hourly, api.energy_district_daily, api.energy_peergroup_monthly,
                api.waste_district_monthly, api.mobility_district_monthly, api.footprint_district_monthly,
                api.grid_intensity_hourly, api.emission_factors TO klima_api;
GRANT SELECT ON meta.datasets, meta.dataset_columns, meta.dataset_versions TO klima_api;
GRANT EXECUTE ON FUNCTION api.me_summary(uuid, date),
                          api.me_energy(uuid, timestamptz, timestamptz, text, text),
                          api.me_waste(uuid, timestamptz, timestamptz, text, text),
                          api.me_mobility(uuid, timestamptz, timestamptz, text, text),
                          api.me_timeseries(uuid, text, timestamptz, timestamptz, text, text),
                          api.me_export(uuid), api.me_export_household(uuid), api.me_export_energy(uuid),
                          api.me_export_waste(uuid), api.me_export_mobility(uuid) TO klima_api;
