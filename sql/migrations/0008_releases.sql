-- 0008_releases — a release: every rollup and published table brought up to ONE snapshot of core in ONE transaction,
-- each dataset's version bumped exactly when its published rows changed (DESIGN section 3 "Releases"), and only the
-- periods whose data changed since the last release rebuilt.
--
-- The published datasets are linked (meta.dataset_links: hours add up to days, days to months and peer groups,
-- amounts times factors to the footprint), and through the footprint every dataset is linked to every other one, so
-- a release always brings all of them up to date; a version still changes only where the content changed. Steps, all
-- inside one REPEATABLE READ transaction so every rollup sees the same snapshot of core:
--   meta.release_begin(requested, full_rebuild)  checks the isolation level, serialises releases, records a meta.releases row
--                                        with what it rebuilds: everything, or the local days and months of the
--                                        changes noted since the last release (meta.pending_changes), which it takes;
--   meta.release_rollup(release, name)   for every rollup in meta.rollups order: a materialized view is refreshed
--                                        whole; a table has the rows of the release's periods deleted and built again
--                                        by its builder rollup.<name>_rows(lo, hi) (0005, 0006, 0025);
--   meta.release_publish(release)        hashes each dataset's published rows; a changed hash bumps the version,
--                                        records a meta.dataset_versions row and NOTIFYs klima_dataset_refreshed
--                                        '<id> <version>'.
-- Readers keep the previous release until the transaction commits, then see the new one in every table at once
-- (neither REFRESH ... CONCURRENTLY nor DELETE/INSERT take a lock that blocks readers); the NOTIFYs are delivered at
-- commit as well. meta.release(requested, full_rebuild) runs the steps in one call; `klimaspejl refresh` runs them one by one
-- to time them.
--
-- What changed is noted by statement triggers on the core tables, whatever loads them (ingest, SQL, the sources'
-- loaders): the local days of the rows a statement inserted, updated or deleted (core.note_changes). A change that no
-- period can describe — a TRUNCATE, a household moved to another district or dwelling class, new record keys, or
-- (by a fingerprint the release compares) the disclosure parameters, k, dominance, column scales, emission factors
-- or districts — makes the next release rebuild everything, as does `klimaspejl refresh --full`. An incremental
-- release builds exactly the rows a full one would: every rollup row depends only on data of its own local day (the
-- daily and hourly tables) or local month (the monthly ones), and a grid-intensity change rebuilds its whole month
-- (the month's dirtiest-quarter threshold moves with it).

SET LOCAL ROLE klima_owner;

-- Every rollup in build order (a rollup comes after the rollups it reads). period NULL: a materialized view (small,
-- refreshed whole by every release; concurrent = false marks one that no reader ever queries, refreshed plainly).
-- period 'day' or 'month': a table rebuilt by periods: delete_where selects its rows of the local days [$1, $2) (whole
-- months for 'month'), which its builder rollup.<name>_rows($1, $2) returns again; concurrent = false marks a table
-- only other rollups read, which a full rebuild may TRUNCATE instead of deleting row by row.
CREATE TABLE meta.rollups (
    name text PRIMARY KEY,                 -- schema-qualified materialized view or table
    refresh_order integer NOT NULL UNIQUE,
    concurrent boolean NOT NULL DEFAULT true,
    period text CHECK (period IN ('day', 'month')),
    delete_where text,
    CHECK ((period IS NULL) = (delete_where IS NULL))
);
INSERT INTO meta.rollups (name, refresh_order) VALUES
    ('rollup.grid_intensity_release', 1),
    ('rollup.emission_factors_release', 2);
INSERT INTO meta.rollups (name, refresh_order, concurrent) VALUES
    ('rollup.grid_hours', 3, false),
    ('rollup.keyed_households', 4, false);
INSERT INTO meta.rollups (name, refresh_order, concurrent, period, delete_where) VALUES
    ('rollup.household_daily', 10, false, 'day', 'day >= $1 AND day < $2'),
    ('rollup.household_monthly', 20, true, 'month', 'month >= $1 AND month < $2'),
    ('rollup.peer_stats_monthly', 30, true, 'month', 'month >= $1 AND month < $2'),
    ('rollup.household_peer_monthly', 40, true, 'month', 'month >= $1 AND month < $2'),
    ('rollup.district_daily', 50, true, 'day', 'day >= $1 AND day < $2'),
    ('rollup.district_hourly', 60, true, 'day',
     'hour_utc >= rollup.local_start($1) AND hour_utc < rollup.local_start($2)'),
    ('rollup.peergroup_monthly', 70, true, 'month', 'month >= $1 AND month < $2'),
    ('rollup.footprint_monthly', 80, true, 'month', 'month >= $1 AND month < $2'),
    ('rollup.waste_monthly', 90, true, 'month', 'month >= $1 AND month < $2'),
    ('rollup.mobility_monthly', 100, true, 'month', 'month >= $1 AND month < $2');

-- A release reads one period of waste and mobility (household_monthly, the cells, coverage) by date, and the readings of
-- its days by hour: a BRIN index (a few kB a partition) lets a new day's readings, appended after the month's earlier
-- ones, be read without scanning the whole month's partition (autosummarize: ranges filled since are summarized by
-- autovacuum; the seed summarizes what it loads).
CREATE INDEX waste_weighings_collected_on ON core.waste_weighings (collected_on);
CREATE INDEX mobility_daily_day ON core.mobility_daily (day);
CREATE INDEX energy_hourly_hour_brin ON core.energy_hourly USING brin (hour_utc) WITH (autosummarize = on);

