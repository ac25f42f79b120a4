#!/usr/bin/env bash
#
# tests/checks/run.sh BUILD_DIR — the source checks of DESIGN section 1 and STYLE.md, as TAP on stdout:
#   layering    every #include "..." of server/src against the "Never" list (layering.py), and no route policy
#               outside the route tables
#   sizes       no server file over 600 lines, no function over 80 (sizes.py)
#   format      clang-format --dry-run -Werror on every tracked C file (.clang-format)
#   exports     every non-static function of the static library is used outside its file (exports.py over nm)
#   banned      no sprintf, strcpy, strcat, strtok, atoi, gets
#   systemd     systemd-analyze verify accepts server/*.service and *.timer (--man=no: a minimal Debian has no man; skipped without systemd)
#   duplicates  `duplicates --repo server/src` finds at most 10 places sharing six or more lines, each named
#               deliberate in a comment ("duplicate:" within the place or the three lines above it); skipped when the
#               duplicates tool is not installed
# Each check is also run once on a planted violation (a copy of the tree, never the tree itself) and must fail
# there: a check that cannot fail proves nothing.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build-asan}"
CHECKS="$ROOT/tests/checks"
SRC="$ROOT/server/src"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
N=0

# tap OK DESCRIPTION [OUTPUT]: one TAP line; on failure the output follows as comments.
tap() {
    N=$((N + 1))
    if (($1)); then
        echo "ok $N - $2"
    else
        echo "not ok $N - $2"
        [[ -n ${3:-} ]] && sed 's/^/# /' <<<"$3" | head -n 40
    fi
    return 0
}

# planted_tree: a fresh copy of server/src in $TMP/src.
planted_tree() {
    rm -rf "$TMP/src"
    cp -r "$SRC" "$TMP/src"
}

# --- layering ---------------------------------------------------------------------------------------------------
out="$(python3 "$CHECKS/layering.py" "$SRC" 2>&1)"
tap $(($? == 0)) "layering: every #include of server/src keeps DESIGN section 1's rules" "$out"

planted_tree
echo '#include "app/app.h"' >>"$TMP/src/http/server.c"
echo '#include "consent/module.h"' >>"$TMP/src/opendata/records.c"
echo '#include "http/respond.h"' >>"$TMP/src/core/log.c"
echo '#include "app/db.h"' >>"$TMP/src/auth/token.c"
echo 'static const int planted = APP_CLASS_OPEN;' >>"$TMP/src/citizen/me.c"
out="$(python3 "$CHECKS/layering.py" "$TMP/src" 2>&1)"
rc=$?
found="$(grep -cE '^(http/server\.c|opendata/records\.c|core/log\.c|auth/token\.c|citizen/me\.c):' <<<"$out")"
tap $((rc == 1 && found == 5)) "layering: five planted violations (http->app, audience->audience, core->http, auth->app, a class outside the route table) are all reported" "$out"

# --- sizes -------------------------------------------------------------------------------------------------------
out="$(python3 "$CHECKS/sizes.py" "$SRC" 2>&1)"
tap $(($? == 0)) "sizes: no server file over 600 lines, no function over 80" "$out"

planted_tree
{
    printf '\nint planted_long(void)\n{\n    int x = 0;\n'
    for _ in $(seq 80); do printf '    ++x;\n'; done
    printf '    return x;\n}\n'
} >>"$TMP/src/core/log.c"
out="$(python3 "$CHECKS/sizes.py" "$TMP/src" 2>&1)"
tap $(($? == 1)) "sizes: a planted 84-line function is reported with its file:line" "$out"

# --- format ------------------------------------------------------------------------------------------------------
if ! command -v clang-format >/dev/null 2>&1; then
    tap 0 "format: clang-format is not installed (server/setup.sh installs it)"
else
    mapfile -t files < <(cd "$ROOT" && git ls-files '*.c' '*.h')
    out="$(cd "$ROOT" && clang-format --dry-run -Werror "${files[@]}" 2>&1)"
    tap $(($? == 0)) "format: clang-format --dry-run -Werror passes on all ${#files[@]} tracked C files" "$out"
    cp "$ROOT/.clang-format" "$TMP/.clang-format"
    printf 'int planted(void) { return 1; }\n' >"$TMP/planted.c"
    out="$(cd "$TMP" && clang-format --dry-run -Werror planted.c 2>&1)"
    tap $(($? != 0)) "format: a planted badly formatted file fails the check" "$out"
