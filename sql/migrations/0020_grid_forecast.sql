-- 0020_grid_forecast — the published grid-intensity-forecast dataset and the greenest hours ahead (issue 18;
-- GET /v1/grid/forecast).
--
-- rollup.grid_forecast_release holds, per price area and UTC hour that Energinet's CO2EmisProg forecasts, the hourly
-- intensity by the rule of 0017 — the realised CO2Emis value where the hour has one (realised data supersedes the
-- forecast; kind says which), else the forecast. It is materialized by every release like the other published
-- tables, so a load changes nothing public until `klimaspejl refresh`. The dataset holds no household data: no
-- disclosure control applies to it (personal = false, and its description says so). api.grid_forecast(from, hours,
-- window) answers the route: DK2's hours in [from, from + hours) and the window of `window` consecutive hours with the
-- lowest mean intensity (the earliest such window on a tie; only windows whose every hour has a value).

SET LOCAL ROLE klima_owner;

INSERT INTO meta.datasets (id, title_da, title_en, description_da, description_en, theme, keywords, temporal_resolution,
                           spatial_resolution, update_frequency, personal, synthetic, source_view, primary_key,
                           default_order, max_age_seconds, sources, citation, license, license_url) VALUES
('grid-intensity-forecast',
 'Elnettets CO2-intensitet: prognose og realiseret pr. time', 'CO2 intensity of electricity: forecast and realised per hour',
 'Energinets prognose for CO2-udledningen pr. forbrugt kWh (datasættet CO2EmisProg på energidataservice.dk) i elområde DK1 og DK2, som timegennemsnit af 5-minutters værdier; for timer, hvor den realiserede værdi (CO2Emis) er kendt, vises den i stedet (kind = realised). Timer med færre end 6 af 12 femminutters værdier har ingen værdi. Indeholder ingen husstandsdata, så der anvendes ingen diskretionering. Kilde: Energinet (www.energidataservice.dk), CC BY 4.0.',
 'Energinet''s forecast of CO2 emitted per kWh consumed (dataset CO2EmisProg on energidataservice.dk) in price areas DK1 and DK2, as hourly means of the 5-minute values; for hours whose realised value (CO2Emis) is known, that is shown instead (kind = realised). Hours with fewer than 6 of their 12 five-minute values have no value. Holds no household data, so no disclosure control applies. Source: Energinet (www.energidataservice.dk), CC BY 4.0.',
 'climate', ARRAY['CO2', 'elnet', 'prognose', 'forecast', 'grid intensity', 'DK1', 'DK2', 'hourly'],
 'PT1H', 'elområde DK1/DK2 (price areas West and East Denmark)', 'PT1H', false, false, 'api.grid_intensity_forecast',
 ARRAY['area', 'hour_utc'], ARRAY['hour_utc', 'area'], 900,
 'Energinet: energidataservice.dk datasets CO2EmisProg (forecast) and CO2Emis (realised), 5-minute values, CC BY 4.0.',
 'Energinet (www.energidataservice.dk), via Københavns Kommune, klimaspejl: CO2 intensity of electricity, forecast and realised per hour, CC BY 4.0.',
 'CC-BY-4.0', 'https://creativecommons.org/licenses/by/4.0/');

INSERT INTO meta.dataset_columns (dataset_id, position, name, type, format, unit, description_da, description_en, role,
                                  enum_values, nullable, filterable, groupable, operators, aggregations, scale) VALUES
