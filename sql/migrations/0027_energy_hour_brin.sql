-- 0027_energy_hour_brin — a release reads the readings of the days it rebuilds through a BRIN index on hour_utc.
--
-- A new day's readings are appended after the month's earlier ones, so a BRIN index (a few kB a partition) lets an
-- incremental release read that day without scanning the month's partition. autosummarize: block ranges filled after
-- the index was built are summarized by autovacuum; the seed, which loads partitions directly, summarizes each month it
-- loads (seed_rows.c).

SET LOCAL ROLE klima_owner;

CREATE INDEX energy_hourly_hour_brin ON core.energy_hourly USING brin (hour_utc) WITH (autosummarize = on);
