#!/usr/bin/env bash
#
# clients/web/vendor.sh — refreshes the third-party files under assets/vendor from the npm packages pinned in
# package.json / package-lock.json. The copied files are committed, so serving the pages needs no npm; run this only
# to upgrade a package (edit package.json, `npm install`, then this script) and review the diff.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

npm ci --no-audit --no-fund
out=assets/vendor
mkdir -p "$out"
cp node_modules/uplot/dist/uPlot.iife.min.js "$out/uPlot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$out/uPlot.min.css"
cp node_modules/uplot/LICENSE "$out/uPlot.LICENSE.txt"
cp node_modules/redoc/bundles/redoc.standalone.js "$out/redoc.standalone.js"
cp node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt "$out/redoc.standalone.LICENSE-THIRD-PARTY.txt"
cp node_modules/redoc/LICENSE "$out/redoc.LICENSE.txt"
echo "vendored: $(cd "$out" && ls | tr '\n' ' ')"
