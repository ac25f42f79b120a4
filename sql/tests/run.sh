#!/bin/sh
# Runs the pgTAP tests of sql/tests against a migrated, seeded and refreshed database.
# Connection from the usual libpq variables: PGHOST, PGPORT, PGDATABASE, PGUSER (a superuser: the tests switch to
# klima_api to prove what it cannot read, and insert fixtures inside transactions that are rolled back).
# Exit status: 0 when every test passes, non-zero otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null
exec pg_prove --failures --ext .sql "$here"/[0-9]*.sql
