-- 0017_source_provenance — where loaded data came from (issue 18): one row per loaded file or fetched batch of a real
-- source (Energi Data Service, Eloverblik), and the provenance every release publishes in the catalog and in DCAT.
--
-- core.source_batches is written by `klimaspejl ingest eds-co2|eloverblik` and `klimaspejl fetch eds`: source, source
-- dataset, file (or URL), the SHA-256 of its bytes, when it was fetched, its licence and the UTC interval it covers. A
-- file loaded twice is one batch (same dataset and SHA-256), so loading it again changes no row anywhere.
-- meta.dataset_sources says which source datasets feed which published dataset; meta.provenance_publish(), called by
-- `klimaspejl refresh` inside the release transaction, writes each dataset's summary into meta.datasets.provenance,
-- which the catalog (/v1/datasets/{id}, `provenance`) and DCAT (`prov:wasGeneratedBy`/`dct:provenance`) show.

SET LOCAL ROLE klima_owner;

CREATE TABLE core.source_batches (
    batch_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL,                  -- 'Energi Data Service (Energinet)', 'Eloverblik (Energinet DataHub)'
    dataset text NOT NULL,                 -- the source's dataset: CO2Emis, CO2EmisProg, MyEnergyData_MarketDocument
    file text NOT NULL,                    -- the file name or URL it was read from
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    fetched_at timestamptz NOT NULL,       -- when the source handed it out (fetch: the request; a file: its mtime)
    loaded_at timestamptz NOT NULL DEFAULT now(),
    licence text NOT NULL,
    licence_url text,
    source_url text NOT NULL,
    covers_from timestamptz NOT NULL,      -- [covers_from, covers_to) in UTC
    covers_to timestamptz NOT NULL,
    records integer NOT NULL CHECK (records >= 0),
    UNIQUE (dataset, sha256),
    CHECK (covers_to > covers_from)
);
COMMENT ON TABLE core.source_batches IS 'Provenance of every loaded file or fetched batch of a real data source.';

CREATE TABLE meta.dataset_sources (
    dataset_id text NOT NULL REFERENCES meta.datasets ON DELETE CASCADE,
    source_dataset text NOT NULL,
    PRIMARY KEY (dataset_id, source_dataset)
);
INSERT INTO meta.dataset_sources (dataset_id, source_dataset) VALUES
    ('grid-intensity-hourly', 'CO2Emis'),
    ('energy-district-hourly', 'MyEnergyData_MarketDocument'),
    ('energy-district-daily', 'MyEnergyData_MarketDocument'),
    ('energy-peergroup-monthly', 'MyEnergyData_MarketDocument'),
    ('footprint-district-monthly', 'MyEnergyData_MarketDocument'),
    ('footprint-district-monthly', 'CO2Emis');

-- Each dataset's provenance as published by the last release: one entry per source dataset that fed it (source,
-- dataset, licence, the interval covered, the first and last fetch, the number of batches). Empty: synthetic only.
ALTER TABLE meta.datasets ADD COLUMN provenance jsonb NOT NULL DEFAULT '[]'::jsonb;

CREATE FUNCTION meta.provenance_publish()
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $fn$
    UPDATE meta.datasets d
    SET provenance = coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'source', b.source, 'dataset', b.dataset, 'url', b.source_url,
                   'licence', b.licence, 'licence_url', b.licence_url,
                   'covers_from', to_char(b.covers_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'covers_to', to_char(b.covers_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'first_fetched_at', to_char(b.first_fetched AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'last_fetched_at', to_char(b.last_fetched AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'batches', b.batches) ORDER BY b.dataset)
        FROM (SELECT sb.source, sb.dataset, min(sb.source_url) AS source_url, min(sb.licence) AS licence,
                     min(sb.licence_url) AS licence_url, min(sb.covers_from) AS covers_from,
                     max(sb.covers_to) AS covers_to, min(sb.fetched_at) AS first_fetched,
                     max(sb.fetched_at) AS last_fetched, count(*) AS batches
              FROM core.source_batches sb
              JOIN meta.dataset_sources s ON s.source_dataset = sb.dataset AND s.dataset_id = d.id
              GROUP BY sb.source, sb.dataset) b), '[]'::jsonb)
$fn$;

RESET ROLE;

REVOKE ALL ON core.source_batches, meta.dataset_sources FROM PUBLIC;
GRANT SELECT, INSERT ON core.source_batches TO klima_ingest;
GRANT SELECT ON meta.dataset_sources TO klima_api;
REVOKE EXECUTE ON FUNCTION meta.provenance_publish() FROM PUBLIC;
