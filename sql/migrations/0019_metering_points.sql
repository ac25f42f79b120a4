-- 0019_metering_points — DataHub metering data as Eloverblik's third-party API hands it out (issue 18; `klimaspejl
-- ingest eloverblik FILE --household ID`).
--
-- core.metering_points links a metering point (the TimeSeries mRID, a GSRN) to one household. core.electricity_metered
-- keeps each metered hour per metering point with its DataHub quality code(s) and the batch it came from; quarter-hours
-- (PT15M) are summed to hours, and an hour with fewer than its 4 quarter-hours is not loaded (counted as skipped).
-- core.eloverblik_load() applies a staged file (pg_temp.elo_stage, filled by the CLI with COPY) in the caller's
-- transaction: the metering point must be unlinked or linked to this household; a position repeated with another value
-- refuses the file (path in DETAIL); the hours replace what that metering point had for them; and the household's hourly
-- electricity (core.energy_hourly.electricity_wh) becomes the sum over its metering points. DataHub delivers
-- electricity only: an hour that had no row gets heat_wh = 0 and water_l = 0 until a later file of the household's own
-- heat and water readings corrects it (`klimaspejl ingest energy` refuses hours that exist, so load that file first).

SET LOCAL ROLE klima_owner;

CREATE TABLE core.metering_points (
    metering_point text PRIMARY KEY CHECK (metering_point ~ '^[A-Za-z0-9]{6,32}$'),
    household_id uuid NOT NULL REFERENCES core.households ON DELETE CASCADE,
    linked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metering_points_household_idx ON core.metering_points (household_id);

CREATE TABLE core.electricity_metered (
    metering_point text NOT NULL REFERENCES core.metering_points ON DELETE CASCADE,
    hour_utc timestamptz NOT NULL CHECK (date_bin('1 hour', hour_utc, timestamptz '2000-01-01 00:00+00') = hour_utc),
    wh integer NOT NULL CHECK (wh >= 0),
    quality text NOT NULL,                 -- the DataHub quality code(s) of the hour, e.g. A04, or A03+A04
    resolution text NOT NULL CHECK (resolution IN ('PT1H', 'PT15M')),
    batch_id bigint NOT NULL REFERENCES core.source_batches,
    PRIMARY KEY (metering_point, hour_utc)
);

CREATE FUNCTION core.eloverblik_load(p_household uuid, p_file text, p_sha256 text, p_fetched_at timestamptz)
RETURNS TABLE (batch_id bigint, hours integer, skipped_hours integer, new_batch boolean)
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
    origin constant timestamptz := timestamptz '2000-01-01 00:00+00';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM core.households h WHERE h.household_id = p_household) THEN
        RAISE EXCEPTION 'unknown household % (load it first with klimaspejl ingest households)', p_household
            USING ERRCODE = '22023', DETAIL = '--household';
    END IF;
    SELECT min(s.start_utc), max(s.start_utc), count(*) INTO lo, hi, n FROM pg_temp.elo_stage s;
    IF n = 0 THEN
        RAISE EXCEPTION 'no points' USING ERRCODE = '22023', DETAIL = '$.result';
    END IF;
    SELECT s.path, s.metering_point INTO bad FROM pg_temp.elo_stage s
    JOIN core.metering_points m ON m.metering_point = s.metering_point AND m.household_id <> p_household
    ORDER BY s.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'metering point % is linked to another household', bad.metering_point
            USING ERRCODE = '22023', DETAIL = regexp_replace(bad.path, '\.Period\[.*$', '.mRID');
    END IF;
    SELECT s.path INTO bad FROM pg_temp.elo_stage s
    WHERE EXISTS (SELECT 1 FROM pg_temp.elo_stage e
                  WHERE e.metering_point = s.metering_point AND e.start_utc = s.start_utc AND e.ord < s.ord
                    AND (e.wh, e.resolution) IS DISTINCT FROM (s.wh, s.resolution))
    ORDER BY s.ord LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'position repeats an earlier point of the same time with another value'
            USING ERRCODE = '22023', DETAIL = bad.path || '.position';
    END IF;

    SELECT sb.batch_id INTO b FROM core.source_batches sb
    WHERE sb.dataset = 'MyEnergyData_MarketDocument' AND sb.sha256 = p_sha256;
    new_batch := NOT FOUND;
    IF new_batch THEN
        INSERT INTO core.source_batches (source, dataset, file, sha256, fetched_at, licence, licence_url, source_url,
                                         covers_from, covers_to, records)
        SELECT 'Eloverblik (Energinet DataHub)', 'MyEnergyData_MarketDocument', p_file, p_sha256, p_fetched_at,
               'personal data, shared by the citizen''s power of attorney to the city (not open data)', NULL,
               'https://api.eloverblik.dk/thirdpartyapi/', lo,
               max(s.start_utc + CASE s.resolution WHEN 'PT1H' THEN interval '1 hour' ELSE interval '15 minutes' END), n
        FROM pg_temp.elo_stage s
        RETURNING source_batches.batch_id INTO b;
    END IF;

    INSERT INTO core.metering_points (metering_point, household_id)
    SELECT DISTINCT s.metering_point, p_household FROM pg_temp.elo_stage s
    ON CONFLICT (metering_point) DO NOTHING;

    CREATE TEMP TABLE elo_hours ON COMMIT DROP AS
        SELECT s.metering_point, date_bin('1 hour', s.start_utc, origin) AS hour_utc, sum(s.wh)::integer AS wh,
               string_agg(DISTINCT s.quality, '+' ORDER BY s.quality) AS quality, min(s.resolution) AS resolution,
               count(DISTINCT s.start_utc) = CASE min(s.resolution) WHEN 'PT15M' THEN 4 ELSE 1 END AS complete
        FROM (SELECT DISTINCT ON (metering_point, start_utc) * FROM pg_temp.elo_stage ORDER BY metering_point, start_utc, ord) s
        GROUP BY 1, 2;

    DELETE FROM core.electricity_metered m USING (SELECT DISTINCT metering_point, hour_utc FROM elo_hours) h
    WHERE m.metering_point = h.metering_point AND m.hour_utc = h.hour_utc;
    INSERT INTO core.electricity_metered (metering_point, hour_utc, wh, quality, resolution, batch_id)
    SELECT h.metering_point, h.hour_utc, h.wh, h.quality, h.resolution, b FROM elo_hours h WHERE h.complete;
    GET DIAGNOSTICS hours = ROW_COUNT;
    SELECT count(*) INTO skipped_hours FROM elo_hours h WHERE NOT h.complete;

    PERFORM core.ensure_energy_partitions(lo, hi);
    INSERT INTO core.energy_hourly AS e (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT p_household, t.hour_utc, t.wh, 0, 0
    FROM (SELECT m.hour_utc, sum(m.wh)::integer AS wh
          FROM core.electricity_metered m
          JOIN core.metering_points p ON p.metering_point = m.metering_point AND p.household_id = p_household
          WHERE m.hour_utc IN (SELECT h.hour_utc FROM elo_hours h WHERE h.complete)
          GROUP BY 1) t
    ON CONFLICT (household_id, hour_utc) DO UPDATE SET electricity_wh = excluded.electricity_wh;
    batch_id := b;
    DROP TABLE elo_hours;
    RETURN NEXT;
END
$fn$;

RESET ROLE;

REVOKE ALL ON core.metering_points, core.electricity_metered FROM PUBLIC;
GRANT SELECT, INSERT ON core.metering_points, core.electricity_metered TO klima_ingest;
REVOKE EXECUTE ON FUNCTION core.eloverblik_load(uuid, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core.eloverblik_load(uuid, text, text, timestamptz) TO klima_ingest;
