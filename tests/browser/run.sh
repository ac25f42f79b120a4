#!/usr/bin/env bash
#
# tests/browser/run.sh — the browser tests of clients/web (web.test.mjs: Playwright's playwright-core driving Debian's
# /usr/bin/chromium, plus @axe-core/playwright). Installs the npm packages from package-lock.json on first use, then
# prints node:test's TAP output: one `ok N` / `not ok N` line per test (nested under its describe block), so
# tests/run can count them with count_tap. Exit code non-zero when a test failed.
#
# Environment: the integration harness's (KLIMA_BIN, KLIMA_TEST_DB_URL, KLIMA_TEST_DB_ADMIN_URL: a migrated, seeded,
# refreshed database), KLIMA_CHROMIUM (default /usr/bin/chromium). Screenshots go to tests/out/screenshots.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

chromium="${KLIMA_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x $chromium ]]; then
    echo "not ok 1 - browser tests need $chromium (apt-get install chromium)"
    exit 1
fi
if [[ ! -d node_modules/playwright-core || ! -d node_modules/@axe-core/playwright ]]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
# (no --test-timeout: Node 18 lacks it; each describe block sets its own timeout, and tests/run limits the layer)
exec node --test --test-reporter=tap web.test.mjs
