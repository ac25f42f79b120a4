# shellcheck shell=bash
#
# server/setup.sh — shared set-up for server/run, tests/run and benchmarks/run.
# Source it; it defines functions and ROOT (the repository top) and changes nothing by itself.
#
#   klima_install_deps                 install the Debian packages the project needs (quiet when all are present)
#   klima_build DIR [cmake args...]    configure DIR once, then build it with every core
#   klima_pg_start [DATADIR] [PORT]    start (or reuse) the project-local PostgreSQL 15
#   klima_pg_stop                      stop it (fast shutdown)
#   klima_db_create NAME               create database NAME if missing; exports KLIMA_DB_ADMIN_URL and KLIMA_DB_URL
#   klima_geoip_install DIR            install the pinned country database (npm) into DIR, print its path
#   klima_geoip_env DIR                server/run's step: install it unless KLIMA_GEOIP_DB is set, export KLIMA_GEOIP_DB
#   klima_free_port                    print a TCP port on 127.0.0.1 that nothing listens on now
#
# Settings (environment): KLIMA_PG_PORT (default 54329), KLIMA_DB_URL (set it to use an existing database: the
# scripts then start no local cluster).

if [[ -n "${KLIMA_SETUP_LOADED:-}" ]]; then
    return 0
fi
KLIMA_SETUP_LOADED=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KLIMA_PG_BIN=/usr/lib/postgresql/15/bin
KLIMA_PG_PORT="${KLIMA_PG_PORT:-54329}"
# Filled in by klima_pg_start; read by the scripts that source this file.
KLIMA_PG_DATA=""
KLIMA_PG_SOCKDIR=""
export KLIMA_PG_STARTED_HERE=0

klima_say() { printf '==> %s\n' "$*" >&2; }
klima_warn() { printf 'warning: %s\n' "$*" >&2; }
klima_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root (directly or through sudo).
klima_as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        klima_die "need root for: $* (run as root or install sudo)"
    fi
}

# Runs a PostgreSQL server tool as the `postgres` OS user when we are root (PostgreSQL refuses to run as root),
# as ourselves otherwise.
klima_as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The one install list: every program and module any script or test layer runs comes from here or from a fresh
# Debian 12 minbase (tests/setup/deps.py checks that, and tests/run runs it first). Node is Debian's own nodejs (18.x
# on bookworm); nothing installs a Node from elsewhere.
KLIMA_DEB_PACKAGES=(
    build-essential cmake pkg-config clang libclang-rt-14-dev
    libh2o-evloop-dev libpq-dev libjansson-dev libjwt-dev libmaxminddb-dev libmaxmind-db-writer-perl libxxhash-dev
    libssl-dev openssl zlib1g-dev libcurl4-openssl-dev libglpk-dev postgresql-15 postgresql-15-pgtap
    postgresql-15-partman libtap-parser-sourcehandler-pgtap-perl python3 python3-yaml clang-format
    libxlsxwriter-dev libreoffice-calc-nogui nghttp2-client wrk hyperfine linux-perf nodejs npm curl chromium
)

# The country database of the usage statistics (README "Country database"): ip-location-db's geo-whois-asn-country
# (IPv4 + IPv6, a flat `country_code` per network; data CC BY 4.0 by the Number Resource Organization, nro.net), from
# the npm registry, pinned to one version. Change the version here to update it; server/run installs it on its next
# start.
KLIMA_GEOIP_PACKAGE="@ip-location-db/geo-whois-asn-country-mmdb@2.3.2026061719"
KLIMA_GEOIP_FILE="geo-whois-asn-country.mmdb"

