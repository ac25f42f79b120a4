-- Monthly partitions of core.energy_hourly under pg_partman (0028_energy_partman.sql), and the retention of raw
-- readings: partman's configuration, partition names and bounds, premade months, readings of any month accepted in the
-- caller's transaction, a partition of the old naming adopted with its rows, retention dropping only the months past
-- the horizon that no release still needs, the published rows of the retired months kept by a full rebuild (and
-- shown lost without the release floor), an incremental release after maintenance equal to a full rebuild, and the
-- privileges.
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT plan(37);
SET LOCAL work_mem = '256MB';
SET LOCAL client_min_messages = warning;

\ir helpers.psql

-- pg_temp.parts(): the partitions of core.energy_hourly with their bounds (NULL for the DEFAULT partition).
CREATE FUNCTION pg_temp.parts() RETURNS TABLE (name text, lo timestamptz, hi timestamptz) LANGUAGE sql AS $$
    SELECT c.relname::text,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$FROM \('([^']+)'\)$re$))[1]::timestamptz,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$TO \('([^']+)'\)$re$))[1]::timestamptz
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'core.energy_hourly'::regclass
$$;
-- pg_temp.snapshot(prefix): copies every table rollup into a temporary table <prefix>_<name>.
CREATE FUNCTION pg_temp.snapshot(prefix text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    FOR t IN SELECT name FROM meta.rollups WHERE period IS NOT NULL LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I', prefix || '_' || split_part(t, '.', 2));
        EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM %s', prefix || '_' || split_part(t, '.', 2), t);
    END LOOP;
END
$$;
-- pg_temp.differs(prefix): the table rollups whose rows differ from the snapshot, with the number of rows; NULL: none.
CREATE FUNCTION pg_temp.differs(prefix text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(name || ': ' || n, ', ' ORDER BY name)
    FROM (SELECT name, pg_temp.rollup_diff(name::regclass, (prefix || '_' || split_part(name, '.', 2))::regclass) AS n
          FROM meta.rollups WHERE period IS NOT NULL) x
    WHERE n > 0
$$;

-- pg_temp.before_floor_diff(name): rows of the monthly rollup rollup.<name> before the release floor that differ from
-- the snapshot frozen_<name> (either way).
CREATE FUNCTION pg_temp.before_floor_diff(name text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((SELECT * FROM rollup.%1$I WHERE month < $1 EXCEPT ALL SELECT * FROM %2$I WHERE month < $1)'
                   ' UNION ALL (SELECT * FROM %2$I WHERE month < $1 EXCEPT ALL SELECT * FROM rollup.%1$I WHERE month < $1)) x',
                   name, 'frozen_' || name)
        INTO n USING (SELECT first_month FROM meta.release_floor());
    RETURN n;
END
$$;

-- ---- partman's configuration and the partitions -----------------------------------------------------------------------
SELECT ok(EXISTS (SELECT 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                  WHERE e.extname = 'pg_partman' AND n.nspname = 'partman'), 'pg_partman is installed in schema partman');
SELECT is((SELECT format('%s %s %s premake=%s infinite=%s maintenance=%s retention=%s keep_table=%s %s', control,
                         partition_type, partition_interval, premake, infinite_time_partitions, automatic_maintenance,
                         coalesce(retention, 'none'), retention_keep_table, datetime_string)
           FROM partman.part_config WHERE parent_table = 'core.energy_hourly'),
          'hour_utc native 1 mon premake=4 infinite=t maintenance=off retention=none keep_table=f YYYY_MM',
          'partman manages core.energy_hourly: native monthly partitions on hour_utc, 4 premade, maintenance and retention only through core.energy_maintenance');
SELECT is((SELECT array_agg(name ORDER BY name) FROM pg_temp.parts()
           WHERE lo IS NULL OR lo <> date_trunc('month', lo AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
              OR hi <> ((lo AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
              OR name <> 'energy_hourly_p' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM')),
          ARRAY['energy_hourly_default'],
          'every partition is a UTC month named energy_hourly_pYYYY_MM after it (the seed''s naming), besides the DEFAULT one');
SELECT is((SELECT count(*) FROM core.energy_hourly_default), 0::bigint, 'the DEFAULT partition is empty');
SELECT is((SELECT count(DISTINCT tableoid) FROM core.energy_hourly),
          (SELECT count(*) FROM (SELECT min(hour_utc) AS lo, max(hour_utc) AS hi FROM core.energy_hourly) x,
                  generate_series(date_trunc('month', lo AT TIME ZONE 'UTC'), date_trunc('month', hi AT TIME ZONE 'UTC'), interval '1 month') m),
          'the seeded readings lie in one partition per month they span');

-- ---- premade months, and readings of any month --------------------------------------------------------------------
CREATE TEMP TABLE m0 ON COMMIT DROP AS SELECT * FROM core.energy_maintenance();
SELECT is((SELECT count(*) FROM generate_series(0, 4) k
           WHERE to_regclass('core.energy_hourly_p' || to_char(now() AT TIME ZONE 'UTC' + make_interval(months => k), 'YYYY_MM')) IS NULL),
          0::bigint, 'after maintenance the current month and the next 4 have their partitions');
SELECT is((SELECT retired FROM m0), 0, 'without a retention nothing is dropped');

CREATE TEMP TABLE fx ON COMMIT DROP AS
    SELECT (SELECT household_id FROM core.households ORDER BY household_id LIMIT 1) AS h1,
           (SELECT min(hour_utc) FROM core.energy_hourly) AS first_hour,
           (SELECT max(hour_utc) FROM core.energy_hourly) AS last_hour,
           (SELECT count(*) FROM core.energy_hourly) AS n_readings;
SELECT is(core.ensure_energy_partitions('2099-07-15 10:00+00', '2099-07-15 10:00+00'), 1, 'a month far in the future gets its partition');
SELECT is(core.ensure_energy_partitions('1975-03-01 00:00+00', '1975-03-31 23:00+00'), 1, 'so does one far in the past');
SELECT is(core.ensure_energy_partitions('1975-03-01 00:00+00', '1975-03-31 23:00+00'), 0, '... once');
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT h1, t, 100, 200, 1 FROM fx, unnest(ARRAY['2099-07-15 10:00+00', '1975-03-01 00:00+00']::timestamptz[]) t;
SELECT is((SELECT array_agg(tableoid::regclass::text ORDER BY hour_utc) FROM core.energy_hourly
           WHERE hour_utc IN ('2099-07-15 10:00+00', '1975-03-01 00:00+00')),
          ARRAY['core.energy_hourly_p1975_03', 'core.energy_hourly_p2099_07'], '... and the readings land in them, not in DEFAULT');

-- ---- a partition of the old naming (0001's energy_hourly_YYYYMM) adopted with its rows ----------------------------------
CREATE TABLE core.energy_hourly_199001 PARTITION OF core.energy_hourly
    FOR VALUES FROM ('1990-01-01 00:00+00') TO ('1990-02-01 00:00+00');
ALTER TABLE core.energy_hourly_199001 OWNER TO klima_owner;
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT h1, '1990-01-01 00:00+00'::timestamptz + make_interval(hours => k), k, 2 * k, 1 FROM fx, generate_series(0, 47) k;
SELECT is(core.energy_partitions_adopt(), 1, 'core.energy_partitions_adopt renames a partition of the old naming');
SELECT is((SELECT format('%s %s %s', to_regclass('core.energy_hourly_199001'), to_regclass('core.energy_hourly_p1990_01'),
                         (SELECT conname FROM pg_constraint WHERE conrelid = 'core.energy_hourly_p1990_01'::regclass AND contype = 'p'))),
          ' core.energy_hourly_p1990_01 energy_hourly_p1990_01_pkey', '... to partman''s name, its primary key with it');
SELECT is((SELECT format('%s %s', count(*), sum(electricity_wh)) FROM core.energy_hourly_p1990_01), '48 1128',
          '... keeping its rows');
SELECT ok((SELECT bool_or(partition_tablename = 'energy_hourly_p1990_01') FROM partman.show_partitions('core.energy_hourly')),
          '... and partman lists it among the partitions it manages');

-- publish those readings (the release takes their noted changes)
CREATE TEMP TABLE r1 ON COMMIT DROP AS SELECT * FROM meta.release();
SELECT is((SELECT count(*) FROM meta.pending_changes), 0::bigint, 'a release took the noted changes');

-- ---- retention ----------------------------------------------------------------------------------------------------------
-- The horizon: the readings' first three whole UTC months (and everything before) are past it.
ALTER TABLE fx ADD COLUMN horizon timestamptz, ADD COLUMN as_of timestamptz;
UPDATE fx SET horizon = (date_trunc('month', first_hour AT TIME ZONE 'UTC') + interval '4 months') AT TIME ZONE 'UTC';
UPDATE fx SET as_of = ((horizon AT TIME ZONE 'UTC') + interval '25 months' + interval '1 hour') AT TIME ZONE 'UTC';
SELECT throws_ok('SELECT core.energy_maintenance(24)', '22023', NULL, 'a retention under 25 months is refused');

-- a change noted as 'all': the next release rebuilds everything, nothing is dropped before it
INSERT INTO meta.pending_changes (source, what) VALUES ('all', 'test');
SELECT is((SELECT retired::text || ' ' || (held_back LIKE 'the next release rebuilds everything%')::text
           FROM core.energy_maintenance(25, (SELECT as_of FROM fx))),
          '0 true', 'retention drops nothing while the next release rebuilds everything');
DELETE FROM meta.pending_changes WHERE what = 'test';
-- a reading corrected in the second month: that local month and the ones after stay
UPDATE core.energy_hourly e SET electricity_wh = e.electricity_wh + 1000 FROM fx
WHERE e.household_id = fx.h1 AND e.hour_utc = (date_trunc('month', fx.first_hour AT TIME ZONE 'UTC') + interval '1 month 5 days 12 hours') AT TIME ZONE 'UTC';
CREATE TEMP TABLE m1 ON COMMIT DROP AS SELECT * FROM core.energy_maintenance(25, (SELECT as_of FROM fx));
SELECT ok((SELECT held_back LIKE 'changes noted since the last release reach back to %' FROM m1)
          AND to_regclass('core.energy_hourly_p' || to_char((SELECT first_hour FROM fx) AT TIME ZONE 'UTC', 'YYYY_MM')) IS NOT NULL
          AND (SELECT count(*) FROM core.energy_hourly, fx WHERE hour_utc >= fx.first_hour) = (SELECT n_readings + 1 FROM fx),
          'a change not yet released holds back its local month (and the first month, whose last hour starts it): no reading dropped');
SELECT ok((SELECT retired FROM m1) > 0 AND to_regclass('core.energy_hourly_p1975_03') IS NULL
          AND to_regclass('core.energy_hourly_p1990_01') IS NULL,
          '... while the months before it (1975, 1990, the empty ones) went');

-- released: now the horizon applies
CREATE TEMP TABLE r2 ON COMMIT DROP AS SELECT * FROM meta.release();
SELECT pg_temp.snapshot('before');
CREATE TEMP TABLE kept ON COMMIT DROP AS SELECT count(*) AS n FROM core.energy_hourly, fx WHERE hour_utc >= fx.horizon;
CREATE TEMP TABLE m2 ON COMMIT DROP AS SELECT * FROM core.energy_maintenance(25, (SELECT as_of FROM fx));
SELECT is((SELECT format('%s %s', retired > 0, held_back IS NULL) FROM m2), 't t', 'once released, the months past the horizon are dropped');
SELECT is((SELECT array_agg(name ORDER BY lo) FROM pg_temp.parts(), fx WHERE hi <= fx.horizon), NULL,
          'no partition ending at or before the horizon is left');
SELECT ok((SELECT min(lo) FROM pg_temp.parts()) = (SELECT horizon FROM fx)
          AND (SELECT retired_before FROM m2) = (SELECT horizon FROM fx),
          'the horizon''s month is kept, and meta.energy_retired ends at it');
SELECT is((SELECT count(*) FROM core.energy_hourly, fx WHERE hour_utc < fx.horizon), 0::bigint, 'no reading before the horizon is left');
SELECT is((SELECT count(*) FROM core.energy_hourly, fx WHERE hour_utc >= fx.horizon), (SELECT n FROM kept),
          'every reading from the horizon on is kept');
SELECT is((SELECT array_agg(partition_name ORDER BY month_start) FROM meta.energy_retired, fx WHERE month_end > fx.horizon), NULL,
          'meta.energy_retired lists only months before the horizon');

-- the published rows of the retired months stay: a full rebuild keeps every rollup row and every version
CREATE TEMP TABLE r3 ON COMMIT DROP AS SELECT * FROM meta.release(NULL, true);
SELECT is(pg_temp.differs('before'), NULL, 'a full rebuild after retention builds every rollup row as before (the retired periods untouched)');
SELECT is((SELECT count(*) FROM r3 WHERE changed), 0::bigint, '... and changes no dataset''s version');
-- the same without the release floor: the retired periods would be rebuilt from nothing
-- (a psql variable carries the finding out of the savepoint; pgTAP's own bookkeeping must not be rolled back)
SAVEPOINT no_floor;
DELETE FROM meta.energy_retired;
CREATE TEMP TABLE r4 ON COMMIT DROP AS SELECT * FROM meta.release(NULL, true);
SELECT pg_temp.differs('before') IS NOT NULL AND (SELECT count(*) FROM r4 WHERE changed) > 0 AS lost_without_floor \gset
ROLLBACK TO SAVEPOINT no_floor;
SELECT ok(:'lost_without_floor'::boolean,
          'without the floor (feature off) the same full rebuild loses the retired months'' rows and changes versions');

-- ---- an incremental release after maintenance equals a full rebuild --------------------------------------------------
-- a new day for every household, a corrected reading after the horizon, a late weighing before it (its month is final)
SELECT core.ensure_energy_partitions((SELECT last_hour FROM fx) + interval '1 hour', (SELECT last_hour FROM fx) + interval '24 hours');
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT h.household_id, fx.last_hour + make_interval(hours => i), 150 + (i * 37) % 400, 1800 + (i * 53) % 900, (i % 7)::real
    FROM core.households h, fx, generate_series(1, 24) i;
UPDATE core.energy_hourly e SET electricity_wh = e.electricity_wh + 777 FROM fx
WHERE e.household_id = fx.h1 AND e.hour_utc = fx.horizon + interval '40 days 6 hours';
INSERT INTO core.waste_weighings (household_id, collected_on, fraction, kg)
    SELECT fx.h1, (fx.first_hour AT TIME ZONE 'Europe/Copenhagen')::date + 20, 'hazardous', 3.5 FROM fx
    ON CONFLICT (household_id, collected_on, fraction) DO UPDATE SET kg = core.waste_weighings.kg + 3.5;
SELECT pg_temp.snapshot('frozen');
CREATE TEMP TABLE r5 ON COMMIT DROP AS SELECT * FROM meta.release();
SELECT is((SELECT format('%s %s', full_rebuild, lower(months) >= (SELECT first_month FROM meta.release_floor()))
           FROM meta.releases ORDER BY release_id DESC LIMIT 1),
          'f t', 'the release after maintenance rebuilt what changed, nothing before the release floor');
SELECT is((SELECT string_agg(t, ', ') FROM unnest(ARRAY['household_monthly', 'waste_monthly', 'footprint_monthly']) t
           WHERE pg_temp.before_floor_diff(t) > 0), NULL,
          'the late weighing of a retired month changed none of the monthly rows before the floor');
SELECT pg_temp.snapshot('inc');
CREATE TEMP TABLE r6 ON COMMIT DROP AS SELECT * FROM meta.release(NULL, true);
SELECT is(pg_temp.differs('inc'), NULL, 'every rollup row the incremental release built is the row a full rebuild builds');
SELECT is((SELECT count(*) FROM r6 WHERE changed), 0::bigint, '... and the full rebuild changes no version');

-- ---- a retired month is no longer accepted ----------------------------------------------------------------------------
SELECT throws_ok(format('SELECT core.ensure_energy_partitions(%L, %L)', (SELECT first_hour FROM fx), (SELECT first_hour FROM fx)),
                 '22023', NULL, 'a reading of a retired month is refused (its published rows are final)');

-- ---- privileges ---------------------------------------------------------------------------------------------------------
SELECT ok(NOT has_schema_privilege('klima_api', 'partman', 'USAGE') AND NOT has_schema_privilege('klima_ingest', 'partman', 'USAGE'),
          'neither klima_api nor klima_ingest reaches partman');
SELECT ok(has_function_privilege('klima_ingest', 'core.ensure_energy_partitions(timestamptz, timestamptz)', 'EXECUTE')
          AND NOT has_function_privilege('klima_ingest', 'core.energy_maintenance(integer, timestamptz)', 'EXECUTE')
          AND NOT has_function_privilege('klima_api', 'core.energy_maintenance(integer, timestamptz)', 'EXECUTE'),
          'klima_ingest may create the months it loads, not drop any; klima_api neither');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c
           WHERE (c.oid IN (SELECT to_regclass('core.' || name) FROM pg_temp.parts())
                  OR c.oid = 'partman.template_core_energy_hourly'::regclass)
             AND c.relowner <> 'klima_owner'::regrole),
          NULL, 'every partition, and partman''s template table, is klima_owner''s');

SELECT * FROM finish();
ROLLBACK;
