#!/usr/bin/env bash
#
# tests/audit/run.sh — the audit layer of tests/run: `klimaspejl audit` against a test city with planted outliers,
# from the public API of a running server. TAP on stdout.
#
#   1. a fresh database: migrate, seed 300 households x 65 days (ending 2025-11-15, so the end of DST is inside),
#      tests/audit/plant.sql (spike, heat leak, small district, e-cars, rare mode; the late day held back);
#   2. protection OFF (meta.disclosure_control: cell_key_enabled = false, the noise, and existence_enabled = false,
#      the rule that leaves out combinations of fewer than k households; k, dominance and secondary suppression stay):
#      release 1 -> audit --save; plant2.sql (the late day arrives, a reading is corrected) -> release 2 -> audit
#      --previous. Every planted disclosure must be reported, each under its own key (audit_fixture.plants);
#   3. protection ON: the late day and the correction taken back -> release 1 -> audit --save, re-planted -> release 2
#      -> audit --previous: 0 findings required from both attackers, the default (justified) one and the plausible
#      one (largest contribution at most 3 x the cell mean), which is the test's attacker (README "klimaspejl audit");
#   4. a protection far too weak (its magnitude noise at 1/10, published as such in the catalog) must be reported by
#      the plausible attacker;
#   5. each audit run must finish within KLIMA_AUDIT_MAX_SECONDS (180).
#
# Environment: KLIMA_BIN (default build/klimaspejl), KLIMA_PG_PORT; uses the project-local PostgreSQL (started if
# needed, and stopped again if this script started it). KLIMA_AUDIT_KEEP=1 keeps the database and the audit output.
set -uo pipefail

# shellcheck source=server/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../server/setup.sh"

BIN="${KLIMA_BIN:-$ROOT/build/klimaspejl}"
HERE="$ROOT/tests/audit"
MAX_SECONDS="${KLIMA_AUDIT_MAX_SECONDS:-180}"
DB="${KLIMA_AUDIT_DB:-klimaspejl_test_$$_audit}"
PORT="${KLIMA_AUDIT_PORT:-$((20000 + $$ % 20000))}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/klima-audit.XXXXXX")"
URL="http://127.0.0.1:$PORT"

n=0
failed=0
ok() { n=$((n + 1)); printf 'ok %d - %s\n' "$n" "$1"; }
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    printf 'not ok %d - %s\n' "$n" "$1"
}
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

server_pid=""
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    if [[ ${KLIMA_AUDIT_KEEP:-0} != 1 ]]; then
        klima_db_drop "$DB" >/dev/null 2>&1 || true
        rm -rf "$WORK"
    else
        echo "# kept database $DB and $WORK" >&2
    fi
    if ((KLIMA_PG_STARTED_HERE)); then klima_pg_stop >/dev/null 2>&1; fi
}
trap cleanup EXIT

klima_pg_start "$ROOT/.data/pg" "$KLIMA_PG_PORT" 2>/dev/null
klima_db_create "$DB"
psql_admin() { "$KLIMA_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$KLIMA_DB_ADMIN_URL" "$@"; }

# ---------------------------------------------------------------------------------------------------------------
t0=$SECONDS
if ! { "$BIN" migrate && "$BIN" seed --households 300 --days 65 --end 2025-11-15 --seed 1 &&
    psql_admin -f "$HERE/plant.sql"; } >"$WORK/setup.log" 2>&1; then
    tail -n 20 "$WORK/setup.log" | sed 's/^/# /'
    not_ok "test city: migrate, seed, plant"
    echo "1..$n"
    exit 1
fi
ok "test city: migrate, seed 300 households x 65 days, plant the outliers ($((SECONDS - t0)) s)"

mkdir -p "$WORK/keys"
KLIMA_KEYS_DIR="$WORK/keys" "$BIN" keygen >/dev/null 2>&1
# Downloads unlimited (KLIMA_RATE_DOWNLOAD=0): the eight audits below download each dataset of a release, about 50
# downloads, which a quick release puts inside one minute, past the default 30 a minute.
KLIMA_KEYS_DIR="$WORK/keys" KLIMA_LISTEN="127.0.0.1:$PORT" KLIMA_THREADS=1 KLIMA_LOG_LEVEL=warn KLIMA_RATE_DOWNLOAD=0 \
    setsid "$BIN" serve >"$WORK/server.log" 2>&1 &
server_pid=$!

# version of energy-district-hourly in the served catalog ("" while the server is not up)
served_version() {
    curl -s --max-time 5 "$URL/v1/datasets/energy-district-hourly" |
        grep -oE '"version": *[0-9]+' | head -n 1 | grep -oE '[0-9]+$'
}

# set_protection on|off: switches the cell-key noise and the existence rule (the next release publishes with them).
set_protection() {
    local v
    v="$([[ $1 == on ]] && echo true || echo false)"
    psql_admin -c "UPDATE meta.disclosure_control SET cell_key_enabled = $v, existence_enabled = $v"
}

# release: refresh and wait until the server serves the new version (the audit itself waits for the rest of the
# catalog, whose disclosure_control names the version it describes).
release() {
    local before v i t=$SECONDS
    before="$(served_version)"
    "$BIN" refresh >"$WORK/refresh.log" 2>&1 || {
        tail -n 20 "$WORK/refresh.log" | sed 's/^/# /'
        return 1
    }
    for ((i = 0; i < 100; i++)); do
        v="$(served_version)"
        if [[ -n $v && $v != "$before" ]]; then
            echo "# release: version $v ($((SECONDS - t)) s)"
            return 0
        fi
        sleep 0.2
    done
    echo "# the server still serves version $before after the refresh" >&2
    return 1
}

