-- 0018_grid_emission_points — Energi Data Service's CO2Emis (realised) and CO2EmisProg (forecast) 5-minute points and
-- the one rule that turns them into hourly intensity (issue 18; `klimaspejl ingest eds-co2`, `klimaspejl fetch eds`).
--
-- Points are kept per source dataset and price area (DK1, DK2; Copenhagen is DK2) in g CO2/kWh. The hourly rule,
-- core.grid_emission_hourly: an hour's intensity is the mean of its 5-minute points (UTC hours, so a DST day simply
-- has 23 or 25 of them); an hour with fewer than 6 of its 12 points has no intensity (footprints then use the
-- `electricity` emission factor, as for any hour without one). core.eds_load() takes a file's points from the session's
-- temporary table pg_temp.eds_stage (filled by the CLI with COPY) and, in the caller's transaction:
--   - refuses the file, naming the record's path in DETAIL, when a point is not on a 5-minute boundary, its Minutes5DK
--     is not its Minutes5UTC in Copenhagen time, or a point repeats an earlier one with a different value (an
--     identical repeat is kept once);
--   - records the batch (core.source_batches; the same bytes again are the same batch);
--   - replaces, per price area, every point of that dataset inside the interval the file covers (first to last point):
--     the file loaded last wins where files overlap, and loading the same file twice changes no row;
--   - for CO2Emis in DK2, rewrites core.grid_intensity_hourly (the intensity every footprint uses) for the hours the
--     file touches, from the rule above: real hours replace synthetic ones, and an hour left with too few points is
--     removed rather than kept synthetic. Realised data supersedes the forecast wherever both exist
--     (0020_grid_forecast.sql publishes the forecast that way).

SET LOCAL ROLE klima_owner;

ALTER TABLE core.grid_intensity_hourly
    ADD COLUMN source text NOT NULL DEFAULT 'synthetic' CHECK (source IN ('synthetic', 'CO2Emis'));

CREATE TABLE core.grid_emission_points (
    dataset text NOT NULL CHECK (dataset IN ('CO2Emis', 'CO2EmisProg')),
    area text NOT NULL CHECK (area IN ('DK1', 'DK2')),
    minute5_utc timestamptz NOT NULL
        CHECK (date_bin('5 minutes', minute5_utc, timestamptz '2000-01-01 00:00+00') = minute5_utc),
    g_per_kwh numeric(10, 3) NOT NULL CHECK (g_per_kwh >= 0),
    batch_id bigint NOT NULL REFERENCES core.source_batches,
    PRIMARY KEY (dataset, area, minute5_utc)
);

-- The hourly rule (see the top of this file).
CREATE VIEW core.grid_emission_hourly AS
    SELECT dataset, area, date_bin('1 hour', minute5_utc, timestamptz '2000-01-01 00:00+00') AS hour_utc,
           avg(g_per_kwh) AS g_per_kwh, count(*)::integer AS points
    FROM core.grid_emission_points
    GROUP BY 1, 2, 3
    HAVING count(*) >= 6;

