-- 0028_energy_partman — core.energy_hourly's monthly partitions managed by pg_partman; retention of raw readings.
--
-- pg_partman 4.7 (Debian's postgresql-15-partman) takes over the partitions 0001 made by hand: native range
-- partitioning by UTC month on hour_utc, partitions core.energy_hourly_pYYYY_MM (partman's names: it orders a set's
-- partitions by the name's suffix) and core.energy_hourly_default. An existing database keeps its data: its
-- energy_hourly_YYYYMM partitions are renamed (a catalog change, no copy) and the rows of its DEFAULT partition are
-- moved into their months' partitions in this transaction. core.ensure_energy_partitions keeps its name and its
-- promise (the month of any reading gets its partition in the caller's transaction) and now asks partman for them.
--
-- Retention: core.energy_maintenance(retention_months) runs partman's maintenance (premade months) and, when given a
-- retention, drops the months past it through partman.drop_partition_time — never a month the next release still
-- needs. A dropped month is recorded in meta.energy_retired; releases never rebuild a period that month fed, so its
-- published rows keep their values, noise and versions (a full rebuild included). partman's own retention setting
-- (part_config.retention) stays NULL and its automatic maintenance off for this table: no maintenance but this one
-- may drop a month, and partman's date arithmetic runs in the session's time zone, which only these functions fix to
-- UTC. sql/README.md "Monthly partitions and retention" has the policy.
--
-- pg_partman is not a trusted extension: a superuser runs this file (as locally), or creates it beforehand with
-- CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;

CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;

-- partman runs with its caller's rights: klima_owner (who owns core.energy_hourly) uses its configuration and creates its
-- template table in its schema. Nobody else reaches it.
REVOKE ALL ON SCHEMA partman FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA partman FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA partman FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA partman TO klima_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA partman TO klima_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO klima_owner;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA partman TO klima_owner;

SET LOCAL ROLE klima_owner;
-- partman computes month starts and partition names in the session's time zone; the partitions are UTC months.
SET LOCAL TimeZone = 'UTC';

-- The months of readings that retention dropped (one row per dropped partition). Releases never rebuild a local day or
-- month that starts before the end of the last of them (meta.release_floor).
CREATE TABLE meta.energy_retired (
    month_start timestamptz PRIMARY KEY,
    month_end timestamptz NOT NULL CHECK (month_end > month_start),
    partition_name text NOT NULL,
    retention_months integer NOT NULL,
    retired_at timestamptz NOT NULL DEFAULT now()
);

-- The first local day and the first local month a release may rebuild: those that start at or after the end of the
-- last retired month (whose first local hours lie in the retired UTC month are frozen too); '-infinity' when nothing
-- was retired.
CREATE FUNCTION meta.release_floor(OUT first_day date, OUT first_month date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH h AS (SELECT max(month_end) AS h FROM meta.energy_retired),
         l AS (SELECT h, (h AT TIME ZONE 'Europe/Copenhagen')::date AS d FROM h),
         m AS (SELECT h, d, make_date(extract(year FROM d)::integer, extract(month FROM d)::integer, 1) AS m FROM l)
    SELECT CASE WHEN h IS NULL THEN '-infinity'::date WHEN rollup.local_start(d) >= h THEN d ELSE d + 1 END,
           CASE WHEN h IS NULL THEN '-infinity'::date WHEN rollup.local_start(m) >= h THEN m
                ELSE (m + interval '1 month')::date END
    FROM m
$fn$;

-- Creates the missing monthly partitions covering [from_ts, to_ts] (UTC months, both ends inclusive) through
-- partman.create_partition_time, in the caller's transaction. Returns the number created. A month before the end of
-- the last retired month is refused (SQLSTATE 22023): its readings were dropped by retention and its published rows
-- are final. SECURITY DEFINER so klima_ingest (and a seed) can call it while the partitions stay klima_owner's;
-- serialised with an advisory lock so concurrent loaders do not collide.
CREATE OR REPLACE FUNCTION core.ensure_energy_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET TimeZone = 'UTC'
AS $fn$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    n_before integer;
    n_after integer;
    retired_end timestamptz;
BEGIN
    -- A fixed search_path, set here rather than by a SET clause: partman sets search_path for the session and, when it
    -- returns, sets it back to what it found — a session-level change that would outlive a SET clause and leave the
    -- caller with this function's path. It is given back at the end (an error reverts it with the transaction).
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false);
    IF from_ts IS NULL OR to_ts IS NULL OR to_ts < from_ts THEN
        RAISE EXCEPTION 'ensure_energy_partitions: invalid range % .. %', from_ts, to_ts;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('core.ensure_energy_partitions'));
    SELECT max(month_end) INTO retired_end FROM meta.energy_retired;
    IF from_ts < retired_end THEN
        RAISE EXCEPTION 'readings before % were retired (retention): the months up to then are no longer kept', retired_end
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'sql/README.md "Monthly partitions and retention"';
    END IF;
    SELECT count(*) INTO n_before FROM pg_inherits WHERE inhparent = 'core.energy_hourly'::regclass;
    -- partman names each month's partition and skips the ones that exist
    PERFORM partman.create_partition_time('core.energy_hourly',
                                          ARRAY(SELECT generate_series(date_trunc('month', from_ts), date_trunc('month', to_ts),
                                                                       interval '1 month')),
                                          p_analyze => false);
    SELECT count(*) INTO n_after FROM pg_inherits WHERE inhparent = 'core.energy_hourly'::regclass;
    PERFORM pg_catalog.set_config('search_path', caller_path, false);
    RETURN n_after - n_before;
END
$fn$;

-- The partition maintenance of core.energy_hourly, run by `klimaspejl refresh` after each release (and callable from
-- SQL by klima_owner): partman.run_maintenance premakes the coming months (premake 4, infinite_time_partitions), then,
-- when retention_months is given (at least 25: the citizen routes read 24 months back, and the current one), the
-- partitions whose whole UTC month ended more than retention_months before as_of are dropped with
-- partman.drop_partition_time — but never one that the next release still needs:
-- - nothing, before the first release, or when the next release rebuilds everything (a change noted as 'all', or a
--   fingerprint that differs from the last release's: such a release recomputes every month);
-- - nothing from the local month of the earliest change noted since the last release on (its days and months are
--   rebuilt from the readings).
-- Each dropped month goes into meta.energy_retired. Returns one row: partitions created, partitions dropped, the end of
-- the retired months (NULL: none), and why retention held back, if it did.
CREATE FUNCTION core.energy_maintenance(retention_months integer DEFAULT NULL, as_of timestamptz DEFAULT now(),
                                        OUT created integer, OUT retired integer, OUT retired_before timestamptz,
                                        OUT held_back text)
LANGUAGE plpgsql
SECURITY DEFINER
SET TimeZone = 'UTC'
AS $fn$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    n_before integer;
    cutoff timestamptz;
    needed timestamptz;
    first_pending date;
    everything boolean;
    names text[];
    los timestamptz[];
    his timestamptz[];
BEGIN
    -- fixed here, given back at the end: see core.ensure_energy_partitions
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false);
    IF retention_months IS NOT NULL AND retention_months < 25 THEN
        RAISE EXCEPTION 'retention_months: at least 25 (the citizen routes read 24 months back, and the current one)'
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'retention_months';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('core.ensure_energy_partitions'));
    SELECT count(*) INTO n_before FROM pg_inherits WHERE inhparent = 'core.energy_hourly'::regclass;
    PERFORM partman.run_maintenance('core.energy_hourly', p_analyze => false, p_jobmon => false);
    SELECT count(*) - n_before INTO created FROM pg_inherits WHERE inhparent = 'core.energy_hourly'::regclass;
    retired := 0;

    IF retention_months IS NOT NULL THEN
        -- a month goes once all of its hours are more than retention_months old
        cutoff := as_of - make_interval(months => retention_months);
        SELECT s.built_fingerprint IS NULL OR s.built_fingerprint <> meta.release_fingerprint()
               OR EXISTS (SELECT 1 FROM meta.pending_changes c WHERE c.source = 'all')
        INTO everything FROM meta.release_state s;
        SELECT min(lower(u)) INTO first_pending FROM meta.pending_changes c, unnest(c.days) u;
        IF everything THEN
            held_back := 'the next release rebuilds everything (no release yet, a change of everything noted, or new '
                         'parameters): no month is dropped before it';
            cutoff := NULL;
        ELSIF first_pending IS NOT NULL THEN
            -- the local month of the earliest noted change starts there (its first hours may lie in the UTC month before)
            needed := rollup.local_start(make_date(extract(year FROM first_pending)::integer,
                                                   extract(month FROM first_pending)::integer, 1));
            IF needed < cutoff THEN
                held_back := format('changes noted since the last release reach back to %s: kept from that local month on',
                                    first_pending);
                cutoff := needed;
            END IF;
        END IF;
        IF cutoff IS NOT NULL THEN
            -- the set's partitions with their bounds, before partman drops those whose end is before its reference
            -- minus the retention (here: the cutoff minus nothing)
            SELECT array_agg(s.partition_tablename), array_agg(i.child_start_time), array_agg(i.child_end_time)
            INTO names, los, his
            FROM partman.show_partitions('core.energy_hourly') s,
                 partman.show_partition_info('core.' || s.partition_tablename, p_parent_table => 'core.energy_hourly') i;
            PERFORM partman.drop_partition_time('core.energy_hourly', p_retention => interval '0',
                                                p_keep_table => false, p_reference_timestamp => cutoff);
            FOR k IN 1 .. coalesce(array_length(names, 1), 0) LOOP
                CONTINUE WHEN to_regclass(format('core.%I', names[k])) IS NOT NULL;
                INSERT INTO meta.energy_retired (month_start, month_end, partition_name, retention_months)
                VALUES (los[k], his[k], names[k], energy_maintenance.retention_months);
                retired := retired + 1;
            END LOOP;
        END IF;
    END IF;
    SELECT max(month_end) INTO retired_before FROM meta.energy_retired;
    PERFORM pg_catalog.set_config('search_path', caller_path, false);
END
$fn$;

-- Adopts partitions made before partman: core.energy_hourly_YYYYMM becomes core.energy_hourly_pYYYY_MM (its primary
-- key constraint and index with it). A catalog change, no copy. Refuses a partition that is not a UTC month or that
-- neither naming describes. Returns the number renamed.
CREATE FUNCTION core.energy_partitions_adopt()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $fn$
DECLARE
    p record;
    lo timestamptz;
    hi timestamptz;
    new_name text;
    n integer := 0;
BEGIN
    FOR p IN SELECT c.relname::text AS relname, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'core.energy_hourly'::regclass ORDER BY c.relname LOOP
        CONTINUE WHEN p.bound = 'DEFAULT';
        lo := (regexp_match(p.bound, $re$FROM \('([^']+)'\)$re$))[1]::timestamptz;
        hi := (regexp_match(p.bound, $re$TO \('([^']+)'\)$re$))[1]::timestamptz;
        IF lo IS NULL OR hi IS NULL OR lo <> date_trunc('month', lo) OR hi <> lo + interval '1 month' THEN
            RAISE EXCEPTION 'core.%: not a UTC month (%); partman cannot adopt it', p.relname, p.bound;
        END IF;
        new_name := 'energy_hourly_p' || to_char(lo, 'YYYY_MM');
        CONTINUE WHEN p.relname = new_name;
        IF p.relname <> 'energy_hourly_' || to_char(lo, 'YYYYMM') THEN
            RAISE EXCEPTION 'core.%: holds % but is named neither energy_hourly_% nor %', p.relname, p.bound,
                to_char(lo, 'YYYYMM'), new_name;
        END IF;
        EXECUTE format('ALTER TABLE core.%I RENAME TO %I', p.relname, new_name);
        IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = format('core.%I', new_name)::regclass
                                                 AND conname = p.relname || '_pkey') THEN
            EXECUTE format('ALTER TABLE core.%I RENAME CONSTRAINT %I TO %I', new_name, p.relname || '_pkey',
                           new_name || '_pkey');
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$fn$;

-- The adoption itself. partman.create_parent makes the DEFAULT partition — unless every month of its range (4 before
-- and 4 after today) already exists, when it creates nothing and warns "No child tables created" — so the old DEFAULT
-- partition steps aside: its rows (none, normally: a reading's month always got its partition) wait in a temporary
-- table, and it comes back (empty) only when partman made no new one. The rows return through the partitioned table
-- once their months have partitions (the change triggers note them: the next release rebuilds those days, to the same
-- rows).
SELECT core.energy_partitions_adopt();
CREATE TEMP TABLE energy_default_rows ON COMMIT DROP AS SELECT * FROM core.energy_hourly_default;
ALTER TABLE core.energy_hourly DETACH PARTITION core.energy_hourly_default;
ALTER TABLE core.energy_hourly_default RENAME TO energy_hourly_default_0027;
TRUNCATE core.energy_hourly_default_0027;
DO $idx$
DECLARE
    i record;
BEGIN
    -- its indexes (standalone since the detach) would hold the names a new DEFAULT partition's indexes take
    FOR i IN SELECT x.indexrelid::regclass AS idx, c.conname FROM pg_index x
             LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
             WHERE x.indrelid = 'core.energy_hourly_default_0027'::regclass LOOP
        IF i.conname IS NOT NULL THEN
            EXECUTE format('ALTER TABLE core.energy_hourly_default_0027 DROP CONSTRAINT %I', i.conname);
        ELSE
            EXECUTE format('DROP INDEX %s', i.idx);
        END IF;
    END LOOP;
END
$idx$;
SELECT partman.create_parent(p_parent_table => 'core.energy_hourly', p_control => 'hour_utc', p_type => 'native',
                             p_interval => 'monthly', p_premake => 4, p_jobmon => false);
DO $default$
BEGIN
    IF to_regclass('core.energy_hourly_default') IS NULL THEN
        ALTER TABLE core.energy_hourly_default_0027 RENAME TO energy_hourly_default;
        ALTER TABLE core.energy_hourly ATTACH PARTITION core.energy_hourly_default DEFAULT;
    ELSE
        DROP TABLE core.energy_hourly_default_0027;
    END IF;
END
$default$;
UPDATE partman.part_config
SET infinite_time_partitions = true, -- premake from today, even when the newest readings are older
    automatic_maintenance = 'off',   -- only core.energy_maintenance maintains it (in UTC, with its retention guard)
    retention = NULL,                -- the retention is core.energy_maintenance's argument, never partman's own
    retention_keep_table = false     -- a retired month is dropped, not kept as a detached table
WHERE parent_table = 'core.energy_hourly';
SELECT core.ensure_energy_partitions(m, m)
FROM (SELECT DISTINCT date_trunc('month', hour_utc) AS m FROM energy_default_rows) x ORDER BY m;
INSERT INTO core.energy_hourly SELECT * FROM energy_default_rows;

-- Releases never rebuild a period before the release floor: the replacements of 0008's release_rollup and
-- release_begin, changed only there.
CREATE OR REPLACE FUNCTION meta.release_rollup(release bigint, rollup_name text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rel meta.releases%ROWTYPE;
    per text;
    rg daterange;
    lo date;
    n bigint := 0;
BEGIN
    SELECT * INTO rel FROM meta.releases x WHERE x.release_id = release;
    SELECT x.period INTO per FROM meta.rollups x WHERE x.name = rollup_name;
    IF rel.full_rebuild IS NULL THEN
        RAISE EXCEPTION 'release % was not begun by meta.release_begin', release;
    END IF;
    IF per IS NULL THEN
        RETURN meta.rebuild_rollup(rollup_name, '-infinity', 'infinity');
    END IF;
    -- the periods retired readings fed keep their published rows
    SELECT CASE per WHEN 'day' THEN f.first_day ELSE f.first_month END INTO lo FROM meta.release_floor() f;
    IF rel.full_rebuild THEN
        RETURN meta.rebuild_rollup(rollup_name, lo, 'infinity');
    END IF;
    FOR rg IN SELECT u FROM unnest(CASE per WHEN 'day' THEN rel.days ELSE rel.months END
                                   * datemultirange(daterange(lo, NULL))) u LOOP
        n := n + meta.rebuild_rollup(rollup_name, lower(rg), upper(rg));
    END LOOP;
    RETURN n;
END
$fn$;

CREATE OR REPLACE FUNCTION meta.release_begin(requested text[] DEFAULT NULL, full_rebuild boolean DEFAULT false)
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
    fl record;
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
    -- nothing before the release floor (retired readings: those periods keep their published rows)
    SELECT * INTO fl FROM meta.release_floor();
    UPDATE meta.releases
    SET full_rebuild = false, days = d_days * datemultirange(daterange(fl.first_day, NULL)),
        months = (SELECT coalesce(range_agg(rollup.month_range(u)), '{}') FROM unnest(d_days + coalesce(d_other, '{}')) u)
                 * datemultirange(daterange(fl.first_month, NULL))
    WHERE release_id = rid;
    RETURN rid;
END
$fn$;

RESET ROLE;

REVOKE ALL ON meta.energy_retired FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION meta.release_floor(), core.energy_maintenance(integer, timestamptz),
    core.energy_partitions_adopt() FROM PUBLIC;
-- klima_ingest keeps creating the months it loads (ingest, a seed as klima_ingest); maintenance is the owner's.
GRANT EXECUTE ON FUNCTION core.ensure_energy_partitions(timestamptz, timestamptz) TO klima_ingest;
