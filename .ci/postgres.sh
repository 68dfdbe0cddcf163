#!/usr/bin/env bash
# A throwaway PostgreSQL server for the service tests, in a temporary
# directory, listening on a Unix socket there only.
#
#   eval "$(bash .ci/postgres.sh start)"   # sets FEATIMP_TEST_DATABASE_URL
#                                           # and FEATIMP_TEST_PGDIR
#   bash .ci/postgres.sh stop "$FEATIMP_TEST_PGDIR"
#
# Installs Debian's postgresql package when no server is found (as root).
# initdb refuses to run as root: root runs the server as the postgres user.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

pg_bin() {
    local found
    found=$(command -v pg_ctl 2>/dev/null || true)
    if [ -z "$found" ]; then
        found=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
    fi
    [ -n "$found" ] && dirname "$(readlink -f "$found")"
}

as_server_user() {
    # From /: the server user may not enter the caller's (0700) directory.
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

start() {
    local bin dir
    bin=$(pg_bin || true)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        log "no PostgreSQL server found: installing Debian's postgresql"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        bin=$(pg_bin)
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/postgresql postgres
    fi
    dir=$(mktemp -d /tmp/featimp-pg.XXXXXX)
    chmod 0755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # Throwaway data: no fsync; enough connections for two replicas' threads.
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
        -o "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB" \
        start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    as_server_user "$bin/createdb" -h "$dir" -U postgres featimp_test
    echo "export FEATIMP_TEST_PGDIR=$dir"
    echo "export FEATIMP_TEST_DATABASE_URL='postgresql://postgres@/featimp_test?host=$dir'"
}

stop() {
    local dir=${1:?usage: postgres.sh stop DIR} bin
    bin=$(pg_bin)
    if [ -d "$dir/data" ]; then
        as_server_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w -s stop >&2 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
