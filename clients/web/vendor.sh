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
# Redoc's sidebar footer shows a logo from cdn.redoc.ly; the pages load nothing from other hosts (CSP img-src 'self'
# data:), so the bundle gets an empty data: URL instead: the image fails to decode and Redoc hides it (its onError).
sed 's#"https://cdn.redoc.ly/redoc/logo-mini.svg"#"data:,"#' node_modules/redoc/bundles/redoc.standalone.js >"$out/redoc.standalone.js"
if grep -q 'cdn\.redoc\.ly' "$out/redoc.standalone.js"; then
    echo "vendor.sh: redoc.standalone.js still refers to cdn.redoc.ly; update the patch above" >&2
    exit 1
fi
cp node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt "$out/redoc.standalone.LICENSE-THIRD-PARTY.txt"
cp node_modules/redoc/LICENSE "$out/redoc.LICENSE.txt"
echo "vendored: $(cd "$out" && ls | tr '\n' ' ')"
