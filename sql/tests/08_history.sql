-- api.me_history (issue 17): each month's household figures and comparison-group median equal api.me_summary's for
-- that month; below the minimum comparison group the medians are null; the span is checked by name; klima_api may
-- call it only with a consent that grants summary:read.
BEGIN;
SELECT plan(9);
\ir helpers.psql

CREATE TEMP TABLE hh ON COMMIT DROP AS
    SELECT household_id, pg_temp.consent_for(household_id) AS consent,
           pg_temp.consent_for(household_id, ARRAY['energy:read']) AS energy_only
    FROM core.households ORDER BY household_id LIMIT 3;
CREATE TEMP TABLE last_month ON COMMIT DROP AS
    SELECT (date_trunc('month', max(hour_utc) AT TIME ZONE 'Europe/Copenhagen') - interval '1 month')::date AS m
    FROM core.energy_hourly;

CREATE TEMP TABLE h ON COMMIT DROP AS
    SELECT hh.household_id, hh.consent, e AS month
    FROM hh, jsonb_array_elements(api.me_history(hh.consent, ((SELECT m FROM last_month) - interval '11 months')::date,
                                                 (SELECT m FROM last_month)) -> 'months') e;

SELECT is((SELECT count(*) FROM h), 36::bigint, '12 months for each of 3 households');
SELECT is((SELECT count(*) FROM h
           CROSS JOIN LATERAL (SELECT api.me_summary(h.consent, (h.month ->> 'month' || '-01')::date) AS s) x
           WHERE (h.month ->> 'has_data')::boolean
             AND h.month -> 'total_co2e_kg' = x.s -> 'total_co2e_kg'
             AND h.month -> 'categories' -> 'electricity' -> 'co2e_kg' = x.s -> 'categories' -> 'electricity' -> 'co2e_kg'
             AND h.month -> 'categories' -> 'mobility' -> 'co2e_kg' = x.s -> 'categories' -> 'mobility' -> 'co2e_kg'
             AND h.month -> 'peers' -> 'total_co2e_kg_median' = x.s -> 'peers' -> 'total_co2e_kg' -> 'median'
             AND h.month -> 'peers' -> 'n_households' = x.s -> 'peers' -> 'n_households'),
          (SELECT count(*) FROM h WHERE (h.month ->> 'has_data')::boolean),
          'every month with data equals its summary: total, categories, median, group size');
SELECT ok((SELECT bool_and((month ->> 'partial')::boolean = ((month ->> 'hours_with_data')::int < (month ->> 'hours_expected')::int))
           FROM h WHERE (month ->> 'has_data')::boolean), 'partial = fewer hours with data than the local month has');

-- below the minimum comparison group: no median in any month
UPDATE meta.disclosure_control SET comparison_min = 1000000;
SELECT is((SELECT count(*) FROM hh, jsonb_array_elements(api.me_history(hh.consent, ((SELECT m FROM last_month) - interval '11 months')::date,
                                                                          (SELECT m FROM last_month)) -> 'months') e
           WHERE (e -> 'peers' ->> 'available')::boolean OR e -> 'peers' ->> 'total_co2e_kg_median' IS NOT NULL
              OR e -> 'peers' ->> 'n_households' IS NOT NULL OR e -> 'peers' ->> 'categories' IS NOT NULL),
          0::bigint, 'below comparison_min: no median, no group size, available false');

SELECT throws_ok(format('SELECT api.me_history(%L, %L, %L)', (SELECT consent FROM hh LIMIT 1), '2023-01-01', '2025-01-01'),
                 '22023', 'from and to may span at most 24 months', 'a span of 25 months is refused');
SELECT throws_ok(format('SELECT api.me_history(%L, %L, %L)', (SELECT consent FROM hh LIMIT 1), '2025-05-01', '2025-04-01'),
                 '22023', 'to must not be before from', 'to before from is refused');
SELECT is(pg_temp.as_api_state(format('SELECT api.me_history(%L, %L, %L)', (SELECT consent FROM hh LIMIT 1), '2025-01-01', '2025-12-01')),
          'ok', 'klima_api may call it with a summary:read consent');
SELECT is(pg_temp.as_api_state(format('SELECT api.me_history(%L, %L, %L)', (SELECT energy_only FROM hh LIMIT 1), '2025-01-01', '2025-12-01')),
          '28000', 'a consent without summary:read is refused');
SELECT is(pg_temp.as_api(format('SELECT * FROM rollup.household_monthly LIMIT 1')), 'denied', 'klima_api still cannot read the rollups');

SELECT * FROM finish();
ROLLBACK;
