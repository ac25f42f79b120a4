#!/usr/bin/env bash
#
# benchmarks/under-load.sh — the city under a mixed load (issue 19 item 3): one server on a released database and, at
# the same time, cached and uncached open-data queries, GET /v1/me/summary with 10,000 distinct consent tokens and a
# whole-year download of energy-district-hourly, each against its target. benchmarks/scale runs it last; it runs alone
# on any migrated and released database too.
#
# Usage: benchmarks/under-load.sh [DATABASE]
#   DATABASE  a database of the project-local cluster (KLIMA_PG_PORT), default klimaspejl_scale. Without the argument
#             and with KLIMA_DB_URL (and KLIMA_DB_ADMIN_URL) set, that database instead.
# Environment — the offered load; every rate is fixed (open loop), so each latency is that of a known load. The
# defaults are a tenth of Copenhagen (benchmarks/scale's 35,000 households) at 2.5 times the evening peak of the
# README's demand arithmetic (810 personal requests/s for the whole city: 81 for a tenth); 1000/250/2500 saturate
# this 2-core machine, generators included (benchmarks/README.md "City scale"):
#   LOAD_SECONDS (60)            how long the load runs
#   LOAD_SUMMARY_RATE (200)      GET /v1/me/summary per second, over 8 connections
#   LOAD_AGGREGATE_RATE (50)     uncached district-month aggregates per second, over 4 connections
#   LOAD_RECORDS_RATE (500)      cached records per second, h2load over 4 connections
#   LOAD_DOWNLOAD_ROUNDS (3)     whole-year downloads, each against psql \copy of the same query
#   KLIMA_BIN (default build/klimaspejl, brought up to date first)
#
# The server: `klimaspejl serve` with its defaults, as server/run starts it — KLIMA_THREADS = the cores,
# KLIMA_DB_CONNS 2, the response cache on (KLIMA_CACHE_MB 64), access log on (into the run's directory), the country
# database of server/run — except KLIMA_RATE_LIMIT=0 (every generator sends from 127.0.0.1, so the per-address limits
# would answer 429s) and the run's own token key (KLIMA_KEYS_DIR, KLIMA_ISSUER). Other KLIMA_* settings in the
# environment pass through. The loads, all at once:
#   (a) cached records: 20 fixed URLs of energy-district-daily (10 records pages, 10 aggregates), h2load --rps;
#   (b) uncached aggregates: B3's district-month aggregate (district_id=eq:N&group_by=day&bucket=month&measures=…)
#       with a `limit` (and beyond 99,000 requests a `day=gte:` filter before the data) that differs on every
#       request, so the same server's cache never answers while it fills and evicts; node token-load.mjs rate;
#   (c) GET /v1/me/summary?month=M (the newest whole month) with 10,000 consent tokens — a service key, a client
#       `benchmarks under-load`, 10,000 consents of summary:read (one each on 10,000 households, more per household
#       in a smaller city), tokens signed by token-load.mjs mint as benchmarks/run does for B4; each token is sent
#       once before the clock starts (its first sight: ES256 verification and consent check, reported apart);
#   (d) after 5 s, LOAD_DOWNLOAD_ROUNDS rounds of: GET /v1/datasets/energy-district-hourly/download?format=csv with
#       hour_utc in the 365 days that end with the newest released hour (curl, HTTP/1.1, to /dev/null), and psql
#       \copy of the server's own COPY (read from pg_stat_activity) to /dev/null as klima_api, alternating which goes
#       first; both timed by wall clock around the process;
#   (e) the server's VmRSS every 100 ms and its VmHWM at the end (reset before the load).
# Prints one line per result with its target and PASS or FAIL, the CPU time of the server and of each generator, and
# the load average; exits 1 when a target is missed or a request failed. The bench client and its consents are removed
# at the end.
set -euo pipefail

# shellcheck source=server/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/../server/setup.sh"