-- The path of a field of a staged record: "$.records[3].PriceArea" (JSON), "line 4, PriceArea" (CSV), as cli/source.c.
CREATE FUNCTION core.eds_field(path text, field text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $fn$ SELECT path || CASE WHEN path LIKE '$%' OR path LIKE '%: $%' THEN '.' ELSE ', ' END || field $fn$;

CREATE FUNCTION core.eds_load(p_dataset text, p_file text, p_sha256 text, p_fetched_at timestamptz,
                              p_source_url text)
RETURNS TABLE (batch_id bigint, points integer, hours integer, new_batch boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    bad record;
    b bigint;
    lo timestamptz;
    hi timestamptz;
    n integer;
    h integer := 0;
    origin constant timestamptz := timestamptz '2000-01-01 00:00+00';
BEGIN
    IF p_dataset NOT IN ('CO2Emis', 'CO2EmisProg') THEN
        RAISE EXCEPTION 'unknown Energi Data Service dataset %', p_dataset USING ERRCODE = '22023';
    END IF;
    SELECT min(s.minute5_utc), max(s.minute5_utc), count(*) INTO lo, hi, n FROM pg_temp.eds_stage s;
    IF n = 0 THEN
        RAISE EXCEPTION 'no records' USING ERRCODE = '22023', DETAIL = '$.records';
    END IF;
    SELECT s.path, s.minute5_utc INTO bad FROM pg_temp.eds_stage s
    WHERE date_bin('5 minutes', s.minute5_utc, origin) <> s.minute5_utc ORDER BY s.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '% is not the start of a 5-minute interval', bad.minute5_utc
            USING ERRCODE = '22023', DETAIL = core.eds_field(bad.path, 'Minutes5UTC');
    END IF;
    SELECT s.path, s.minute5_utc AT TIME ZONE 'Europe/Copenhagen' AS dk INTO bad FROM pg_temp.eds_stage s
    WHERE s.minute5_dk IS NOT NULL AND s.minute5_dk <> (s.minute5_utc AT TIME ZONE 'Europe/Copenhagen')
    ORDER BY s.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'not Minutes5UTC in Copenhagen time (expected %)', to_char(bad.dk, 'YYYY-MM-DD"T"HH24:MI:SS')
            USING ERRCODE = '22023', DETAIL = core.eds_field(bad.path, 'Minutes5DK');
    END IF;
    SELECT s.path, s.area, s.minute5_utc INTO bad FROM pg_temp.eds_stage s
    WHERE EXISTS (SELECT 1 FROM pg_temp.eds_stage e
                  WHERE e.area = s.area AND e.minute5_utc = s.minute5_utc AND e.ord < s.ord AND e.g_per_kwh <> s.g_per_kwh)
    ORDER BY s.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'repeats the point % of % with a different value',
            to_char(bad.minute5_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), bad.area
            USING ERRCODE = '22023', DETAIL = core.eds_field(bad.path, 'CO2Emission');
    END IF;

    SELECT sb.batch_id INTO b FROM core.source_batches sb WHERE sb.dataset = p_dataset AND sb.sha256 = p_sha256;
    new_batch := NOT FOUND;
    IF new_batch THEN
        INSERT INTO core.source_batches (source, dataset, file, sha256, fetched_at, licence, licence_url, source_url,
                                         covers_from, covers_to, records)
        VALUES ('Energi Data Service (Energinet)', p_dataset, p_file, p_sha256, p_fetched_at, 'CC-BY-4.0',
                'https://creativecommons.org/licenses/by/4.0/', p_source_url, lo, hi + interval '5 minutes', n)
        RETURNING source_batches.batch_id INTO b;
    END IF;

    -- Replace what the file covers, per price area.
    DELETE FROM core.grid_emission_points p
    USING (SELECT s.area, min(s.minute5_utc) AS a_lo, max(s.minute5_utc) AS a_hi FROM pg_temp.eds_stage s GROUP BY 1) c
    WHERE p.dataset = p_dataset AND p.area = c.area AND p.minute5_utc BETWEEN c.a_lo AND c.a_hi;
    INSERT INTO core.grid_emission_points (dataset, area, minute5_utc, g_per_kwh, batch_id)
    SELECT DISTINCT ON (s.area, s.minute5_utc) p_dataset, s.area, s.minute5_utc, s.g_per_kwh, b
    FROM pg_temp.eds_stage s ORDER BY s.area, s.minute5_utc, s.ord;
    GET DIAGNOSTICS points = ROW_COUNT;

    -- The realised DK2 hours the file touches feed every footprint.
    IF p_dataset = 'CO2Emis' THEN
        SELECT min(s.minute5_utc), max(s.minute5_utc) INTO lo, hi FROM pg_temp.eds_stage s WHERE s.area = 'DK2';
        IF lo IS NOT NULL THEN
            DELETE FROM core.grid_intensity_hourly g
            WHERE g.hour_utc >= date_bin('1 hour', lo, origin) AND g.hour_utc <= hi;
            INSERT INTO core.grid_intensity_hourly (hour_utc, area, g_per_kwh, source)
            SELECT e.hour_utc, 'DK2', e.g_per_kwh, 'CO2Emis' FROM core.grid_emission_hourly e
            WHERE e.dataset = 'CO2Emis' AND e.area = 'DK2' AND e.hour_utc >= date_bin('1 hour', lo, origin)
              AND e.hour_utc <= hi;
            GET DIAGNOSTICS h = ROW_COUNT;
        END IF;
    ELSE
        SELECT count(*) INTO h FROM core.grid_emission_hourly e
        WHERE e.dataset = p_dataset AND e.hour_utc >= date_bin('1 hour', lo, origin) AND e.hour_utc <= hi;
    END IF;
    batch_id := b;
    hours := h;
    RETURN NEXT;
END
$fn$;

RESET ROLE;

REVOKE ALL ON core.grid_emission_points, core.grid_emission_hourly FROM PUBLIC;
GRANT SELECT, INSERT ON core.grid_emission_points TO klima_ingest;
GRANT SELECT ON core.grid_emission_hourly TO klima_ingest;
REVOKE EXECUTE ON FUNCTION core.eds_load(text, text, text, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core.eds_load(text, text, text, timestamptz, text) TO klima_ingest;
