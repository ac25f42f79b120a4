-- 0031_household_daily_month_factor — household_daily looks up the electricity emission factor once per local month.
--
-- An hour without a published grid intensity takes the 'electricity' factor valid at the start of its local month
-- (0005). The lookup (rollup.factor_g, a query over the release's factors) ran once per reading without an intensity:
-- a new day whose grid intensity has not arrived yet is every household's 24 readings of it, and at 35,000
-- households the release spent 15 s of its 21 s in household_daily on 875,000 identical lookups. The factor of every
-- local month of the period is now looked up once and joined. The same rows as before (sql/tests/11_incremental.sql
-- compares an incremental release with a full one; 02_published_cells recomputes every cell from core).

SET LOCAL ROLE klima_owner;

CREATE OR REPLACE FUNCTION rollup.household_daily_rows(lo date, hi date)
RETURNS TABLE (household_id uuid, day date, hours integer, electricity_wh bigint, heat_wh bigint, water_ml bigint,
               electricity_co2e_100ng bigint, electricity_dirty_wh bigint, electricity_dirty_co2e_100ng bigint,
               hours_without_intensity integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    t0 timestamptz := rollup.local_start(lo);
    t1 timestamptz := rollup.local_start(hi);
    -- the months whose factor may be needed: the period's, bounded to the years a partition can hold
    m0 date := date_trunc('month', greatest(lo, '1900-01-01'::date));
    m1 date := date_trunc('month', least(hi, '2300-01-01'::date) - 1);
BEGIN
    RETURN QUERY
    WITH fm AS (
        SELECT m::date AS month, rollup.factor_e4(rollup.factor_g('electricity', m::date)) AS f_e4
        FROM generate_series(m0, m1, interval '1 month') m
    )
    SELECT e.household_id,
           -- the local day of the reading itself (grouping on an expression of one table lets the planner pick a hash
           -- aggregate; 0005)
           (e.hour_utc AT TIME ZONE 'Europe/Copenhagen')::date AS day,
           count(*)::integer AS hours,
           sum(e.electricity_wh)::bigint AS electricity_wh,
           sum(e.heat_wh)::bigint AS heat_wh,
           sum(round(e.water_l::double precision * 1000)::bigint)::bigint AS water_ml,
           sum(e.electricity_wh::bigint * coalesce(g.g_e4, fm.f_e4))::bigint AS electricity_co2e_100ng,
           coalesce(sum(e.electricity_wh) FILTER (WHERE g.dirty), 0)::bigint AS electricity_dirty_wh,
           coalesce(sum(e.electricity_wh::bigint * g.g_e4) FILTER (WHERE g.dirty), 0)::bigint
               AS electricity_dirty_co2e_100ng,
           count(*) FILTER (WHERE g.hour_utc IS NULL)::integer AS hours_without_intensity
    FROM core.energy_hourly e
    LEFT JOIN rollup.grid_hours g ON g.hour_utc = e.hour_utc
    LEFT JOIN fm ON fm.month = date_trunc('month', (e.hour_utc AT TIME ZONE 'Europe/Copenhagen'))::date
    WHERE e.hour_utc >= t0 AND e.hour_utc < t1
    GROUP BY 1, 2;
END
$fn$;
