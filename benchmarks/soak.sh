#!/usr/bin/env bash
#
# benchmarks/soak.sh — the mixed-load soak of DESIGN section 8 (run by hand, not in CI).
#
# Starts `klimaspejl serve` (release build, build/) on a database of its own (klimaspejl_soak: migrated, seeded with a
# small city when empty, refreshed), then for DURATION seconds runs at the same time:
#   - h2load over h2c against a list of open-data URLs (records with filters, grouping and day buckets, datasets,
#     metadata, the DCAT catalog, emission factors, usage, openapi.json), cycling through the list;
#   - h2load against the personal routes (/v1/me/summary for 3 months, /v1/me/energy at day resolution) with one consent
#     token (scopes summary:read energy:read), minted with `klimaspejl token` for a registered client;
#   - a loop of whole CSV downloads (curl, gzip accepted) of a daily dataset;
#   - every 30 s a refresh (`klimaspejl refresh`), so cache invalidation via NOTIFY happens under load.
# The server's VmRSS is sampled every 10 s. Passes when no request failed (h2load: no failed/errored request, no
# non-2xx status; every download complete) and the RSS after the first minute stays within 10 % of its value at the
# first minute (the warm-up fills the response cache and the prepared-statement caches).
#
# Usage: benchmarks/soak.sh [--duration SECONDS]   (default 600)
# All load comes from 127.0.0.1, so the server runs with KLIMA_RATE_LIMIT=0 (the limits would answer 429s).
# Environment: KLIMA_THREADS (default: number of CPUs), SOAK_CLIENTS (open-data h2load -c, default 16).
# Prints a markdown summary for benchmarks/README.md; exit code 0 on pass, 1 otherwise.
set -euo pipefail

# shellcheck source=server/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/../server/setup.sh"

DURATION=600
while (($#)); do
    case "$1" in
    --duration)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || klima_die "--duration expects whole seconds"
        DURATION="$2"
        shift
        ;;
    -h | --help)
        awk 'NR >= 3 && !/^#/ {exit} NR >= 3 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *) klima_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

THREADS="${KLIMA_THREADS:-$(nproc)}"
CLIENTS="${SOAK_CLIENTS:-16}"
DB=klimaspejl_soak
WORK="$(mktemp -d /tmp/klima-soak.XXXXXX)"
declare -A PIDS=()

