-- 0004_disclosure_control — the Cell Key Method (CKM) that perturbs every published count and magnitude (DESIGN
-- section 3 "Disclosure control"; ABS: Thompson, Broadfoot & Elazar 2013; Destatis: Giessing & Tent 2019).
--
--   meta.disclosure_control  one row of public parameters: whether the cell-key noise is on (cell_key_enabled) and
--                            the existence rule (existence_enabled; both switched off only in tests), the count
--                            table's maximum deviation D and variance V, the magnitude table's D and V and the
--                            multiplier m, p of the p%-rule the parameters are chosen for (read at every release and
--                            recorded with every version it publishes), and the smallest comparison group of the
--                            citizen summary (comparison_min).
--   core.record_keys         per household, secret and permanent: a random count key in [0, 2^31) and four random
--                            magnitude keys, drawn from PostgreSQL's strong random source (gen_random_uuid) when the
--                            household is inserted. Never derived from public data; klima_api and klima_ingest cannot
--                            read them.
--   rollup.ptable            the perturbation tables: 65,536 slots per kind ('count', 'magnitude'), each holding the
--                            noise of the cell keys falling into it; built from the parameters (maximum-entropy
--                            distribution on the grid, mean 0, variance V, |noise| <= D), rebuilt when they change.
--
-- How a cell is perturbed (the district cell rollups, 0006_district_cells.sql):
--   count:      cell key = (sum of the contributors' count keys) mod 2^31, scaled to [0, 1); its slot gives the
--               integer noise c, |c| <= count_d; published n = max(n + c, k). The same set of households has the same
--               cell key and so the same noise in every table and release; one household more or less gives a new key.
--   magnitude:  per contributor a key (k_i * its contribution in thousandths of the published unit + k_0) mod 2^31,
--               summed over the cell and hashed with a salt of the table and measure (hashint8extended) into a slot;
--               the slot gives u, |u| <= magnitude_d, and the published value is x + m * u * x_max, x_max being the
--               cell's largest single-household contribution. So the bound is |published - true| <= m * D * x_max,
--               a dominant household is covered by noise in proportion to itself, and the key changes whenever a
--               contributor is added or removed OR any contributor's value changes: a corrected reading (same
--               households, new value) gets fresh noise instead of showing the correction as the difference of two
--               releases, while an unchanged cell keeps its noise (nothing to average across releases).

SET LOCAL ROLE klima_owner;

CREATE TABLE meta.disclosure_control (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    cell_key_enabled boolean NOT NULL DEFAULT true,
    -- the existence rule: a key combination held by fewer than k households is not listed at all (false only in tests
    -- of the audit, which then must find what the rule hides)
    existence_enabled boolean NOT NULL DEFAULT true,
    count_d integer NOT NULL DEFAULT 2 CHECK (count_d BETWEEN 1 AND 20),
    count_v double precision NOT NULL DEFAULT 1.0,
    magnitude_d double precision NOT NULL DEFAULT 1.0 CHECK (magnitude_d > 0),
    magnitude_v double precision NOT NULL DEFAULT 0.25,
    magnitude_m double precision NOT NULL DEFAULT 0.5 CHECK (magnitude_m > 0 AND magnitude_m <= 1),
    p_pct numeric NOT NULL DEFAULT 15 CHECK (p_pct > 0 AND p_pct < 100),
    -- the smallest group a citizen's summary compares a household with (median, 20th percentile, rank); below it the
    -- summary shows no comparison and says why (api.me_summary)
    comparison_min integer NOT NULL DEFAULT 50 CHECK (comparison_min >= 2),
    -- a variance at or above the uniform distribution's on the grid has no maximum-entropy table with mean 0
    CHECK (count_v > 0 AND count_v < count_d * (count_d + 1) / 3.0),
    CHECK (magnitude_v > 0 AND magnitude_v < magnitude_d * magnitude_d / 3.0)
);
INSERT INTO meta.disclosure_control DEFAULT VALUES;

COMMENT ON TABLE meta.disclosure_control IS
    'Cell Key Method parameters (one row). UPDATE ... SET cell_key_enabled = false, then klimaspejl refresh, publishes '
    'without cell-key noise (for tests); existence_enabled = false lists the cells of fewer than k households as '
    'suppressed rows (for tests); k, dominance and secondary suppression stay.';