-- ---------------------------------------------------------------------------------------------------------------
-- Changes since the last release

-- One row per statement that changed data a release publishes: its source, the local days (Europe/Copenhagen) of the
-- rows it inserted, updated or deleted, and what it was; source 'all' (days NULL) for a change that no period can
-- describe. Written by core.note_changes, taken (deleted) by the release that publishes it: a statement that commits
-- after a release's snapshot stays here for the next one.
CREATE TABLE meta.pending_changes (
    change_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL CHECK (source IN ('energy', 'grid', 'waste', 'mobility', 'all')),
    days datemultirange CHECK ((source = 'all') = (days IS NULL)),
    what text NOT NULL,
    noted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Statement trigger (AFTER, with the statement's rows as the transition tables new_rows / old_rows): notes the local
-- days of the changed rows under source TG_ARGV[0]; TG_ARGV[1] names the column that dates a row and TG_ARGV[2] says
-- whether it is a UTC hour ('hour', converted to its Copenhagen day) or already a local date ('date'). With
-- source 'all', or on TRUNCATE, notes that everything must be rebuilt. SECURITY DEFINER: klima_ingest loads data but
-- may not write the catalog. The triggers are ENABLE ALWAYS, so loads with session_replication_role = replica (seed,
-- ingest as a superuser) are noted too.
CREATE FUNCTION core.note_changes()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    src text := TG_ARGV[0];
    what text := TG_OP || ' ' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    day_sql text;
    rows_sql text;
    d datemultirange;
BEGIN
    IF src = 'all' OR TG_OP = 'TRUNCATE' THEN
        INSERT INTO meta.pending_changes (source, what) VALUES ('all', what);
        RETURN NULL;
    END IF;
    day_sql := CASE TG_ARGV[2] WHEN 'hour' THEN '(v AT TIME ZONE ''Europe/Copenhagen'')::date' ELSE 'v' END;
    -- the distinct values first (a day of 35,000 households is 840,000 rows but 24 hours)
    rows_sql := CASE TG_OP WHEN 'INSERT' THEN format('SELECT %I AS v FROM new_rows', TG_ARGV[1])
                           WHEN 'DELETE' THEN format('SELECT %I AS v FROM old_rows', TG_ARGV[1])
                           ELSE format('SELECT %1$I AS v FROM new_rows UNION SELECT %1$I FROM old_rows', TG_ARGV[1]) END;
    EXECUTE format('SELECT range_agg(daterange(d, d + 1)) FROM (SELECT DISTINCT %s AS d FROM (%s) x) y', day_sql, rows_sql)
        INTO d;
    IF d IS NOT NULL THEN
        INSERT INTO meta.pending_changes (source, days, what) VALUES (src, d, what);
    END IF;
    RETURN NULL;
END
$fn$;

-- core.note_triggers(table, source, column, kind): the four triggers of a dated core table.
CREATE FUNCTION core.note_triggers(tab regclass, src text, col text, kind text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    EXECUTE format('CREATE TRIGGER note_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION core.note_changes(%L, %L, %L)', tab, src, col, kind);
    EXECUTE format('CREATE TRIGGER note_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION core.note_changes(%L, %L, %L)', tab, src, col, kind);
    EXECUTE format('CREATE TRIGGER note_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION core.note_changes(%L, %L, %L)', tab, src, col, kind);
    EXECUTE format('CREATE TRIGGER note_truncate AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION core.note_changes(%L)', tab, src);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER note_insert, ENABLE ALWAYS TRIGGER note_update, '
                   'ENABLE ALWAYS TRIGGER note_delete, ENABLE ALWAYS TRIGGER note_truncate', tab);
END
$fn$;

-- The partitioned table's triggers see every row written through core.energy_hourly; a write straight into one of
-- its partitions is not noted (the seed, which does so, notes a full rebuild itself).
SELECT core.note_triggers('core.energy_hourly', 'energy', 'hour_utc', 'hour');
SELECT core.note_triggers('core.grid_intensity_hourly', 'grid', 'hour_utc', 'hour');
SELECT core.note_triggers('core.waste_weighings', 'waste', 'collected_on', 'date');
SELECT core.note_triggers('core.mobility_daily', 'mobility', 'day', 'date');
DROP FUNCTION core.note_triggers(regclass, text, text, text);

-- A household's district, dwelling type or occupant band moves all of its cells; new record keys change every noise
-- it takes part in: both rebuild everything. (A new household has no data yet; a household can only be deleted once
-- its readings are, which were noted.)
CREATE TRIGGER note_household_update AFTER UPDATE OF district_id, dwelling_type, occupant_band ON core.households
    FOR EACH STATEMENT EXECUTE FUNCTION core.note_changes('all');
CREATE TRIGGER note_household_truncate AFTER TRUNCATE ON core.households
    FOR EACH STATEMENT EXECUTE FUNCTION core.note_changes('all');
CREATE TRIGGER note_record_keys_update AFTER UPDATE ON core.record_keys
    FOR EACH STATEMENT EXECUTE FUNCTION core.note_changes('all');
ALTER TABLE core.households ENABLE ALWAYS TRIGGER note_household_update, ENABLE ALWAYS TRIGGER note_household_truncate;
ALTER TABLE core.record_keys ENABLE ALWAYS TRIGGER note_record_keys_update;

-- What every rollup depends on besides dated data, as one hash: the disclosure parameters, each dataset's k and
-- dominance rule, the column scales, the emission factors and the districts. A release that finds it different from
-- the last release's rebuilds everything. The session settings that shape the text are fixed.
CREATE FUNCTION meta.release_fingerprint()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET DateStyle = 'ISO, YMD'
SET extra_float_digits = 1
AS $fn$
    SELECT md5(concat_ws(E'\n',
        (SELECT row(dc.*)::text FROM meta.disclosure_control dc),
        (SELECT string_agg(row(d.id, d.k, d.dominance_n, d.dominance_pct)::text, ',' ORDER BY d.id) FROM meta.datasets d),
        (SELECT string_agg(row(c.dataset_id, c.name, c.scale)::text, ',' ORDER BY c.dataset_id, c.name)
         FROM meta.dataset_columns c),
        (SELECT string_agg(row(f.*)::text, ',' ORDER BY f.factor_id) FROM core.emission_factors f),
        (SELECT string_agg(row(x.*)::text, ',' ORDER BY x.district_id) FROM core.districts x)))
$fn$;

-- One row, updated by every release: two releases cannot overlap (the second waits for the first), and a release
-- whose snapshot predates another release's commit fails with a serialization error instead of publishing older data.
-- built_fingerprint: meta.release_fingerprint() as the last release built everything against (NULL before the first).
CREATE TABLE meta.release_state (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_release bigint,
    built_fingerprint text
);
INSERT INTO meta.release_state DEFAULT VALUES;

-- What each release rebuilt: everything (full, with the reason) or the local days of the daily and hourly rollups and
-- the months of the monthly ones.
ALTER TABLE meta.releases
    ADD COLUMN full_rebuild boolean,
    ADD COLUMN full_reason text,
    ADD COLUMN days datemultirange,
    ADD COLUMN months datemultirange;

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

-- Rebuilds the rows of one rollup for the local days [lo, hi) ('-infinity' to 'infinity': all of them). A materialized
-- view is refreshed whole (its period is NULL): CONCURRENTLY (readers are not blocked and keep the previous rows until
-- commit) when it holds data, plainly when it has never been populated or is empty (nothing to read yet, and much
-- faster) or is not read by anyone (meta.rollups.concurrent = false). A table has the rows of the period deleted
-- (all of them: TRUNCATE when no reader queries it) and inserted again from its builder; after a whole rebuild it is
-- analyzed, so the rollups built from it next are planned on its statistics. Returns the rows written (NULL for a
-- materialized view).
-- JIT compilation is off for a release: its queries are costed far above jit_above_cost, and compiling them with
-- inlining and optimization took longer than running them (at demo scale 7 s of JIT for a 1 s query; 25 s of a
-- 115 s release on this machine), while the big aggregations gained little from it. Hash tables may take 4 x work_mem
-- (hash_mem_multiplier): the planner expects a group per row where it cannot tell how many (households x months x
-- modes: 2.3 M expected, 193,000 there) and, finding no room for the hash table, sorted every row on disk instead
-- (mobility_monthly took twice the CPU); a hash aggregate that does outgrow its memory spills in batches.
CREATE FUNCTION meta.rebuild_rollup(rollup_name text, lo date, hi date)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET hash_mem_multiplier = 4
AS $fn$
DECLARE
    r meta.rollups%ROWTYPE;
    populated boolean;
    has_rows boolean;
    whole boolean := lo = '-infinity' AND hi = 'infinity';
    n bigint;
BEGIN
    SELECT * INTO r FROM meta.rollups x WHERE x.name = rollup_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not a rollup: %', rollup_name;
    END IF;
    IF r.period IS NULL THEN
        SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = rollup_name::regclass AND c.relkind = 'm';
        IF populated IS NULL THEN
            RAISE EXCEPTION 'not a materialized view: %', rollup_name;
        END IF;
        IF populated THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', rollup_name::regclass) INTO has_rows;
        END IF;
        IF populated AND has_rows AND r.concurrent THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', rollup_name::regclass);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW %s', rollup_name::regclass);
        END IF;
        RETURN NULL;
    END IF;
    IF whole AND NOT r.concurrent THEN
        EXECUTE format('TRUNCATE %s', rollup_name::regclass);
    ELSE
        EXECUTE format('DELETE FROM %s WHERE %s', rollup_name::regclass, r.delete_where) USING lo, hi;
    END IF;
    EXECUTE format('INSERT INTO %s SELECT * FROM %s_rows($1, $2)', rollup_name::regclass, rollup_name) USING lo, hi;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF whole THEN
        EXECUTE format('ANALYZE %s', rollup_name::regclass);
    END IF;
    RETURN n;
END
$fn$;

-- Rebuilds one rollup whole (as a first release does).
CREATE FUNCTION meta.refresh_rollup(rollup_name text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT meta.rebuild_rollup(rollup_name, '-infinity', 'infinity');
$fn$;

-- One rollup of a release: whole when the release rebuilds everything, else the release's local days (a daily or
-- hourly table) or months (a monthly one), one contiguous range at a time; a materialized view is refreshed whole
-- every time. Returns the rows written (NULL for a materialized view).
CREATE FUNCTION meta.release_rollup(release bigint, rollup_name text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rel meta.releases%ROWTYPE;
    per text;
    rg daterange;
    n bigint := 0;
BEGIN
    SELECT * INTO rel FROM meta.releases x WHERE x.release_id = release;
    SELECT x.period INTO per FROM meta.rollups x WHERE x.name = rollup_name;
    IF rel.full_rebuild IS NULL THEN
        RAISE EXCEPTION 'release % was not begun by meta.release_begin', release;
    END IF;
    IF per IS NULL OR rel.full_rebuild THEN
        RETURN meta.rebuild_rollup(rollup_name, '-infinity', 'infinity');
    END IF;
    FOR rg IN SELECT u FROM unnest(CASE per WHEN 'day' THEN rel.days ELSE rel.months END) u LOOP
        n := n + meta.rebuild_rollup(rollup_name, lower(rg), upper(rg));
    END LOOP;
    RETURN n;
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
-- rollup built in it sees the same snapshot of core. Checks the requested dataset ids (NULL = all; an unknown id
-- raises 42704), waits for a release in progress and fails (40001) if another release committed after this
-- transaction's snapshot was taken. Decides what the release rebuilds and records it in its meta.releases row:
-- everything when full_rebuild is asked for, for the first release, when the fingerprint (meta.release_fingerprint) differs
-- from the last release's or a noted change says so; else the local days of the noted energy changes (a grid change:
-- its whole months) for the daily and hourly rollups, and the months of all noted changes for the monthly ones —
-- nothing when nothing changed. Takes the noted changes it saw (a change committed later stays for the next release).
-- Returns the new release id.
CREATE FUNCTION meta.release_begin(requested text[] DEFAULT NULL, full_rebuild boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    unknown text;
    rid bigint;
    fp text := meta.release_fingerprint();
    built text;
    reason text;
    d_energy datemultirange;
    d_grid datemultirange;
    d_other datemultirange;
    everything text;
    d_days datemultirange;
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
    SELECT s.built_fingerprint INTO built FROM meta.release_state s;
    UPDATE meta.release_state SET last_release = rid, built_fingerprint = fp;
    -- every household has its record keys (the insert trigger draws them; this catches any load that bypassed it)
    PERFORM core.record_keys_fill();
    WITH taken AS (DELETE FROM meta.pending_changes RETURNING source, days, what)
    SELECT range_agg(u) FILTER (WHERE t.source = 'energy'), range_agg(u) FILTER (WHERE t.source = 'grid'),
           range_agg(u) FILTER (WHERE t.source IN ('waste', 'mobility')),
           string_agg(DISTINCT t.what, ', ') FILTER (WHERE t.source = 'all')
    INTO d_energy, d_grid, d_other, everything
    FROM taken t LEFT JOIN LATERAL unnest(t.days) u ON true;
    reason := CASE WHEN full_rebuild THEN 'asked for'
                   WHEN built IS NULL THEN 'first release'
                   WHEN built <> fp THEN 'disclosure parameters, k, dominance, scales, emission factors or districts changed'
                   WHEN everything IS NOT NULL THEN everything END;
    IF reason IS NOT NULL THEN
        UPDATE meta.releases SET full_rebuild = true, full_reason = reason WHERE release_id = rid;
        RETURN rid;
    END IF;
    -- a grid hour moves its month's dirtiest-quarter threshold: the whole local month
    d_days := coalesce(d_energy, '{}') + coalesce((SELECT range_agg(rollup.month_range(u)) FROM unnest(d_grid) u), '{}');
    UPDATE meta.releases
    SET full_rebuild = false, days = d_days,
        months = (SELECT coalesce(range_agg(rollup.month_range(u)), '{}') FROM unnest(d_days + coalesce(d_other, '{}')) u)
    WHERE release_id = rid;
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
-- REPEATABLE READ: BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM meta.release(); COMMIT; full_rebuild => true rebuilds
-- everything whatever changed.
CREATE FUNCTION meta.release(requested text[] DEFAULT NULL, full_rebuild boolean DEFAULT false)
RETURNS TABLE (dataset_id text, version bigint, changed boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rid bigint := meta.release_begin(requested, full_rebuild);
    r record;
BEGIN
    FOR r IN SELECT ro.name FROM meta.rollups ro ORDER BY ro.refresh_order LOOP
        PERFORM meta.release_rollup(rid, r.name);
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
REVOKE ALL ON meta.rollups, meta.release_state, meta.dataset_linked_sets, meta.pending_changes FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION meta.rebuild_rollup(text, date, date), meta.refresh_rollup(text),
    meta.release_rollup(bigint, text), meta.dataset_content_hash(text), meta.release_begin(text[], boolean),
    meta.release_publish(bigint), meta.release(text[], boolean), meta.release_fingerprint(), core.note_changes()
    FROM PUBLIC;
