#!/usr/bin/env bash
#
# clients/js/test/run.sh — the @klimaspejl/client suite (node:test) against a real klimaspejl server and the seeded
# test database. Prints TAP on stdout (one `ok N` / `not ok N` line per test, no nested suites); everything else
# (npm, diagnostics) goes to stderr. Exit status 0 when every test passed.
#
# Environment (as for tests/integration; tests/run sets all of them):
#   KLIMA_BIN                 the server binary (default build-asan/klimaspejl)
#   KLIMA_TEST_DB_URL         conninfo of the seeded test database for the server role (klima_api)
#   KLIMA_TEST_DB_ADMIN_URL   the same database for the postgres superuser (psql checks, CLI token/client add)
#   KLIMA_TEST_DB_NAME        the test database's name
# The package's devDependencies (openapi-typescript, typescript, playwright-core) are installed with `npm ci` when node_modules is
# missing or older than package-lock.json.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG="$(dirname "$HERE")"
ROOT="$(cd "$PKG/../.." && pwd)"

export KLIMA_BIN="${KLIMA_BIN:-$ROOT/build-asan/klimaspejl}"
# h2o's per-thread buffer free lists are a cache, not a leak (see tests/lsan.supp); tests/run exports the same
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "clients/js/test/run.sh: node and npm are required" >&2
    exit 2
fi

if [[ ! -d "$PKG/node_modules" || "$PKG/package-lock.json" -nt "$PKG/node_modules" ]]; then
    echo "clients/js: npm ci (devDependencies: openapi-typescript, typescript, playwright-core)" >&2
    (cd "$PKG" && npm ci --no-audit --no-fund --loglevel=error) >&2
    touch "$PKG/node_modules"
fi

cd "$ROOT"
shopt -s nullglob
suites=("$HERE"/*.test.mjs)
shopt -u nullglob
if ((${#suites[@]} == 0)); then
    echo "clients/js/test/run.sh: no test/*.test.mjs" >&2
    exit 2
fi
# TAP to stdout; the files run one after another (each starts its own server)
exec node --test --test-reporter=tap --test-reporter-destination=stdout "${suites[@]}" </dev/null