# audit NAME ARGS...: runs the audit; its output in $WORK/NAME.out, its exit code in $WORK/NAME.rc, a TAP line for
# its time.
audit() {
    local name="$1" t rc
    shift
    t=$SECONDS
    "$BIN" audit --url "$URL" "$@" --json "$WORK/$name.json" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    echo "$rc" >"$WORK/$name.rc"
    echo "# audit $name: exit $rc, $((SECONDS - t)) s: $(grep -E '^audit: [0-9]' "$WORK/$name.out" | tail -n 1)"
    check "audit $name finishes within $MAX_SECONDS s ($((SECONDS - t)) s)" "(( SECONDS - t <= MAX_SECONDS ))"
}

# reported NAME PLANT: tells whether audit NAME reported the planted outlier PLANT under its key.
reported() {
    local name="$1" plant="$2" kind dataset key measure
    IFS='|' read -r kind dataset key measure < <(psql_admin -tAc \
        "SELECT kind, dataset, key, measure FROM audit_fixture.plants WHERE name = '$plant'")
    grep -F " $kind $dataset $key" "$WORK/$name.out" | grep -qF -- "$measure"
}

# ---------------------------------------------------------------------------------------------------------------
# (a) protection off: the planted disclosures must be found
for i in 1; do
    until server_up="$(served_version)"; [[ -n $server_up ]]; do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.2
    done
done
check "server answers on $URL" "[[ -n \$(served_version) ]]"
set_protection off
check "release 1 (noise and existence rule off)" "release"
audit off-r1 --save "$WORK/off-r1"
check "protection off, release 1: exit status 1 (findings)" "[[ \$(cat '$WORK/off-r1.rc') == 1 ]]"
check "protection off: the audit reads the catalog as it is (noise off, existence rule off)" \
    "grep -q 'noise off, existence rule off' '$WORK/off-r1.out'"
for plant in spike "heat leak" "small district" e-cars "rare mode"; do
    check "protection off: the $plant is reported" "reported off-r1 '$plant'"
done
psql_admin -f "$HERE/plant2.sql"
check "release 2 (late day, correction; protection off)" "release"
audit off-r2 --previous "$WORK/off-r1"
check "protection off, release 2: exit status 1 (findings)" "[[ \$(cat '$WORK/off-r2.rc') == 1 ]]"
late_hours="$(grep -cE ' household energy-district-hourly district=5 hour_utc=(2025-10-19T2[23]|2025-10-20T([01][0-9]|2[01])):00:00Z electricity_wh ' "$WORK/off-r2.out" || true)"
check "protection off: the late day is reported, hour by hour ($late_hours of 24 hours)" "(( late_hours == 24 ))"
check "protection off: the correction is reported" "reported off-r2 correction"
for name in off-r1 off-r2; do
    grep -E '^audit: ' "$WORK/$name.out" | sed "s/^/# $name: /"
    grep -E '^finding ' "$WORK/$name.out" | awk '{ print $3, $4 }' | sort | uniq -c | sed "s/^/#   $name findings: /"
done

# ---------------------------------------------------------------------------------------------------------------
# (b) protection on: nothing may be found, in one release or across two, by either attacker
psql_admin -v undo=1 -f "$HERE/plant2.sql"
set_protection on
check "release 1 (protection on)" "release"
audit on-r1 --save "$WORK/on-r1" --targets
check "protection on, release 1: 0 findings" "[[ \$(cat '$WORK/on-r1.rc') == 0 ]]"
check "protection on: the audit reads the catalog as it is (noise on, existence rule on)" \
    "grep -q 'noise on, existence rule on' '$WORK/on-r1.out'"
audit on-r1-plausible --attacker plausible --targets
check "protection on, release 1, plausible attacker: 0 findings" "[[ \$(cat '$WORK/on-r1-plausible.rc') == 0 ]]"
psql_admin -f "$HERE/plant2.sql"
check "release 2 (protection on)" "release"
audit on-r2 --previous "$WORK/on-r1" --targets
check "protection on, release 2: 0 findings" "[[ \$(cat '$WORK/on-r2.rc') == 0 ]]"
audit on-r2-plausible --previous "$WORK/on-r1" --attacker plausible --targets
check "protection on, release 2, plausible attacker: 0 findings" "[[ \$(cat '$WORK/on-r2-plausible.rc') == 0 ]]"
for name in on-r1 on-r1-plausible on-r2 on-r2-plausible; do
    grep -E '^audit: ' "$WORK/$name.out" | sed "s/^/# $name: /"
    # findings, and (--targets) how far the attacker got where it bounded a hidden value away from 0
    grep -E '^(finding|target) ' "$WORK/$name.out" | head -n 8 | cut -c1-240 | sed "s/^/# $name: /"
done

# ---------------------------------------------------------------------------------------------------------------
# (c) a protection far too weak must not pass: the magnitude noise at 1/10 of its setting, published as such
#     (KLIMA_AUDIT_WEAK_SQL overrides the statement that weakens it). The plausible attacker is the test's attacker:
#     the justified one bounds every cell's noise by its own total, which hides even this (its result is printed).
psql_admin -c "${KLIMA_AUDIT_WEAK_SQL:-UPDATE meta.disclosure_control SET magnitude_m = magnitude_m / 10}"
check "release (protection at 1/10 of its magnitude noise)" "release"
audit weak --attacker plausible
check "a far too weak protection is reported by the plausible attacker (exit status 1)" "[[ \$(cat '$WORK/weak.rc') == 1 ]]"
audit weak-justified
for name in weak weak-justified; do
    grep -E '^audit: ' "$WORK/$name.out" | sed "s/^/# $name: /"
    grep -E '^finding ' "$WORK/$name.out" | cut -c1-240 | sed "s/^/#   $name: /"
done

echo "1..$n"
((failed == 0))
