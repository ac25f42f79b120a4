#!/usr/bin/env bash
#
# benchmarks/first-release.sh — the demo-scale first release from scratch, as server/run does it on a fresh machine:
# a new database in the project-local cluster, `klimaspejl migrate`, `klimaspejl seed` (2,000 households x 400 days
# unless SEED_HOUSEHOLDS / SEED_DAYS say otherwise), then the first `klimaspejl refresh`, which prints the time of
# each step. Prints the seed's and the refresh's wall time and the load average before and after each (the machine is
# shared: a figure means little without it), then drops the database. Budget (issue 13): the refresh <= 60 s on an
# idle 2-core machine.
#
#   benchmarks/first-release.sh                      # uses build/klimaspejl (built if missing)
#   KLIMA_PG_PORT=54351 benchmarks/first-release.sh  # another helper's cluster
#   KLIMA_BIN=... SEED_HOUSEHOLDS=... SEED_DAYS=... KEEP=1 (keep the database)
set -euo pipefail

# shellcheck source=server/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/../server/setup.sh"

H="${SEED_HOUSEHOLDS:-2000}"
D="${SEED_DAYS:-400}"
DB="klimaspejl_first_release_$$"
BIN="${KLIMA_BIN:-$ROOT/build/klimaspejl}"
if [[ ! -x $BIN ]]; then
    klima_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi

cleanup() {
    if [[ ${KEEP:-0} != 1 ]]; then klima_db_drop "$DB" >/dev/null 2>&1 || true; fi
    if ((KLIMA_PG_STARTED_HERE)); then klima_pg_stop >/dev/null 2>&1; fi
}
trap cleanup EXIT

klima_pg_start "$ROOT/.data/pg" "$KLIMA_PG_PORT"
klima_db_create "$DB"
export KLIMA_DB_ADMIN_URL

load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }

"$BIN" migrate >/dev/null
echo "seed $H households x $D days (load before: $(load))"
t0=$(now)
"$BIN" seed --households "$H" --days "$D" 2>&1 | tail -n 1
t1=$(now)
echo "load before the refresh: $(load)"
"$BIN" refresh
t2=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v l="$(load)" 'BEGIN {
    printf "seed %.1f s, first refresh %.1f s (wall, as server/run runs them); load after: %s\n", b - a, c - b, l }'
echo "machine: $(nproc) CPUs, $(uname -r), PostgreSQL $("$KLIMA_PG_BIN/postgres" --version | awk '{print $3}'), $(date -u +%FT%TZ)"
