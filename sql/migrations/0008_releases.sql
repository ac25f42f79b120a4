-- 0008_releases — a release: every rollup and published table rebuilt from ONE snapshot of core in ONE transaction,
-- each dataset's version bumped exactly when its published rows changed (DESIGN section 3 "Releases").
--
-- The published datasets are linked (meta.dataset_links: hours add up to days, days to months and peer groups,
-- amounts times factors to the footprint), and through the footprint every dataset is linked to every other one, so
-- a release always rebuilds all of them; a version still changes only where the content changed. Steps, all inside
-- one REPEATABLE READ transaction so every rollup sees the same snapshot of core:
--   meta.release_begin(requested)  checks the isolation level, serialises releases, records a meta.releases row;
--   meta.refresh_rollup(name)      for every rollup in meta.rollups order;
--   meta.release_publish(release)  hashes each dataset's published rows; a changed hash bumps the version, records
--                                  a meta.dataset_versions row and NOTIFYs klima_dataset_refreshed '<id> <version>'.
-- Readers keep the previous release until the transaction commits, then see the new one in every table at once
-- (REFRESH ... CONCURRENTLY takes no lock that blocks readers); the NOTIFYs are delivered at commit as well.
-- meta.release(requested) runs the three steps in one call; `klimaspejl refresh` runs them one by one to time them.

SET LOCAL ROLE klima_owner;

-- Every materialized view in refresh order (a view comes after the views it reads). concurrent = false marks an
-- intermediate that no reader ever queries (only other rollups read it, during the release): it is refreshed plainly,
-- which skips the row-by-row diff of REFRESH ... CONCURRENTLY.
CREATE TABLE meta.rollups (
    name text PRIMARY KEY,                 -- schema-qualified materialized view
    refresh_order integer NOT NULL UNIQUE,
    concurrent boolean NOT NULL DEFAULT true
);
INSERT INTO meta.rollups (name, refresh_order) VALUES
    ('rollup.grid_intensity_release', 1),
    ('rollup.emission_factors_release', 2);
INSERT INTO meta.rollups (name, refresh_order, concurrent) VALUES
    ('rollup.grid_hours', 3, false),
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

-- One row, updated by every release: two releases cannot overlap (the second waits for the first), and a release
-- whose snapshot predates another release's commit fails with a serialization error instead of publishing older data.
CREATE TABLE meta.release_state (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_release bigint
);
INSERT INTO meta.release_state DEFAULT VALUES;

-- The datasets linked to each dataset, directly or through others (meta.dataset_links read in both directions):
-- what a release of that dataset must rebuild with it. A test checks that this is the whole catalog for every
-- dataset, which is why a release always rebuilds everything.
CREATE VIEW meta.dataset_linked_sets AS
    WITH RECURSIVE edges AS (
        SELECT dataset_id AS a, derived_from AS b FROM meta.dataset_links
        UNION SELECT derived_from, dataset_id FROM meta.dataset_links
    ), reach (id, linked) AS (
        SELECT id, id FROM meta.datasets
        UNION
        SELECT r.id, e.b FROM reach r JOIN edges e ON e.a = r.linked
    )
    SELECT id AS dataset_id, array_agg(linked ORDER BY linked) AS linked FROM reach GROUP BY id;

