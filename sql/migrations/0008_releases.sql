-- 0008_releases — refresh bookkeeping: which materialized views each dataset needs, in refresh order, and the
-- functions behind `klimaspejl refresh`.

SET LOCAL ROLE klima_owner;

-- Refresh bookkeeping

-- Every materialized view in refresh order (a view comes after the views it reads). concurrent = false marks an
-- intermediate that no reader ever queries (only other rollups read it, during their own refresh): it is refreshed
-- plainly, which skips the row-by-row diff of REFRESH ... CONCURRENTLY and blocks nobody.
CREATE TABLE meta.rollups (
    name text PRIMARY KEY,                 -- schema-qualified materialized view
    refresh_order integer NOT NULL UNIQUE,
    concurrent boolean NOT NULL DEFAULT true
);
INSERT INTO meta.rollups (name, refresh_order, concurrent) VALUES
    ('rollup.household_daily', 10, false);
INSERT INTO meta.rollups (name, refresh_order) VALUES
    ('rollup.household_monthly', 20),
    ('rollup.peer_stats_monthly', 30),
    ('rollup.household_peer_monthly', 40),
    ('rollup.district_daily', 50),
    ('rollup.district_hourly', 60),
    ('rollup.peergroup_monthly', 70),
    ('rollup.footprint_monthly', 80),
    ('rollup.waste_monthly', 90),
    ('rollup.mobility_monthly', 100);

-- The rollups each dataset needs, including the ones they read (so refreshing one dataset is consistent).
CREATE TABLE meta.dataset_rollups (
    dataset_id text NOT NULL REFERENCES meta.datasets ON DELETE CASCADE,
    rollup text NOT NULL REFERENCES meta.rollups,
    PRIMARY KEY (dataset_id, rollup)
);
INSERT INTO meta.dataset_rollups (dataset_id, rollup) VALUES
    ('energy-district-daily', 'rollup.household_daily'),
    ('energy-district-daily', 'rollup.district_daily'),
    ('energy-district-hourly', 'rollup.household_daily'),
    ('energy-district-hourly', 'rollup.district_daily'),
    ('energy-district-hourly', 'rollup.district_hourly'),
    ('energy-peergroup-monthly', 'rollup.household_daily'),
    ('energy-peergroup-monthly', 'rollup.household_monthly'),
    ('energy-peergroup-monthly', 'rollup.peergroup_monthly'),
    ('footprint-district-monthly', 'rollup.household_daily'),
    ('footprint-district-monthly', 'rollup.household_monthly'),
    ('footprint-district-monthly', 'rollup.footprint_monthly'),
    ('waste-district-monthly', 'rollup.household_daily'),
    ('waste-district-monthly', 'rollup.household_monthly'),
    ('waste-district-monthly', 'rollup.footprint_monthly'),
    ('waste-district-monthly', 'rollup.waste_monthly'),
    ('mobility-district-monthly', 'rollup.household_daily'),
    ('mobility-district-monthly', 'rollup.household_monthly'),
    ('mobility-district-monthly', 'rollup.footprint_monthly'),
    ('mobility-district-monthly', 'rollup.mobility_monthly');

-- Refreshes one materialized view: CONCURRENTLY (readers are not blocked) when it holds data, plainly when it has
-- never been populated or is empty (nothing to read yet, and much faster) or is not read by anyone (meta.rollups).
CREATE FUNCTION meta.refresh_rollup(rollup_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    populated boolean;
    has_rows boolean;
    concurrent boolean;
BEGIN
    SELECT r.concurrent INTO concurrent FROM meta.rollups r WHERE r.name = rollup_name;
    SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = rollup_name::regclass AND c.relkind = 'm';
    IF populated IS NULL THEN
        RAISE EXCEPTION 'not a materialized view: %', rollup_name;
    END IF;
    IF populated THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', rollup_name::regclass) INTO has_rows;
    END IF;
    IF populated AND has_rows AND coalesce(concurrent, true) THEN
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', rollup_name::regclass);
    ELSE
        EXECUTE format('REFRESH MATERIALIZED VIEW %s', rollup_name::regclass);
    END IF;
END
$fn$;

-- Starts a new release of a dataset after its rollups were refreshed: version + 1, refreshed_at, temporal coverage,
-- a meta.dataset_versions row, and NOTIFY klima_dataset_refreshed '<id> <version>' (delivered at commit).
-- Returns the new version.
CREATE FUNCTION meta.dataset_bump(dataset text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ds meta.datasets%ROWTYPE;
    time_col text;
    step interval;
    t0 timestamptz;
    t1 timestamptz;
    n_rows bigint;
    n_supp bigint;
    v bigint;
BEGIN
    SELECT * INTO ds FROM meta.datasets WHERE id = dataset FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown dataset: %', dataset USING ERRCODE = 'undefined_object';
    END IF;
    time_col := CASE ds.temporal_resolution WHEN 'PT1H' THEN 'hour_utc' WHEN 'P1D' THEN 'day_start_utc'
                                            WHEN 'P1M' THEN 'month_start_utc' END;
    IF time_col IS NOT NULL THEN
        step := ds.temporal_resolution::interval;
        EXECUTE format('SELECT min(%I), max(%I) + %L::interval, count(*), %s FROM %s', time_col, time_col, step,
                       CASE WHEN ds.personal THEN 'count(*) FILTER (WHERE suppressed)' ELSE 'NULL::bigint' END,
                       ds.source_view)
            INTO t0, t1, n_rows, n_supp;
    ELSE
        EXECUTE format('SELECT count(*) FROM %s', ds.source_view) INTO n_rows;
    END IF;
    UPDATE meta.datasets
    SET version = version + 1, refreshed_at = now(), temporal_start = t0, temporal_end = t1
    WHERE id = dataset
    RETURNING version INTO v;
    INSERT INTO meta.dataset_versions (dataset_id, version, refreshed_at, row_count, suppressed_count)
    VALUES (dataset, v, now(), n_rows, n_supp);
    PERFORM pg_notify('klima_dataset_refreshed', dataset || ' ' || v);
    RETURN v;
END
$fn$;

-- Refreshes the rollups of the given datasets (all datasets and all rollups, including the per-household ones of
-- the citizen summary, when NULL) and bumps each dataset's version. The CLI `klimaspejl refresh` does the same step
-- by step so it can time each dataset. REFRESH ... CONCURRENTLY is allowed inside this function's transaction.
CREATE FUNCTION meta.refresh_datasets(datasets text[] DEFAULT NULL)
RETURNS TABLE (dataset_id text, version bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    unknown text;
BEGIN
    SELECT string_agg(x, ', ') INTO unknown
    FROM unnest(datasets) x WHERE NOT EXISTS (SELECT 1 FROM meta.datasets d WHERE d.id = x);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown dataset: %', unknown USING ERRCODE = 'undefined_object';
    END IF;
    FOR r IN
        SELECT ro.name FROM meta.rollups ro
        WHERE datasets IS NULL
           OR EXISTS (SELECT 1 FROM meta.dataset_rollups dr WHERE dr.rollup = ro.name AND dr.dataset_id = ANY (datasets))
        ORDER BY ro.refresh_order
    LOOP
        PERFORM meta.refresh_rollup(r.name);
    END LOOP;
    FOR r IN SELECT d.id FROM meta.datasets d WHERE datasets IS NULL OR d.id = ANY (datasets) ORDER BY d.id LOOP
        dataset_id := r.id;
        version := meta.dataset_bump(r.id);
        RETURN NEXT;
    END LOOP;
END
$fn$;

RESET ROLE;
