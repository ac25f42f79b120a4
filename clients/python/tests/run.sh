#!/usr/bin/env bash
# Runs the Python client's tests against a real klimaspejl server and the real seeded database; prints TAP
# (`ok N - name` / `not ok N - name`, then `1..N`) on stdout, details on stderr; exits non-zero on any failure.
#   KLIMA_BIN=... KLIMA_TEST_DB_URL=... KLIMA_TEST_DB_ADMIN_URL=... clients/python/tests/run.sh [test names...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
: "${KLIMA_BIN:?KLIMA_BIN must name the klimaspejl binary}"
: "${KLIMA_TEST_DB_URL:?KLIMA_TEST_DB_URL must be set (the server connects as klima_api)}"
: "${KLIMA_TEST_DB_ADMIN_URL:?KLIMA_TEST_DB_ADMIN_URL must be set (independent SQL checks, client add, token)}"
# the same sanitizer settings as tests/run, in case this is called on its own
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}"
export PYTHONPATH="$here/..${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
cd "$here"
exec "${PYTHON:-python3}" -B "$here/tap.py" "$@"
