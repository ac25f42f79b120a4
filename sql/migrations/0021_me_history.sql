-- 0021_me_history — GET /v1/me/history (issue 17): a household's months, each with its CO2e per category and in total
-- and the median of its comparison group, for the dashboard's 12-24 month charts.
--
-- Like the other personal functions (0010_citizen.sql) it is SECURITY DEFINER, takes the consent id of the verified
-- token (scope summary:read), never a household id, and reads only the materialized per-household rollups (one row a
-- month by primary key from rollup.household_monthly, household_peer_monthly and peer_stats_monthly). The comparison
-- group of a month follows api.me_summary exactly: the household's own peer group of that month, shown only with at
-- least meta.disclosure_control.comparison_min homes (null medians and available = false below that).
-- A month is `partial` when the household's energy readings cover fewer hours than the local month has (a month
-- still running, data that starts or stops inside it); a month without any data is listed with null figures, so a
-- chart keeps its time axis.

SET LOCAL ROLE klima_owner;

CREATE FUNCTION api.me_history(consent uuid, from_month date, to_month date)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    household uuid := core.consent_household(consent, 'summary:read');
    f date := date_trunc('month', from_month)::date;
    t date := date_trunc('month', to_month)::date;
    min_group integer := (SELECT comparison_min FROM meta.disclosure_control);
    months jsonb;
BEGIN
    IF from_month IS NULL THEN
        RAISE EXCEPTION 'from is required' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'from';
    END IF;
    IF to_month IS NULL THEN
        RAISE EXCEPTION 'to is required' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'to';
    END IF;
    IF t < f THEN
        RAISE EXCEPTION 'to must not be before from' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'to';
    END IF;
    IF t >= f + interval '24 months' THEN
        RAISE EXCEPTION 'from and to may span at most 24 months' USING ERRCODE = 'invalid_parameter_value',
            COLUMN = 'to';
    END IF;
    SELECT jsonb_agg(jsonb_build_object(
               'month', to_char(mo.m, 'YYYY-MM'),
               'hours_expected', mo.hours_expected,
               'hours_with_data', coalesce(h.hours, 0),
               'has_data', h.household_id IS NOT NULL,
               'partial', h.household_id IS NOT NULL AND coalesce(h.hours, 0) < mo.hours_expected,
               'total_co2e_kg', rollup.r3(h.total_co2e_kg),
               'categories', CASE WHEN h.household_id IS NOT NULL THEN jsonb_build_object(
                   'electricity', jsonb_build_object('co2e_kg', rollup.r3(h.electricity_co2e_kg),
                                                     'kwh', rollup.r3(h.electricity_kwh)),
                   'district_heating', jsonb_build_object('co2e_kg', rollup.r3(h.heat_co2e_kg),
                                                          'kwh', rollup.r3(h.heat_kwh)),
                   'water', jsonb_build_object('co2e_kg', rollup.r3(h.water_co2e_kg), 'litres', rollup.r3(h.water_l)),
                   'waste', jsonb_build_object('co2e_kg', rollup.r3(h.waste_co2e_kg), 'kg', rollup.r3(h.waste_kg)),
                   'mobility', jsonb_build_object('co2e_kg', rollup.r3(h.mobility_co2e_kg),
                                                  'km', rollup.r3(h.mobility_km))) END,
               'peers', jsonb_build_object(
                   'available', coalesce(s.n_households >= min_group, false),
                   'level', p.level,
                   'n_households', CASE WHEN s.n_households >= min_group THEN s.n_households END,
                   'total_co2e_kg_median', CASE WHEN s.n_households >= min_group THEN rollup.r3(s.total_median) END,
                   'categories', CASE WHEN s.n_households >= min_group THEN jsonb_build_object(
                       'electricity', jsonb_build_object('co2e_kg_median', rollup.r3(s.electricity_median)),
                       'district_heating', jsonb_build_object('co2e_kg_median', rollup.r3(s.heat_median)),
                       'water', jsonb_build_object('co2e_kg_median', rollup.r3(s.water_median)),
                       'waste', jsonb_build_object('co2e_kg_median', rollup.r3(s.waste_median)),
                       'mobility', jsonb_build_object('co2e_kg_median', rollup.r3(s.mobility_median))) END))
           ORDER BY mo.m)
    INTO months
    FROM (SELECT g::date AS m,
                 (extract(epoch FROM ((g + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                   - (g::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600)::integer AS hours_expected
          FROM generate_series(f::timestamp, t::timestamp, interval '1 month') g) mo
    LEFT JOIN rollup.household_monthly h ON h.household_id = household AND h.month = mo.m
    LEFT JOIN rollup.household_peer_monthly p ON p.household_id = household AND p.month = mo.m
    LEFT JOIN rollup.peer_stats_monthly s
        ON s.month = mo.m AND s.level = p.level AND s.district_id = p.peer_district_id
       AND s.dwelling_type = p.peer_dwelling_type AND s.occupant_band = p.peer_occupant_band;
    RETURN jsonb_build_object(
        'from', to_char(f, 'YYYY-MM'),
        'to', to_char(t, 'YYYY-MM'),
        'timezone', 'Europe/Copenhagen',
        'comparison_min', min_group,
        'months', coalesce(months, '[]'::jsonb),
        'synthetic', (SELECT bool_or(d.synthetic) FROM meta.datasets d WHERE d.personal));
END
$fn$;

RESET ROLE;

REVOKE EXECUTE ON FUNCTION api.me_history(uuid, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.me_history(uuid, date, date) TO klima_api;
