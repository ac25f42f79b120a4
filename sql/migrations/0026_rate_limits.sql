-- 0026_rate_limits — the rate-limit budget that every worker thread of every server instance shares: one bucket level
-- per (policy, client key), reconciled by api.rate_sync.
--
-- Each worker decides every request on its own copy of the buckets (no lock, no query on the request path). Every
-- KLIMA_RATE_SYNC_MS (250 ms) it adds what it took since its last sync to the shared level of each bucket it touched,
-- and takes back the shared levels of those buckets and of every bucket another worker changed since then. A bucket's
-- level is the number of tokens taken and not yet refilled: it drains at per_s tokens a second (the policy's quota
-- over its window), so the row of a client that has stopped says nothing once drained_at has passed, and is removed.
--
-- Privacy (DESIGN section 4): a key is a 64-bit keyed hash, never an address: of the registered app's client id, or of
-- the client address under a daily key derived from the service's signing key (geo_client_key), which the database
-- never sees. Rows live while their bucket refills (at most the policy's window after the client's last request). The
-- table is UNLOGGED: a crash empties it, which only forgives what clients had taken.

SET LOCAL ROLE klima_owner;

CREATE UNLOGGED TABLE meta.rate_levels (
    policy smallint NOT NULL CHECK (policy BETWEEN 0 AND 255),
    key bigint NOT NULL,
    level double precision NOT NULL,                                   -- tokens taken and not refilled, as of "at"
    per_s double precision NOT NULL CHECK (per_s > 0 AND per_s < 1e9), -- the refill rate
    at timestamptz NOT NULL,                                           -- when level was last set
    drained_at timestamptz NOT NULL,                                   -- at + level / per_s
    PRIMARY KEY (policy, key)
);
CREATE INDEX rate_levels_at ON meta.rate_levels (at);
CREATE INDEX rate_levels_drained_at ON meta.rate_levels (drained_at);

COMMENT ON TABLE meta.rate_levels IS
    'Shared rate-limit bucket levels (tokens taken, draining at per_s) per policy and keyed client hash; fed by api.rate_sync.';

-- A bucket's level at now_ts: what it held at `at`, less what drained since (never below zero).
CREATE FUNCTION meta.rate_level_now(level double precision, per_s double precision, at timestamptz, now_ts timestamptz)
RETURNS double precision
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$ SELECT greatest(level - per_s * extract(epoch FROM now_ts - at)::double precision, 0) $fn$;

-- One worker's sync. The arrays (same length, at most 10000) say, per bucket it touched since its last sync: the policy
-- (the server's number for route class and kind of key), the key, the tokens taken meanwhile (negative when it gave
-- tokens back, a 304) and the policy's refill rate per second. Returns the level now of each of those buckets (0 when
-- nobody holds it) and of every other bucket changed since `since` (NULL: any time) and not drained yet — at most 4096
-- of those, the fullest first — each with the time of this sync, then one row of that time alone (policy, key and
-- level NULL). The worker passes that time (less a second, for syncs that committed late) as its next `since`.
CREATE FUNCTION api.rate_sync(policies smallint[], keys bigint[], taken double precision[], rates double precision[],
                              since timestamptz)
RETURNS TABLE (policy smallint, key bigint, level double precision, synced_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    now_ts timestamptz := clock_timestamp();
    n integer := coalesce(cardinality(policies), 0);
BEGIN
    IF coalesce(cardinality(keys), 0) <> n OR coalesce(cardinality(taken), 0) <> n OR coalesce(cardinality(rates), 0) <> n THEN
        RAISE EXCEPTION 'rate_sync: the arrays differ in length' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF n > 10000 THEN
        RAISE EXCEPTION 'rate_sync: at most 10000 buckets per sync' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(policies, keys, taken, rates) AS u(p, k, t, r)
               WHERE u.p IS NULL OR u.p NOT BETWEEN 0 AND 255 OR u.k IS NULL OR u.t IS NULL OR u.t <> u.t OR abs(u.t) > 1e9
                     OR u.r IS NULL OR NOT (u.r > 0 AND u.r < 1e9)) THEN
        RAISE EXCEPTION 'rate_sync: a policy, key, taken or rate is missing or out of range'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- rows that say nothing any more (through the index: the few that drained since the last sync)
    DELETE FROM meta.rate_levels o WHERE o.drained_at < now_ts - interval '10 seconds';

    -- tokens taken: add them (a bucket nobody held starts empty)
    INSERT INTO meta.rate_levels AS r (policy, key, level, per_s, at, drained_at)
    SELECT u.p, u.k, sum(u.t), max(u.r), now_ts, now_ts + make_interval(secs => sum(u.t) / max(u.r))
    FROM unnest(policies, keys, taken, rates) AS u(p, k, t, r)
    GROUP BY u.p, u.k
    HAVING sum(u.t) > 0
    ON CONFLICT ON CONSTRAINT rate_levels_pkey DO UPDATE
        SET level = meta.rate_level_now(r.level, r.per_s, r.at, now_ts) + EXCLUDED.level,
            per_s = EXCLUDED.per_s,
            at = now_ts,
            drained_at = now_ts + make_interval(
                secs => (meta.rate_level_now(r.level, r.per_s, r.at, now_ts) + EXCLUDED.level) / EXCLUDED.per_s);

    -- tokens given back: take them off a bucket someone holds
    UPDATE meta.rate_levels r
    SET level = greatest(meta.rate_level_now(r.level, r.per_s, r.at, now_ts) + g.t, 0),
        per_s = g.r,
        at = now_ts,
        drained_at = now_ts + make_interval(secs => greatest(meta.rate_level_now(r.level, r.per_s, r.at, now_ts) + g.t, 0) / g.r)
    FROM (SELECT u.p, u.k, sum(u.t) AS t, max(u.r) AS r
          FROM unnest(policies, keys, taken, rates) AS u(p, k, t, r)
          GROUP BY u.p, u.k
          HAVING sum(u.t) < 0) g
    WHERE r.policy = g.p AND r.key = g.k;

    RETURN QUERY
    SELECT i.p, i.k, coalesce(meta.rate_level_now(r.level, r.per_s, r.at, now_ts), 0), now_ts
    FROM (SELECT DISTINCT u.p, u.k FROM unnest(policies, keys) AS u(p, k)) i
    LEFT JOIN meta.rate_levels r ON r.policy = i.p AND r.key = i.k
    UNION ALL
    (SELECT o.policy, o.key, meta.rate_level_now(o.level, o.per_s, o.at, now_ts), now_ts
     FROM meta.rate_levels o
     WHERE o.at > coalesce(since, '-infinity') AND o.drained_at > now_ts
       AND NOT EXISTS (SELECT 1 FROM unnest(policies, keys) AS u(p, k) WHERE u.p = o.policy AND u.k = o.key)
     ORDER BY o.level DESC
     LIMIT 4096);
    -- and the time of this sync, also when there is nothing else to say
    RETURN QUERY SELECT NULL::smallint, NULL::bigint, NULL::double precision, now_ts;
END
$fn$;

REVOKE ALL ON meta.rate_levels FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION meta.rate_level_now(double precision, double precision, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION api.rate_sync(smallint[], bigint[], double precision[], double precision[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.rate_sync(smallint[], bigint[], double precision[], double precision[], timestamptz) TO klima_api;