CREATE TABLE core.record_keys (
    household_id uuid PRIMARY KEY REFERENCES core.households ON DELETE CASCADE,
    count_key integer NOT NULL CHECK (count_key >= 0),            -- [0, 2^31)
    k0 integer NOT NULL CHECK (k0 >= 0),                          -- [0, 2^31): offset of every magnitude key
    k1 integer NOT NULL CHECK (k1 > 0 AND k1 < 1048576),          -- [1, 2^20): multiplier of a cell's 1st measure
    k2 integer NOT NULL CHECK (k2 > 0 AND k2 < 1048576),          -- 2nd measure
    k3 integer NOT NULL CHECK (k3 > 0 AND k3 < 1048576),          -- 3rd measure
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE core.record_keys IS
    'Secret, permanent Cell Key Method keys of each household (random, never derived from public data).';

-- 31 random bits from PostgreSQL's strong random source: the first 8 hex digits of a version-4 UUID are random.
CREATE FUNCTION core.random_31()
RETURNS integer
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT (('x' || left(replace(gen_random_uuid()::text, '-', ''), 8))::bit(32)::bigint & 2147483647)::integer
$fn$;

-- Draws keys for the households that have none (all new ones of a statement, or any left without, e.g. after a load
-- with triggers off). Returns how many were drawn.
CREATE FUNCTION core.record_keys_fill()
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH ins AS (
        INSERT INTO core.record_keys (household_id, count_key, k0, k1, k2, k3)
        SELECT h.household_id, core.random_31(), core.random_31(),
               1 + core.random_31() % 1048575, 1 + core.random_31() % 1048575, 1 + core.random_31() % 1048575
        FROM core.households h
        WHERE NOT EXISTS (SELECT 1 FROM core.record_keys k WHERE k.household_id = h.household_id)
        ON CONFLICT (household_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM ins
$fn$;

-- Every statement that inserts households (ingest, seed, tests) draws their keys in the same transaction. ENABLE
-- ALWAYS: the seed loads with session_replication_role = replica, which would skip an ordinary trigger.
CREATE FUNCTION core.record_keys_on_insert()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    INSERT INTO core.record_keys (household_id, count_key, k0, k1, k2, k3)
    SELECT a.household_id, core.random_31(), core.random_31(),
           1 + core.random_31() % 1048575, 1 + core.random_31() % 1048575, 1 + core.random_31() % 1048575
    FROM added a
    ON CONFLICT (household_id) DO NOTHING;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER record_keys_on_insert AFTER INSERT ON core.households
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION core.record_keys_on_insert();
ALTER TABLE core.households ENABLE ALWAYS TRIGGER record_keys_on_insert;

SELECT core.record_keys_fill();

-- ---------------------------------------------------------------------------------------------------------------
-- Perturbation tables

CREATE TABLE rollup.ptable (
    kind text NOT NULL CHECK (kind IN ('count', 'magnitude')),
    slot integer NOT NULL CHECK (slot BETWEEN 0 AND 65535),
    noise double precision NOT NULL,
    PRIMARY KEY (kind, slot)
);

COMMENT ON TABLE rollup.ptable IS
    'Perturbation tables of the Cell Key Method: the noise of the cell keys in each of 65,536 slots, per kind.';

-- The maximum-entropy distribution on the grid {-d, ..., d} with the given step (p(x) proportional to
-- exp(-lambda x^2), mean 0) whose variance is v; lambda found by bisection (the variance falls as lambda grows).
CREATE FUNCTION rollup.ptable_distribution(d double precision, step double precision, v double precision)
RETURNS TABLE (x double precision, p double precision)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n integer := round(d / step)::integer;
    lo double precision := 0;
    hi double precision := 1;
    mid double precision;
    var double precision;
BEGIN
    -- grow hi until the variance is below v
    LOOP
        SELECT sum(g.x * g.x * exp(-hi * g.x * g.x)) / sum(exp(-hi * g.x * g.x)) INTO var
        FROM (SELECT i * step AS x FROM generate_series(-n, n) i) g;
        EXIT WHEN var < v OR hi > 1e12;
        hi := hi * 4;
    END LOOP;
    FOR it IN 1..200 LOOP
        mid := (lo + hi) / 2;
        SELECT sum(g.x * g.x * exp(-mid * g.x * g.x)) / sum(exp(-mid * g.x * g.x)) INTO var
        FROM (SELECT i * step AS x FROM generate_series(-n, n) i) g;
        IF var > v THEN lo := mid; ELSE hi := mid; END IF;
    END LOOP;
    RETURN QUERY
        SELECT g.x, exp(-lo * g.x * g.x) / sum(exp(-lo * g.x * g.x)) OVER ()
        FROM (SELECT i * step AS x FROM generate_series(-n, n) i) g
        ORDER BY g.x;
END
$fn$;

-- Rebuilds rollup.ptable from meta.disclosure_control: slot s holds the value whose cumulative probability interval
-- contains (s + 0.5) / 65536 (the inverse distribution function at the slot's midpoint).
CREATE FUNCTION rollup.ptable_build()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    dc meta.disclosure_control%ROWTYPE;
BEGIN
    SELECT * INTO dc FROM meta.disclosure_control;
    DELETE FROM rollup.ptable;
    INSERT INTO rollup.ptable (kind, slot, noise)
    SELECT c.kind, s.slot, c.x
    FROM (SELECT t.kind, t.x, sum(t.p) OVER w - t.p AS lo, sum(t.p) OVER w AS hi
          FROM (SELECT 'count' AS kind, d.x, d.p FROM rollup.ptable_distribution(dc.count_d, 1, dc.count_v) d
                UNION ALL
                SELECT 'magnitude', d.x, d.p
                FROM rollup.ptable_distribution(dc.magnitude_d, dc.magnitude_d / 100, dc.magnitude_v) d) t
          WINDOW w AS (PARTITION BY t.kind ORDER BY t.x)) c
    CROSS JOIN LATERAL generate_series(greatest(0, ceil(c.lo * 65536 - 0.5))::integer,
                                       CASE WHEN c.hi > 1 - 1e-9 THEN 65535
                                            ELSE least(65535, ceil(c.hi * 65536 - 0.5)::integer - 1) END) AS s(slot)
    ON CONFLICT (kind, slot) DO NOTHING;
    IF (SELECT count(*) FROM rollup.ptable) <> 2 * 65536 THEN
        RAISE EXCEPTION 'perturbation table incomplete: % slots', (SELECT count(*) FROM rollup.ptable);
    END IF;
END
$fn$;

CREATE FUNCTION rollup.ptable_on_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM rollup.ptable_build();
    RETURN NULL;
END
$fn$;

CREATE TRIGGER ptable_on_change AFTER INSERT OR UPDATE ON meta.disclosure_control
    FOR EACH STATEMENT EXECUTE FUNCTION rollup.ptable_on_change();

SELECT rollup.ptable_build();

-- ---------------------------------------------------------------------------------------------------------------
-- Cell keys and published values (inlined into the district cell rollups)

-- A contributor's magnitude key: k * its value in the smallest unit + k0; the cell's key is the sum of its contributors'
-- keys mod 2^31 (taking the mod once, on the sum, gives the same as per contributor). value is an integer of Wh, mL,
-- g, m or trips, so equal values give equal keys in every table. k < 2^20 and value < 2^40 (heat of a month in Wh is
-- below 2^33) keep the product far from bigint's range.
CREATE FUNCTION rollup.mkey(k integer, k0 integer, value bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT k::bigint * value + k0
$fn$;

-- The slot (0-65535) of a count cell key in the count table: the cell key (the sum of the contributors' count keys mod
-- 2^31) read as a number in [0, 1) and cut into 65,536 slots.
CREATE FUNCTION rollup.count_slot(key_sum bigint)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT ((key_sum % 2147483648) >> 15)::integer
$fn$;

-- The slot of a magnitude cell key in the magnitude table: the cell key (the sum of the contributors' magnitude keys mod
-- 2^31) hashed with the measure's salt (1 electricity, 2 district heating, 3 water, 4 CO2e, 5 waste kg, 6 trips, 7 km),
-- so that the measures of one cell get independent noise.
CREATE FUNCTION rollup.magnitude_slot(key_sum bigint, salt bigint)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT (hashint8extended(key_sum % 2147483648, salt) & 65535)::integer
$fn$;

-- A published count: the true count plus the noise of the count table's slot of the cell key (rollup.count_slot), never
-- below k (every published cell has at least k households). Without the noise (enabled false): the true count. The
-- cell rollups join rollup.ptable on the slot (one hash join per measure instead of one lookup per cell) and pass the
-- noise in, so this stays a plain expression the planner inlines.
CREATE FUNCTION rollup.ckm_count(n integer, noise double precision, k integer, enabled boolean)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT greatest(n + CASE WHEN enabled THEN noise::integer ELSE 0 END, k)
$fn$;

-- A published magnitude: the true value x plus m * u * x_max, rounded to the column's scale; u is the noise of the
-- magnitude table's slot of the cell key (rollup.magnitude_slot with the measure's salt). Without the noise (enabled
-- false): x rounded.
CREATE FUNCTION rollup.ckm_value(x double precision, x_max double precision, noise double precision, enabled boolean,
                                 m double precision, scale integer)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT round((x + CASE WHEN enabled THEN m * x_max * noise ELSE 0 END)::numeric, scale)
$fn$;

-- A published per-household mean: the published sum over the published count, rounded to the column's scale.
CREATE FUNCTION rollup.per_household(x numeric, n integer, scale integer)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT round(x / n, scale)
$fn$;

RESET ROLE;

REVOKE ALL ON core.record_keys FROM PUBLIC, klima_api, klima_ingest;
REVOKE EXECUTE ON FUNCTION core.random_31(), core.record_keys_fill(), core.record_keys_on_insert() FROM PUBLIC;
REVOKE ALL ON rollup.ptable FROM PUBLIC, klima_api, klima_ingest;
REVOKE ALL ON meta.disclosure_control FROM PUBLIC;
GRANT SELECT ON meta.disclosure_control TO klima_api;