('grid-intensity-forecast', 1, 'hour_utc', 'datetime', 'default', NULL, 'Timens start i UTC', 'Start of the hour, UTC',
 'dimension', NULL, false, true, true, ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in'], '{}', NULL),
('grid-intensity-forecast', 2, 'hour_dk', 'datetime', 'local', NULL, 'Timens start i dansk tid (Europe/Copenhagen, uden offset)',
 'Start of the hour in Copenhagen local time (Europe/Copenhagen, no offset)', 'dimension', NULL, false, true, true,
 ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in'], '{}', NULL),
('grid-intensity-forecast', 3, 'area', 'string', 'default', NULL, 'Elområde', 'Price area', 'dimension',
 ARRAY['DK1', 'DK2'], false, true, true, ARRAY['eq', 'ne', 'in'], '{}', NULL),
('grid-intensity-forecast', 4, 'g_per_kwh', 'number', 'default', 'g CO2/kWh', 'CO2 pr. forbrugt kWh, timegennemsnit',
 'CO2 per kWh consumed, mean of the hour', 'measure', NULL, false, true, false, ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte'],
 ARRAY['avg', 'min', 'max'], 2),
('grid-intensity-forecast', 5, 'kind', 'string', 'default', NULL, 'forecast: Energinets prognose; realised: den målte værdi',
 'forecast: Energinet''s forecast; realised: the measured value', 'dimension', ARRAY['forecast', 'realised'], false, true,
 true, ARRAY['eq', 'ne', 'in'], '{}', NULL),
('grid-intensity-forecast', 6, 'points', 'integer', 'default', NULL, 'Antal femminutters værdier i timen (6-12)',
 'Five-minute values in the hour (6-12)', 'measure', NULL, false, true, false, ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte'],
 ARRAY['avg', 'min', 'max'], NULL);

INSERT INTO meta.dataset_links (dataset_id, derived_from, relation) VALUES
    ('grid-intensity-forecast', 'grid-intensity-hourly',
     'a DK2 hour of kind realised has the g_per_kwh of grid-intensity-hourly (both from CO2Emis by the same hourly rule)');
INSERT INTO meta.dataset_sources (dataset_id, source_dataset) VALUES
    ('grid-intensity-forecast', 'CO2EmisProg'), ('grid-intensity-forecast', 'CO2Emis');

CREATE MATERIALIZED VIEW rollup.grid_forecast_release AS
    SELECT f.area, f.hour_utc,
           round(coalesce(r.g_per_kwh, f.g_per_kwh), 2) AS g_per_kwh,
           CASE WHEN r.hour_utc IS NULL THEN 'forecast' ELSE 'realised' END AS kind,
           coalesce(r.points, f.points) AS points
    FROM core.grid_emission_hourly f
    LEFT JOIN core.grid_emission_hourly r ON r.dataset = 'CO2Emis' AND r.area = f.area AND r.hour_utc = f.hour_utc
    WHERE f.dataset = 'CO2EmisProg'
WITH DATA;
CREATE UNIQUE INDEX grid_forecast_release_key ON rollup.grid_forecast_release (area, hour_utc);
INSERT INTO meta.rollups (name, refresh_order) VALUES ('rollup.grid_forecast_release', 115);

CREATE VIEW api.grid_intensity_forecast AS
    SELECT hour_utc, (hour_utc AT TIME ZONE 'Europe/Copenhagen') AS hour_dk, area, g_per_kwh, kind, points
    FROM rollup.grid_forecast_release;

CREATE FUNCTION api.grid_forecast(from_ts timestamptz, n_hours integer, window_hours integer)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH h AS (
        SELECT hour_utc, hour_dk, g_per_kwh, kind FROM api.grid_intensity_forecast
        WHERE area = 'DK2' AND hour_utc >= from_ts AND hour_utc < from_ts + n_hours * interval '1 hour'
    ), w AS (
        SELECT a.hour_utc AS start_utc, avg(b.g_per_kwh) AS mean
        FROM h a JOIN h b ON b.hour_utc >= a.hour_utc AND b.hour_utc < a.hour_utc + window_hours * interval '1 hour'
        WHERE a.hour_utc + window_hours * interval '1 hour' <= from_ts + n_hours * interval '1 hour'
        GROUP BY a.hour_utc
        HAVING count(*) = window_hours
        ORDER BY 2, 1
        LIMIT 1
    )
    SELECT jsonb_build_object(
        'dataset', 'grid-intensity-forecast',
        'area', 'DK2',
        'from', to_char(from_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'to', to_char((from_ts + n_hours * interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'unit', 'g CO2/kWh',
        'hours', coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'hour_utc', to_char(hour_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                     'hour_dk', to_char(hour_dk, 'YYYY-MM-DD"T"HH24:MI:SS'),
                     'g_per_kwh', g_per_kwh, 'kind', kind) ORDER BY hour_utc) FROM h), '[]'::jsonb),
        'greenest', (SELECT jsonb_build_object(
                     'hours', window_hours,
                     'start_utc', to_char(start_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                     'end_utc', to_char((start_utc + window_hours * interval '1 hour') AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                     'start_dk', to_char(start_utc AT TIME ZONE 'Europe/Copenhagen', 'YYYY-MM-DD"T"HH24:MI:SS'),
                     'end_dk', to_char((start_utc + window_hours * interval '1 hour') AT TIME ZONE 'Europe/Copenhagen',
                                       'YYYY-MM-DD"T"HH24:MI:SS'),
                     'mean_g_per_kwh', round(mean, 2)) FROM w))
$fn$;

RESET ROLE;

REVOKE ALL ON api.grid_intensity_forecast FROM PUBLIC;
GRANT SELECT ON api.grid_intensity_forecast TO klima_api;
REVOKE EXECUTE ON FUNCTION api.grid_forecast(timestamptz, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.grid_forecast(timestamptz, integer, integer) TO klima_api;