stop_all() {
    local name
    for name in "${!PIDS[@]}"; do
        kill "${PIDS[$name]}" 2>/dev/null || true
    done
    for name in "${!PIDS[@]}"; do
        wait "${PIDS[$name]}" 2>/dev/null || true
    done
    PIDS=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

klima_install_deps
klima_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
BIN="$ROOT/build/klimaspejl"
klima_pg_start "$ROOT/.data/pg" "$KLIMA_PG_PORT"
klima_db_create "$DB"
"$BIN" migrate >"$WORK/migrate.log" 2>&1 || {
    cat "$WORK/migrate.log" >&2
    klima_die "klimaspejl migrate failed (drop $DB if an applied migration was edited)"
}
households="$("$KLIMA_PG_BIN/psql" -X -q -tA -d "$KLIMA_DB_ADMIN_URL" -c 'SELECT count(*) FROM core.households')"
if [[ $households == 0 ]]; then
    klima_say "seeding $DB (300 households, 430 days)"
    "$BIN" seed --households 300 --days 430 --seed 7 >"$WORK/seed.log" 2>&1 || klima_die "seed failed"
fi
"$BIN" refresh >"$WORK/refresh.log" 2>&1 || klima_die "refresh failed"

export KLIMA_KEYS_DIR="$WORK/keys"
"$BIN" keygen >/dev/null 2>&1 || klima_die "keygen failed"
client_id="$("$BIN" client add --name "soak $$" --redirect-uri "http://127.0.0.1/soak-callback" | awk 'NR == 1 {print $NF}')"
household="$("$KLIMA_PG_BIN/psql" -X -q -tA -d "$KLIMA_DB_ADMIN_URL" -c 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1')"
token="$("$BIN" token --household "$household" --scope "summary:read energy:read" --client "$client_id" --ttl 3600)"
[[ -n $token ]] || klima_die "could not mint a token"
months=()
while read -r m; do months+=("$m"); done < <("$KLIMA_PG_BIN/psql" -X -q -tA -d "$KLIMA_DB_ADMIN_URL" -c \
    "SELECT to_char(d, 'YYYY-MM') FROM generate_series(date_trunc('month', (SELECT max(hour_utc) FROM core.energy_hourly) AT TIME ZONE 'Europe/Copenhagen') - interval '3 months', date_trunc('month', (SELECT max(hour_utc) FROM core.energy_hourly) AT TIME ZONE 'Europe/Copenhagen') - interval '1 month', interval '1 month') AS d")

PORT="$(klima_free_port)"
URL="http://127.0.0.1:$PORT"
cp "$BIN" "$WORK/ksoak-srv"
env KLIMA_LISTEN="127.0.0.1:$PORT" KLIMA_THREADS="$THREADS" KLIMA_LOG_LEVEL=warn KLIMA_ACCESS_LOG=0 KLIMA_RATE_LIMIT=0 \
    "$WORK/ksoak-srv" serve >"$WORK/server.log" 2>&1 &
PIDS[server]=$!
for ((i = 0; i < 150; i++)); do
    curl -sf -o /dev/null "$URL/readyz" && break
    sleep 0.1
done
curl -sf -o /dev/null "$URL/readyz" || {
    tail -n 20 "$WORK/server.log" >&2
    klima_die "the server did not become ready"
}

cat >"$WORK/open.uris" <<EOF
$URL/v1/datasets
$URL/v1/datasets/energy-district-daily
$URL/v1/datasets/energy-district-daily/records?district_id=eq:3&limit=10
$URL/v1/datasets/energy-district-daily/records?group_by=district_id&measures=sum:electricity_kwh&order=district_id
$URL/v1/datasets/energy-district-daily/records?district_id=in:1,2,5&group_by=day&bucket=month&measures=avg:heat_kwh_per_household
$URL/v1/datasets/energy-district-daily/records?limit=500
$URL/v1/datasets/energy-district-daily/datapackage.json
$URL/v1/catalog.jsonld
$URL/v1/emission-factors
$URL/v1/usage
$URL/openapi.json
$URL/healthz
EOF
: >"$WORK/me.uris"
for m in "${months[@]}"; do echo "$URL/v1/me/summary?month=$m" >>"$WORK/me.uris"; done
echo "$URL/v1/me/energy?from=${months[0]}-01&to=${months[-1]}-01&resolution=day" >>"$WORK/me.uris"
# every URL must answer 200 before the soak starts
while read -r u; do
    code="$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $token" "$u")"
    [[ $code == 200 ]] || klima_die "$u answered $code before the soak"
done < <(cat "$WORK/open.uris" "$WORK/me.uris")

klima_say "soaking for ${DURATION}s ($THREADS server threads; open-data h2load -c$CLIENTS -m4, personal -c4 -m2, downloads, refresh every 30 s)"
h2load -t1 -c"$CLIENTS" -m4 -D "$DURATION" -i "$WORK/open.uris" >"$WORK/open.out" 2>&1 &
PIDS[open]=$!
h2load -t1 -c4 -m2 -D "$DURATION" -H "authorization: Bearer $token" -i "$WORK/me.uris" >"$WORK/me.out" 2>&1 &
PIDS[me]=$!
(
    end=$((SECONDS + DURATION))
    n=0 bad=0
    while ((SECONDS < end)); do
        if curl -sf --compressed -o "$WORK/dl.csv" "$URL/v1/datasets/energy-district-daily/download?format=csv"; then
            n=$((n + 1))
        else
            bad=$((bad + 1))
        fi
    done
    echo "$n $bad" >"$WORK/downloads"
) &
PIDS[downloads]=$!
(
    end=$((SECONDS + DURATION))
    n=0 bad=0
    while ((SECONDS + 30 < end)); do
        sleep 30
        if "$BIN" refresh >>"$WORK/refresh.log" 2>&1; then n=$((n + 1)); else bad=$((bad + 1)); fi
    done
    echo "$n $bad" >"$WORK/refreshes"
) &
PIDS[refresh]=$!

