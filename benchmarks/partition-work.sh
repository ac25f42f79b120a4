#!/usr/bin/env bash
#
# benchmarks/partition-work.sh — the release's per-partition work over 1 and 2 connections (issue 19, the path past one
# machine): the two rollups that read every hourly reading (rollup.household_daily_rows and
# rollup.district_hourly_rows, a local month each, the unit a Citus worker or a second connection would take) run one
# month after another on one connection, then split over two connections that run at the same time, each inside a
# REPEATABLE READ transaction with PostgreSQL's own parallel workers off (max_parallel_workers_per_gather = 0), so the
# only parallelism is the connections'. The builders only read (they return rows; nothing is written). Prints the wall
# time of each run, the speed-up, the cost per reading, and that cost extrapolated to Copenhagen (350,000 households x
# 8,760 hours a year) on 2 and on 16 connections (Citus workers) at the measured efficiency.
#
#   KLIMA_DB_ADMIN_URL=... benchmarks/partition-work.sh      # a seeded and released database (e.g. benchmarks/scale --keep)
set -euo pipefail

# shellcheck source=server/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/../server/setup.sh"
: "${KLIMA_DB_ADMIN_URL:?set KLIMA_DB_ADMIN_URL to a seeded and released database}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/klima-partwork.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
q() { "$KLIMA_PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -d "$KLIMA_DB_ADMIN_URL" "$@"; }
now() { date +%s.%N; }

# the local months with readings (from the daily rollup, which a release has built)
mapfile -t months < <(q -c "SELECT DISTINCT date_trunc('month', day)::date FROM rollup.household_daily ORDER BY 1")
readings="$(q -c "SELECT sum(hours) FROM rollup.household_daily")"
households="$(q -c "SELECT count(*) FROM core.households")"
((${#months[@]} >= 2)) || {
    echo "partition-work: needs at least two months of data" >&2
    exit 1
}

# job FILE MONTH...: the SQL of one connection: its months' builders in one REPEATABLE READ transaction
job() {
    local f="$1" m
    shift
    {
        echo "SET jit = off; SET max_parallel_workers_per_gather = 0; SET work_mem = '256MB';"
        echo "BEGIN ISOLATION LEVEL REPEATABLE READ;"
        for m in "$@"; do
            echo "SELECT count(*) FROM rollup.household_daily_rows('$m', ('$m'::date + interval '1 month')::date);"
            echo "SELECT count(*) FROM rollup.district_hourly_rows('$m', ('$m'::date + interval '1 month')::date);"
        done
        echo "COMMIT;"
    } >"$f"
}

job "$WORK/one.sql" "${months[@]}"
half=$(((${#months[@]} + 1) / 2))
# alternate months between the two connections, so both get as many readings
a=() b=()
for i in "${!months[@]}"; do
    if ((i % 2 == 0)); then a+=("${months[$i]}"); else b+=("${months[$i]}"); fi
done
job "$WORK/a.sql" "${a[@]}"
job "$WORK/b.sql" "${b[@]}"

echo "partition work: $households households, $(printf "%'d" "$readings") readings, ${#months[@]} local months; load $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now)
q -f "$WORK/one.sql" >/dev/null
t1=$(now)
q -f "$WORK/a.sql" >/dev/null &
pa=$!
q -f "$WORK/b.sql" >/dev/null &
pb=$!
wait "$pa" "$pb"
t2=$(now)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); $half months on the busier connection"
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v r="$readings" 'BEGIN {
    one = t1 - t0; two = t2 - t1; s = one / two; eff = s / 2; cost = one / r;
    city = 350000 * 8760;
    printf "1 connection:  %.1f s (%.2f us per reading)\n", one, cost * 1e6;
    printf "2 connections: %.1f s: speed-up %.2fx (efficiency %.0f %%)\n", two, s, eff * 100;
    printf "Copenhagen, a year of readings (%.2e): %.0f min on 1 connection, %.0f min on 2, %.0f min on 16 Citus workers at this efficiency\n",
           city, city * cost / 60, city * cost / 60 / (2 * eff), city * cost / 60 / (16 * eff);
}'
