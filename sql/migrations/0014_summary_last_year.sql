-- 0014_summary_last_year — the year-on-year comparison of api.me_summary uses last year's month only when it is
-- (almost, 90 %) complete. With data that starts part-way through a month, the comparison showed a spurious rise.
-- The function is otherwise as in 0004_citizen.sql.
SET LOCAL ROLE klima_owner;

CREATE OR REPLACE FUNCTION api.me_summary(household uuid, month date)
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
BEGIN
    IF household IS NULL OR month IS NULL THEN
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
    rating := CASE WHEN cur.total_co2e_kg <= st.total_p20 THEN 'great'
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

REVOKE EXECUTE ON FUNCTION api.me_summary(uuid, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.me_summary(uuid, date) TO klima_api;
