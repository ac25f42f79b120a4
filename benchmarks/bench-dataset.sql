-- benchmarks/bench-dataset.sql: a BENCH-ONLY dataset for row B5 (CSV download of 10 million rows), applied by
-- benchmarks/run to the klimaspejl_bench database only. It is never part of the migrations or of a real deployment:
-- no published dataset has 10 million rows at demo scale. Idempotent: it does nothing when the table is complete.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET ROLE klima_owner;
SELECT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'api' AND c.relname = 'bench_rows' AND c.reltuples >= 9999999) AS complete \gset
\if :complete
\else
DROP TABLE IF EXISTS api.bench_rows;
-- hourly readings of 1,000 synthetic meters over 10,000 hours (about 14 months)
CREATE UNLOGGED TABLE api.bench_rows AS
SELECT (1 + g % 10)::smallint AS district_id,
       (g % 1000 + 1)::integer AS meter_no,
       timestamptz '2024-01-01 00:00:00+00' + (g / 1000) * interval '1 hour' AS hour_utc,
       (200 + (g * 7919) % 1800)::integer AS electricity_wh,
       (500 + (g * 104729) % 4000)::integer AS heat_wh,
       (g % 97 = 0) AS suppressed
  FROM generate_series(0::bigint, 9999999) AS g;
ALTER TABLE api.bench_rows ADD PRIMARY KEY (hour_utc, meter_no);
VACUUM ANALYZE api.bench_rows;
\endif
GRANT SELECT ON api.bench_rows TO klima_api;
RESET ROLE;
INSERT INTO meta.datasets (id, title_da, title_en, description_da, description_en, theme, temporal_resolution,
                           spatial_resolution, update_frequency, personal, source_view, primary_key, default_order,
                           sources, citation, version)
VALUES ('bench-rows', 'Benchmark-rækker (kun til benchmarks)', 'Benchmark rows (benchmarks only)',
        'Kun benchmarks: 10 millioner genererede rækker til download-benchmarket B5.',
        'Benchmarks only: 10 million generated rows for the download benchmark B5.',
        'energy', 'PT1H', 'bydel (10 administrative districts)', 'P1D', false, 'api.bench_rows',
        ARRAY['hour_utc', 'meter_no'], ARRAY['hour_utc', 'meter_no'], 'generate_series (benchmarks/bench-dataset.sql)',
        'none (benchmark data)', 1)
ON CONFLICT (id) DO NOTHING;
INSERT INTO meta.dataset_columns (dataset_id, position, name, type, unit, description_da, description_en, role,
                                  filterable, groupable, operators, aggregations)
VALUES ('bench-rows', 1, 'district_id', 'integer', NULL, 'bydel', 'district', 'dimension', true, true, ARRAY['eq', 'in'], '{}'),
       ('bench-rows', 2, 'meter_no', 'integer', NULL, 'måler', 'meter', 'dimension', true, false, ARRAY['eq'], '{}'),
       ('bench-rows', 3, 'hour_utc', 'datetime', NULL, 'time (UTC)', 'hour (UTC)', 'dimension', true, true,
        ARRAY['eq', 'lt', 'lte', 'gt', 'gte'], '{}'),
       ('bench-rows', 4, 'electricity_wh', 'integer', 'Wh', 'elforbrug', 'electricity', 'measure', false, false, '{}',
        ARRAY['sum', 'avg']),
       ('bench-rows', 5, 'heat_wh', 'integer', 'Wh', 'fjernvarme', 'district heating', 'measure', false, false, '{}',
        ARRAY['sum', 'avg']),
       ('bench-rows', 6, 'suppressed', 'boolean', NULL, 'undertrykt', 'suppressed', 'flag', false, false, '{}', '{}')
ON CONFLICT DO NOTHING;
-- B6: Platformatic DB 2.61.0 does not introspect views ("No tables found"), so its peer gets a plain table copy of
-- the published view api.energy_district_daily, with the view's primary key, in schema public (bench-only too).
DROP TABLE IF EXISTS public.energy_district_daily;
CREATE TABLE public.energy_district_daily AS SELECT * FROM api.energy_district_daily;
ALTER TABLE public.energy_district_daily ADD PRIMARY KEY (district_id, day);
ANALYZE public.energy_district_daily;
-- Platformatic reads the primary key from information_schema, which shows it only to the table's owner here: the
-- copy is owned by klima_api (the role both servers use), in this bench database only.
ALTER TABLE public.energy_district_daily OWNER TO klima_api;
