#!/usr/bin/env bash
# Private PostgreSQL server for the rsp-store test battery.
#
#   eval "$(scripts/postgres.sh start)"   # prints: export RSP_TEST_POSTGRES_URL=... RSP_TEST_PG_DIR=...
#   cargo test -p rsp-store
#   scripts/postgres.sh stop              # uses RSP_TEST_PG_DIR; removes the cluster
#
# Or, sourced: `source scripts/postgres.sh; rsp_pg_start; ...; rsp_pg_stop` (exports into the
# calling shell; the functions run in subshells with `set -euo pipefail`).
#
# The cluster lives in a fresh temp dir, listens only on 127.0.0.1 on a free port, uses trust
# authentication and fsync=off: for tests only. Set RSP_TEST_PG_FSYNC=on to measure with
# durable commits. If Debian's server binaries are missing they are installed with apt-get
# (needs root, as in CI). initdb refuses to run as root, so the server runs as `postgres`.

_rsp_pg_bindir() {
    local postgres
    postgres="$(ls -1 /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$postgres" ]]; then
        dirname "$postgres"
    fi
}

_rsp_pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    for port in $(seq 55432 55532); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "no free port in 55432-55532" >&2
    return 1
}

# Runs a command as the cluster owner: `postgres` when we are root, else ourselves.
_rsp_pg_as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_rsp_pg_start() (
    set -euo pipefail
    local bindir
    bindir="$(_rsp_pg_bindir)"
    if [[ -z "$bindir" ]]; then
        echo "postgres.sh: installing Debian's postgresql package" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update >&2
        apt-get install -y --no-install-recommends postgresql >&2
        bindir="$(_rsp_pg_bindir)"
        [[ -n "$bindir" ]] || { echo "postgres.sh: no /usr/lib/postgresql/*/bin/postgres after install" >&2; exit 1; }
    fi
    if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi

    local dir
    dir="$(mktemp -d "${TMPDIR:-/tmp}/rsp-pg.XXXXXX")"
    touch "$dir/.rsp-test-pg"
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"

    if ! _rsp_pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        echo "postgres.sh: initdb failed" >&2
        exit 1
    fi

    local fsync="${RSP_TEST_PG_FSYNC:-off}" port="" attempt
    # The port may be taken between choosing and binding it: retry with another.
    for attempt in 1 2 3 4 5; do
        port="$(_rsp_pg_free_port)"
        if _rsp_pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
                -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=$fsync -c synchronous_commit=$fsync -c full_page_writes=$fsync" \
                start >&2; then
            break
        fi
        port=""
        echo "postgres.sh: start attempt $attempt failed" >&2
    done
    if [[ -z "$port" ]]; then
        cat "$dir/server.log" >&2 || true
        rm -rf "$dir"
        echo "postgres.sh: could not start PostgreSQL" >&2
        exit 1
    fi

    local ready=""
    for attempt in $(seq 1 60); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
            ready=1
            break
        fi
        sleep 0.5
    done
    if [[ -z "$ready" ]]; then
        cat "$dir/server.log" >&2 || true
        echo "postgres.sh: server on port $port not ready" >&2
        exit 1
    fi
    echo "$bindir" >"$dir/.bindir"
    echo "export RSP_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "export RSP_TEST_PG_DIR=$dir"
)

_rsp_pg_stop() (
    set -euo pipefail
    local dir="${1:-${RSP_TEST_PG_DIR:-}}"
    if [[ -z "$dir" ]]; then
        echo "postgres.sh: RSP_TEST_PG_DIR is not set" >&2
        exit 1
    fi
    if [[ ! -f "$dir/.rsp-test-pg" ]]; then
        echo "postgres.sh: $dir is not a cluster made by postgres.sh start" >&2
        exit 1
    fi
    local bindir
    bindir="$(cat "$dir/.bindir" 2>/dev/null || _rsp_pg_bindir)"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        _rsp_pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    fi
    rm -rf "$dir"
)

rsp_pg_start() {
    local exports
    exports="$(_rsp_pg_start)" || return 1
    eval "$exports"
}

rsp_pg_stop() {
    _rsp_pg_stop "${1:-}" || return 1
    unset RSP_TEST_POSTGRES_URL RSP_TEST_PG_DIR
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
        start) _rsp_pg_start ;;
        stop) _rsp_pg_stop "${2:-}" ;;
        *)
            echo "usage: $0 start|stop [dir]" >&2
            exit 2
            ;;
    esac
fi
