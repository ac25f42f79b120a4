-- The citizen functions: api.me_summary's figures equal an independent computation from core for sampled
-- households (consumption, hour-weighted CO2e, peer median / 20th percentile / percentile rank with widening,
-- year-on-year change); the time series and export agree with core; bad parameters are refused by name.
BEGIN;
SELECT plan(52);
SET LOCAL work_mem = '256MB';
\ir helpers.psql

CREATE FUNCTION pg_temp.g_per_unit(item text, d date) RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT value * CASE WHEN unit LIKE 'kg %' THEN 1000.0 ELSE 1.0 END
    FROM core.emission_factors WHERE factor_id = item
    ORDER BY (valid_from <= d AND (valid_to IS NULL OR valid_to >= d)) DESC, valid_from DESC LIMIT 1
$$;

-- The last complete local month with data.
CREATE TEMP TABLE m ON COMMIT DROP AS
    SELECT (date_trunc('month', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '1 month')::date AS month
    FROM core.energy_hourly;

-- Totals of every household for a month, from core (CO2e in kg).
CREATE FUNCTION pg_temp.totals(mon date) RETURNS TABLE (household_id uuid, district_id smallint, dwelling_type text,
    occupant_band text, e_kwh float8, e_co2 float8, q_kwh float8, q_co2 float8, w_co2 float8, waste_co2 float8,
    mob_co2 float8, total float8) LANGUAGE sql STABLE AS $$
    WITH en AS (
        SELECT e.household_id, sum(e.electricity_wh) / 1000.0 AS e_kwh,
               sum(e.electricity_wh * coalesce(g.g_per_kwh::float8, pg_temp.g_per_unit('electricity', current_date))) / 1e6 AS e_co2,
               sum(e.heat_wh) / 1000.0 AS q_kwh, sum(e.water_l::float8) AS w_l
        FROM core.energy_hourly e LEFT JOIN core.grid_intensity_hourly g USING (hour_utc)
        WHERE e.hour_utc >= mon::timestamp AT TIME ZONE 'Europe/Copenhagen'
          AND e.hour_utc < (mon + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen'
        GROUP BY 1
    ), wa AS (
        SELECT household_id, sum(kg * pg_temp.g_per_unit('waste-' || fraction, mon)) / 1000.0 AS co2
        FROM core.waste_weighings WHERE collected_on >= mon AND collected_on < mon + interval '1 month' GROUP BY 1
    ), mo AS (
        SELECT household_id, sum(km * pg_temp.g_per_unit(mode, mon)) / 1000.0 AS co2
        FROM core.mobility_daily WHERE day >= mon AND day < mon + interval '1 month' GROUP BY 1
    )
    SELECT h.household_id, h.district_id, h.dwelling_type, h.occupant_band, en.e_kwh, en.e_co2, en.q_kwh,
           en.q_kwh * pg_temp.g_per_unit('district-heating', mon) / 1000.0,
           en.w_l * pg_temp.g_per_unit('water', mon) / 1000.0, coalesce(wa.co2, 0), coalesce(mo.co2, 0),
           en.e_co2 + en.q_kwh * pg_temp.g_per_unit('district-heating', mon) / 1000.0
             + en.w_l * pg_temp.g_per_unit('water', mon) / 1000.0 + coalesce(wa.co2, 0) + coalesce(mo.co2, 0)
    FROM en JOIN core.households h USING (household_id)
    LEFT JOIN wa USING (household_id) LEFT JOIN mo USING (household_id)
$$;

CREATE TEMP TABLE t ON COMMIT DROP AS SELECT * FROM pg_temp.totals((SELECT month FROM m));
CREATE TEMP TABLE ly ON COMMIT DROP AS SELECT * FROM pg_temp.totals((SELECT (month - interval '1 year')::date FROM m));

-- A consent for every household of the month (the personal functions take a consent id; a STABLE function sees the
-- rows of statements before its own, so the consents are made first).
CREATE TEMP TABLE cons ON COMMIT DROP AS SELECT household_id, pg_temp.consent_for(household_id) AS consent FROM t;

-- Three sampled households and their peer groups, widened while fewer than 100 homes.
CREATE TEMP TABLE s ON COMMIT DROP AS
    SELECT t.*, api.me_summary((SELECT consent FROM cons c WHERE c.household_id = t.household_id), (SELECT month FROM m)) AS j,
           CASE WHEN (SELECT count(*) FROM t x WHERE x.district_id = t.district_id AND x.dwelling_type = t.dwelling_type
                                                 AND x.occupant_band = t.occupant_band) >= 100 THEN 0
                WHEN (SELECT count(*) FROM t x WHERE x.district_id = t.district_id
                                                 AND x.dwelling_type = t.dwelling_type) >= 100 THEN 1
                WHEN (SELECT count(*) FROM t x WHERE x.district_id = t.district_id) >= 100 THEN 2
                ELSE 3 END AS level
    FROM t ORDER BY md5(t.household_id::text) LIMIT 3;

CREATE TEMP TABLE peers ON COMMIT DROP AS
    SELECT s.household_id, x.total
    FROM s JOIN t x ON (s.level >= 3 OR x.district_id = s.district_id)
                   AND (s.level >= 2 OR x.dwelling_type = s.dwelling_type)
                   AND (s.level >= 1 OR x.occupant_band = s.occupant_band);

CREATE TEMP TABLE chk ON COMMIT DROP AS
    SELECT s.household_id, c.i, c.name, c.have, c.want, c.tol
    FROM s CROSS JOIN LATERAL (VALUES
        (1, 'electricity kWh', (s.j->'categories'->'electricity'->>'kwh')::float8, s.e_kwh, 0.001),
        (2, 'electricity CO2e weighted hour by hour', (s.j->'categories'->'electricity'->>'co2e_kg')::float8, s.e_co2, 0.001),
        (3, 'district heating kWh', (s.j->'categories'->'district_heating'->>'kwh')::float8, s.q_kwh, 0.001),
        (4, 'district heating CO2e', (s.j->'categories'->'district_heating'->>'co2e_kg')::float8, s.q_co2, 0.001),
        (5, 'waste CO2e', (s.j->'categories'->'waste'->>'co2e_kg')::float8, s.waste_co2, 0.001),
        (6, 'mobility CO2e', (s.j->'categories'->'mobility'->>'co2e_kg')::float8, s.mob_co2, 0.001),
        (7, 'total CO2e', (s.j->>'total_co2e_kg')::float8, s.total, 0.001),
        (8, 'peer group size', (s.j->'peers'->>'n_households')::float8,
            (SELECT count(*) FROM peers p WHERE p.household_id = s.household_id)::float8, 0),
        (9, 'peer median', (s.j->'peers'->'total_co2e_kg'->>'median')::float8,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY p.total) FROM peers p WHERE p.household_id = s.household_id), 0.001),
        (10, 'efficient neighbours (20th percentile)', (s.j->'peers'->'total_co2e_kg'->>'efficient_p20')::float8,
            (SELECT percentile_cont(0.2) WITHIN GROUP (ORDER BY p.total) FROM peers p WHERE p.household_id = s.household_id), 0.001),
        (11, 'percentile rank', (s.j->'peers'->>'percentile_rank')::float8,
            (SELECT 100.0 * count(*) FILTER (WHERE p.total < s.total) / greatest(count(*) - 1, 1)
             FROM peers p WHERE p.household_id = s.household_id), 0.051),
        (12, 'peer level', (s.j->'peers'->>'level')::float8, s.level::float8, 0),
        (13, 'change vs the same month last year (%)', coalesce((s.j->'last_year'->>'change_pct')::float8, -1e9),
            -- last year's month counts only when at least 90 % of its hours have data (api.me_summary in 0010_citizen)
            coalesce((SELECT round((100.0 * (s.total - l.total) / l.total)::numeric, 1)::float8 FROM ly l
                      WHERE l.household_id = s.household_id AND l.total > 0
                        AND (SELECT count(*) FROM core.energy_hourly e, m
                             WHERE e.household_id = s.household_id
                               AND e.hour_utc >= (m.month - interval '1 year')::timestamp AT TIME ZONE 'Europe/Copenhagen'
                               AND e.hour_utc < (m.month - interval '1 year' + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')
                            >= 0.9 * (SELECT extract(epoch FROM ((m.month - interval '1 year' + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen')
                                                              - ((m.month - interval '1 year')::timestamp AT TIME ZONE 'Europe/Copenhagen')) / 3600
                                      FROM m)), -1e9), 0.051)
    ) AS c(i, name, have, want, tol);

SELECT ok(abs(have - want) <= tol, format('household %s: %s (have %s, want %s)', left(household_id::text, 8), name,
                                          round(have::numeric, 4), round(want::numeric, 4)))
FROM chk ORDER BY household_id, i;

-- one sampled household with its consent, for the checks below
CREATE TEMP TABLE one ON COMMIT DROP AS
    SELECT s.household_id, s.e_kwh, c.consent FROM s JOIN cons c USING (household_id) ORDER BY s.household_id LIMIT 1;

SELECT is(api.me_summary((SELECT consent FROM one), '1999-01-01'), NULL,
          'a month without data gives NULL (the server answers 404)');
SELECT throws_ok(format('SELECT api.me_summary(%L, %L)', gen_random_uuid(), (SELECT month FROM m)), '28000', NULL,
                 'an unknown consent is refused');

SELECT ok((SELECT abs(sum(electricity_wh) / 1000.0 - (SELECT e_kwh FROM one)) < 0.001
           FROM api.me_energy((SELECT consent FROM one),
                              (SELECT month FROM m)::timestamp AT TIME ZONE 'Europe/Copenhagen',
                              ((SELECT month FROM m) + interval '1 month')::timestamp AT TIME ZONE 'Europe/Copenhagen',
                              'day', 'Europe/Copenhagen')),
          'me_energy by day sums to the month of the summary');
SELECT is((SELECT array_agg(DISTINCT hours ORDER BY hours)
           FROM (SELECT e.hours, row_number() OVER (ORDER BY e.period_start_utc) AS rn, count(*) OVER () AS n
                 FROM api.me_energy((SELECT consent FROM one),
                                    (SELECT min(hour_utc) FROM core.energy_hourly),
                                    (SELECT min(hour_utc) FROM core.energy_hourly) + interval '367 days',
                                    'day', 'Europe/Copenhagen') e) x
           WHERE rn > 1 AND rn < n),   -- the first and last day may be partial
          ARRAY[23, 24, 25], 'local days have 23, 24 or 25 hours across a year (DST)');
SELECT throws_ok(format('SELECT * FROM api.me_energy(%L, now() - interval ''1 day'', now(), ''week'', ''UTC'')',
                        (SELECT consent FROM one)), '22023', NULL, 'an unknown resolution is refused');
SELECT throws_ok(format('SELECT * FROM api.me_energy(%L, now(), now() - interval ''1 day'', ''hour'', ''UTC'')',
                        (SELECT consent FROM one)), '22023', 'to must be after from', 'to before from is refused');
SELECT throws_ok(format('SELECT * FROM api.me_waste(%L, now() - interval ''3 years'', now(), ''day'', ''UTC'')',
                        (SELECT consent FROM one)), '22023', 'from and to may be at most 2 years apart',
                 'a span over 2 years is refused');
SELECT throws_ok(format('SELECT * FROM api.me_mobility(%L, now() - interval ''1 day'', now(), ''day'', ''Mars/Olympus'')',
                        (SELECT consent FROM one)), '22023', NULL, 'an unknown time zone is refused');
SELECT is((SELECT count(*) FROM api.me_export((SELECT consent FROM one))),
          (SELECT 1 + (SELECT count(*) FROM core.energy_hourly WHERE household_id = x)
                    + (SELECT count(*) FROM core.waste_weighings WHERE household_id = x)
                    + (SELECT count(*) FROM core.mobility_daily WHERE household_id = x)
           FROM (SELECT household_id AS x FROM one) y),
          'the export holds the household and every one of its rows');

-- The minimum comparison group: a household alone in its month (no other home has data then, so even the whole city
-- is a group of 1) gets no comparison, and the reason in both languages.
SELECT core.ensure_energy_partitions('2015-01-01 00:00+00', '2015-01-31 23:00+00');
INSERT INTO core.households VALUES ('00000000-0000-4000-8000-00000000b001', 3, 'apartment', '2', 70);
INSERT INTO core.energy_hourly (household_id, hour_utc, electricity_wh, heat_wh, water_l)
    SELECT '00000000-0000-4000-8000-00000000b001', '2015-01-15 00:00+00'::timestamptz + make_interval(hours => i), 300, 2000, 5
    FROM generate_series(0, 23) i;
SELECT meta.refresh_rollup(r) FROM unnest(ARRAY['rollup.household_daily', 'rollup.household_monthly',
                                                'rollup.peer_stats_monthly', 'rollup.household_peer_monthly']) r;
CREATE TEMP TABLE alone_consent ON COMMIT DROP AS SELECT pg_temp.consent_for('00000000-0000-4000-8000-00000000b001') AS c;
CREATE TEMP TABLE alone ON COMMIT DROP AS
    SELECT api.me_summary((SELECT c FROM alone_consent), '2015-01-01') -> 'peers' AS p;
SELECT is((SELECT p ->> 'available' FROM alone), 'false', 'a group of fewer than 50 homes: no comparison');
SELECT ok((SELECT p -> 'reason' ->> 'da' LIKE '%færre end 50 lignende hjem%' AND p -> 'reason' ->> 'en' LIKE '%fewer than 50 similar homes%'
           FROM alone), 'the summary says why, in Danish and English');
SELECT ok((SELECT num_nonnulls(p ->> 'rating', p ->> 'percentile_rank', p ->> 'n_households',
                               p -> 'total_co2e_kg' ->> 'median', p -> 'total_co2e_kg' ->> 'efficient_p20',
                               p -> 'categories' -> 'electricity' ->> 'co2e_kg_median') = 0 FROM alone),
          'and none of the group''s figures');
SELECT ok((SELECT bool_and((j -> 'peers' ->> 'available')::boolean AND j -> 'peers' -> 'reason' = 'null'::jsonb
                           AND (j -> 'peers' ->> 'n_households')::integer >= 50) FROM s),
          'groups of at least 50 homes are compared, without a reason');

SELECT * FROM finish();
ROLLBACK;