LOAD_S="${LOAD_SECONDS:-60}"
SUM_RATE="${LOAD_SUMMARY_RATE:-200}"
AGG_RATE="${LOAD_AGGREGATE_RATE:-50}"
REC_RATE="${LOAD_RECORDS_RATE:-500}"
DL_ROUNDS="${LOAD_DOWNLOAD_ROUNDS:-3}"
for v in LOAD_S SUM_RATE AGG_RATE REC_RATE DL_ROUNDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || klima_die "$v must be a positive integer, got '${!v}'"
done
((LOAD_S >= 10)) || klima_die "LOAD_SECONDS must be at least 10 (the downloads start after 5 s)"
SUM_CONNS=8
AGG_CONNS=4
REC_CONNS=4
TOKENS=10000
SUMMARY_P99_MS=10
AGGREGATE_P99_MS=50
DOWNLOAD_RATIO=0.9
MAX_RSS_MIB=256
ISSUER="http://klimaspejl.under-load"
CLIENT_NAME="benchmarks under-load"

if [[ $# -gt 1 || ${1:-} == -* ]]; then
    awk 'NR >= 3 && !/^#/ {exit} NR >= 3 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
    [[ ${1:-} == -h || ${1:-} == --help ]] && exit 0
    exit 2
fi

BIN="${KLIMA_BIN:-$ROOT/build/klimaspejl}"
# build/ brought up to date (incremental), so a measurement never runs a binary older than the tree; KLIMA_BIN names another
[[ -n ${KLIMA_BIN:-} ]] || klima_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [[ $# -eq 0 && -n ${KLIMA_DB_URL:-} ]]; then
    export KLIMA_DB_ADMIN_URL="${KLIMA_DB_ADMIN_URL:-$KLIMA_DB_URL}"
else
    DB="${1:-klimaspejl_scale}"
    klima_pg_start "$ROOT/.data/pg" "$KLIMA_PG_PORT"
    [[ "$(klima_psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" == 1 ]] ||
        klima_die "no database $DB in the cluster on port $KLIMA_PG_PORT (benchmarks/scale --keep makes one)"
    klima_db_create "$DB"
fi
q() { "$KLIMA_PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -d "$KLIMA_DB_ADMIN_URL" "$@"; }
now() { printf '%s\n' "$EPOCHREALTIME"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/klima-under-load.XXXXXX")"
declare -A PIDS=()
server_pid=""
cleanup() {
    local name
    rm -f "$WORK/sampling"
    for name in "${!PIDS[@]}"; do kill "${PIDS[$name]}" 2>/dev/null || true; done
    for name in "${!PIDS[@]}"; do wait "${PIDS[$name]}" 2>/dev/null || true; done
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null || true
    fi
    q -c "DELETE FROM meta.clients WHERE name = '$CLIENT_NAME'" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    if ((KLIMA_PG_STARTED_HERE)); then klima_pg_stop >/dev/null 2>&1; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- what the database holds -----------------------------------------------------------------------------------------
[[ "$(q -c "SELECT count(*) > 0 FROM meta.releases WHERE published_at IS NOT NULL")" == t ]] ||
    klima_die "the database has no release yet (klimaspejl refresh)"
# the newest released hour; the year of the download ends with its day; the newest whole local month for the summary;
# the first day of energy-district-daily, before which the aggregates' day=gte: filters select nothing less
read -r y0 y1 month first_day households <<<"$(q -F ' ' -c "
    SELECT e - 365, e, to_char(date_trunc('month', m AT TIME ZONE 'Europe/Copenhagen') - interval '1 month', 'YYYY-MM'),
           (SELECT min(day) FROM rollup.district_daily), (SELECT count(*) FROM core.households)
    FROM (SELECT max(hour_utc) AS m, (max(hour_utc) AT TIME ZONE 'UTC')::date + 1 AS e FROM rollup.district_hourly) r")"
[[ -n $households && $households -gt 0 ]] || klima_die "the database has no households"
dl_rows="$(q -c "SELECT count(*) FROM api.energy_district_hourly WHERE hour_utc >= '$y0 00:00+00' AND hour_utc < '$y1 00:00+00'")"
DL_PATH="/v1/datasets/energy-district-hourly/download?format=csv&hour_utc=gte:${y0}T00:00:00Z&hour_utc=lt:${y1}T00:00:00Z"
AGG_BASE="/v1/datasets/energy-district-daily/records?district_id=eq:%s&group_by=day&bucket=month&measures=sum:electricity_kwh,avg:heat_kwh_per_household"

# ---- the tokens (as benchmarks/run's B4 set-up) ----------------------------------------------------------------------
mkdir -p "$WORK/keys"
kid="$(KLIMA_KEYS_DIR="$WORK/keys" "$BIN" keygen 2>"$WORK/keygen.log")" || {
    cat "$WORK/keygen.log" >&2
    klima_die "klimaspejl keygen failed"
}
q -c "DELETE FROM meta.clients WHERE name = '$CLIENT_NAME'" >/dev/null
client="$("$BIN" client add --name "$CLIENT_NAME" --redirect-uri http://127.0.0.1:9/cb | awk '$1 == "client_id" {print $2}')"
[[ -n $client ]] || klima_die "klimaspejl client add failed"
q -F ' ' -c "
    INSERT INTO core.consents (household_id, client_id, scopes, expires_at)
    SELECT h.household_id, '$client', ARRAY['summary:read'], now() + interval '1 day'
    FROM core.households h CROSS JOIN generate_series(1, ceil($TOKENS.0 / (SELECT count(*) FROM core.households))::int)
    ORDER BY 1 LIMIT $TOKENS
    RETURNING household_id, consent_id" >"$WORK/consents"
node "$ROOT/benchmarks/token-load.mjs" mint "$WORK/keys" "$kid" "$ISSUER" "$client" summary:read "$WORK/consents" \
    "$WORK/tokens" >/dev/null
token_households="$(awk '{print $1}' "$WORK/consents" | sort -u | wc -l)"
printf '/v1/me/summary?month=%s\n' "$month" >"$WORK/summary.paths"

# (b)'s paths, each used once: district 1..10, limit 100..9999, then a day=gte: filter a day earlier each 99,000
q -c "SELECT format('$AGG_BASE&limit=%s%s', i % 10 + 1, 100 + (i / 10) % 9900,
                    CASE WHEN i >= 99000 THEN format('&day=gte:%s', '$first_day'::date - i / 99000) ELSE '' END)
      FROM generate_series(0, $((AGG_RATE * LOAD_S + 100))) i" >"$WORK/aggregate.paths"

# ---- the server ------------------------------------------------------------------------------------------------------
port="$(klima_free_port)"
URL="http://127.0.0.1:$port"
klima_geoip_env "$ROOT/.data/geoip"
# a copy of the binary under another name: other sessions' scripts on this machine stop "their" servers by name
cp "$BIN" "$WORK/kload-srv"
KLIMA_LISTEN="127.0.0.1:$port" KLIMA_RATE_LIMIT=0 KLIMA_KEYS_DIR="$WORK/keys" KLIMA_ISSUER="$ISSUER" \
    setsid "$WORK/kload-srv" serve >"$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 150); do
    curl -sf -o /dev/null "$URL/readyz" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
curl -sf -o /dev/null "$URL/readyz" || {
    tail -n 20 "$WORK/server.log" >&2
    klima_die "the server did not become ready"
}
threads="${KLIMA_THREADS:-0}"
((threads > 0)) || threads="$(nproc)"

# (a)'s URLs, answered once each now so that the cache holds them
for d in $(seq 1 10); do
    echo "$URL/v1/datasets/energy-district-daily/records?district_id=eq:$d&limit=10"
    # shellcheck disable=SC2059  # the format is AGG_BASE
    printf "$URL$AGG_BASE\n" "$d"
done >"$WORK/records.urls"
while read -r u; do curl -sf -o /dev/null "$u" || klima_die "GET $u failed"; done <"$WORK/records.urls"
curl -sf -o /dev/null -H "authorization: Bearer $(head -n 1 "$WORK/tokens")" "$URL$(cat "$WORK/summary.paths")" ||
    klima_die "GET /v1/me/summary?month=$month failed with the first token"

# (d): the server's COPY, read from pg_stat_activity while a throttled download holds it open; then one whole download
# to count its rows
curl -s --limit-rate 100k -o /dev/null "$URL$DL_PATH" &
PIDS[slow]=$!
copy=""
for _ in $(seq 400); do
    copy="$(q -c "SELECT query FROM pg_stat_activity WHERE datname = current_database()
                  AND query LIKE 'COPY (%api.energy_district_hourly%' AND pid <> pg_backend_pid() LIMIT 1")"
    [[ -n $copy ]] && break
    sleep 0.05
done
kill "${PIDS[slow]}" 2>/dev/null || true
wait "${PIDS[slow]}" 2>/dev/null || true
unset 'PIDS[slow]'
[[ $copy == 'COPY ('*') TO STDOUT WITH ('* ]] || klima_die "could not read the server's COPY from pg_stat_activity: '$copy'"
inner="${copy#COPY (}"
printf '\\copy (%s) to %s with %s\n' "${inner%) TO STDOUT WITH *}" "'/dev/null'" "${inner##*) TO STDOUT WITH }" >"$WORK/copy.sql"
got=$(($(curl -sf "$URL$DL_PATH" | wc -l) - 1))
((got == dl_rows)) || klima_die "the download had $got rows, the view $dl_rows"

# ---- the load --------------------------------------------------------------------------------------------------------
# cpu_ticks PID: user + system CPU time of a process so far, in clock ticks. busy_ticks: the machine's, all CPUs.
cpu_ticks() {
    local stat
    stat="$(<"/proc/$1/stat")"
    stat="${stat##*) }"
    # shellcheck disable=SC2086
    set -- $stat
    printf '%s\n' $((${12} + ${13}))
}
busy_ticks() {
    local _cpu u n s idle io irq sirq st _rest
    read -r _cpu u n s idle io irq sirq st _rest </proc/stat
    printf '%s %s\n' $((u + n + s + irq + sirq + st)) $((u + n + s + idle + io + irq + sirq + st))
}
# child_cpu FILE: the children's user + system seconds from the output of `times` in FILE.
child_cpu() { awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.1f", t }' "$1"; }
CLK_TCK="$(getconf CLK_TCK)"

echo "under load: $households households; server $(basename "$BIN") serve on $URL, defaults as server/run starts it ($threads worker threads, KLIMA_DB_CONNS ${KLIMA_DB_CONNS:-2}, response cache on: KLIMA_CACHE_MB ${KLIMA_CACHE_MB:-64}, access log ${KLIMA_ACCESS_LOG:-on}), KLIMA_RATE_LIMIT=0; ${LOAD_S} s"
load_before="$(load)"
echo 5 >"/proc/$server_pid/clear_refs" # resets VmHWM
touch "$WORK/sampling"
(
    # no process per sample (a `sleep` would fork and exec ten times a second): the file is read by bash's `read`, and
    # the 100 ms wait is a read with a timeout on fd 9, a pipe that never gets data
    while [[ -e $WORK/sampling ]] && kill -0 "$server_pid" 2>/dev/null; do
        IFS= read -r -d '' st <"/proc/$server_pid/status" || true
        st="${st#*VmRSS:}"
        st="${st%%kB*}"
        printf '%s\n' $st
        read -r -t 0.1 -u 9 _ || true
    done 9<> <(:) >"$WORK/rss"
    times >"$WORK/sampler.times"
) &
PIDS[sampler]=$!

# (c) first: its warm-up sends every token once; the clock of every load starts when it is over
node "$ROOT/benchmarks/token-load.mjs" rate "$URL" "$WORK/summary.paths" "$WORK/tokens" "$SUM_CONNS" "$SUM_RATE" "$LOAD_S" \
    >"$WORK/summary.out" 2>"$WORK/summary.err" &
PIDS[summary]=$!
until grep -q 'clock started' "$WORK/summary.err" 2>/dev/null; do
    kill -0 "${PIDS[summary]}" 2>/dev/null || {
        cat "$WORK/summary.err" >&2
        klima_die "the summary generator ended before its clock started"
    }
    sleep 0.05
done
server0="$(cpu_ticks "$server_pid")"
# the PostgreSQL backends of the server's pooled connections (the downloads' COPY connections come and go: not these)
mapfile -t backends < <(q -c "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = 'klima_api'
                                 AND backend_type = 'client backend' AND query NOT LIKE 'COPY %'")
pg_ticks() {
    local pid sum=0
    for pid in "${backends[@]}"; do
        [[ -r /proc/$pid/stat ]] && sum=$((sum + $(cpu_ticks "$pid")))
    done
    printf '%s\n' "$sum"
}
pg0="$(pg_ticks)"
read -r busy0 all0 <<<"$(busy_ticks)"
t0="$(now)"
node "$ROOT/benchmarks/token-load.mjs" rate "$URL" "$WORK/aggregate.paths" - "$AGG_CONNS" "$AGG_RATE" "$LOAD_S" \
    >"$WORK/aggregate.out" 2>"$WORK/aggregate.err" &
PIDS[aggregate]=$!
rec_rps=$(((REC_RATE + REC_CONNS - 1) / REC_CONNS))
(
    h2load -c "$REC_CONNS" -t 1 --rps "$rec_rps" -D "$LOAD_S" -i "$WORK/records.urls" >"$WORK/records.out" 2>&1 || true
    times >"$WORK/records.times"
) &
PIDS[records]=$!

# (d), alternating which of the two goes first
sleep 5
(
    for ((r = 1; r <= DL_ROUNDS; r++)); do
        order=(server copy)
        ((r % 2)) || order=(copy server)
        for side in "${order[@]}"; do
            a="$(now)"
            if [[ $side == server ]]; then
                res="$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_starttransfer}' "$URL$DL_PATH")" ||
                    res="curl-failed 0 0"
            else
                res="$("$KLIMA_PG_BIN/psql" -X -v ON_ERROR_STOP=1 -d "$KLIMA_DB_URL" -f "$WORK/copy.sql" 2>&1 | tr '\n' ' ')" || true
            fi
            b="$(now)"
            printf '%s %s %s %s\n' "$r" "$side" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b - a}')" "$res"
        done
    done >"$WORK/download.out"
    times >"$WORK/download.times"
)
t_dl_end="$(now)"
for name in summary aggregate records; do
    wait "${PIDS[$name]}" || true
    unset "PIDS[$name]"
done
t1="$(now)"
server1="$(cpu_ticks "$server_pid")"
pg1="$(pg_ticks)"
read -r busy1 all1 <<<"$(busy_ticks)"
hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")"
rm -f "$WORK/sampling"
wait "${PIDS[sampler]}" || true
unset 'PIDS[sampler]'
load_after="$(load)"
kill -0 "$server_pid" 2>/dev/null || klima_die "the server ended during the load (its log: $(tail -n 5 "$WORK/server.log"))"

# ---- the results -----------------------------------------------------------------------------------------------------
FAILS=0
# verdict OK: sets V to PASS, or to FAIL and counts a failure
verdict() {
    if (($1)); then V=PASS; else
        V=FAIL
        FAILS=$((FAILS + 1))
    fi
}
# fig FILE KEY: a key=value figure of a token-load.mjs rate line
fig() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
# rate_line LABEL FILE TARGET_MS OFFERED: the latency line of a token-load.mjs rate run
rate_line() {
    local label="$1" f="$2" target="$3" offered="$4" ok=0
    [[ -s $f ]] && ok="$(awk -v s="$(fig "$f" sent)" -v o="$(fig "$f" ok)" -v p="$(fig "$f" p99)" -v t="$target" \
        'BEGIN {print (s > 0 && s == o && p != "-" && p <= t) ? 1 : 0}')"
    verdict "$ok"
    [[ -s $f ]] || {
        printf '%s: the generator printed nothing; target p99 <= %s ms: %s\n' "$label" "$target" "$V"
        return 0
    }
    printf '%s: %s sent, %s 2xx, %s other, %s failed, %s/s answered; p50 %s ms, p90 %s ms, p99 %s ms, max %s ms (generator late by p99 %s ms, max %s ms); target p99 <= %s ms and every response 2xx: %s\n' \
        "$label" "$(fig "$f" sent)" "$(fig "$f" ok)" "$(fig "$f" bad)" "$(fig "$f" errors)" "$(fig "$f" rate)" \
        "$(fig "$f" p50)" "$(fig "$f" p90)" "$(fig "$f" p99)" "$(fig "$f" max)" "$(fig "$f" lag_p99)" \
        "$(fig "$f" lag_max)" "$target" "$V"
    awk -v r="$(fig "$f" rate)" -v o="$offered" -v l="${label%%:*}" 'BEGIN { if (r < 0.97 * o)
        printf "warning: %s: %.0f/s answered of %d/s offered: the server fell behind and a backlog grew, so its latencies are the backlog'"'"'s (a lower rate, or a quieter machine)\n", l, r, o }'
}

rate_line "summary: GET /v1/me/summary?month=$month, $(wc -l <"$WORK/tokens") tokens of $token_households households, ${SUM_RATE}/s over $SUM_CONNS connections" \
    "$WORK/summary.out" "$SUMMARY_P99_MS" "$SUM_RATE"
grep -h '^token-load: first failure' "$WORK/summary.err" || true
printf 'summary, first sight of each token (the untimed warm-up before the clock: ES256 verification and consent check; no target): %s tokens in %s s, p50 %s ms, p99 %s ms, max %s ms\n' \
    "$(fig "$WORK/summary.out" warm_n)" "$(fig "$WORK/summary.out" warm_s)" "$(fig "$WORK/summary.out" warm_p50)" \
    "$(fig "$WORK/summary.out" warm_p99)" "$(fig "$WORK/summary.out" warm_max)"
rate_line "aggregate, uncached: GET ${AGG_BASE//%s/N}&limit=L (every URL once), ${AGG_RATE}/s over $AGG_CONNS connections" \
    "$WORK/aggregate.out" "$AGGREGATE_P99_MS" "$AGG_RATE"
grep -h '^token-load: first failure' "$WORK/aggregate.err" || true

# h2load: "requests: T total, S started, D done, OK succeeded, F failed, E errored, TO timeout"
read -r rec_done rec_2xx rec_bad rec_mean rec_max <<<"$(awk '
    /^requests:/ { d = $6; bad = $10 + $12 + $14 }
    /^status codes:/ { c2 = $3 }
    /^time for request:/ { mn = $6; mx = $5 }
    END { printf "%d %d %d %s %s\n", d, c2, bad, mn ? mn : "-", mx ? mx : "-" }' "$WORK/records.out")"
verdict $((rec_done > 0 && rec_2xx == rec_done && rec_bad == 0))
printf 'records, cached: 20 URLs of energy-district-daily, h2load -c %s --rps %s (%s/s): %s requests, %s 2xx, %s failed; mean %s, max %s (no latency target; every response 2xx: %s)\n' \
    "$REC_CONNS" "$rec_rps" "$((rec_rps * REC_CONNS))" "$rec_done" "$rec_2xx" "$rec_bad" "$rec_mean" "$rec_max" "$V"

# the download rounds: per round the two wall times; the ratio copy / server is the server's rows per second over psql's
dl_ok="$(awk -v rows="$dl_rows" '($2 == "server" && $4 != 200) || ($2 == "copy" && !($4 == "COPY" && $5 == rows)) { bad = 1 }
    END { print bad ? 0 : 1 }' "$WORK/download.out")"
ratio="$(awk '{ t[$1, $2] = $3; if ($1 > n) n = $1 } END { for (r = 1; r <= n; r++) print t[r, "copy"] / t[r, "server"] }' \
    "$WORK/download.out" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
srv_times="$(awk '$2 == "server" { printf "%s%s (first byte %.3f)", sep, $3, $6; sep = ", " }' "$WORK/download.out")"
copy_times="$(awk '$2 == "copy" { printf "%s%s", sep, $3; sep = ", " }' "$WORK/download.out")"
mib="$(awk '$2 == "server" && $4 == 200 { b = $5 } END { printf "%.1f", b / 1048576 }' "$WORK/download.out")"
verdict "$(awk -v r="$ratio" -v t="$DOWNLOAD_RATIO" -v ok="$dl_ok" 'BEGIN {print (ok && r >= t) ? 1 : 0}')"
printf 'download: GET %s (%s rows, %s MiB of CSV), curl HTTP/1.1: %s s; psql \\copy of the same COPY: %s s; %sx (the median of %s rounds of rows/s, the server over psql); target >= %sx: %s\n' \
    "$DL_PATH" "$dl_rows" "$mib" "$srv_times" "$copy_times" "$ratio" "$DL_ROUNDS" "$DOWNLOAD_RATIO" "$V"
awk '($2 == "server" && $4 != 200) || ($2 == "copy" && $4 != "COPY") { print "download round " $1 " (" $2 ") went wrong: " $0 }' \
    "$WORK/download.out"
awk -v t="$t_dl_end" -v e="$t1" 'BEGIN { if (t > e - 1) print "warning: the download rounds ended less than 1 s before the other loads: raise LOAD_SECONDS" }'
echo "download SQL: $(cat "$WORK/copy.sql")"

read -r rss_max rss_n <<<"$(sort -n "$WORK/rss" | awk '{ v = $1 } END { print v + 0, NR }')"
verdict "$(awk -v a="$rss_max" -v b="$hwm" -v m="$MAX_RSS_MIB" 'BEGIN { print (a <= m * 1024 && b <= m * 1024) ? 1 : 0 }')"
awk -v a="$rss_max" -v n="$rss_n" -v b="$hwm" -v m="$MAX_RSS_MIB" -v v="$V" \
    'BEGIN { printf "server RSS: highest VmRSS %.1f MiB (%d samples, every 100 ms from before the warm-up), VmHWM %.1f MiB; target <= %d MiB: %s\n", a / 1024, n, b / 1024, m, v }'

awk -v hz="$CLK_TCK" -v s0="$server0" -v s1="$server1" -v b0="$busy0" -v b1="$busy1" -v a0="$all0" -v a1="$all1" \
    -v p0="$pg0" -v p1="$pg1" -v np="${#backends[@]}" \
    -v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
    -v ns="$(fig "$WORK/summary.out" cpu_s)" -v na="$(fig "$WORK/aggregate.out" cpu_s)" \
    -v h="$(child_cpu "$WORK/records.times")" -v d="$(child_cpu "$WORK/download.times")" \
    -v smp="$(child_cpu "$WORK/sampler.times")" 'BEGIN {
        srv = (s1 - s0) / hz; pg = (p1 - p0) / hz; busy = (b1 - b0) / hz; all = (a1 - a0) / hz; gen = ns + na + h + d + smp
        printf "CPU over the %.1f s of load: the machine %.1f of %.1f CPU-s busy; the server %.1f s and its %d pooled PostgreSQL backends %.1f s; generators %.1f s (summary node %.1f, aggregate node %.1f, h2load %.1f, curl and psql %.1f, RSS sampler %.1f); the rest (the downloads'"'"' and psql'"'"'s backends, other sessions) %.1f s\n",
               wall, busy, all, srv, np, pg, gen, ns, na, h, d, smp, busy - srv - pg - gen }'
echo "load average: before $load_before, after $load_after"
if ((FAILS)); then
    echo "under load: FAIL ($FAILS of the lines above)"
    exit 1
fi
echo "under load: PASS"