-- Refreshes one materialized view: CONCURRENTLY (readers are not blocked and keep the previous rows until commit) when
-- it holds data, plainly when it has never been populated or is empty (nothing to read yet, and much faster) or is not
-- read by anyone (meta.rollups.concurrent = false).
-- JIT compilation is off for a release: its queries are costed far above jit_above_cost, and compiling them with
-- inlining and optimization took longer than running them (at demo scale 7 s of JIT for a 1 s query; 25 s of a
-- 115 s release on this machine), while the big aggregations gained little from it.
CREATE FUNCTION meta.refresh_rollup(rollup_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
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

-- The content hash of a dataset's published rows: md5 over the text of every row of its api view in primary-key
-- order. The session settings that shape the text of a row are fixed, so every caller gets the same hash.
CREATE FUNCTION meta.dataset_content_hash(dataset text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET DateStyle = 'ISO, YMD'
SET IntervalStyle = 'postgres'
SET extra_float_digits = 1
AS $fn$
DECLARE
    ds meta.datasets%ROWTYPE;
    ord text;
    h text;
BEGIN
    SELECT * INTO ds FROM meta.datasets WHERE id = dataset;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown dataset: %', dataset USING ERRCODE = 'undefined_object';
    END IF;
    SELECT string_agg(format('t.%I', c), ', ' ORDER BY i) INTO ord FROM unnest(ds.primary_key) WITH ORDINALITY u(c, i);
    EXECUTE format('SELECT md5(coalesce(string_agg(t::text, E''\n'' ORDER BY %s), '''')) FROM %s t', ord,
                   ds.source_view::regclass)
        INTO h;
    RETURN h;
END
$fn$;

-- Starts a release inside the caller's transaction, which must be REPEATABLE READ (or SERIALIZABLE) so that every
-- rollup refreshed in it sees the same snapshot of core. Checks the requested dataset ids (NULL = all; an unknown id
-- raises 42704), waits for a release in progress and fails (40001) if another release committed after this
-- transaction's snapshot was taken. Returns the new release id.
CREATE FUNCTION meta.release_begin(requested text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    unknown text;
    rid bigint;
BEGIN
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'a release must run in one REPEATABLE READ transaction (BEGIN ISOLATION LEVEL REPEATABLE READ)'
            USING ERRCODE = 'invalid_transaction_state';
    END IF;
    SELECT string_agg(x, ', ') INTO unknown
    FROM unnest(requested) x WHERE NOT EXISTS (SELECT 1 FROM meta.datasets d WHERE d.id = x);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown dataset: %', unknown USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO meta.releases (started_at, requested) VALUES (now(), requested) RETURNING release_id INTO rid;
    UPDATE meta.release_state SET last_release = rid;
    -- every household has its record keys (the insert trigger draws them; this catches any load that bypassed it)
    PERFORM core.record_keys_fill();
    RETURN rid;
END
$fn$;

-- Publishes a release after its rollups were refreshed: for every dataset, the content hash of its published rows; where
-- it differs from the current version's, version + 1, refreshed_at, temporal coverage, content_hash, a
-- meta.dataset_versions row and NOTIFY klima_dataset_refreshed '<id> <version>' (delivered at commit). Datasets whose
-- rows did not change keep their version (and so their caches, ETags and cursors). Returns every dataset with its
-- (possibly unchanged) version and whether it changed.
CREATE FUNCTION meta.release_publish(release bigint)
RETURNS TABLE (dataset_id text, version bigint, changed boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $fn$
DECLARE
    ds meta.datasets%ROWTYPE;
    h text;
    time_col text;
    t0 timestamptz;
    t1 timestamptz;
    n_rows bigint;
    n_supp bigint;
    v bigint;
    changed_ids text[] := '{}';
BEGIN
    FOR ds IN SELECT * FROM meta.datasets ORDER BY id FOR UPDATE LOOP
        h := meta.dataset_content_hash(ds.id);
        dataset_id := ds.id;
        IF h IS NOT DISTINCT FROM ds.content_hash AND ds.version > 0 THEN
            version := ds.version;
            changed := false;
            RETURN NEXT;
            CONTINUE;
        END IF;
        time_col := CASE ds.temporal_resolution WHEN 'PT1H' THEN 'hour_utc' WHEN 'P1D' THEN 'day_start_utc'
                                                WHEN 'P1M' THEN 'month_start_utc' END;
        t0 := NULL;
        t1 := NULL;
        n_supp := NULL;
        IF time_col IS NOT NULL THEN
            EXECUTE format('SELECT min(%I), max(%I) + %L::interval, count(*), %s FROM %s', time_col, time_col,
                           ds.temporal_resolution,
                           CASE WHEN ds.personal THEN 'count(*) FILTER (WHERE suppressed)' ELSE 'NULL::bigint' END,
                           ds.source_view::regclass)
                INTO t0, t1, n_rows, n_supp;
        ELSE
            EXECUTE format('SELECT count(*) FROM %s', ds.source_view::regclass) INTO n_rows;
        END IF;
        UPDATE meta.datasets d
        SET version = d.version + 1, refreshed_at = now(), temporal_start = t0, temporal_end = t1, content_hash = h
        WHERE d.id = ds.id
        RETURNING d.version INTO v;
        INSERT INTO meta.dataset_versions (dataset_id, version, refreshed_at, release_id, content_hash, row_count,
                                           suppressed_count)
        VALUES (ds.id, v, now(), release, h, n_rows, n_supp);
        IF ds.personal THEN
            UPDATE meta.dataset_versions dv
            SET cell_key_enabled = dc.cell_key_enabled, existence_enabled = dc.existence_enabled,
                count_d = dc.count_d, count_v = dc.count_v, magnitude_d = dc.magnitude_d,
                magnitude_v = dc.magnitude_v, magnitude_m = dc.magnitude_m, p_pct = dc.p_pct,
                mard_pct_cells_ge_100 = u.mard, cells_ge_100 = u.big, suppressed_share = u.share, cells = u.cells
            FROM meta.disclosure_control dc, (SELECT round(100 * avg(abs(c.published::float8 - c.true_value) / c.true_value)
                                   FILTER (WHERE c.n >= 100 AND NOT c.suppressed AND c.true_value > 0)::numeric, 4) AS mard,
                         count(DISTINCT c.cell) FILTER (WHERE c.n >= 100 AND NOT c.suppressed) AS big,
                         round((count(DISTINCT c.cell) FILTER (WHERE c.suppressed))::numeric
                               / nullif(count(DISTINCT c.cell), 0), 4) AS share,
                         count(DISTINCT c.cell) AS cells
                  FROM rollup.cell_measures c WHERE c.dataset = ds.id) u
            WHERE dv.dataset_id = ds.id AND dv.version = v;
        END IF;
        PERFORM pg_notify('klima_dataset_refreshed', ds.id || ' ' || v);
        changed_ids := changed_ids || ds.id;
        version := v;
        changed := true;
        RETURN NEXT;
    END LOOP;
    UPDATE meta.releases r SET published_at = clock_timestamp(), changed = changed_ids WHERE r.release_id = release;
END
$fn$;

-- A whole release in one call: release_begin, every rollup, release_publish. The caller's transaction must be
-- REPEATABLE READ: BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM meta.release(); COMMIT;
CREATE FUNCTION meta.release(requested text[] DEFAULT NULL)
RETURNS TABLE (dataset_id text, version bigint, changed boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rid bigint := meta.release_begin(requested);
    r record;
BEGIN
    FOR r IN SELECT ro.name FROM meta.rollups ro ORDER BY ro.refresh_order LOOP
        PERFORM meta.refresh_rollup(r.name);
    END LOOP;
    RETURN QUERY SELECT * FROM meta.release_publish(rid);
END
$fn$;

-- The catalog as the server reads it (GET /v1/datasets and everything keyed on a dataset): one JSON entry per dataset
-- with its columns and the datasets it is derived from (meta.dataset_links). The content hash stays internal.
-- disclosure_control (household datasets; null for the others) states the rules and noise the current version was
-- published with (meta.dataset_versions; the current settings only before a first release) and what they cost: the
-- bound an attacker may assume is |published - true| <= counts.D for a count and <= magnitudes.m * magnitudes.D * (the
-- cell's largest single-household contribution, which is not published) for a magnitude, each plus half a unit of the
-- column's last decimal. `version` names the version it describes: a reader that sees it differ from the dataset's
-- version holds metadata of another release (the server reloads the rest of the catalog within a second of a
-- release's NOTIFY) and should ask again. `existence`: whether key combinations held by fewer than k households are
-- left out (true except in tests of the audit).
CREATE VIEW meta.catalog AS
    SELECT d.id,
           (to_jsonb(d) - 'content_hash')
           || jsonb_build_object(
                  'derived_from', coalesce((SELECT jsonb_agg(l.derived_from ORDER BY l.derived_from)
                                            FROM meta.dataset_links l WHERE l.dataset_id = d.id), '[]'::jsonb),
                  'disclosure_control', CASE WHEN d.personal THEN jsonb_build_object(
                      'version', d.version,
                      'enabled', coalesce(v.cell_key_enabled, dc.cell_key_enabled),
                      'method', 'cell-key',
                      'k', d.k,
                      'existence', coalesce(v.existence_enabled, dc.existence_enabled),
                      'dominance', jsonb_build_object('n', d.dominance_n, 'pct', d.dominance_pct),
                      'p_pct', coalesce(v.p_pct, dc.p_pct),
                      'counts', jsonb_build_object('D', coalesce(v.count_d, dc.count_d),
                                                   'V', coalesce(v.count_v, dc.count_v)),
                      'magnitudes', jsonb_build_object('D', coalesce(v.magnitude_d, dc.magnitude_d),
                                                       'V', coalesce(v.magnitude_v, dc.magnitude_v),
                                                       'm', coalesce(v.magnitude_m, dc.magnitude_m),
                                                       'scale', 'largest single-household contribution to the cell'),
                      'utility', jsonb_build_object('mard_pct_cells_ge_100', v.mard_pct_cells_ge_100,
                                                    'cells_ge_100', v.cells_ge_100,
                                                    'suppressed_share', v.suppressed_share, 'cells', v.cells)) END,
                  'columns', (SELECT coalesce(jsonb_agg(to_jsonb(c) - 'dataset_id' ORDER BY c.position), '[]'::jsonb)
                              FROM meta.dataset_columns c WHERE c.dataset_id = d.id)) AS entry
    FROM meta.datasets d
    CROSS JOIN meta.disclosure_control dc
    LEFT JOIN meta.dataset_versions v ON v.dataset_id = d.id AND v.version = d.version;

RESET ROLE;

REVOKE ALL ON meta.catalog FROM PUBLIC;
GRANT SELECT ON meta.catalog TO klima_api;
REVOKE ALL ON meta.rollups, meta.release_state, meta.dataset_linked_sets FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION meta.refresh_rollup(text), meta.dataset_content_hash(text), meta.release_begin(text[]),
    meta.release_publish(bigint), meta.release(text[]) FROM PUBLIC;