: >"$WORK/rss"
start=$SECONDS
while ((SECONDS - start < DURATION)); do
    rss="$(awk '/^VmRSS:/ {print $2}' "/proc/${PIDS[server]}/status" 2>/dev/null || echo 0)"
    printf '%d %s\n' $((SECONDS - start)) "$rss" >>"$WORK/rss"
    sleep 10
done
for p in open me downloads refresh; do
    wait "${PIDS[$p]}" || true
    unset "PIDS[$p]"
done
rss_end="$(awk '/^VmRSS:/ {print $2}' "/proc/${PIDS[server]}/status" 2>/dev/null || echo 0)"
printf '%d %s\n' $((SECONDS - start)) "$rss_end" >>"$WORK/rss"
alive=1
kill -0 "${PIDS[server]}" 2>/dev/null || alive=0

# h2load: "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout"
# and "status codes: N 2xx, N 3xx, N 4xx, N 5xx"
h2sum() {
    awk '/^requests:/ {t=$2; s=$8; f=$10; e=$12} /^status codes:/ {c2=$3; c3=$5; c4=$7; c5=$9}
         /^finished in/ {r=$4} END {printf "%s %s %s %s %s %s %s %s\n", t, s, f, e, c2, c4, c5, r}' "$1"
}
read -r o_total o_ok o_fail o_err o_2xx o_4xx o_5xx o_rate < <(h2sum "$WORK/open.out")
read -r m_total m_ok m_fail m_err m_2xx m_4xx m_5xx m_rate < <(h2sum "$WORK/me.out")
read -r d_ok d_bad <"$WORK/downloads"
read -r r_ok r_bad <"$WORK/refreshes"
rss_warm="$(awk '$1 >= 60 {print $2; exit}' "$WORK/rss")"
rss_max="$(awk '$1 >= 60 && $2 > m {m = $2} END {print m}' "$WORK/rss")"
rss_min="$(awk '$1 >= 60 && (m == "" || $2 < m) {m = $2} END {print m}' "$WORK/rss")"
growth="$(awk -v a="$rss_warm" -v b="$rss_max" 'BEGIN {printf "%.1f", (b - a) * 100 / a}')"

pass=1
((alive)) || pass=0
[[ $o_fail == 0 && $o_err == 0 && $o_4xx == 0 && $o_5xx == 0 && $o_ok == "$o_total" ]] || pass=0
[[ $m_fail == 0 && $m_err == 0 && $m_4xx == 0 && $m_5xx == 0 && $m_ok == "$m_total" ]] || pass=0
((d_bad == 0 && r_bad == 0)) || pass=0
awk -v g="$growth" 'BEGIN {exit !(g <= 10)}' || pass=0

cat <<EOF

### Soak, $(date -u +%Y-%m-%d) — ${DURATION} s, $THREADS server threads, $(nproc) cores

| load | requests done | 2xx (incl. those finishing after the deadline) | 4xx | 5xx | failed/errored | rate |
|---|---|---|---|---|---|---|
| open data, h2load -c$CLIENTS -m4 over $(wc -l <"$WORK/open.uris") URLs | $o_total | $o_2xx | $o_4xx | $o_5xx | $o_fail/$o_err | $o_rate |
| personal (one token), h2load -c4 -m2 over $(wc -l <"$WORK/me.uris") URLs | $m_total | $m_2xx | $m_4xx | $m_5xx | $m_fail/$m_err | $m_rate |
| whole CSV downloads (curl, gzip) | $((d_ok + d_bad)) | $d_ok | | | $d_bad | |
| \`klimaspejl refresh\` every 30 s | $((r_ok + r_bad)) | $r_ok | | | $r_bad | |

Server RSS: $rss_warm KiB at 60 s, between $rss_min and $rss_max KiB from then on, $rss_end KiB at the end
(growth after warm-up: $growth %; target at most 10 %). Server alive at the end: $([[ $alive == 1 ]] && echo yes || echo no).
Samples (seconds, KiB): $(awk '{printf "%s:%s ", $1, $2}' "$WORK/rss")

Result: $([[ $pass == 1 ]] && echo pass || echo FAIL)
EOF
((pass)) || {
    echo "work files kept in $WORK" >&2
    exit 1
}
rm -rf "$WORK"
