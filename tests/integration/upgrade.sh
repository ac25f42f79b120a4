#!/bin/sh
# An existing database upgraded to pg_partman (0028_energy_partman.sql) keeps its readings: a database migrated to
# 0027 (hand-made partitions energy_hourly_YYYYMM), seeded, with a reading in its DEFAULT partition and released, is
# migrated on. Its partitions must then be partman's (renamed, not copied: the same files), every month must hold the
# same readings, the DEFAULT partition's reading must be in its month's new partition, and the next release must keep
# every dataset's version. Needs KLIMA_BIN (the klimaspejl binary) and KLIMA_DB_ADMIN_URL (a fresh, empty database).
# Prints TAP and exits non-zero when a case fails.
set -u
: "${KLIMA_BIN:?set KLIMA_BIN to the klimaspejl binary}"
: "${KLIMA_DB_ADMIN_URL:?set KLIMA_DB_ADMIN_URL to a fresh empty database}"
export KLIMA_DB_ADMIN_URL
MIGRATIONS=$(cd "$(dirname "$0")/../../sql/migrations" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/out
failed=0
n=0

q() {
    psql "$KLIMA_DB_ADMIN_URL" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"
}

check() { # check NAME: passes when the previous command succeeded; otherwise shows $OUT
    if [ "$1" -eq 0 ]; then
        n=$((n + 1))
        echo "ok $n - $2"
    else
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $2"
        sed 's/^/#   /' "$OUT"
    fi
}

same() { # same NAME GOT WANT
    if [ "$2" = "$3" ]; then check 0 "$1"; else printf 'got:  %s\nwant: %s\n' "$2" "$3" >"$OUT"; check 1 "$1"; fi
}

# the database as it was before 0028
mkdir "$TMP/before"
for f in "$MIGRATIONS"/*.sql; do
    case $(basename "$f") in 002[89]_* | 00[3-9]*) ;; *) cp "$f" "$TMP/before/" ;; esac
done
"$KLIMA_BIN" migrate --dir "$TMP/before" >"$OUT" 2>&1
check $? "migrated to 0027"
# (the seed loads through the partitioned table: its partition names are partman's)
KLIMA_SEED_KEEP_PK=1 "$KLIMA_BIN" seed --households 40 --days 75 >"$OUT" 2>&1
check $? "seeded 40 households x 75 days on 0027's partitions"
q "INSERT INTO core.energy_hourly SELECT household_id, '2010-05-03 10:00+00', 123, 456, 7.5 FROM core.households
   ORDER BY household_id LIMIT 1" >"$OUT" 2>&1
check $? "a reading of a month without a partition (May 2010) goes to the DEFAULT partition"
# (a release as 0027 makes it: this binary's refresh also runs 0028's maintenance)
q "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM meta.release(); COMMIT" >"$OUT" 2>&1
check $? "released"

months="SELECT string_agg(format('%s:%s:%s', to_char(m, 'YYYY-MM'), n, s), ' ' ORDER BY m)
        FROM (SELECT date_trunc('month', hour_utc AT TIME ZONE 'UTC') AS m, count(*) AS n,
                     sum(electricity_wh + heat_wh) AS s FROM core.energy_hourly GROUP BY 1) x"
files="SELECT string_agg(regexp_replace(c.relname, '^energy_hourly_p?(\\d{4})_?(\\d{2})$', '\\1\\2') || '=' || c.relfilenode, ' ')
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'core.energy_hourly'::regclass AND c.relname ~ '^energy_hourly_p?\\d{4}_?\\d{2}$'"
versions="SELECT string_agg(id || ' v' || version || ' ' || content_hash, ', ' ORDER BY id) FROM meta.datasets"
months0=$(q "$months")
files0=$(q "$files")
versions0=$(q "$versions")
same "before: May 2010's reading is in the DEFAULT partition" "$(q "SELECT count(*) FROM core.energy_hourly_default")" 1
same "before: the partitions are named energy_hourly_YYYYMM" \
    "$(q "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'core.energy_hourly'::regclass AND c.relname !~ '^energy_hourly_(\\d{6}|default)$'")" 0

# the upgrade
"$KLIMA_BIN" migrate >"$OUT" 2>&1
check $? "migrated on (0028 adopts the partitions)"
same "every partition is partman's: energy_hourly_pYYYY_MM, energy_hourly_default" \
    "$(q "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'core.energy_hourly'::regclass AND c.relname !~ '^energy_hourly_(p\\d{4}_\\d{2}|default)$'")" 0
same "partman manages core.energy_hourly" \
    "$(q "SELECT partition_type || ' ' || partition_interval FROM partman.part_config WHERE parent_table = 'core.energy_hourly'")" \
    "native 1 mon"
same "every month holds the same readings (count and sums per UTC month)" "$(q "$months")" "$months0"
files1=$(q "$files")
kept=$(q "SELECT count(*) FROM unnest(string_to_array('$files0', ' ')) a WHERE a = ANY (string_to_array('$files1', ' '))")
same "the months' partitions were renamed, not copied (the same files)" "$kept" "$(echo "$files0" | wc -w)"
same "the DEFAULT partition's reading moved into May 2010's new partition" \
    "$(q "SELECT count(*) FROM core.energy_hourly_default")/$(q "SELECT count(*) FROM core.energy_hourly_p2010_05")" "0/1"
"$KLIMA_BIN" refresh >"$OUT" 2>&1
check $? "released after the upgrade"
grep -E -q '^partitions: [0-9]+ created; retention off' "$OUT"
check $? "... and the release maintained the partitions (retention off by default)"
same "... and every dataset kept its version and content" "$(q "$versions")" "$versions0"

echo "1..$n"
[ "$failed" -eq 0 ]
