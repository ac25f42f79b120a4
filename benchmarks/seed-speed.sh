#!/bin/sh
# Seed speed against the ceiling of plain COPY FROM, measured side by side in one run (DESIGN section 8; issue 3).
#   KLIMA_BIN           the klimaspejl binary
#   KLIMA_DB_ADMIN_URL  a migrated database; its core data is REPLACED by the seed
#   SEED_HOUSEHOLDS, SEED_DAYS (default 500 x 60)
# 1. `klimaspejl seed --replace` (all tables; its summary gives rows and seconds);
# 2. the same energy rows are written to a file with psql \copy ... to;
# 3. that file is loaded with COPY FROM (psql \copy) into an empty copy of the table (same columns and primary key).
# Prints `seed rows/s`, `COPY FROM rows/s` and their ratio.
set -eu
: "${KLIMA_BIN:?set KLIMA_BIN to the klimaspejl binary}"
: "${KLIMA_DB_ADMIN_URL:?set KLIMA_DB_ADMIN_URL to a migrated database}"
export KLIMA_DB_ADMIN_URL
H=${SEED_HOUSEHOLDS:-500}
D=${SEED_DAYS:-60}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; psql "$KLIMA_DB_ADMIN_URL" -X -q -c "DROP TABLE IF EXISTS public.bench_energy_copy" >/dev/null 2>&1 || true' EXIT
q() {
    psql "$KLIMA_DB_ADMIN_URL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}
now() {
    date +%s.%N
}

"$KLIMA_BIN" seed --households "$H" --days "$D" --seed 1 --end 2024-06-01 --replace >"$TMP/seed.out"
cat "$TMP/seed.out"
# "...; 1234 rows in 1.2 s (...)"
seed_rows=$(sed -n 's/.*; \([0-9]*\) rows in \([0-9.]*\) s.*/\1/p' "$TMP/seed.out")
seed_secs=$(sed -n 's/.*; \([0-9]*\) rows in \([0-9.]*\) s.*/\2/p' "$TMP/seed.out")

q -c "\\copy (SELECT * FROM core.energy_hourly) to '$TMP/energy.txt'"
rows=$(wc -l <"$TMP/energy.txt")
q -c "DROP TABLE IF EXISTS public.bench_energy_copy" -c "CHECKPOINT"
# Table creation and COPY in one transaction, as the seed truncates each target in its loading transaction: with
# wal_level=minimal both may then skip the WAL.
t0=$(now)
q -1 -c "CREATE TABLE public.bench_energy_copy (LIKE core.energy_hourly INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)" \
  -c "\\copy public.bench_energy_copy from '$TMP/energy.txt'"
t1=$(now)

awk -v sr="$seed_rows" -v ss="$seed_secs" -v cr="$rows" -v t0="$t0" -v t1="$t1" 'BEGIN {
    seed = sr / ss; copy = cr / (t1 - t0);
    printf "seed rows/s       %12.0f   (%d rows in %.2f s, all tables)\n", seed, sr, ss;
    printf "COPY FROM rows/s  %12.0f   (%d energy rows in %.2f s, plain table with the same primary key)\n", copy, cr, t1 - t0;
    printf "ratio             %12.2f\n", seed / copy;
}'
