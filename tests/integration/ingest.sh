#!/bin/sh
# Integration test of `klimaspejl ingest`: every bad fixture is rejected with FILE:LINE: reason and loads nothing; the
# good fixtures load. Needs KLIMA_BIN (the klimaspejl binary) and KLIMA_DB_ADMIN_URL (a fresh, migrated database).
# Prints one TAP-like line per case and exits non-zero when a case fails.
set -u
: "${KLIMA_BIN:?set KLIMA_BIN to the klimaspejl binary}"
: "${KLIMA_DB_ADMIN_URL:?set KLIMA_DB_ADMIN_URL to a fresh migrated database}"
export KLIMA_DB_ADMIN_URL
FIX=$(cd "$(dirname "$0")/../fixtures/ingest" && pwd)
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
failed=0
n=0

count() {
    psql "$KLIMA_DB_ADMIN_URL" -X -A -t -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM core.$1"
}

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    sed 's/^/#   /' "$OUT"
}

# bad NAME KIND FILE TABLE LINE REASON: ingest must exit 1 with "FILE:LINE: ...REASON..." and TABLE must stay empty.
bad() {
    name=$1 kind=$2 file=$FIX/$3 table=$4 line=$5 reason=$6
    "$KLIMA_BIN" ingest "$kind" "$file" >"$OUT" 2>&1
    rc=$?
    rows=$(count "$table")
    if [ "$rc" -ne 1 ]; then
        echo "exit status $rc, expected 1" >>"$OUT"
        not_ok "$name"
    elif ! grep -F -q "$file:$line: " "$OUT" || ! grep -F -q "$reason" "$OUT"; then
        echo "expected '$file:$line: ...$reason...'" >>"$OUT"
        not_ok "$name"
    elif [ "$rows" != 0 ]; then
        echo "core.$table has $rows rows, expected 0" >>"$OUT"
        not_ok "$name"
    else
        ok "$name"
    fi
}

# good NAME KIND FILE TABLE ROWS: ingest must succeed and TABLE must then hold ROWS rows.
good() {
    name=$1 kind=$2 file=$FIX/$3 table=$4 want=$5
    "$KLIMA_BIN" ingest "$kind" "$file" >"$OUT" 2>&1
    rc=$?
    rows=$(count "$table")
    if [ "$rc" -ne 0 ] || [ "$rows" != "$want" ]; then
        echo "exit status $rc, core.$table has $rows rows (expected 0 and $want)" >>"$OUT"
        not_ok "$name"
    else
        ok "$name"
    fi
}

bad "wrong header" households households-wrong-header.csv households 1 "wrong header"
bad "unknown district" households households-unknown-district.csv households 3 "district"
good "good households (quoted field, CRLF)" households households-good.csv households 3
bad "bad number" energy energy-bad-number.csv energy_hourly 4 "electricity_wh"
bad "duplicate key (same hour with an offset)" energy energy-duplicate-key.csv energy_hourly 5 "duplicate key"
bad "invalid UTF-8" waste waste-invalid-utf8.csv waste_weighings 4 "UTF-8"
bad "unknown household" mobility mobility-unknown-household.csv mobility_daily 4 "unknown household"
good "good energy (two months, offsets)" energy energy-good.csv energy_hourly 5
good "good waste" waste waste-good.csv waste_weighings 3
good "good mobility" mobility mobility-good.csv mobility_daily 3

# readings of any month: each month gets its partition (pg_partman's, named energy_hourly_pYYYY_MM) in the load
good "readings of 1970 and 2139 (their months get partitions)" energy energy-far-months.csv energy_hourly 7
parts=$(psql "$KLIMA_DB_ADMIN_URL" -X -A -t -v ON_ERROR_STOP=1 -c "SELECT string_agg(tableoid::regclass::text, ' ' ORDER BY hour_utc)
    FROM core.energy_hourly WHERE hour_utc < '1971-01-01' OR hour_utc > '2139-01-01'" 2>&1)
if [ "$parts" = "core.energy_hourly_p1970_01 core.energy_hourly_p2139_12" ]; then ok "... in their months' partitions"
else echo "$parts" >"$OUT"; not_ok "... in their months' partitions"; fi

# retention (KLIMA_ENERGY_RETENTION_MONTHS, read by refresh): checked before anything runs; after a release the months
# past it are dropped, and a reading of one of them is refused with its line
KLIMA_ENERGY_RETENTION_MONTHS=3 "$KLIMA_BIN" refresh >"$OUT" 2>&1
if [ $? -eq 2 ] && grep -F -q "KLIMA_ENERGY_RETENTION_MONTHS must be" "$OUT"; then ok "refresh refuses a retention under 25 months"
else not_ok "refresh refuses a retention under 25 months"; fi
KLIMA_ENERGY_RETENTION_MONTHS=25 "$KLIMA_BIN" refresh >"$OUT" 2>&1
rc=$?
left=$(count energy_hourly)
if [ $rc -eq 0 ] && grep -E -q "retention 25 months: [1-9][0-9]* dropped" "$OUT" && [ "$left" = 1 ]; then
    ok "refresh with a retention of 25 months drops the months past it (1970, 2024), keeps 2139"
else echo "core.energy_hourly has $left rows, expected 1" >>"$OUT"; not_ok "refresh with a retention of 25 months drops the months past it (1970, 2024), keeps 2139"; fi
"$KLIMA_BIN" ingest energy "$FIX/energy-retired-month.csv" >"$OUT" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -F -q "$FIX/energy-retired-month.csv:2: " "$OUT" && grep -F -q "retired" "$OUT" && [ "$(count energy_hourly)" = 1 ]; then
    ok "a reading of a retired month is refused with its line"
else echo "exit status $rc" >>"$OUT"; not_ok "a reading of a retired month is refused with its line"; fi

# stdin and usage errors
"$KLIMA_BIN" ingest waste - <"$FIX/waste-invalid-utf8.csv" >"$OUT" 2>&1
if [ $? -eq 1 ] && grep -F -q -- "-:4: " "$OUT"; then ok "stdin is read as -"; else not_ok "stdin is read as -"; fi
"$KLIMA_BIN" ingest trees "$FIX/waste-good.csv" >"$OUT" 2>&1
if [ $? -eq 2 ]; then ok "unknown kind is a usage error"; else not_ok "unknown kind is a usage error"; fi

echo "1..$n"
[ "$failed" -eq 0 ]