fi

# --- exports -----------------------------------------------------------------------------------------------------
lib="$BUILD/libklima_lib.a"
main_o="$BUILD/CMakeFiles/klimaspejl.dir/server/src/main.c.o"
if [[ ! -f $lib || ! -f $main_o ]]; then
    tap 0 "exports: $lib or main.c.o is missing (build $BUILD first)"
else
    out="$(python3 "$CHECKS/exports.py" "$lib" "$main_o" 2>&1)"
    tap $(($? == 0)) "exports: every non-static function of the library is used outside its file" "$out"
    cp "$lib" "$TMP/lib.a"
    printf 'int klima_planted_unused(void);\nint klima_planted_unused(void)\n{\n    return 1;\n}\n' >"$TMP/planted.c"
    cc -c "$TMP/planted.c" -o "$TMP/planted.o" && ar rc "$TMP/lib.a" "$TMP/planted.o"
    out="$(python3 "$CHECKS/exports.py" "$TMP/lib.a" "$main_o" 2>&1)"
    tap $(($? == 1)) "exports: a planted unused export is reported" "$out"
fi

# --- banned functions --------------------------------------------------------------------------------------------
BANNED='(^|[^A-Za-z0-9_])(sprintf|strcpy|strcat|strtok|atoi|gets)[[:space:]]*\('
out="$(cd "$ROOT" && git ls-files '*.c' '*.h' | xargs grep -nE "$BANNED" 2>&1)"
tap $((${#out} == 0)) "banned: no sprintf, strcpy, strcat, strtok, atoi or gets in any tracked C file" "$out"
printf 'void f(char *d) { strcpy(d, "x"); }\n' >"$TMP/banned.c"
out="$(grep -nE "$BANNED" "$TMP/banned.c")"
tap $((${#out} != 0)) "banned: a planted strcpy is found" "$out"

# --- duplicates --------------------------------------------------------------------------------------------------
if ! command -v duplicates >/dev/null 2>&1; then
    N=$((N + 1))
    echo "ok $N - duplicates # SKIP the duplicates tool is not installed"
else
    out="$(cd "$ROOT" && duplicates --repo server/src --most 40 --seconds 120 2>&1)"
    out="$(python3 "$CHECKS/duplicates.py" "$SRC" 10 <<<"$out" 2>&1)"
    tap $(($? == 0)) "duplicates: at most 10 places share six or more lines in server/src, each named deliberate" "$out"
    out="$(python3 "$CHECKS/duplicates.py" "$SRC" 10 <<<"D1 core/log.c:1-8 ~ core/sbuf.c:1-8 shape" 2>&1)"
    tap $(($? == 1)) "duplicates: a pair without a comment naming it is reported" "$out"
fi

# --- systemd units -----------------------------------------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
    N=$((N + 1))
    echo "ok $N - systemd units # SKIP systemd-analyze is not installed"
else
    mapfile -t units < <(cd "$ROOT" && git ls-files 'server/*.service' 'server/*.timer')
    # the binary is installed to /usr/local/bin only on a production machine (README "Running in production")
    not_installed='Command /usr/local/bin/klimaspejl is not executable: No such file or directory'
    out="$(cd "$ROOT/server" && systemd-analyze verify --man=no "${units[@]#server/}" 2>&1 | grep -vF "$not_installed")"
    tap $((${#out} == 0 && ${#units[@]} > 0)) "systemd units: systemd-analyze verify accepts the ${#units[@]} units of server/" "$out"
    mkdir -p "$TMP/units"
    for u in "${units[@]}"; do cp "$ROOT/$u" "$TMP/units/"; done
    sed -i 's/^OnCalendar=.*/OnCalendar=every hour please/' "$TMP/units/klimaspejl-fetch.timer"
    out="$(cd "$TMP/units" && systemd-analyze verify --man=no ./klimaspejl-fetch.timer ./klimaspejl-fetch.service 2>&1)"
    tap $(($? != 0)) "systemd units: a planted bad OnCalendar in klimaspejl-fetch.timer fails the check" "$out"
fi

echo "1..$N"
