-- 0029_period_cover_indexes — a release reads a month of waste and trips from an index alone.
--
-- The monthly rollups of an incremental release (household_monthly, coverage_monthly, waste_monthly, mobility_monthly)
-- read every weighing and trip record of the months they rebuild. Through 0008's indexes on the date alone each row was
-- a heap fetch, and a month's rows lie on every household's pages wherever data was loaded household by household (the
-- seed, a bulk back-fill): at 20,000 households that read 1.7 M rows from most of the tables' pages. The indexes below
-- carry every column those builders read, so a month is one contiguous range of one index (an index-only scan once
-- vacuum or COPY FREEZE has marked the pages all-visible). They replace 0008's date indexes.

SET LOCAL ROLE klima_owner;

CREATE INDEX waste_weighings_collected_on_cover ON core.waste_weighings (collected_on)
    INCLUDE (household_id, fraction, kg);
DROP INDEX core.waste_weighings_collected_on;

CREATE INDEX mobility_daily_day_cover ON core.mobility_daily (day) INCLUDE (household_id, mode, trips, km);
DROP INDEX core.mobility_daily_day;