# klima_geoip_install DIR: installs the pinned country database into DIR (once per version: a stamp file names it) and
# prints the .mmdb's path. Returns non-zero (and prints nothing) when npm cannot fetch it.
klima_geoip_install() {
    local dir="$1" tmp tgz
    if [[ -f "$dir/$KLIMA_GEOIP_FILE" && "$(cat "$dir/$KLIMA_GEOIP_FILE.package" 2>/dev/null)" == "$KLIMA_GEOIP_PACKAGE" ]]; then
        printf '%s\n' "$dir/$KLIMA_GEOIP_FILE"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || return 1
    mkdir -p "$dir" || return 1
    tmp="$(mktemp -d "$dir/.install.XXXXXX")" || return 1
    klima_say "installing the country database $KLIMA_GEOIP_PACKAGE (npm) into ${dir#"$ROOT"/}"
    if (cd "$tmp" && npm pack --silent --pack-destination "$tmp" "$KLIMA_GEOIP_PACKAGE" >"$tmp/npm.log" 2>&1) &&
        tgz="$(compgen -G "$tmp/*.tgz" | head -n 1)" && [[ -n $tgz ]] &&
        tar -xzf "$tgz" -C "$tmp" "package/$KLIMA_GEOIP_FILE" package/NRO_LICENSE package/README.md; then
        mv -f "$tmp/package/NRO_LICENSE" "$dir/NRO_LICENSE"
        mv -f "$tmp/package/README.md" "$dir/README.md"
        mv -f "$tmp/package/$KLIMA_GEOIP_FILE" "$dir/$KLIMA_GEOIP_FILE"
        printf '%s\n' "$KLIMA_GEOIP_PACKAGE" >"$dir/$KLIMA_GEOIP_FILE.package"
        rm -rf "$tmp"
        printf '%s\n' "$dir/$KLIMA_GEOIP_FILE"
        return 0
    fi
    tail -n 5 "$tmp/npm.log" >&2 2>/dev/null || true
    rm -rf "$tmp"
    return 1
}

# klima_geoip_env DIR: what server/run does: unless KLIMA_GEOIP_DB names a database already, installs the pinned one
# into DIR and exports KLIMA_GEOIP_DB. Without it (npm unreachable) every country is ZZ, and the server still starts.
klima_geoip_env() {
    local db
    [[ -z "${KLIMA_GEOIP_DB:-}" ]] || return 0
    if db="$(klima_geoip_install "$1")"; then
        export KLIMA_GEOIP_DB="$db"
    else
        klima_warn "could not install the country database $KLIMA_GEOIP_PACKAGE from npm: usage statistics show ZZ"
    fi
}

klima_install_deps() {
    local missing=() pkg status
    for pkg in "${KLIMA_DEB_PACKAGES[@]}"; do
        # A Node.js from another source (e.g. NodeSource's nodejs, which ships npm itself) is fine: Debian's npm
        # package would conflict with it.
        if [[ $pkg == npm ]] && command -v npm >/dev/null 2>&1; then
            continue
        fi
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        if [[ $status != installed ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    klima_say "installing missing packages: ${missing[*]}"
    klima_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    klima_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # Debian's postgresql package starts and enables its own cluster on 5432; ours lives on KLIMA_PG_PORT and does
    # not need it, but leaves it alone.
}

# klima_build DIR [cmake args...]: configures DIR on first use (the args apply then), then builds it.
klima_build() {
    local dir="$1"
    shift
    case "$dir" in
    /*) ;;
    *) dir="$ROOT/$dir" ;;
    esac
    if [[ ! -f "$dir/CMakeCache.txt" ]]; then
        klima_say "configuring ${dir#"$ROOT"/} $*"
        mkdir -p "$dir"
        if ! cmake -S "$ROOT" -B "$dir" "$@" >"$dir/configure.log" 2>&1; then
            if grep -q 'CMake Error' "$dir/configure.log"; then
                grep -A4 'CMake Error' "$dir/configure.log" | head -n 40 >&2
            else
                tail -n 30 "$dir/configure.log" >&2
            fi
            rm -f "$dir/CMakeCache.txt"
            klima_die "cmake configure of ${dir#"$ROOT"/} failed (full log: ${dir#"$ROOT"/}/configure.log)"
        fi
    fi
    klima_say "building ${dir#"$ROOT"/}"
    if ! cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1; then
        grep -E 'error|Error|undefined reference' "$dir/build.log" | head -n 60 >&2 || true
        klima_die "build of ${dir#"$ROOT"/} failed (full log: ${dir#"$ROOT"/}/build.log)"
    fi
}

# Tells whether the postgres OS user can reach (traverse into) a directory.
klima_pg_can_reach() {
    [[ $EUID -ne 0 ]] && return 0
    runuser -u postgres -- test -x "$1" -a -w "$1" 2>/dev/null
}

# klima_pg_running DATADIR SOCKDIR PORT: tells whether a postmaster serves DATADIR (or answers on SOCKDIR:PORT).
klima_pg_running() {
    local rc=0
    "$KLIMA_PG_BIN/pg_isready" -q -h "$2" -p "$3" || rc=$?
    # 0 = accepting connections, 1 = starting up or shutting down: either way a server is there.
    ((rc <= 1)) || klima_as_pg "$KLIMA_PG_BIN/pg_ctl" status -D "$1" >/dev/null 2>&1
}

# klima_pg_start [DATADIR] [PORT]: a PostgreSQL 15 cluster for development and tests. The data dir defaults to
# $ROOT/.data/pg, its unix socket to $ROOT/.data/run. Exports PGHOST/PGPORT-free variables only (KLIMA_PG_*).
klima_pg_start() {
    local data="${1:-$ROOT/.data/pg}" port="${2:-$KLIMA_PG_PORT}"
    local base sock hash
    base="$(dirname "$data")"
    sock="$base/run"
    [[ -x "$KLIMA_PG_BIN/pg_ctl" ]] || klima_die "PostgreSQL 15 not found in $KLIMA_PG_BIN (klima_install_deps installs it)"

    mkdir -p "$data" "$sock"
    hash="$(printf '%s' "$ROOT" | md5sum | cut -c1-10)"
    # The postgres user must be able to reach the data dir, and a unix socket path must fit in 107 bytes.
    if [[ $EUID -eq 0 ]]; then
        chown postgres: "$data" "$sock"
        chmod 700 "$data"
        chmod 755 "$sock"
    fi
    if ! klima_pg_can_reach "$data" || ((${#sock} > 90)); then
        local alt="/var/tmp/klimaspejl-$hash"
        klima_warn "the postgres user cannot reach $data (or the socket path is too long); using $alt instead"
        data="$alt/pg"
        sock="$alt/run"
        mkdir -p "$data" "$sock"
        if [[ $EUID -eq 0 ]]; then
            chown postgres: "$alt" "$data" "$sock"
            chmod 700 "$data"
        fi
    fi
    KLIMA_PG_DATA="$data"
    KLIMA_PG_SOCKDIR="$sock"
    KLIMA_PG_PORT="$port"
    export KLIMA_PG_DATA KLIMA_PG_SOCKDIR KLIMA_PG_PORT

    if [[ ! -f "$data/PG_VERSION" ]]; then
        klima_say "initialising PostgreSQL cluster in $data"
        klima_as_pg "$KLIMA_PG_BIN/initdb" -D "$data" -A trust -U postgres --encoding UTF8 --locale C.UTF-8 \
            >"$sock/initdb.log" 2>&1 ||
            klima_as_pg "$KLIMA_PG_BIN/initdb" -D "$data" -A trust -U postgres --encoding UTF8 --locale C \
                >"$sock/initdb.log" 2>&1 || {
            cat "$sock/initdb.log" >&2
            klima_die "initdb failed"
        }
        rm -f "$sock/initdb.log"
    fi

    if klima_pg_running "$data" "$sock" "$port"; then
        klima_say "reusing the running PostgreSQL ($data)"
    else
        klima_say "starting PostgreSQL on port $port (socket $sock)"
        # Tuned for a 2-core development machine. fsync, synchronous_commit and full_page_writes are OFF: a crash can
        # lose or corrupt this cluster. That is acceptable for development and tests only — never use these
        # settings for data that matters. Unix socket only (no TCP), so `trust` auth reaches nobody else.
        local opts=(
            -c "port=$port"
            -c "unix_socket_directories=$sock"
            -c "listen_addresses="
            -c "shared_buffers=512MB"
            -c "max_connections=200"
            -c "work_mem=16MB"
            -c "maintenance_work_mem=256MB"
            -c "effective_cache_size=2GB"
            -c "max_wal_size=4GB"
            -c "checkpoint_timeout=30min"
            -c "fsync=off"
            -c "synchronous_commit=off"
            -c "full_page_writes=off"
            -c "max_worker_processes=4"
            -c "max_parallel_workers_per_gather=1"
            -c "max_parallel_workers=2"
            -c "log_min_messages=warning"
            -c "log_min_error_statement=panic"
            # application and database on every line: tests/run's fuzz layer reads the ERROR lines of its own server
            # (tests/integration/sqlerrors.test.mjs)
            -c "log_line_prefix=%m [%p] %q%a@%d "
        )
        if klima_as_pg "$KLIMA_PG_BIN/pg_ctl" start -D "$data" -l "$data/server.log" -w -t 60 -s \
            -o "${opts[*]@Q}"; then
            KLIMA_PG_STARTED_HERE=1
        elif klima_pg_running "$data" "$sock" "$port"; then
            # Another script (server/run, tests/run, benchmarks/run) started it at the same moment.
            klima_say "reusing the PostgreSQL another script just started"
        else
            tail -n 30 "$data/server.log" >&2 || true
            klima_die "PostgreSQL did not start (log: $data/server.log)"
        fi
    fi
    local i
    for ((i = 0; i < 100; i++)); do
        if "$KLIMA_PG_BIN/pg_isready" -q -h "$sock" -p "$port"; then
            return 0
        fi
        sleep 0.2
    done
    klima_die "PostgreSQL on $sock:$port is not ready after 20 s"
}

klima_pg_stop() {
    [[ -n "$KLIMA_PG_DATA" ]] || return 0
    if klima_as_pg "$KLIMA_PG_BIN/pg_ctl" status -D "$KLIMA_PG_DATA" >/dev/null 2>&1; then
        klima_say "stopping PostgreSQL"
        klima_as_pg "$KLIMA_PG_BIN/pg_ctl" stop -D "$KLIMA_PG_DATA" -m fast -w -s || true
    fi
}

# klima_free_port: prints a TCP port on 127.0.0.1 that nothing listens on now (for a server a script starts).
klima_free_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    klima_die "no free port found"
}

# Runs psql as the postgres superuser against the local cluster's maintenance database.
klima_psql_admin() {
    "$KLIMA_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$KLIMA_PG_SOCKDIR" -p "$KLIMA_PG_PORT" -U postgres -d postgres "$@"
}

# klima_db_create NAME: creates database NAME in the local cluster unless it exists, and exports the connection
# strings for it: KLIMA_DB_ADMIN_URL (postgres superuser: migrate, seed, refresh) and KLIMA_DB_URL (klima_api: serve).
klima_db_create() {
    local name="$1"
    [[ -n "$KLIMA_PG_SOCKDIR" ]] || klima_die "klima_db_create: call klima_pg_start first"
    [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || klima_die "klima_db_create: bad database name '$name'"
    if [[ "$(klima_psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]]; then
        "$KLIMA_PG_BIN/createdb" -h "$KLIMA_PG_SOCKDIR" -p "$KLIMA_PG_PORT" -U postgres "$name"
    fi
    KLIMA_DB_ADMIN_URL="host=$KLIMA_PG_SOCKDIR port=$KLIMA_PG_PORT dbname=$name user=postgres"
    KLIMA_DB_URL="host=$KLIMA_PG_SOCKDIR port=$KLIMA_PG_PORT dbname=$name user=klima_api"
    export KLIMA_DB_ADMIN_URL KLIMA_DB_URL
}

# klima_db_drop NAME: drops database NAME from the local cluster if it exists (terminating its sessions).
klima_db_drop() {
    local name="$1"
    [[ -n "$KLIMA_PG_SOCKDIR" ]] || return 0
    klima_psql_admin -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
}
